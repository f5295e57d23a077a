"""The cookie signer: HMAC-SHA256 over the session id, with key rotation."""

from __future__ import annotations

import pytest

from tornado_user_session.signing import MAX_COOKIE_LENGTH, SALT, CookieSigner

OLD, NEW = b"o" * 32, b"n" * 32


def test_a_signed_id_unsigns_to_itself() -> None:
    signer = CookieSigner([NEW], cookie_name="c")
    value = signer.sign("abc")
    assert value.startswith("abc.")
    assert signer.unsign(value) == "abc"


@pytest.mark.parametrize(
    "value", ["abc", "abc.", ".abc", "abc.xyz", "", "a.b.c", "é.é", "abc." + "A" * 43]
)
def test_values_it_did_not_sign_are_refused(value: str) -> None:
    assert CookieSigner([NEW], cookie_name="c").unsign(value) is None


def test_a_tampered_id_or_signature_is_refused() -> None:
    signer = CookieSigner([NEW], cookie_name="c")
    value = signer.sign("abc")
    assert signer.unsign("abd" + value[3:]) is None
    # Not the last character, whose low bits base64 ignores: that would be the same signature.
    assert signer.unsign(value[:-5] + ("A" if value[-5] != "A" else "B") + value[-4:]) is None


def test_an_oversized_value_is_refused_before_checking_it() -> None:
    signer = CookieSigner([NEW], cookie_name="c")
    session_id = "x" * (MAX_COOKIE_LENGTH - 44)
    assert signer.unsign(signer.sign(session_id)) == session_id
    longer = "x" * (MAX_COOKIE_LENGTH - 43)
    assert signer.unsign(signer.sign(longer)) is None


def test_the_signature_is_hmac_sha256_under_the_librarys_salt() -> None:
    import hashlib

    from itsdangerous import Signer

    expected = Signer(NEW, salt=f"{SALT}:c", key_derivation="hmac", digest_method=hashlib.sha256)
    assert CookieSigner([NEW], cookie_name="c").sign("abc") == expected.sign("abc").decode()
    assert len(CookieSigner([NEW], cookie_name="c").sign("abc")) == len("abc.") + 43  # 256 bits


def test_rotation_old_keys_verify_the_newest_signs() -> None:
    old_cookie = CookieSigner([OLD], cookie_name="c").sign("abc")
    rotated = CookieSigner([OLD, NEW], cookie_name="c")
    assert rotated.unsign(old_cookie) == "abc"
    assert rotated.sign("abc") == CookieSigner([NEW], cookie_name="c").sign("abc")
    assert CookieSigner([NEW], cookie_name="c").unsign(old_cookie) is None


def test_verified_values_are_remembered_and_the_memory_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tornado_user_session.signing.VERIFIED_CACHE_SIZE", 3)
    signer = CookieSigner([NEW], cookie_name="c")
    values = [signer.sign(f"id{n}") for n in range(5)]
    calls: list[str] = []
    real = signer._signer.unsign

    def counting_unsign(value: str) -> bytes:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(signer._signer, "unsign", counting_unsign)
    assert signer.unsign(values[4]) == "id4"  # remembered when it was signed
    assert calls == []
    assert signer.unsign(values[0]) == "id0"  # forgotten: verified again
    assert calls == [values[0]]
    assert len(signer._verified) == 3


def test_a_tampered_copy_of_a_remembered_value_is_still_refused() -> None:
    signer = CookieSigner([NEW], cookie_name="c")
    value = signer.sign("abc")
    assert signer.unsign(value) == "abc"
    assert signer.unsign(value[:-5] + ("A" if value[-5] != "A" else "B") + value[-4:]) is None
    assert signer.unsign(value + "x") is None
    assert CookieSigner([OLD], cookie_name="c").unsign(value) is None


def test_only_the_exact_text_sign_makes_is_accepted() -> None:
    signer = CookieSigner([NEW], cookie_name="c")
    value = signer.sign("a" * 43)
    session_id, signature = value.split(".")
    # Each of these decoded to the same signature under lenient base64.
    variants = [
        value + "=",
        value + "==",
        f"{session_id}.{signature[:20]}!{signature[20:]}",
        f"{session_id}.{signature[:20]}={signature[20:]}",
        f"{session_id}.{signature[:20]}\n{signature[20:]}",
        # The last character carries two bits that base64 ignores: a non-canonical twin.
        f"{session_id}.{signature[:-1]}{chr(ord(signature[-1]) ^ 1)}",
        f" {value}",
        f'"{value}"',
    ]
    for variant in variants:
        fresh = CookieSigner([NEW], cookie_name="c")  # nothing remembered
        assert fresh.unsign(variant) is None, variant
    assert CookieSigner([NEW], cookie_name="c").unsign(value) == "a" * 43


def test_the_signature_is_bound_to_the_cookie_name() -> None:
    value = CookieSigner([NEW], cookie_name="shop").sign("abc")
    assert CookieSigner([NEW], cookie_name="admin").unsign(value) is None
    assert CookieSigner([NEW], cookie_name="shop").unsign(value) == "abc"
