"""The benchmarks still run and report every figure (a short run, not a measurement)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load import parse_wrk
from benchmarks.overhead import VARIANTS

ROOT = Path(__file__).parent.parent

WRK_OUTPUT = """\
Running 3s test @ http://127.0.0.1:8000/read
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.58ms    1.02ms  20.01ms   90.00%
    Req/Sec     2.24k   100.00     2.40k    70.00%
  Latency Distribution
     50%  850.00us
     75%    3.90ms
     90%    4.20ms
     99%    1.08s
  6712 requests in 3.00s, 1.01MB read
Requests/sec:   2237.33
Transfer/sec:    344.60KB
"""


def test_wrk_output_is_read_with_its_units() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests_per_second == pytest.approx(2237.33)
    assert result.p50_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1080.0)


def test_wrk_output_with_errors_is_refused() -> None:
    with pytest.raises(AssertionError):
        parse_wrk(WRK_OUTPUT + "  Non-2xx or 3xx responses: 12\n")


@pytest.mark.usefixtures("redis_url")  # skips or fails as the Redis tests do without a server
@pytest.mark.timeout(180)
def test_a_short_run_reports_every_variant_and_store_figure() -> None:
    command = [
        sys.executable, "-m", "benchmarks", "--client", "python", "--rounds", "1",
        "--seconds", "0.3", "--sessions", "2000", "--purge-fractions", "0.5",
    ]  # fmt: skip
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    number = r"\s+[\d.]+"
    for variant in VARIANTS:
        assert re.search(re.escape(variant.name) + number * 4, output), (variant.name, output)
    assert re.search(r"^\s+2000" + number * 5 + r"\s+<= 400", output, re.M), output
    assert re.search(r"^\s+2000\s+1000" + number * 2 + r"\s+<= 10", output, re.M), output


@pytest.mark.timeout(240)
def test_the_instruction_count_reports_every_variant() -> None:
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed: apt-get install -y valgrind")
    command = [sys.executable, "-m", "benchmarks.instructions", "--requests", "5"]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in ("bare Tornado", "bare Tornado + cookie"):
        assert re.search(re.escape(name) + r"\s+[\d,]+\s*$", output, re.M), output
    for name in ("memory: no cookie", "memory: read user", "memory: change user"):
        assert re.search(re.escape(name) + r"\s+[\d,]+\s+[+-][\d.]+%", output), output
