"""Run the benchmarks and print their tables: ``python -m benchmarks``.

Variants are loaded round by round (A B C A B C ...), each right after bare Tornado answering
the same requests on the same event loop, and each ratio is to that run, so that the drift of a
shared machine's speed falls on both sides of it; every figure is the median over the rounds.
Every variant runs on asyncio's own event loop and on uvloop's.
"""

from __future__ import annotations

import argparse
import time

from . import overhead, scale
from .server import LOOPS

MEMORY_TARGET = 400  # bytes per session beyond its data
PAUSE_TARGET = 10.0  # ms of the longest IOLoop pause during a purge


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="rounds of every variant (7)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each load (1)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument(
        "--client", choices=["wrk", "python"], default=overhead.default_client(),
        help="load generator (wrk when installed)",
    )  # fmt: skip
    parser.add_argument(
        "--sessions", default="100000,1000000", help="store sizes to measure (100000,1000000)"
    )
    parser.add_argument("--purge-fractions", default="0.01,0.5", help="expired shares (0.01,0.5)")
    parser.add_argument("--only", default="", help="only the variants whose name has this")
    parser.add_argument(
        "--loops", default=",".join(LOOPS), help=f"event loops to run on ({','.join(LOOPS)})"
    )
    parser.add_argument("--no-scale", action="store_true", help="skip the store scale part")
    args = parser.parse_args()
    started = time.monotonic()

    for loop in args.loops.split(","):
        rows = overhead.run(
            args.rounds, args.seconds, args.connections, args.client, args.only, loop
        )
        print(
            f"\nRequest overhead on {loop}: {args.client}, {args.connections} keep-alive "
            f"connections, median of {args.rounds} rounds of {args.seconds:g} s, server and load "
            "on separate cores, each ratio to a bare Tornado run just before on the same loop"
        )
        print(f"{'variant':<27}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}  target")
        for row in rows:
            target = row.variant.target
            goal = f">= {target:.2f} {verdict(row.ratio >= target)}" if target else ""
            print(
                f"{row.variant.name:<27}{row.requests_per_second:>9.0f}{row.p50_ms:>9.2f}"
                f"{row.p99_ms:>9.2f}{row.ratio:>8.2f}  {goal}"
            )

    if args.no_scale:
        return
    sizes = [int(size) for size in args.sessions.split(",")]
    print("\nMemoryStore scale (each in a fresh process)")
    print(f"{'sessions':>10}{'bytes/session':>15}{'data':>6}{'load us':>9}{'update us':>11}"
          f"{'create us':>11}  target")  # fmt: skip
    for size in sizes:
        m = scale.measure("memory", str(size))
        ok = verdict(m["bytes_beyond_data"] <= MEMORY_TARGET)
        print(
            f"{size:>10}{m['bytes_beyond_data']:>15.0f}{m['data_bytes']:>6.0f}{m['load_us']:>9.2f}"
            f"{m['update_us']:>11.2f}{m['create_us']:>11.2f}  <= {MEMORY_TARGET} {ok}"
        )
    print(f"\n{'purge at':>10}{'expired':>10}{'purge ms':>10}{'longest pause ms':>18}  target")
    for fraction in args.purge_fractions.split(","):
        p = scale.measure("purge", str(max(sizes)), fraction)
        ok = verdict(p["longest_pause_ms"] <= PAUSE_TARGET)
        print(
            f"{max(sizes):>10}{p['expired']:>10.0f}{p['purge_ms']:>10.1f}"
            f"{p['longest_pause_ms']:>18.2f}  <= {PAUSE_TARGET:g} {ok}"
        )
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
