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


_last = [0]  # the last id made, in a cell (so no global statement rebinds it)


def new_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then random bits, with version and variant set.

    Within one process each id is greater than the one before, even inside one millisecond (the
    next is the last plus one then), so rows made in order list in that order (a journal)."""
    random = int.from_bytes(os.urandom(10), "big")
    value = ((time.time_ns() // 1_000_000 & _MILLIS) << 80 | random) & _NOT_VERSION_OR_VARIANT | _VERSION_AND_VARIANT
    if value <= _last[0]:
        value = (_last[0] + 1) & _NOT_VERSION_OR_VARIANT | _VERSION_AND_VARIANT
    _last[0] = value
    # The value is valid by construction: skip the checks of UUID(int=...) (a run makes thousands).
    made = _make(uuid.UUID)
    _set(made, "int", value)
    _set(made, "is_safe", uuid.SafeUUID.unknown)
    return made
