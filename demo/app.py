"""The seed library's canonical app, the Tornado way.

``/`` is a login form with "Remember me", ``/dashboard`` and ``/my-profile`` are
protected with ``@tornado.web.authenticated``, ``/my-profile/password`` needs a
fresh login, a Logout button POSTs to the destroy route, and the dashboard's live
counter talks to ``/live`` over a WebSocket.
"""

from __future__ import annotations

import datetime
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

import tornado.web
import tornado.websocket

import tornado_user_session as tus

USERNAME = "demo"
DEFAULT_PASSWORD = "tornado"

#: How long "Remember me" keeps a login; without it, the cookie ends with the browser.
REMEMBER = datetime.timedelta(days=30)


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
        self.render("login.html", error=None, confirm=False, next_url=next_url(self))


class ConfirmPage(Page):
    """The ``fresh_login_url``: asks a logged-in user for their password again."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.render("login.html", error=None, confirm=True, next_url=next_url(self))


def next_url(handler: tornado.web.RequestHandler) -> str:
    return tus.local_path(handler.get_argument("next", None)) or "/dashboard"


class Login(tus.StartHandler):
    """Logs the demo user in when the password matches."""

    def authenticate(self) -> dict[str, Any] | None:
        username = self.get_body_argument("username", "")
        password = self.get_body_argument("password", "")
        expected = self.settings["demo_password"]
        if username != USERNAME or not hmac.compare_digest(password, expected):
            return None
        # Remember me: a lifetime of its own, kept with the session; otherwise the cookie
        # ends when the browser closes. The session's other lifetimes still bound both.
        self.session.set_expiry(REMEMBER if self.get_body_argument("remember", "") else 0)
        return {"id": username, "username": username, "visits": 0}

    def refuse(self) -> None:
        self.set_status(401)
        error = "Wrong username or password."
        self.render("login.html", error=error, confirm=False, next_url=next_url(self))


class Dashboard(Page):
    @tornado.web.authenticated
    def get(self) -> None:
        user = self.current_user
        user["visits"] += 1
        self.no_store()
        self.render("dashboard.html", user=user)


class LiveCounter(tus.UserSessionMixin, tornado.websocket.WebSocketHandler):
    """The dashboard's live counter: each "+1" message counts one more, kept in the session
    user and saved at once (after a WebSocket's handshake, only save_session() saves)."""

    def open(self) -> None:
        if not self.current_user:
            self.close(4001, "log in first")
            return
        self.write_message({"count": self.current_user.get("live", 0)})

    async def on_message(self, message: str | bytes) -> None:
        user = self.current_user
        if message != "+1" or not user:
            return
        user["live"] = user.get("live", 0) + 1
        if not await self.save_session():  # signed out meanwhile, here or elsewhere
            self.close(4001, "signed out")
            return
        self.write_message({"count": user["live"]})


class Profile(Page):
    @tornado.web.authenticated
    def get(self) -> None:
        self.no_store()
        self.render("profile.html", user=self.current_user)

    @tornado.web.authenticated
    def post(self) -> None:
        name = self.get_body_argument("display_name", "").strip()[:80]
        self.current_user["display_name"] = name
        self.flash("Profile saved.")
        self.redirect("/my-profile", status=303)


class Logout(tus.DestroyHandler):
    def destroyed(self) -> None:
        self.flash("Signed out.")  # shown by the page the logout redirects to


class PasswordPage(Page):
    """Changes the demo user's password (for this process): it needs a fresh login."""

    @tus.fresh_login_required
    def get(self) -> None:
        self.no_store()
        self.render("password.html", error=None, changed=self.get_argument("changed", None))

    @tus.fresh_login_required
    async def post(self) -> None:
        password = self.get_body_argument("new_password", "")
        if len(password) < 8:
            self.set_status(400)
            self.no_store()
            self.render("password.html", error="Use 8 characters or more.", changed=None)
            return
        self.settings["demo_password"] = password
        await self.end_other_user_sessions()  # a new password signs out every other device
        self.redirect("/my-profile/password?changed=1", status=303)


class SessionsPage(Page):
    """The user's sessions, one row per device, each with a button that signs it out."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.no_store()
        sessions = await self.list_user_sessions()
        ended = self.get_argument("ended", None)
        self.render("sessions.html", sessions=sessions, device=device, ended=ended)

    @tornado.web.authenticated
    async def post(self) -> None:
        if self.get_body_argument("everywhere_else", ""):
            ended = await self.end_other_user_sessions()
        else:
            ended = int(await self.end_user_session(self.get_body_argument("handle")))
        self.redirect(f"/sessions?ended={ended}", status=303)


def device(user_agent: str | None) -> str:
    """A browser and system in plain words, from a User-Agent."""
    agent = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in agent), "An unknown browser")
    system = next((name for token, name in _SYSTEMS if token in agent), "an unknown system")
    return f"{browser} on {system}"


# Tested in order: Edge and Chrome both say "Chrome", Chrome and Safari both say "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


#: The demo's lifetimes, in seconds: OWASP's advice for an ordinary application.
IDLE_TIMEOUT = 30 * 60
ABSOLUTE_TIMEOUT = 7 * 24 * 3600
FRESH_LOGIN_WITHIN = 5 * 60


def make_app(
    *,
    password: str = DEFAULT_PASSWORD,
    store: tus.Store | None = None,
    idle_timeout: float = IDLE_TIMEOUT,
    absolute_timeout: float = ABSOLUTE_TIMEOUT,
    fresh_login_within: float = FRESH_LOGIN_WITHIN,
    **settings: Any,
) -> tornado.web.Application:
    """Build the demo application on *store* (the in-memory store by default)."""
    app = tornado.web.Application(
        [
            (r"/", LoginPage),
            (r"/confirm", ConfirmPage),
            (r"/dashboard", Dashboard),
            (r"/my-profile", Profile),
            (r"/my-profile/password", PasswordPage),
            (r"/sessions", SessionsPage),
            (r"/live", LiveCounter),
            *tus.routes(start=Login, destroy=Logout),
        ],
        login_url="/",
        fresh_login_url="/confirm",
        fresh_login_within=fresh_login_within,
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax"},
        cookie_secret=os.environ.get("DEMO_COOKIE_SECRET") or secrets.token_urlsafe(32),
        template_path=str(Path(__file__).with_name("templates")),
        demo_password=password,
        **settings,
    )
    tus.init(app, store=store, idle_timeout=idle_timeout, absolute_timeout=absolute_timeout)
    return app
