"""Serve a victim app and an attacker's site on another origin, for ``test_cross_origin.py``.

``python tests/serve_cross_origin.py VICTIM_PORT ATTACKER_PORT [--xsrf]``

The victim, at ``http://localhost:VICTIM_PORT``, is built with the public API only: the library's
routes with a ``StartHandler`` that logs in anybody whose password is ``pw``, ``/whoami`` (JSON
``{"user": ...}``) and ``/login-form`` (its own login and logout forms). ``--xsrf`` turns on
Tornado's ``xsrf_cookies``. The attacker, at ``http://127.0.0.2:ATTACKER_PORT`` (another origin
and another site), serves ``/login`` and ``/logout``: pages whose form posts to the victim's
routes as soon as it loads. The victim logs each request it gets on stderr, with the headers
that say where it came from and the names of the cookies that came with it.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web
from tornado.escape import xhtml_escape

# The library of this checkout, not whichever one is installed (an editable install of another).
sys.path.insert(0, str(Path(__file__).parent.parent))

import tornado_user_session as tus
from servers import run

PASSWORD = "pw"

LOGIN_FORM = """<!doctype html>
<title>Victim</title>
<form method="post" action="/user-session/start?next=/whoami">{xsrf}
  <label>Username <input name="username"></label>
  <label>Password <input name="password" type="password"></label>
  <button>Log in</button>
</form>
<form method="post" action="/user-session/destroy?next=/whoami">{xsrf}
  <button>Log out</button>
</form>
"""

FORGED = """<!doctype html>
<title>Win a prize</title>
<body onload="document.forms[0].submit()">
<form method="post" action="{action}">{inputs}</form>
"""


class Login(tus.StartHandler):
    """Logs in any username whose password is ``pw``."""

    def authenticate(self) -> dict[str, Any] | None:
        username = self.get_body_argument("username", "")
        if not username or self.get_body_argument("password", "") != PASSWORD:
            return None
        return {"name": username}


class WhoAmI(tus.UserSessionMixin, tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")  # never a 304 or a cached page of a user
        self.write({"user": self.current_user})


class LoginForm(tornado.web.RequestHandler):
    def get(self) -> None:
        xsrf = self.xsrf_form_html() if self.settings["xsrf_cookies"] else ""
        self.write(LOGIN_FORM.format(xsrf=xsrf))


class Forged(tornado.web.RequestHandler):
    """A page of the attacker's whose form posts *fields* to *action* on the victim when loaded."""

    def initialize(self, action: str, fields: dict[str, str]) -> None:
        self.action = action
        self.fields = fields

    def get(self) -> None:
        inputs = "".join(
            f'<input type="hidden" name="{xhtml_escape(name)}" value="{xhtml_escape(value)}">'
            for name, value in self.fields.items()
        )
        self.write(FORGED.format(action=xhtml_escape(self.action), inputs=inputs))


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Tell stderr what the victim received: the request, where it came from, its cookies."""
    request = handler.request
    headers = request.headers
    print(
        f"victim: {request.method} {request.uri} -> {handler.get_status()}"
        f" Origin={headers.get('Origin')} Sec-Fetch-Site={headers.get('Sec-Fetch-Site')}"
        f" Sec-Fetch-Mode={headers.get('Sec-Fetch-Mode')} Referer={headers.get('Referer')}"
        f" cookies={sorted(request.cookies)}",
        file=sys.stderr,
        flush=True,
    )


def make_victim(xsrf: bool) -> tornado.web.Application:
    app = tornado.web.Application(
        [(r"/whoami", WhoAmI), (r"/login-form", LoginForm), *tus.routes(start=Login)],
        login_url="/login-form",
        xsrf_cookies=xsrf,
        log_function=log_request,
    )
    tus.init(app, secret="s" * 32)
    return app


def make_attacker(victim: str) -> tornado.web.Application:
    xsrf = {"_xsrf": "made-up"}  # the attacker cannot read the visitor's own token
    login = {"username": "attacker", "password": PASSWORD, **xsrf}
    return tornado.web.Application(
        [
            (r"/login", Forged, {"action": victim + "/user-session/start", "fields": login}),
            (r"/logout", Forged, {"action": victim + "/user-session/destroy", "fields": xsrf}),
        ]
    )


def listen_on_localhost(app: tornado.web.Application, port: int) -> None:
    """Listen on both addresses Chromium may try for ``localhost``: ::1 and 127.0.0.1.

    ::1 is skipped only where the machine has no IPv6, so nobody else can be there either.
    """
    sockets = []
    try:
        sockets += tornado.netutil.bind_sockets(port, "::1")
    except OSError as exc:
        if exc.errno not in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            raise
    # 127.0.0.1 last: the tests wait for it, and then both are listening.
    sockets += tornado.netutil.bind_sockets(port, "127.0.0.1")
    tornado.httpserver.HTTPServer(app).add_sockets(sockets)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("victim_port", type=int)
    parser.add_argument("attacker_port", type=int)
    parser.add_argument("--xsrf", action="store_true", help="turn on Tornado's xsrf_cookies")
    args = parser.parse_args()
    print(f"victim: tornado_user_session from {tus.__file__}", file=sys.stderr, flush=True)
    # The attacker first: once the victim answers on 127.0.0.1, both sites are up.
    make_attacker(f"http://localhost:{args.victim_port}").listen(args.attacker_port, "127.0.0.2")
    listen_on_localhost(make_victim(args.xsrf), args.victim_port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    run(main())
