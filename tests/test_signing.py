"""The cookie signer: HMAC-SHA256 over the session id, with key rotation."""

from __future__ import annotations

import pytest

from tornado_user_session.signing import MAX_COOKIE_LENGTH, SALT, CookieSigner

OLD, NEW = b"o" * 32, b"n" * 32


def test_a_signed_id_unsigns_to_itself() -> None:
    signer = CookieSigner([NEW])
    value = signer.sign("abc")
    assert value.startswith("abc.")
    assert signer.unsign(value) == "abc"


@pytest.mark.parametrize(
    "value", ["abc", "abc.", ".abc", "abc.xyz", "", "a.b.c", "é.é", "abc." + "A" * 43]
)
def test_values_it_did_not_sign_are_refused(value: str) -> None:
    assert CookieSigner([NEW]).unsign(value) is None


def test_a_tampered_id_or_signature_is_refused() -> None:
    signer = CookieSigner([NEW])
    value = signer.sign("abc")
    assert signer.unsign("abd" + value[3:]) is None
    assert signer.unsign(value[:-2] + ("AA" if value[-2:] != "AA" else "BB")) is None


def test_an_oversized_value_is_refused_before_checking_it() -> None:
    signer = CookieSigner([NEW])
    session_id = "x" * (MAX_COOKIE_LENGTH - 44)
    assert signer.unsign(signer.sign(session_id)) == session_id
    longer = "x" * (MAX_COOKIE_LENGTH - 43)
    assert signer.unsign(signer.sign(longer)) is None


def test_the_signature_is_hmac_sha256_under_the_librarys_salt() -> None:
    import hashlib

    from itsdangerous import Signer

    expected = Signer(NEW, salt=SALT, key_derivation="hmac", digest_method=hashlib.sha256)
    assert CookieSigner([NEW]).sign("abc") == expected.sign("abc").decode()
    assert len(CookieSigner([NEW]).sign("abc")) == len("abc.") + 43  # 256 bits


def test_rotation_old_keys_verify_the_newest_signs() -> None:
    old_cookie = CookieSigner([OLD]).sign("abc")
    rotated = CookieSigner([OLD, NEW])
    assert rotated.unsign(old_cookie) == "abc"
    assert rotated.sign("abc") == CookieSigner([NEW]).sign("abc")
    assert CookieSigner([NEW]).unsign(old_cookie) is None
