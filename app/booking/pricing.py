"""What a booking costs: each calendar day it touches (in the location's time zone) is priced on
its own, by the hour, and a day rate, where the resource has one, caps that day."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.kit.money import per_hour


@dataclass(frozen=True, slots=True)
class DayPrice:
    day: str  # the local date, ISO
    minutes: int
    by_the_hour: int | None
    amount: int
    day_rate: bool  # the day rate applied (it was cheaper, or the only rate)


def price_booking(
    starts_at: datetime, ends_at: datetime, zone: ZoneInfo, hourly_rate: int | None, daily_rate: int | None
) -> tuple[int, list[DayPrice]]:
    """The gross price of a booking and how each day of it was priced. Times are aware instants;
    elapsed time is measured in UTC, so a day on which the clocks change has its real length."""
    if hourly_rate is None and daily_rate is None:
        raise ValueError("a resource needs an hourly or a daily rate")
    if ends_at <= starts_at:
        raise ValueError("a booking ends after it starts")
    days: list[DayPrice] = []
    cursor = starts_at.astimezone(UTC)
    end = ends_at.astimezone(UTC)
    while cursor < end:
        local_day = cursor.astimezone(zone).date()
        midnight = datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        stop = min(midnight, end)
        minutes = int((stop - cursor).total_seconds()) // 60
        by_hour = per_hour(hourly_rate, minutes) if hourly_rate is not None else None
        if daily_rate is not None and (by_hour is None or daily_rate < by_hour):
            days.append(DayPrice(local_day.isoformat(), minutes, by_hour, daily_rate, True))
        else:
            assert by_hour is not None
            days.append(DayPrice(local_day.isoformat(), minutes, by_hour, by_hour, False))
        cursor = stop
    return sum(day.amount for day in days), days


def pricing_record(
    days: list[DayPrice], hourly_rate: int | None, daily_rate: int | None, currency: str, time_zone: str
) -> dict[str, Any]:
    """How the price was worked out, stored with the booking and shown on its invoice line."""
    return {
        "currency": currency,
        "time_zone": time_zone,
        "hourly_rate": hourly_rate,
        "daily_rate": daily_rate,
        "days": [asdict(day) for day in days],
    }
