"""The one source of "now": injectable so tests can travel in time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def local_today(clock: Clock, time_zone: str) -> date:
    """Today's calendar date where the location is (billing dates are local, timestamps are UTC)."""
    return clock.now().astimezone(ZoneInfo(time_zone)).date()
