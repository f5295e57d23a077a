"""Signing the session id that the cookie carries."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from itsdangerous import BadSignature, Signer

#: Keeps these signatures apart from any other use of the same secret.
SALT = "tornado_user_session.cookie"

#: A session cookie is a 43-character id, a dot and a 43-character signature;
#: anything much longer is refused before any HMAC is computed.
MAX_COOKIE_LENGTH = 128


class CookieSigner:
    """Signs session ids with HMAC-SHA256 (itsdangerous), under a salt of this library's.

    :param secrets: the keys, oldest first: the last one signs, every one
        verifies, so a new key can be added without logging anybody out.
    """

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self._signer = Signer(
            list(secrets), salt=SALT, key_derivation="hmac", digest_method=hashlib.sha256
        )

    def sign(self, session_id: str) -> str:
        """Return the cookie value for *session_id*."""
        return self._signer.sign(session_id).decode("ascii")

    def unsign(self, value: str) -> str | None:
        """Return the session id in a cookie value, or None if it is not one this signer made."""
        if len(value) > MAX_COOKIE_LENGTH:
            return None
        try:
            return self._signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeError):
            return None
