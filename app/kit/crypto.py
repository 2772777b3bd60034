"""Secrets we hold for others (OAuth tokens), encrypted at rest under keys that can be rotated.

Fernet gives authenticated encryption with the key's version and a time-stamp in every token;
MultiFernet encrypts with the first key and decrypts with any, which is what rotation needs.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.settings import Settings


class UnreadableSecret(Exception):
    """No configured key opens this value (a key was dropped before everything was re-sealed)."""


def parse_keys(value: str) -> list[Fernet]:
    """The comma-separated keys of TOKEN_KEYS; raises ValueError naming the bad one."""
    keys = []
    for position, key in enumerate((part.strip() for part in value.split(",") if part.strip()), start=1):
        try:
            keys.append(Fernet(key))
        except ValueError as problem:
            msg = f"key {position} is not a Fernet key (32 url-safe base64 bytes): {problem}"
            raise ValueError(msg) from None
    if not keys:
        msg = "no keys given"
        raise ValueError(msg)
    return keys


def new_key() -> str:
    return Fernet.generate_key().decode()


def _derived_key(secret_key: str) -> Fernet:
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"flexledger token keys").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(material))


class SecretBox:
    def __init__(self, settings: Settings) -> None:
        if settings.token_keys is not None:
            keys = parse_keys(settings.token_keys.get_secret_value())
        else:
            keys = [_derived_key(settings.secret_key.get_secret_value())]
        self._keys = MultiFernet(keys)

    def seal(self, text: str) -> bytes:
        return self._keys.encrypt(text.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._keys.decrypt(sealed).decode()
        except InvalidToken:
            raise UnreadableSecret("no configured token key opens this value") from None

    def reseal(self, sealed: bytes) -> bytes:
        """The same secret under the current (first) key."""
        try:
            return self._keys.rotate(sealed)
        except InvalidToken:
            raise UnreadableSecret("no configured token key opens this value") from None
