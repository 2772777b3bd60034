"""What a billing run charges, line by line: a membership's cycle (and its discount), a plan's
deposit, a one-off fee, a booking (discount, then included credit, then fee). Each charge carries
the words on its line and an explanation of how its amount came about.

The run reads what it bills as rows, not entities (``app.billing.engine``); the few facts a
charge needs of a customer, a plan, a discount or a membership are these small records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from app.billing.periods import Cycle, describe
from app.booking.allowance import Pool, Scope, TimeUse, usage_note, use_time
from app.booking.models import Booking, Resource
from app.catalog.models import Discount
from app.catalog.tax import AppliedTax
from app.company.models import Company
from app.fee.models import Fee
from app.kit.ids import new_id
from app.kit.money import format_amount, line_amount, percent_of, plain_decimal, prorate


@dataclass(slots=True)
class Customer:
    """Who an invoice is for, as the run needs it."""

    id: uuid.UUID
    legal_name: str
    tax_rate_id: uuid.UUID | None  # the customer's own rate, over the location's
    payment_terms_days: int

    @classmethod
    def of(cls, company: Company) -> Customer:
        return cls(company.id, company.legal_name, company.tax_rate_id, company.payment_terms_days)


@dataclass(slots=True)
class PlanTerms:
    id: uuid.UUID
    name: str
    currency: str
    price: int
    interval_months: int
    prorate: bool
    deposit: int
    revenue_account_id: uuid.UUID


@dataclass(slots=True)
class DiscountTerms:
    id: uuid.UUID
    name: str
    kind: str  # percent or fixed
    percent: Decimal | None
    amount: int | None

    @classmethod
    def of(cls, discount: Discount) -> DiscountTerms:
        return cls(discount.id, discount.name, discount.kind, discount.percent, discount.amount)


@dataclass(slots=True)
class MembershipTerms:
    id: uuid.UUID
    location_id: uuid.UUID
    start_date: date
    end_date: date | None
    quantity: int
    price_override: int | None


@dataclass(slots=True)
class Charge:
    """A line the run intends to write, before it has claimed its period."""

    company: Customer
    source_id: uuid.UUID  # the membership or the fee
    cycle: Cycle  # for a fee: its date, as a one-day period
    description: str
    quantity: Decimal
    unit_amount: int
    amount: int
    tax: AppliedTax
    revenue_account_id: uuid.UUID
    explanation: dict[str, Any]
    source_type: str = "membership"
    writes_line: bool = True  # a booking paid in full by included credit is claimed, not invoiced
    line_id: uuid.UUID = field(default_factory=new_id)

    @property
    def group(self) -> str:
        """Which invoice it goes on when a tenant splits memberships from everything else."""
        return "recurring" if self.source_type in {"membership", "deposit"} else "usage"

    @property
    def key(self) -> tuple[str, uuid.UUID, date]:
        """What is billed once: this source for this period."""
        return self.source_type, self.source_id, self.cycle.start


def tax_facts(tax: AppliedTax, inclusive: bool) -> dict[str, Any]:
    """How a line is taxed, as its explanation states it."""
    return {"tax_rate": tax.name, "tax_percent": plain_decimal(tax.rate * 100), "tax_inclusive": inclusive}


def _discount_off(discount: DiscountTerms, base: int, fixed: int | None = None) -> int:
    """What a discount takes off ``base``: its percentage, or its fixed amount (``fixed`` when
    that is prorated) but never more than the base."""
    if discount.kind == "percent":
        assert discount.percent is not None
        return percent_of(base, discount.percent)
    assert discount.amount is not None
    return min(discount.amount if fixed is None else fixed, base)


def membership_charges(
    membership: MembershipTerms,
    plan: PlanTerms,
    discount: DiscountTerms | None,
    company: Customer,
    cycle: Cycle,
    tax: AppliedTax,
    inclusive: bool,
) -> list[Charge]:
    """The plan's line for one cycle, and its discount line if it has one."""
    list_price = membership.price_override if membership.price_override is not None else plan.price
    if cycle.partial and not plan.prorate and cycle.start > cycle.full_start and cycle.start != membership.start_date:
        # The rest of a cycle that was charged in full (the end date moved on): nothing more is
        # owed, but the days are claimed so billing carries on from the cycle's end.
        return [
            Charge(
                company,
                membership.id,
                cycle,
                f"{plan.name}, {describe(cycle)} (already charged in full)",
                Decimal(1),
                0,
                0,
                tax,
                plan.revenue_account_id,
                {"kind": "membership", "plan_id": str(plan.id), "already_charged": True},
                writes_line=False,
            )
        ]
    prorated = cycle.partial and plan.prorate
    unit = prorate(list_price, cycle.days, cycle.full_days) if prorated else list_price
    quantity = Decimal(membership.quantity)
    amount = line_amount(quantity, unit)
    description = f"{plan.name}, {describe(cycle)}"
    if prorated:
        description += f" ({cycle.days} of {cycle.full_days} days)"
    explanation: dict[str, Any] = {
        "kind": "membership",
        "plan_id": str(plan.id),
        "plan": plan.name,
        "period": [cycle.start.isoformat(), (cycle.end - timedelta(days=1)).isoformat()],
        "cycle": [cycle.full_start.isoformat(), (cycle.full_end - timedelta(days=1)).isoformat()],
        "days": cycle.days,
        "cycle_days": cycle.full_days,
        "prorated": prorated,
        "list_price": list_price,
        "price_override": membership.price_override is not None,
        "unit_amount": unit,
        "quantity": membership.quantity,
        **tax_facts(tax, inclusive),
    }
    charges = [
        Charge(
            company,
            membership.id,
            cycle,
            description,
            quantity,
            unit,
            amount,
            tax,
            plan.revenue_account_id,
            explanation,
        )
    ]
    if discount is not None and amount > 0:
        fixed = None
        if discount.kind == "percent":
            assert discount.percent is not None
            label = f"{plain_decimal(discount.percent)}%"
        else:
            assert discount.amount is not None
            label = format_amount(discount.amount, plan.currency)
            fixed = prorate(discount.amount, cycle.days, cycle.full_days) if prorated else None
        off = _discount_off(discount, amount, fixed)
        charges.append(
            Charge(
                company,
                membership.id,
                cycle,
                f"{discount.name}: {label} off {plan.name}",
                Decimal(1),
                -off,
                -off,
                tax,
                plan.revenue_account_id,
                {
                    "kind": "discount",
                    "discount_id": str(discount.id),
                    "discount": discount.name,
                    "discount_kind": discount.kind,
                    "percent": str(discount.percent) if discount.percent is not None else None,
                    "amount": discount.amount,
                    "prorated": prorated and discount.kind == "fixed",
                    "base": amount,
                    "period": explanation["period"],
                    "tax_rate": tax.name,
                },
            )
        )
    return charges


