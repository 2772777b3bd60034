"""Sandbox time: real time, optionally sped up, and movable forward by tests.

Xero's limits and token lifetimes are counted in minutes and days. Scaling lets a test see a
minute pass in a second, and ``advance`` lets it jump 31 minutes or 61 days at once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SandboxClock:
    def __init__(self, scale: float = 1.0) -> None:
        self._base = time.time()
        self._started = time.monotonic()
        self._scale = scale

    @property
    def scale(self) -> float:
        return self._scale

    def timestamp(self) -> float:
        return self._base + (time.monotonic() - self._started) * self._scale

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def advance(self, seconds: float) -> None:
        self._base += seconds

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self._base, self._started, self._scale = self.timestamp(), time.monotonic(), scale
