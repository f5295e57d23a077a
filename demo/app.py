"""The seed library's canonical app, the Tornado way.

``/`` is a login form, ``/dashboard`` and ``/my-profile`` are protected with
``@tornado.web.authenticated``, and a Logout button POSTs to the destroy route.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any

import tornado.web

import tornado_user_session as tus

USERNAME = "demo"
DEFAULT_PASSWORD = "tornado"


class Page(tus.UserSessionMixin, tornado.web.RequestHandler):
    """A page of the demo. Pages that show the user are never cached, so Back after logout
    does not show them again."""

    def no_store(self) -> None:
        self.set_header("Cache-Control", "no-store")


class LoginPage(Page):
    def get(self) -> None:
        if self.current_user:
            self.redirect("/dashboard")
            return
        self.render("login.html", error=None, next_url=self.next_url())

    def next_url(self) -> str:
        return tus.local_path(self.get_argument("next", None)) or "/dashboard"


class Login(tus.StartHandler):
    """Logs the demo user in when the password matches."""

    def authenticate(self) -> dict[str, Any] | None:
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        expected = self.settings["demo_password"]
        if username != USERNAME or not hmac.compare_digest(password, expected):
            return None
        return {"username": username, "visits": 0}

    def refuse(self) -> None:
        self.set_status(401)
        next_url = tus.local_path(self.get_argument("next", None)) or "/dashboard"
        self.render("login.html", error="Wrong username or password.", next_url=next_url)


class Dashboard(Page):
    @tornado.web.authenticated
    def get(self) -> None:
        user = self.current_user
        user["visits"] += 1
        self.no_store()
        self.render("dashboard.html", user=user)


class Profile(Page):
    @tornado.web.authenticated
    def get(self) -> None:
        self.no_store()
        self.render("profile.html", user=self.current_user, saved=self.get_argument("saved", None))

    @tornado.web.authenticated
    def post(self) -> None:
        name = self.get_body_argument("display_name", "").strip()[:80]
        self.current_user["display_name"] = name
        self.redirect("/my-profile?saved=1", status=303)


def make_app(
    *, password: str = DEFAULT_PASSWORD, store: tus.Store | None = None, **settings: Any
) -> tornado.web.Application:
    """Build the demo application on *store* (the in-memory store by default)."""
    app = tornado.web.Application(
        [
            (r"/", LoginPage),
            (r"/dashboard", Dashboard),
            (r"/my-profile", Profile),
            *tus.routes(start=Login),
        ],
        login_url="/",
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
        cookie_secret=os.environ.get("DEMO_COOKIE_SECRET") or secrets.token_urlsafe(32),
        template_path=str(Path(__file__).with_name("templates")),
        demo_password=password,
        **settings,
    )
    tus.init(app, store=store)
    return app
