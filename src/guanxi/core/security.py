"""Password hashing, opaque tokens and encryption of secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from guanxi.core.settings import Settings

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def waste_password_check(password: str) -> None:
    """Spend the time of one password check, for an account that does not exist.

    A sign-in then takes as long whether or not the address has an account, so addresses
    cannot be probed by timing.
    """
    verify_password(_dummy_hash(), password)


def password_needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def new_token(prefix: str = "gx") -> str:
    """A random bearer token, recognisable by its prefix."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """The stored form of a bearer token (high-entropy, so a plain SHA-256 suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def constant_time_equal(left: str, right: str) -> bool:
    """Compare two secrets without leaking where they differ."""
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


class SecretDecryptionError(RuntimeError):
    """A stored secret no longer decrypts with the configured keys."""


DECRYPTION_FAILED = (
    "A stored secret cannot be decrypted: GUANXI_SECRET_KEY changed. Restore the old key "
    "(or list it in GUANXI_PREVIOUS_SECRET_KEYS), or reconnect the account so its token "
    "is stored again."
)


class SecretBox:
    """Encrypts secrets at rest (platform tokens) with keys derived from the secret key.

    Several keys may be given, newest first, so the secret key can be rotated: values
    encrypted with an older key still decrypt, and ``rotate`` re-encrypts them.
    """

    def __init__(self, *secret_keys: str) -> None:
        if not secret_keys or not all(secret_keys):
            msg = "SecretBox needs at least one non-empty secret key"
            raise ValueError(msg)
        self._fernet = MultiFernet([Fernet(_derive_key(key)) for key in secret_keys])

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box for this instance: the secret key, then the previous ones."""
        return cls(*settings.all_secret_keys())

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext of ``plaintext``, safe to store in the database."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext; raises ``SecretDecryptionError`` when no key fits."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise SecretDecryptionError(DECRYPTION_FAILED) from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt ``ciphertext`` with the newest key; raises like ``decrypt``."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError) as exc:
            raise SecretDecryptionError(DECRYPTION_FAILED) from exc


def _derive_key(secret_key: str) -> bytes:
    # The secret key also signs sessions: derive a separate key so neither use weakens the other.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"guanxi secrets at rest")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8")))
