"""What a booking costs, day by day in the location's time zone: by the hour, capped by a day rate."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.booking.pricing import DayPrice, price_booking, pricing_record

LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def test_an_hourly_booking_is_charged_by_the_minute() -> None:
    total, days = price_booking(local(LONDON, 2027, 3, 2, 9, 0), local(LONDON, 2027, 3, 2, 11, 30), LONDON, 3000, None)
    assert total == 7500
    assert days == [DayPrice("2027-03-02", 150, 7500, 7500, False)]


def test_an_hourly_priced_day_does_not_claim_the_day_rate() -> None:
    """The day rate is dearer than the hours booked, so the hours are charged and the day rate
    flag stays off."""
    total, days = price_booking(local(LONDON, 2027, 3, 2, 9, 0), local(LONDON, 2027, 3, 2, 11, 0), LONDON, 3000, 20000)
    assert total == 6000
    assert days == [DayPrice("2027-03-02", 120, 6000, 6000, False)]


def test_the_day_rate_caps_a_long_day() -> None:
    total, days = price_booking(local(LONDON, 2027, 3, 2, 8, 0), local(LONDON, 2027, 3, 2, 18, 0), LONDON, 3000, 20000)
    assert total == 20000
    assert days == [DayPrice("2027-03-02", 600, 30000, 20000, True)]


def test_a_day_rate_equal_to_the_hours_is_charged_by_the_hour() -> None:
    _, days = price_booking(local(LONDON, 2027, 3, 2, 9, 0), local(LONDON, 2027, 3, 2, 13, 0), LONDON, 5000, 20000)
    assert days == [DayPrice("2027-03-02", 240, 20000, 20000, False)]


def test_a_resource_with_only_a_day_rate_charges_it_for_any_part_of_a_day() -> None:
    total, days = price_booking(local(LONDON, 2027, 3, 2, 9, 0), local(LONDON, 2027, 3, 2, 9, 30), LONDON, None, 20000)
    assert total == 20000
    assert days == [DayPrice("2027-03-02", 30, None, 20000, True)]


def test_each_local_day_is_priced_on_its_own() -> None:
    # 20:00 to 10:00 the next morning: 4 hours on the first day, 10 on the second, capped.
    total, days = price_booking(local(LONDON, 2027, 3, 2, 20, 0), local(LONDON, 2027, 3, 3, 10, 0), LONDON, 3000, 25000)
    assert days == [
        DayPrice("2027-03-02", 240, 12000, 12000, False),
        DayPrice("2027-03-03", 600, 30000, 25000, True),
    ]
    assert total == 37000


def test_days_are_those_of_the_location_not_of_utc() -> None:
    # 23:00 UTC on 1 March is 10:00 on 2 March in Sydney: one Sydney day, whatever UTC says.
    starts = datetime(2027, 3, 1, 23, 0, tzinfo=UTC)
    ends = datetime(2027, 3, 2, 1, 0, tzinfo=UTC)
    _, days = price_booking(starts, ends, SYDNEY, 3000, None)
    assert days == [DayPrice("2027-03-02", 120, 6000, 6000, False)]


def test_a_day_on_which_the_clocks_change_has_its_real_length() -> None:
    # 28 March 2027 in London has 23 hours: midnight to midnight is 1,380 minutes.
    _, days = price_booking(local(LONDON, 2027, 3, 28, 0, 0), local(LONDON, 2027, 3, 29, 0, 0), LONDON, 600, None)
    assert days == [DayPrice("2027-03-28", 1380, 13800, 13800, False)]
    # 31 October 2027 has 25.
    _, days = price_booking(local(LONDON, 2027, 10, 31, 0, 0), local(LONDON, 2027, 11, 1, 0, 0), LONDON, 600, None)
    assert days == [DayPrice("2027-10-31", 1500, 15000, 15000, False)]


def test_half_a_minor_unit_rounds_up() -> None:
    _, days = price_booking(local(LONDON, 2027, 3, 2, 9, 0), local(LONDON, 2027, 3, 2, 9, 1), LONDON, 30, None)
    assert days == [DayPrice("2027-03-02", 1, 1, 1, False)]  # 0.5 -> 1


def test_a_resource_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="hourly or a daily rate"):
        price_booking(local(LONDON, 2027, 3, 2, 9, 0), local(LONDON, 2027, 3, 2, 10, 0), LONDON, None, None)


def test_the_record_keeps_how_the_price_was_worked_out() -> None:
    _, days = price_booking(local(LONDON, 2027, 3, 2, 8, 0), local(LONDON, 2027, 3, 2, 18, 0), LONDON, 3000, 20000)
    assert pricing_record(days, 3000, 20000, "GBP", "Europe/London") == {
        "currency": "GBP",
        "time_zone": "Europe/London",
        "hourly_rate": 3000,
        "daily_rate": 20000,
        "days": [{"day": "2027-03-02", "minutes": 600, "by_the_hour": 30000, "amount": 20000, "day_rate": True}],
    }


def test_seconds_short_of_a_whole_minute_are_not_charged() -> None:
    starts = local(LONDON, 2027, 3, 2, 9, 0)
    _, days = price_booking(starts, starts.replace(minute=30, second=45), LONDON, 3000, None)
    assert days == [DayPrice("2027-03-02", 30, 1500, 1500, False)]
    assert all(isinstance(value, int) for value in (days[0].minutes, days[0].amount))


def test_a_booking_that_does_not_end_after_it_starts_has_no_price() -> None:
    """The service refuses such a booking first; the pricing does not rely on it."""
    nine = local(LONDON, 2027, 3, 2, 9, 0)
    for ends in (nine, local(LONDON, 2027, 3, 2, 8, 0)):
        with pytest.raises(ValueError, match="ends after it starts"):
            price_booking(nine, ends, LONDON, 3000, None)
