"""Billing calendar arithmetic, in calendar dates of the location's time zone.

A location bills on its ``billing_day`` (1-28, so every month has it). A membership is billed in
cycles of its plan's ``interval_months``, aligned to billing days: a membership that starts between
two billing days first gets a partial cycle up to the next billing day. A partial cycle is priced
by the actual-days convention: the days billed over the days of the whole cycle it belongs to.
Periods are half-open: ``end`` is the first day *not* included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache


def add_months(day: date, months: int) -> date:
    """The same day-of-month ``months`` later (billing days are at most 28, so it always exists)."""
    index = day.year * 12 + day.month - 1 + months
    return day.replace(year=index // 12, month=index % 12 + 1)


def billing_date_on_or_after(day: date, billing_day: int) -> date:
    candidate = day.replace(day=billing_day)
    return candidate if candidate >= day else add_months(candidate, 1)


def period_starting_on_or_before(day: date, billing_day: int) -> date:
    """The billing date that opens the monthly period ``day`` falls in."""
    candidate = day.replace(day=billing_day)
    return candidate if candidate <= day else add_months(candidate, -1)


@dataclass(frozen=True, slots=True)
class Cycle:
    start: date  # first day billed
    end: date  # first day not billed
    full_start: date  # the whole cycle this part belongs to
    full_end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def full_days(self) -> int:
        return (self.full_end - self.full_start).days

    @property
    def partial(self) -> bool:
        return self.days != self.full_days

    @classmethod
    def day(cls, day: date) -> Cycle:
        """A single day as a period of its own (what a fee, a deposit or a booking is billed for)."""
        return cls(day, day + timedelta(days=1), day, day + timedelta(days=1))


def membership_cycles(
    start: date,
    last_day: date | None,
    billing_day: int,
    interval_months: int,
    *,
    after: date | None,
    before: date,
) -> list[Cycle]:
    """The cycles of a membership that begin on or after ``after`` (None: from its start) and
    before ``before``, cut at ``last_day`` (the membership's last day, if it ends)."""
    end_excl = last_day + timedelta(days=1) if last_day is not None else None
    limit = before if end_excl is None else min(before, end_excl)  # a cycle must start before this

    def cut(end: date) -> date:
        return end if end_excl is None else min(end, end_excl)

    anchor = billing_date_on_or_after(start, billing_day)
    cycles = []
    if anchor > start and (after is None or after < anchor):
        # The part cycle up to the first billing day, or what is left of it when billing stopped
        # inside it (an end date that was later moved or removed).
        first = start if after is None else max(start, after)
        if first < limit:
            cycles.append(Cycle(first, cut(anchor), add_months(anchor, -interval_months), anchor))
    begin = anchor
    if after is not None and after > anchor:
        # The first aligned cycle that begins on or after ``after``: cycles begin on the billing
        # day (at most the 28th), so the billing day in ``after``'s month, or the month after when
        # that day is already past, rounded up to a whole number of intervals.
        months = (after.year - anchor.year) * 12 + after.month - anchor.month + int(after.day > anchor.day)
        begin = add_months(anchor, -(-months // interval_months) * interval_months)
        if begin > after and after < limit:
            # Billing stopped inside a cycle (an end date that was later moved or removed): the
            # rest of that cycle is a partial one, so no day goes unbilled.
            cycles.append(Cycle(after, cut(begin), add_months(begin, -interval_months), begin))
    while begin < limit:
        end = add_months(begin, interval_months)
        cycles.append(Cycle(begin, cut(end), begin, end))
        begin = end
    return cycles


@lru_cache(maxsize=4096)  # a run describes the same few periods for every membership
def describe(cycle: Cycle) -> str:
    """``1 Mar 2027 to 31 Mar 2027``: the last day included, as people read a period."""
    last = cycle.end - timedelta(days=1)
    return f"{cycle.start.day} {cycle.start:%b %Y} to {last.day} {last:%b %Y}"
