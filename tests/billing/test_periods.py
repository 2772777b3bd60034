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
    assert billing_date_on_or_after(date(2027, 3, 10), 15) == date(2027, 3, 15)
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


def test_a_single_day_is_a_whole_period_of_one_day() -> None:
    """Fees, deposits and bookings are billed for one day: never two, never part of one."""
    day = Cycle.day(date(2026, 12, 31))
    assert day == Cycle(date(2026, 12, 31), date(2027, 1, 1), date(2026, 12, 31), date(2027, 1, 1))
    assert (day.days, day.full_days, day.partial) == (1, 1, False)
    assert describe(day) == "31 Dec 2026 to 31 Dec 2026"


def test_months_wrap_at_both_ends_of_the_year() -> None:
    assert add_months(date(2027, 12, 1), 1) == date(2028, 1, 1)
    assert add_months(date(2027, 1, 28), -1) == date(2026, 12, 28)
    assert add_months(date(2027, 12, 5), 0) == date(2027, 12, 5)
    assert add_months(date(2027, 1, 5), 11) == date(2027, 12, 5)
    assert add_months(date(2027, 6, 10), -18) == date(2025, 12, 10)
    assert add_months(date(2027, 6, 10), 24) == date(2029, 6, 10)


def test_a_billing_day_at_the_end_of_the_year() -> None:
    assert billing_date_on_or_after(date(2027, 12, 28), 28) == date(2027, 12, 28)
    assert billing_date_on_or_after(date(2027, 12, 29), 28) == date(2028, 1, 28)
    assert period_starting_on_or_before(date(2028, 1, 27), 28) == date(2027, 12, 28)
    assert period_starting_on_or_before(date(2028, 1, 28), 28) == date(2028, 1, 28)
    assert period_starting_on_or_before(date(2028, 1, 29), 28) == date(2028, 1, 28)


def test_a_period_is_described_by_its_first_and_last_day() -> None:
    [cycle] = membership_cycles(date(2027, 12, 15), None, 1, 1, after=None, before=date(2028, 1, 1))
    assert describe(cycle) == "15 Dec 2027 to 31 Dec 2027"
    whole = Cycle(date(2027, 12, 1), date(2028, 1, 1), date(2027, 12, 1), date(2028, 1, 1))
    assert describe(whole) == "1 Dec 2027 to 31 Dec 2027"
    assert not whole.partial


def test_an_end_date_moved_before_what_was_billed_bills_nothing_more() -> None:
    """Billed up to a point, then ended earlier: no cycle runs backwards from that point."""
    # Billing had reached 11 Dec, inside a cycle; the membership now ends on 5 Dec.
    assert (
        membership_cycles(
            date(2026, 10, 15), date(2026, 12, 5), 1, 1, after=date(2026, 12, 11), before=date(2027, 2, 1)
        )
        == []
    )
    # Billing had reached 1 Jan, a billing day; the membership now ends on 20 Dec.
    assert (
        membership_cycles(date(2026, 10, 15), date(2026, 12, 20), 1, 1, after=date(2027, 1, 1), before=date(2027, 2, 1))
        == []
    )
    # Billing had reached 25 Oct, inside the first part cycle; the membership now ends on 20 Oct.
    assert (
        membership_cycles(
            date(2026, 10, 15), date(2026, 10, 20), 1, 1, after=date(2026, 10, 25), before=date(2027, 2, 1)
        )
        == []
    )
    # Ending on the very day billing had reached leaves that day's cycle to be billed.
    [rest] = membership_cycles(
        date(2026, 10, 15), date(2026, 12, 11), 1, 1, after=date(2026, 12, 11), before=date(2027, 2, 1)
    )
    assert (rest.start, rest.end, rest.full_start, rest.full_end) == (
        date(2026, 12, 11),
        date(2026, 12, 12),
        date(2026, 12, 1),
        date(2027, 1, 1),
    )


def test_billing_resumes_inside_the_first_part_cycle() -> None:
    [rest, december] = membership_cycles(
        date(2026, 10, 15), None, 1, 1, after=date(2026, 10, 25), before=date(2026, 12, 1)
    )[:2]
    assert (rest.start, rest.end, rest.full_start, rest.full_end) == (
        date(2026, 10, 25),
        date(2026, 11, 1),
        date(2026, 10, 1),
        date(2026, 11, 1),
    )
    assert (december.start, december.end) == (date(2026, 11, 1), date(2026, 12, 1))


