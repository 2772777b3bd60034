"""Secrets handed to people: passwords (argon2id) and bearer tokens (random, stored as SHA-256).

Tokens are 256-bit random values, so a fast hash is enough to store them; passwords are not, so
they get a memory-hard hash, computed in a worker thread to keep the event loop free.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.settings import Settings

API_KEY_PREFIX = "flk_"
MEMBER_TOKEN_PREFIX = "flm_"  # noqa: S105 - a label, not a secret
# A valid hash to verify against when the account does not exist, so timing tells nothing.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105 - deliberately public


class Passwords:
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_kib,
        )
        self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        target = password_hash or self._dummy_hash
        try:
            ok = await anyio.to_thread.run_sync(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok) and password_hash is not None


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_api_key() -> tuple[str, str]:
    """A fresh API key and its public lookup prefix: ``flk_<prefix>_<secret>``."""
    prefix = secrets.token_hex(6)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def api_key_prefix(token: str) -> str | None:
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12 or not secret:
        return None
    return prefix


def new_member_token() -> str:
    return MEMBER_TOKEN_PREFIX + secrets.token_urlsafe(32)


def digests_match(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
