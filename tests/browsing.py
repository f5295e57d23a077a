"""The browser tests' fixtures: headless Chromium driven by Playwright, and a page in it.

A test module loads them with ``pytest_plugins = ["browsing"]``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import CHROMIUM_ARGS, REPORTS, missing

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the fixtures say how to get it
    sync_playwright = None  # type: ignore[assignment]

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"


# Module scope: while Playwright's sync API is open, no other event loop can run in this thread.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if path is None:
        missing("chromium", "install Debian's chromium (apt-get install -y chromium)")
    if sync_playwright is None:
        missing("chromium", "install Playwright for Python (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context (a person of its own), screenshotted if the test fails."""
    context = chromium.new_context()
    page = context.new_page()
    yield page
    call = request.node.stash.get(REPORTS, {}).get("call")
    if call is None or call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
