"""Take the README's screenshots of the demo: ``.venv/bin/python docs/screenshots.py``.

Serves ``python -m demo`` on a free loopback port and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers import CHROMIUM_ARGS, free_port, wait_for_port  # noqa: E402


def main() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "demo", "--port", str(port)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 900, "height": 480})
            page.goto(base + "/")
            page.get_by_label("Username").fill("demo")
            page.get_by_label("Password").fill("wrong")
            page.get_by_role("button", name="Log in").click()
            page.get_by_role("alert").wait_for()
            page.get_by_label("Username").fill("demo")
            page.screenshot(path=str(ROOT / "docs" / "login.png"))
            page.get_by_label("Password").fill("tornado")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(base + "/dashboard")
            page.reload()
            page.screenshot(path=str(ROOT / "docs" / "dashboard.png"))
            phone = browser.new_page(viewport={"width": 390, "height": 700})
            phone.goto(base + "/")
            phone.screenshot(path=str(ROOT / "test-artifacts" / "login-phone.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
