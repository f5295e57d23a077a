"""Signing the session id that the cookie carries."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from itsdangerous import BadSignature, Signer
from itsdangerous.signer import HMACAlgorithm

#: Keeps these signatures apart from any other use of the same secret.
SALT = "tornado_user_session.cookie"

#: A session cookie is a 43-character id, a dot and a 43-character signature;
#: anything much longer is refused before any HMAC is computed.
MAX_COOKIE_LENGTH = 128


class _HMACSHA256(HMACAlgorithm):
    """HMAC-SHA256 through the standard library's one-shot function, a third of the cost."""

    def __init__(self) -> None:
        super().__init__(hashlib.sha256)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha256")


class _Signer(Signer):
    """An itsdangerous Signer that derives each key once, not on every cookie."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        super().__init__(
            list(secrets),
            salt=SALT,
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
    """

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self._signer = _Signer(secrets)

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