def fee_charge(fee: Fee, company: Customer, tax: AppliedTax, inclusive: bool) -> Charge:
    return Charge(
        company,
        fee.id,
        Cycle.day(fee.charge_date),
        f"{fee.description} ({fee.charge_date.day} {fee.charge_date:%b %Y})",
        fee.quantity,
        fee.unit_amount,
        line_amount(fee.quantity, fee.unit_amount),
        tax,
        fee.revenue_account_id,
        {
            "kind": "fee",
            "fee_id": str(fee.id),
            "charged_on": fee.charge_date.isoformat(),
            **tax_facts(tax, inclusive),
        },
        source_type="fee",
    )


def deposit_charge(
    membership: MembershipTerms,
    plan: PlanTerms,
    company: Customer,
    account_id: uuid.UUID,
    tax: AppliedTax,
    inclusive: bool,
) -> Charge:
    """A plan's deposit, billed once with the membership's first cycle and booked as a liability."""
    quantity = Decimal(membership.quantity)
    return Charge(
        company,
        membership.id,
        Cycle.day(membership.start_date),
        f"Deposit, {plan.name} (refundable)",
        quantity,
        plan.deposit,
        line_amount(quantity, plan.deposit),
        tax,
        account_id,
        {
            "kind": "deposit",
            "plan_id": str(plan.id),
            "plan": plan.name,
            "membership_start": membership.start_date.isoformat(),
            **tax_facts(tax, inclusive),
        },
        source_type="deposit",
    )


