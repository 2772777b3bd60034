"""Identifiers: time-ordered UUIDs (version 7) so new rows land at the end of their indexes."""

from __future__ import annotations

import os
import time
import uuid

_MILLIS = (1 << 48) - 1
_VERSION_AND_VARIANT = (0x7 << 76) | (0x2 << 62)
_NOT_VERSION_OR_VARIANT = ~((0xF << 76) | (0x3 << 62))
_make = object.__new__
_set = object.__setattr__


def new_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then random bits, with version and variant set."""
    random = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000 & _MILLIS) << 80 | random) & _NOT_VERSION_OR_VARIANT | _VERSION_AND_VARIANT
    # The value is valid by construction: skip the checks of UUID(int=...) (a run makes thousands).
    made = _make(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made
