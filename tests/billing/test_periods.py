"""The billing calendar: cycles, proration periods, month ends and leap years."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.billing.periods import (
    Cycle,
    add_months,
    billing_date_on_or_after,
    describe,
    membership_cycles,
    period_starting_on_or_before,
)


def test_month_arithmetic_across_year_ends() -> None:
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)
    assert add_months(date(2028, 1, 28), -2) == date(2027, 11, 28)


def test_billing_dates() -> None:
    assert billing_date_on_or_after(date(2027, 3, 1), 1) == date(2027, 3, 1)
    assert billing_date_on_or_after(date(2027, 3, 2), 1) == date(2027, 4, 1)
    assert billing_date_on_or_after(date(2027, 12, 20), 15) == date(2028, 1, 15)
    assert period_starting_on_or_before(date(2027, 3, 10), 15) == date(2027, 2, 15)
    assert period_starting_on_or_before(date(2027, 3, 15), 15) == date(2027, 3, 15)


def test_a_mid_month_start_gets_a_partial_first_cycle() -> None:
    cycles = membership_cycles(date(2027, 3, 12), None, 1, 1, after=None, before=date(2027, 5, 1))
    assert cycles == [
        Cycle(date(2027, 3, 12), date(2027, 4, 1), date(2027, 3, 1), date(2027, 4, 1)),
        Cycle(date(2027, 4, 1), date(2027, 5, 1), date(2027, 4, 1), date(2027, 5, 1)),
    ]
    assert (cycles[0].days, cycles[0].full_days, cycles[0].partial) == (20, 31, True)
    assert describe(cycles[0]) == "12 Mar 2027 to 31 Mar 2027"


def test_february_of_a_leap_year_has_29_days() -> None:
    [cycle] = membership_cycles(date(2028, 2, 10), None, 1, 1, after=None, before=date(2028, 3, 1))
    assert (cycle.days, cycle.full_days) == (20, 29)
    [cycle] = membership_cycles(date(2027, 2, 10), None, 1, 1, after=None, before=date(2027, 3, 1))
    assert (cycle.days, cycle.full_days) == (19, 28)


def test_an_end_date_cuts_the_last_cycle() -> None:
    cycles = membership_cycles(date(2027, 1, 1), date(2027, 3, 12), 1, 1, after=None, before=date(2027, 6, 1))
    assert [(c.start, c.end, c.days, c.full_days) for c in cycles] == [
        (date(2027, 1, 1), date(2027, 2, 1), 31, 31),
        (date(2027, 2, 1), date(2027, 3, 1), 28, 28),
        (date(2027, 3, 1), date(2027, 3, 13), 12, 31),
    ]


def test_an_end_beyond_the_horizon_does_not_cut_the_cycle_in_advance() -> None:
    [cycle] = membership_cycles(
        date(2027, 1, 1), date(2027, 9, 30), 1, 1, after=date(2027, 3, 1), before=date(2027, 4, 1)
    )
    assert (cycle.start, cycle.end) == (date(2027, 3, 1), date(2027, 4, 1))


def test_quarterly_cycles_align_to_the_billing_day_after_a_partial_start() -> None:
    cycles = membership_cycles(date(2027, 1, 20), None, 15, 3, after=None, before=date(2027, 9, 1))
    assert [(c.start, c.end, c.full_start, c.full_end) for c in cycles] == [
        (date(2027, 1, 20), date(2027, 2, 15), date(2026, 11, 15), date(2027, 2, 15)),
        (date(2027, 2, 15), date(2027, 5, 15), date(2027, 2, 15), date(2027, 5, 15)),
        (date(2027, 5, 15), date(2027, 8, 15), date(2027, 5, 15), date(2027, 8, 15)),
        (date(2027, 8, 15), date(2027, 11, 15), date(2027, 8, 15), date(2027, 11, 15)),
    ]


def test_after_skips_what_is_already_billed() -> None:
    every = membership_cycles(date(2025, 6, 7), None, 1, 1, after=None, before=date(2027, 6, 1))
    rest = membership_cycles(date(2025, 6, 7), None, 1, 1, after=date(2027, 3, 1), before=date(2027, 6, 1))
    assert rest == [c for c in every if c.start >= date(2027, 3, 1)]
    assert [c.start for c in rest] == [date(2027, 3, 1), date(2027, 4, 1), date(2027, 5, 1)]


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    st.integers(min_value=0, max_value=900),
    st.integers(min_value=1, max_value=28),
    st.sampled_from([1, 2, 3, 6, 12]),
)
def test_cycles_tile_the_membership_without_gaps_or_overlaps(start: date, length: int, day: int, interval: int) -> None:
    last_day = start + timedelta(days=length)
    before = last_day + timedelta(days=400)
    cycles = membership_cycles(start, last_day, day, interval, after=None, before=before)
    assert cycles[0].start == start
    assert cycles[-1].end == last_day + timedelta(days=1)
    for earlier, later in itertools.pairwise(cycles):
        assert earlier.end == later.start
    for cycle in cycles:
        assert cycle.full_start <= cycle.start < cycle.end <= cycle.full_end
        assert 0 < cycle.days <= cycle.full_days
    # Resuming after any cycle's start gives exactly the cycles from there on.
    for cycle in cycles:
        assert membership_cycles(start, last_day, day, interval, after=cycle.start, before=before) == [
            c for c in cycles if c.start >= cycle.start
        ]


def test_billing_resumes_mid_cycle_where_it_stopped() -> None:
    """An end date that was billed and then removed leaves a cut cycle: the rest is billed."""
    [rest, january] = membership_cycles(
        date(2026, 10, 15), None, 1, 1, after=date(2026, 12, 11), before=date(2027, 2, 1)
    )
    assert (rest.start, rest.end, rest.days, rest.full_days) == (date(2026, 12, 11), date(2027, 1, 1), 21, 31)
    assert (january.start, january.end, january.partial) == (date(2027, 1, 1), date(2027, 2, 1), False)
