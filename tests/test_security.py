"""Passwords (argon2), bearer tokens, secrets at rest (SecretBox) and safe redirects."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import Session

from guanxi.accounts import auth
from guanxi.accounts.throttle import ThrottlePolicy
from guanxi.core.security import (
    SecretBox,
    SecretDecryptionError,
    constant_time_equal,
    hash_password,
    new_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)
from guanxi.core.settings import Settings
from guanxi.web.deps import safe_next
from tests.conftest import PASSWORD, UserFactory

# These tests check the production parameters the rest of the suite swaps for cheap ones.
pytestmark = pytest.mark.real_password_hashing

KEY = "first-secret-key-that-is-long-enough-0123456789"
NEW_KEY = "second-secret-key-that-is-long-enough-987654321"


# --- Passwords -------------------------------------------------------------------------


def test_password_hash_is_argon2id_with_a_random_salt() -> None:
    """A hash is an argon2id PHC string; the same password hashes differently each time."""
    first = hash_password("correct horse battery")
    second = hash_password("correct horse battery")

    assert first.startswith("$argon2id$v=19$m=")
    assert ",t=" in first
    assert ",p=" in first
    assert "correct horse battery" not in first
    assert first != second


def test_verify_accepts_the_password_and_refuses_others() -> None:
    hashed = hash_password("correct horse battery")

    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse batterY")
    assert not verify_password(hashed, "")


def test_verify_never_raises_on_a_damaged_hash() -> None:
    assert not verify_password("not-a-hash", "correct horse battery")
    assert not verify_password("", "correct horse battery")


def test_a_weaker_hash_needs_rehashing_and_todays_does_not() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw-of-yesterday")

    assert password_needs_rehash(weak)
    assert verify_password(weak, "pw-of-yesterday")  # still valid until it is upgraded
    assert not password_needs_rehash(hash_password("pw-of-today"))
    assert password_needs_rehash("not-a-hash")


def test_signing_in_upgrades_a_weak_hash(db: Session, make_user: UserFactory) -> None:
    """Given a user whose hash was made with weaker parameters,
    when they sign in, then the hash is remade with today's parameters and still verifies.
    """
    user = make_user("old@acme.example")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    db.commit()

    policy = ThrottlePolicy(
        account_address_free=5, account_free=10, address_free=20, longest_wait=timedelta(minutes=15)
    )
    auth.authenticate(db, email=user.email, password=PASSWORD, ip=None, policy=policy)
    db.commit()

    db.refresh(user)
    assert not password_needs_rehash(user.password_hash)
    assert verify_password(user.password_hash, PASSWORD)


# --- Bearer tokens ------------------------------------------------------------------------


def test_tokens_are_random_prefixed_and_stored_as_a_digest() -> None:
    token = new_token()

    assert token.startswith("gx_")
    assert len(token) > 40
    assert token != new_token()
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in token_digest(token)


def test_constant_time_equal_compares_exactly() -> None:
    assert constant_time_equal("abc", "abc")
    assert not constant_time_equal("abc", "abd")
    assert not constant_time_equal("abc", "abcd")
    assert constant_time_equal("关系", "关系")


# --- SecretBox ------------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["wb-access-token-123", "微博令牌 ✓", ""])
def test_secret_round_trip(plaintext: str) -> None:
    box = SecretBox(KEY)

    ciphertext = box.encrypt(plaintext)

    assert box.decrypt(ciphertext) == plaintext
    if plaintext:
        assert plaintext not in ciphertext


def test_each_encryption_differs() -> None:
    box = SecretBox(KEY)

    assert box.encrypt("same") != box.encrypt("same")


def test_the_encryption_key_is_derived_not_the_secret_key_itself() -> None:
    """A box keyed with the raw secret (base64 of its bytes) cannot read our secrets."""
    raw = Fernet(base64.urlsafe_b64encode(KEY.encode()[:32]))
    ciphertext = SecretBox(KEY).encrypt("token")

    with pytest.raises(InvalidToken):
        raw.decrypt(ciphertext.encode())


def test_a_wrong_key_raises_a_clear_error() -> None:
    """Given a secret stored under one key, when the key changed, then the error says what
    happened and what to do."""
    ciphertext = SecretBox(KEY).encrypt("wb-access-token-123")

    with pytest.raises(SecretDecryptionError) as caught:
        SecretBox(NEW_KEY).decrypt(ciphertext)

    message = str(caught.value)
    assert "GUANXI_SECRET_KEY changed" in message
    assert "Restore the old key" in message
    assert "GUANXI_PREVIOUS_SECRET_KEYS" in message


@pytest.mark.parametrize("damaged", ["", "not a token", "gAAAAA-broken", "密文"])
def test_damaged_ciphertext_raises_the_same_clear_error(damaged: str) -> None:
    with pytest.raises(SecretDecryptionError, match="cannot be decrypted"):
        SecretBox(KEY).decrypt(damaged)


def test_rotation_keeps_old_secrets_readable_and_moves_them_to_the_new_key() -> None:
    """Given a secret encrypted with the old key,
    when the box has the new key first and the old one after,
    then it still decrypts, and ``rotate`` re-encrypts it so the new key alone reads it.
    """
    old_ciphertext = SecretBox(KEY).encrypt("wb-access-token-123")
    rotating = SecretBox(NEW_KEY, KEY)

    assert rotating.decrypt(old_ciphertext) == "wb-access-token-123"
    rotated = rotating.rotate(old_ciphertext)

    assert rotated != old_ciphertext
    assert SecretBox(NEW_KEY).decrypt(rotated) == "wb-access-token-123"
    with pytest.raises(SecretDecryptionError):
        SecretBox(NEW_KEY).decrypt(old_ciphertext)
    # New secrets are written with the newest key.
    assert SecretBox(NEW_KEY).decrypt(rotating.encrypt("fresh")) == "fresh"


def test_rotating_an_unreadable_secret_raises_the_clear_error() -> None:
    ciphertext = SecretBox(KEY).encrypt("x")

    with pytest.raises(SecretDecryptionError, match="GUANXI_SECRET_KEY changed"):
        SecretBox(NEW_KEY).rotate(ciphertext)


def test_a_box_needs_a_key() -> None:
    with pytest.raises(ValueError, match="non-empty secret key"):
        SecretBox()
    with pytest.raises(ValueError, match="non-empty secret key"):
        SecretBox("")


def test_the_instance_box_uses_the_secret_key_then_the_previous_ones(tmp_path: Path) -> None:
    """GUANXI_PREVIOUS_SECRET_KEYS lists old keys, comma-separated, for rotation."""
    old_ciphertext = SecretBox(KEY).encrypt("kept across the rotation")
    settings = Settings(
        secret_key=NEW_KEY,  # type: ignore[arg-type]
        previous_secret_keys=f" {KEY} ,, older-key ",  # type: ignore[arg-type]
        data_dir=tmp_path,
    )

    box = SecretBox.from_settings(settings)

    assert settings.all_secret_keys() == [NEW_KEY, KEY, "older-key"]
    assert box.decrypt(old_ciphertext) == "kept across the rotation"
    assert SecretBox(NEW_KEY).decrypt(box.encrypt("new")) == "new"


# --- Redirects after sign-in ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/w/acme/", "/w/acme/"),
        ("/catalog?kind=video", "/catalog?kind=video"),
        ("", "/"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("/\n/evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("w/acme", "/"),
    ],
)
def test_safe_next_only_allows_paths_on_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
