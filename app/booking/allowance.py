"""Included booking time: the hours (of any resource) and days (of resources with a day rate) a
company's plans give it each period at a location, of one resource kind or of any.

A booking uses them after its discount and before included money credit and the fee: days first
(a resource with a day rate; each local day of the booking is one day, the earliest first), then
hours of the minutes no day covered; the pool of the resource's own kind before the pool for any
kind. What the time pays is the booking's price after discount in proportion to what it covers:
the covered days' share of the gross price, then the covered minutes' share of what is left
(rounding in ``app.kit.money``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.kit.money import plain_decimal, prorate

Scope = tuple[str, str | None]  # (unit, resource kind or None for any)


@dataclass(slots=True)
class Pool:
    """One allowance of a period: what the plans give (minutes or days) and what is left."""

    granted: int
    left: int


@dataclass(frozen=True, slots=True)
class TimeUse:
    unit: str
    resource_kind: str | None
    quantity: int  # minutes or days
    value: int  # what it paid, minor units

    def record(self) -> dict[str, Any]:
        return {"unit": self.unit, "resource_kind": self.resource_kind, "quantity": self.quantity, "value": self.value}


def _take(pools: dict[Scope, Pool], unit: str, kind: str, wanted: int) -> list[tuple[str | None, int]]:
    taken = []
    for scope in (kind, None):
        pool = pools.get((unit, scope))
        if pool is not None and pool.left > 0 and wanted > 0:
            quantity = min(pool.left, wanted)
            pool.left -= quantity
            wanted -= quantity
            taken.append((scope, quantity))
    return taken


def use_time(
    pools: dict[Scope, Pool], kind: str, day_bookable: bool, days: list[dict[str, Any]], price: int, payable: int
) -> list[TimeUse]:
    """Take what a booking can use of ``pools`` (changed in place). ``days`` are its priced days
    (``app.booking.pricing``), ``price`` its gross price and ``payable`` that less its discount."""
    uses: list[TimeUse] = []
    covered_days, days_value = 0, 0
    if day_bookable:
        for scope, quantity in _take(pools, "days", kind, len(days)):
            covered_days += quantity
            gross = sum(day["amount"] for day in days[:covered_days])
            value = prorate(payable, gross, price) if price else 0
            uses.append(TimeUse("days", scope, quantity, value - days_value))
            days_value = value
    minutes = sum(day["minutes"] for day in days[covered_days:])
    rest, minutes_value, covered = payable - days_value, 0, 0
    for scope, quantity in _take(pools, "hours", kind, minutes):
        covered += quantity
        value = prorate(rest, covered, minutes)
        uses.append(TimeUse("hours", scope, quantity, value - minutes_value))
        minutes_value = value
    return uses


def hours(minutes: int) -> str:
    return plain_decimal(Decimal(minutes) / 60)


def usage_note(use: TimeUse, pool: Pool) -> str:
    """``3 of 10 included meeting-room hours used``: the period's allowance after this booking."""
    kind = (use.resource_kind or "").replace("_", "-")
    label = f"{kind} {use.unit}".strip()
    used, granted = pool.granted - pool.left, pool.granted
    if use.unit == "hours":
        return f"{hours(used)} of {hours(granted)} included {label} used"
    return f"{used} of {granted} included {label} used"