def _booking_description(booking: Booking, resource: Resource, zone: ZoneInfo) -> str:
    starts, ends = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
    until = f"{ends:%H:%M}" if ends.date() == starts.date() else f"{ends.day} {ends:%b %Y %H:%M}"
    hours = plain_decimal(Decimal(booking.minutes) / 60)
    return f"{resource.name}, {starts.day} {starts:%b %Y %H:%M}-{until} ({hours} h)"


@dataclass(slots=True)
class BookingBill:
    """A booking's part of the run: its charge, and the included credit and time it used."""

    booking: Booking
    charge: Charge
    credit: int
    time: list[TimeUse] = field(default_factory=list)


def booking_bill(
    booking: Booking,
    resource: Resource,
    company: Customer,
    discount: DiscountTerms | None,
    credit_left: int,
    credit_period: date,
    zone: ZoneInfo,
    tax: AppliedTax,
    inclusive: bool,
    time_left: dict[Scope, Pool] | None = None,
) -> BookingBill:
    """Discount first, then included time (``time_left``, changed in place), then included
    credit, and what remains is the booking fee."""
    currency = booking.pricing["currency"]
    off = _discount_off(discount, booking.price) if discount is not None and booking.price > 0 else 0
    after_discount = booking.price - off
    pools = time_left if time_left is not None else {}
    day_bookable = booking.pricing.get("daily_rate") is not None
    uses = use_time(pools, resource.kind, day_bookable, booking.pricing["days"], booking.price, after_discount)
    used = [use.record() | {"note": usage_note(use, pools[use.unit, use.resource_kind])} for use in uses]
    by_time = sum(use.value for use in uses)
    credit = min(credit_left, after_discount - by_time)
    fee = after_discount - by_time - credit
    description = _booking_description(booking, resource, zone)
    notes = []
    if discount is not None and off:
        notes.append(f"{discount.name} -{format_amount(off, currency)}")
    notes += [entry["note"] for entry in used]
    if credit:
        notes.append(f"{format_amount(credit, currency)} paid by included credit")
    if notes:
        description += ": " + "; ".join(notes)
    explanation: dict[str, Any] = {
        "kind": "booking",
        "booking_id": str(booking.id),
        "resource": resource.name,
        "starts_at": booking.starts_at.astimezone(zone).isoformat(timespec="minutes"),
        "ends_at": booking.ends_at.astimezone(zone).isoformat(timespec="minutes"),
        "minutes": booking.minutes,
        "pricing": booking.pricing,
        "price": booking.price,
        "discount": None
        if discount is None
        else {
            "discount_id": str(discount.id),
            "name": discount.name,
            "kind": discount.kind,
            "percent": str(discount.percent) if discount.percent is not None else None,
            "amount": discount.amount,
        },
        "discount_amount": off,
        "credit_period_start": credit_period.isoformat(),
        "credit_available": credit_left,
        "included_time": used,
        "credit_used": credit,
        "fee": fee,
        **tax_facts(tax, inclusive),
    }
    charge = Charge(
        company,
        booking.id,
        Cycle.day(booking.meeting_date),
        description,
        Decimal(1),
        fee,
        fee,
        tax,
        resource.revenue_account_id,
        explanation,
        source_type="booking",
        writes_line=fee > 0,
    )
    return BookingBill(booking, charge, credit, uses)
