"""Signing the session id that the cookie carries."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

from itsdangerous import BadSignature, Signer
from itsdangerous.signer import HMACAlgorithm

from ._bounded import BoundedDict

#: Keeps these signatures apart from any other use of the same secret; the cookie's name
#: is added to it, so that two applications sharing a secret cannot swap cookies.
SALT = "tornado_user_session.cookie"

#: How many verified cookie values a signer remembers.
VERIFIED_CACHE_SIZE = 10_000

#: A session cookie is a 43-character id, a dot and a 43-character signature;
#: anything much longer is refused before any HMAC is computed.
MAX_COOKIE_LENGTH = 128

# The exact text sign() makes: a URL-safe id, a dot, and 32 bytes of unpadded URL-safe
# base64 whose last character has its two unused bits clear. Lenient base64 would also
# take padding, stray characters or a twin last character for the same signature; this
# shape admits exactly one text per session, checked before any HMAC.
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")


class _HMACSHA256(HMACAlgorithm):
    """HMAC-SHA256 through the standard library's one-shot function, a third of the cost."""

    def __init__(self) -> None:
        super().__init__(hashlib.sha256)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha256")


class _Signer(Signer):
    """An itsdangerous Signer that derives each key once, not on every cookie."""

    def __init__(self, secrets: Sequence[bytes], salt: str) -> None:
        super().__init__(
            list(secrets),
            salt=salt,
            key_derivation="hmac",
            digest_method=hashlib.sha256,
            algorithm=_HMACSHA256(),
        )
        self._derived: dict[bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        index = secret_key.encode() if isinstance(secret_key, str) else secret_key
        key = self._derived.get(index)
        if key is None:
            key = self._derived[index] = super().derive_key(secret_key)
        return key


class CookieSigner:
    """Signs session ids with HMAC-SHA256 (itsdangerous), under a salt of this library's.

    :param secrets: the keys, oldest first: the last one signs, every one
        verifies, so a new key can be added without logging anybody out.
    :param cookie_name: the cookie's name, part of the salt: a value signed for one
        cookie name is refused under another, even with the same secret.

    Only the exact text :meth:`sign` makes is accepted (see ``_SHAPE``), so a
    session has one cookie value, which can be logged or blocked by its text.

    The cookie values it has made or verified lately are remembered (up to
    :data:`VERIFIED_CACHE_SIZE`), so that a returning cookie costs a dictionary
    lookup rather than an HMAC. Only values that passed
    verification are kept, and a value is only ever looked up whole, so the cache
    cannot accept a value that verification would refuse.
    """

    def __init__(self, secrets: Sequence[bytes], *, cookie_name: str) -> None:
        self._signer = _Signer(secrets, f"{SALT}:{cookie_name}")
        # cookie value -> session id
        self._verified: BoundedDict[str, str] = BoundedDict(VERIFIED_CACHE_SIZE)

    def sign(self, session_id: str) -> str:
        """Return the cookie value for *session_id*, always signed with the newest key."""
        value = self._signer.sign(session_id).decode("ascii")
        self._verified[value] = session_id
        return value

    def unsign(self, value: str) -> str | None:
        """Return the session id in a cookie value, or None if it is not one this signer made."""
        if len(value) > MAX_COOKIE_LENGTH:
            return None
        session_id = self._verified.get(value)
        if session_id is not None:
            return session_id
        if not _SHAPE.fullmatch(value):
            return None
        try:
            session_id = self._signer.unsign(value).decode("ascii")
        except (BadSignature, UnicodeError):
            return None
        self._verified[value] = session_id
        return session_id
