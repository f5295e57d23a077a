"""Login CSRF in a real browser: a page on another site cannot log a visitor in or out.

The victim app (``serve_cross_origin.py``) runs at ``http://localhost:PORT`` and the attacker's
site at ``http://127.0.0.2:PORT``, another origin and another site, whose pages post a form to
the victim's login or logout route as soon as they load. Every test runs with Tornado's
``xsrf_cookies`` off and on: the library must refuse the cross-site post either way. The victim
logs each request it gets (Origin, Sec-Fetch-Site, cookies) on stderr, shown when a test fails.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from servers import free_port, wait_for_port

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytest_plugins = ["browsing"]  # the chromium and page fixtures

SERVER = Path(__file__).parent / "serve_cross_origin.py"
START = "/user-session/start"
DESTROY = "/user-session/destroy"


@dataclass(frozen=True)
class Sites:
    victim: str
    attacker: str


@pytest.fixture(scope="module", params=["xsrf-off", "xsrf-on"])
def sites(request: pytest.FixtureRequest) -> Iterator[Sites]:
    """The victim and the attacker, served by one process, with ``xsrf_cookies`` off or on."""
    victim_port, attacker_port = free_port(), free_port()
    command = [sys.executable, str(SERVER), str(victim_port), str(attacker_port)]
    server = subprocess.Popen(command + (["--xsrf"] if request.param == "xsrf-on" else []))
    try:
        wait_for_port(victim_port)  # the attacker listens first
        yield Sites(f"http://localhost:{victim_port}", f"http://127.0.0.2:{attacker_port}")
    finally:
        server.terminate()
        server.wait(10)


def whoami(page: Page, sites: Sites) -> Any:
    """Open the victim's ``/whoami`` in *page*: the session user it shows, or None."""
    response = page.goto(sites.victim + "/whoami")
    assert response is not None
    return response.json()["user"]


def log_in(page: Page, sites: Sites, username: str) -> Any:
    """Log in with the victim's own form; return the user that ``/whoami`` then shows."""
    page.goto(sites.victim + "/login-form")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    with page.expect_response(sites.victim + "/whoami") as answer:
        page.get_by_role("button", name="Log in").click()
    return answer.value.json()["user"]


def visit_attacker(page: Page, sites: Sites, path: str, route: str) -> int:
    """Visit the attacker's *path*, whose form posts to the victim's *route* on load; wait for
    the victim's answer to be loaded and return its status."""
    with page.expect_response(sites.victim + route) as forged:
        page.goto(sites.attacker + path, wait_until="commit")
    page.wait_for_url(sites.victim + route)
    return forged.value.status


def test_a_page_on_another_site_cannot_log_the_visitor_in(page: Page, sites: Sites) -> None:
    """A visitor who lands on the attacker's page is not logged in to the victim as the attacker
    (login CSRF): the victim refuses the cross-site post with a 403."""
    status = visit_attacker(page, sites, "/login", START)
    assert whoami(page, sites) is None
    assert status == 403


def test_a_page_on_another_site_cannot_log_the_visitor_out(page: Page, sites: Sites) -> None:
    """A logged-in visitor who lands on the attacker's page stays logged in, as the same user:
    the victim refuses the cross-site post to its logout route with a 403."""
    visitor = log_in(page, sites, "visitor")
    assert visitor["name"] == "visitor"
    status = visit_attacker(page, sites, "/logout", DESTROY)
    assert whoami(page, sites) == visitor
    assert status == 403


def test_the_victims_own_forms_log_in_and_out(page: Page, sites: Sites) -> None:
    """Control: the victim's same-origin forms do log in and out, so the refusals above are
    about the other site, not broken forms."""
    visitor = log_in(page, sites, "visitor")
    assert visitor["name"] == "visitor"
    assert whoami(page, sites) == visitor
    page.goto(sites.victim + "/login-form")
    with page.expect_response(sites.victim + "/whoami") as answer:
        page.get_by_role("button", name="Log out").click()
    assert answer.value.json() == {"user": None}
    assert whoami(page, sites) is None
