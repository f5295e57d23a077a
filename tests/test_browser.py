"""The demo app in a real browser: headless Chromium, driven by Playwright, over loopback.

Each test saves a screenshot of its last page to ``test-artifacts/`` when it fails.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import EVENT_LOOP, free_port, wait_for_port

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # pragma: no cover - the chromium fixture says how to get it
    expect = None  # type: ignore[assignment]

pytest_plugins = ["browsing"]  # the chromium and page fixtures

ROOT = Path(__file__).parent.parent
PASSWORD = "correct horse"


@contextlib.contextmanager
def served_demo(*options: str) -> Iterator[str]:
    """The address of ``python -m demo`` run with *options*, stopped afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "demo", "--port", str(port), "--password", PASSWORD]
    command += ["--uvloop"] if EVENT_LOOP == "uvloop" else []
    server = subprocess.Popen([*command, *options], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(params=["memory", "redis"])
def demo(request: pytest.FixtureRequest) -> Iterator[str]:
    """The demo's address, served by ``python -m demo`` on the in-memory store or on Redis."""
    options = ("--redis-url", request.getfixturevalue("redis_url"))
    with served_demo(*(options if request.param == "redis" else ())) as url:
        yield url


def log_in(page: Page, base: str, password: str = PASSWORD) -> None:
    page.goto(base + "/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def visits(page: Page) -> int:
    return int(page.locator("#visits").inner_text())


def test_the_whole_demo_in_a_browser(demo: str, page: Page, chromium: Browser) -> None:
    log_in(page, demo, password="wrong")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    assert "Hello" not in page.content()

    log_in(page, demo)
    expect(page).to_have_url(demo + "/dashboard")
    assert visits(page) == 1
    live = page.locator("#live")  # the live counter, over a WebSocket
    expect(live).to_have_text("0")
    page.get_by_role("button", name="+1").click()
    expect(live).to_have_text("1")
    page.get_by_role("button", name="+1").click()
    expect(live).to_have_text("2")
    page.reload()
    assert visits(page) == 2
    expect(live).to_have_text("2")  # saved in the session by save_session()

    page.get_by_role("link", name="My profile").click()
    page.get_by_label("Display name").fill("Ada Lovelace")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Profile saved.")  # a flash message
    page.reload()
    expect(page.get_by_label("Display name")).to_have_value("Ada Lovelace")
    expect(page.get_by_role("status")).to_have_count(0)  # shown once
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ada Lovelace")
    assert visits(page) == 3

    someone_else = chromium.new_context().new_page()
    someone_else.goto(demo + "/dashboard")
    expect(someone_else).to_have_url(demo + "/?next=%2Fdashboard")
    someone_else.context.close()

    page.get_by_role("button", name="Logout").click()
    expect(page).to_have_url(demo + "/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Signed out.")  # survived the logout
    page.reload()
    expect(page.get_by_role("status")).to_have_count(0)

    page.go_back()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert "Hello" not in page.content()

    page.goto(demo + "/dashboard")
    expect(page).to_have_url(demo + "/?next=%2Fdashboard")


def test_login_returns_to_the_page_asked_for(page: Page, chromium: Browser) -> None:
    with served_demo() as base:
        page.goto(base + "/my-profile")
        expect(page).to_have_url(base + "/?next=%2Fmy-profile")
        page.get_by_label("Username").fill("demo")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(base + "/my-profile")


def test_the_session_cookie_is_httponly_and_lax(page: Page) -> None:
    with served_demo() as base:
        log_in(page, base)
        expect(page).to_have_url(base + "/dashboard")
        cookies: list[Any] = page.context.cookies()
        session = next(c for c in cookies if c["name"] == "tornado-user-session")
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Lax"
        assert page.evaluate("document.cookie").find("tornado-user-session") == -1


def test_remember_me_keeps_the_cookie_past_the_browser_and_its_absence_does_not(
    page: Page, chromium: Browser
) -> None:
    with served_demo() as base:
        log_in(page, base)  # "Remember me" left unticked
        expect(page).to_have_url(base + "/dashboard")
        remembered = chromium.new_context().new_page()
        remembered.goto(base + "/")
        remembered.get_by_label("Username").fill("demo")
        remembered.get_by_label("Password").fill(PASSWORD)
        remembered.get_by_label("Remember me").check()
        remembered.get_by_role("button", name="Log in").click()
        expect(remembered).to_have_url(base + "/dashboard")

        def session_cookie(of: Page) -> Any:
            cookies: list[Any] = of.context.cookies()
            return next(c for c in cookies if c["name"] == "tornado-user-session")

        assert session_cookie(page)["expires"] == -1  # ends with the browser
        expires = session_cookie(remembered)["expires"]
        week = 7 * 24 * 3600  # 30 days asked for, cut at the demo's absolute timeout
        assert time.time() + week - 60 < expires <= time.time() + week + 1
        remembered.context.close()


def test_the_password_page_asks_a_stale_login_to_confirm_and_returns_to_it(page: Page) -> None:
    with served_demo("--fresh-login-within", "1") as base:
        log_in(page, base)
        page.get_by_role("link", name="Password").click()  # a fresh login: allowed
        expect(page.get_by_role("heading", level=1)).to_have_text("Change password")
        page.wait_for_timeout(1500)  # the login grows stale
        page.goto(base + "/my-profile/password")
        expect(page).to_have_url(base + "/confirm?next=%2Fmy-profile%2Fpassword")
        expect(page.get_by_role("status")).to_contain_text("needs a recent login")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(base + "/my-profile/password")
        page.get_by_label("New password").fill("a brand new password")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status")).to_have_text("Password changed.")


def test_an_idle_session_sends_the_visitor_back_to_the_login_page(page: Page) -> None:
    with served_demo("--idle-timeout", "2") as base:
        log_in(page, base)
        expect(page).to_have_url(base + "/dashboard")
        page.wait_for_timeout(1000)
        page.reload()  # used within the timeout: still in
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, demo")
        page.wait_for_timeout(2500)
        page.reload()
        expect(page).to_have_url(base + "/?next=%2Fdashboard")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_one_device_signs_another_out_from_the_list_of_sessions(
    demo: str, page: Page, chromium: Browser
) -> None:
    log_in(page, demo)  # device A
    expect(page).to_have_url(demo + "/dashboard")
    other = chromium.new_context().new_page()  # device B
    log_in(other, demo)
    expect(other).to_have_url(demo + "/dashboard")
    other.get_by_role("link", name="Your sessions").first.click()
    rows = other.locator("ul.sessions li")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="this device")).to_have_count(1)
    expect(rows.first).to_contain_text("Chrome on Linux")
    rows.filter(has_not_text="this device").get_by_role("button", name="Sign out").click()
    expect(other.get_by_role("status")).to_have_text("Signed out 1 session.")
    expect(other.locator("ul.sessions li")).to_have_count(1)

    page.reload()  # device A's very next request
    expect(page).to_have_url(demo + "/?next=%2Fdashboard")
    other.goto(demo + "/dashboard")
    expect(other.get_by_role("heading", level=1)).to_have_text("Hello, demo")
    other.context.close()