def test_a_membership_starting_on_a_billing_day_has_no_part_cycle() -> None:
    cycles = membership_cycles(date(2027, 3, 1), None, 1, 3, after=None, before=date(2027, 6, 2))
    assert [(c.start, c.end, c.partial) for c in cycles] == [
        (date(2027, 3, 1), date(2027, 6, 1), False),
        (date(2027, 6, 1), date(2027, 9, 1), False),
    ]
    assert membership_cycles(date(2027, 3, 1), None, 1, 1, after=None, before=date(2027, 3, 1)) == []


def test_resuming_quarterly_billing_jumps_to_the_aligned_cycle() -> None:
    cycles = membership_cycles(date(2025, 2, 15), None, 15, 3, after=date(2027, 5, 15), before=date(2027, 11, 1))
    assert [(c.start, c.end) for c in cycles] == [
        (date(2027, 5, 15), date(2027, 8, 15)),
        (date(2027, 8, 15), date(2027, 11, 15)),
    ]
    # Resuming inside a quarter bills the rest of that quarter first.
    [rest, *_] = membership_cycles(date(2025, 2, 15), None, 15, 3, after=date(2027, 6, 3), before=date(2027, 11, 1))
    assert (rest.start, rest.end, rest.full_start, rest.full_end) == (
        date(2027, 6, 3),
        date(2027, 8, 15),
        date(2027, 5, 15),
        date(2027, 8, 15),
    )


def test_a_whole_year_is_not_a_part_cycle() -> None:
    """Days are compared by value: a yearly cycle has 365 or 366, beyond the small integers Python
    keeps one object each of."""
    [year] = membership_cycles(date(2027, 1, 1), None, 1, 12, after=None, before=date(2027, 2, 1))
    assert (year.days, year.full_days, year.partial) == (365, 365, False)
    [leap] = membership_cycles(date(2028, 1, 1), None, 1, 12, after=None, before=date(2028, 2, 1))
    assert (leap.days, leap.partial) == (366, False)


def test_nothing_begins_on_the_first_day_not_billed() -> None:
    # A part cycle that would begin on ``before`` itself is not yet due.
    assert membership_cycles(date(2027, 3, 15), None, 1, 1, after=None, before=date(2027, 3, 15)) == []
    # Nor is the rest of a cycle whose billing stopped exactly there.
    assert membership_cycles(date(2026, 10, 15), None, 1, 1, after=date(2026, 12, 11), before=date(2026, 12, 11)) == []


def test_resuming_counts_the_months_across_any_span_of_years() -> None:
    [january, february] = membership_cycles(
        date(1000, 1, 1), None, 1, 1, after=date(2000, 1, 1), before=date(2000, 3, 1)
    )
    assert (january.start, february.start, february.end) == (date(2000, 1, 1), date(2000, 2, 1), date(2000, 3, 1))


def _resumed(cycles: list[Cycle], after: date) -> list[Cycle]:
    """What resuming at ``after`` must give, worked out from the whole tiling: the cycles that
    begin on or after it, and the rest of the one it falls inside."""
    rest = [Cycle(after, c.end, c.full_start, c.full_end) for c in cycles if c.start < after < c.end]
    return rest + [c for c in cycles if c.start >= after]


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=1, max_value=28),
    st.sampled_from([1, 2, 3, 6, 12]),
    st.integers(min_value=-400, max_value=4000),
    st.one_of(st.none(), st.integers(min_value=0, max_value=4000)),
)
def test_resuming_on_any_day_bills_exactly_what_is_left(
    start: date, day: int, interval: int, resume: int, length: int | None
) -> None:
    """Resuming on any day at all (a cycle's start, inside one, before the start, past the end)."""
    last_day = None if length is None else start + timedelta(days=length)
    before = date(2042, 1, 1)
    after = start + timedelta(days=resume)
    whole = membership_cycles(start, last_day, day, interval, after=None, before=before)
    assert membership_cycles(start, last_day, day, interval, after=after, before=before) == _resumed(whole, after)
