"""The billing engine: turns a location's memberships, fees and bookings into invoices for one
billing period.

Recurring fees (and a plan's deposit, with the first one) are billed in advance; one-off fees and
bookings in arrears (anything dated before the period opens is billed by its run). A booking is
priced in the order discount, then included credits, then fee: the credit of the company's plans
at that location for the period of the meeting pays what it can, in the order the meetings took
place, and only the rest is invoiced as a booking fee. A run for the period opening on billing
date B bills every
membership cycle that starts before the next billing date and has not been billed yet (so a
membership added late, or backdated, is caught up by the next run). Partial cycles are prorated by
actual days. Each billed cycle is claimed in ``billing_items`` (unique per membership and cycle
start) with INSERT ... ON CONFLICT DO NOTHING before any line is written, so a repeated or a
concurrent run bills nothing twice. The same code serves the preview, which rolls back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from asyncpg import Record
from sqlalchemy import Date, Select, String, Uuid, any_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from app.audit.capture import created_events, event_rows
from app.billing.charges import (
    BookingBill,
    Charge,
    Customer,
    DiscountTerms,
    MembershipTerms,
    PlanTerms,
    booking_bill,
    deposit_charge,
    fee_charge,
    membership_charges,
)
from app.billing.models import BillingItem, BillingRun
from app.billing.periods import add_months, membership_cycles, period_starting_on_or_before
from app.booking.allowance import Pool, Scope
from app.booking.models import Booking
from app.booking.repository import ResourceRepository
from app.catalog.models import Discount, Plan
from app.catalog.repository import DiscountRepository, RevenueAccountRepository
from app.catalog.tax import AppliedTax, MissingTaxRate, TaxBook, tax_parts
from app.company.models import Company
from app.company.repository import CompanyRepository
from app.db import driver
from app.db.bulk import Rows, insert_rows, insert_together
from app.fee.models import Fee
from app.integrations.xero import outbox
from app.invoice.models import Invoice, InvoiceLine, InvoiceLineTax
from app.invoice.numbering import take_number
from app.invoice.service import status_on_issue, terms_of_issue
from app.invoice.totals import totals
from app.kit.clock import Clock, local_today
from app.kit.ids import new_id
from app.kit.money import MAX_AMOUNT, format_amount, line_tax, plain_decimal, prorate
from app.ledger.allocation import apply_credit
from app.ledger.repository import LedgerRepository
from app.location.models import Location
from app.location.repository import LocationRepository
from app.membership.models import Membership
from app.membership.repository import billed_through


@dataclass(slots=True)
class RunOutcome:
    run: BillingRun
    records: list[dict[str, Any]]  # each invoice's row, as written
    lines: dict[uuid.UUID, list[dict[str, Any]]]  # each invoice's lines, as written
    problems: list[str]
    taxes: dict[uuid.UUID, list[dict[str, Any]]] = field(default_factory=dict)  # split lines' parts, by line
    credited: dict[uuid.UUID, Invoice] = field(default_factory=dict)  # the session's: credit paid them
    objects: list[Invoice] | None = None

    @property
    def invoices(self) -> list[Invoice]:
        """The invoices as objects, made from their rows when first asked for (a scheduled run
        needs only the counts); those that held credit paid are the session's own, as changed."""
        if self.objects is None:
            self.objects = [self.credited.get(record["id"]) or Invoice(**record) for record in self.records]
        return self.objects


# The run's queries are built once, with the tenant, the locations and the date as parameters.
_TENANT = bindparam("tenant_id", type_=Uuid())
_LOCATIONS = bindparam("location_ids", type_=ARRAY(Uuid()))
_BEFORE = bindparam("before", type_=Date())


def _in_scope(home: bool, location_column: Any, company_column: Any) -> Any:
    """Which items the runs of these locations bill: those supplied there, or (home-location
    invoicing) those of the companies whose home is one of them, wherever they were supplied."""
    if not home:
        return location_column == any_(_LOCATIONS)
    homed = select(Company.id).where(Company.tenant_id == _TENANT, Company.home_location_id == any_(_LOCATIONS))
    return company_column.in_(homed)


@cache
def _billable(home: bool) -> Select[Any]:
    """Memberships the run covers that may owe something before ``before``, each with its plan,
    company and discount, and the end of its last billed cycle (None when nothing is billed yet)."""
    # Per membership, an index look-up of its last billed cycle: the cost follows the location's
    # memberships, never the tenant's history (and does not hang on table statistics).
    billed = billed_through(Membership.tenant_id, Membership.id).lateral()
    return (
        select(
            *(Membership.__table__.c[name] for name in _MEMBERSHIP_TERMS),
            Membership.company_id,
            Membership.plan_id,
            Membership.discount_id,
            *(Plan.__table__.c[name].label(f"plan_{name}") for name in _PLAN_TERMS),
            *(Company.__table__.c[name].label(f"company_{name}") for name in _CUSTOMER_TERMS),
            *(Discount.__table__.c[name].label(f"discount_{name}") for name in _DISCOUNT_TERMS),
            billed.c.through,
            # The location whose run bills it.
            (Company.home_location_id if home else Membership.location_id).label("run_location_id"),
        )
        .join(Plan, (Plan.tenant_id == Membership.tenant_id) & (Plan.id == Membership.plan_id))
        .join(Company, (Company.tenant_id == Membership.tenant_id) & (Company.id == Membership.company_id))
        .outerjoin(Discount, (Discount.tenant_id == Membership.tenant_id) & (Discount.id == Membership.discount_id))
        .outerjoin(billed, true())
        .where(
            Membership.tenant_id == _TENANT,
            _in_scope(home, Membership.location_id, Membership.company_id),
            Membership.start_date < _BEFORE,
            (Membership.end_date.is_(None)) | (billed.c.through.is_(None)) | (Membership.end_date >= billed.c.through),
        )
        .order_by(Company.legal_name, Company.id, Plan.name, Membership.id)
        # A membership being billed cannot have its dates changed until the run commits.
        .with_for_update(read=True, of=Membership)
    )


# The columns the billable query reads of each table: the fields of the run's records, in order.
_MEMBERSHIP_TERMS = tuple(column.name for column in fields(MembershipTerms))
_PLAN_TERMS = tuple(column.name for column in fields(PlanTerms))
_CUSTOMER_TERMS = tuple(column.name for column in fields(Customer))
_DISCOUNT_TERMS = tuple(column.name for column in fields(DiscountTerms))


class _Terms:
    """Each plan, company and discount of the billable rows as one record (most repeat)."""

    def __init__(self) -> None:
        self.plans: dict[uuid.UUID, PlanTerms] = {}
        self.customers: dict[uuid.UUID, Customer] = {}
        self.discounts: dict[uuid.UUID, DiscountTerms] = {}

    def read(self, row: Record) -> tuple[MembershipTerms, PlanTerms, Customer, DiscountTerms | None]:
        plan = self.plans.get(row["plan_id"])
        if plan is None:
            plan = self.plans[row["plan_id"]] = PlanTerms(*(row[f"plan_{name}"] for name in _PLAN_TERMS))
        customer = self.customers.get(row["company_id"])
        if customer is None:
            customer = self.customers[row["company_id"]] = Customer(
                *(row[f"company_{name}"] for name in _CUSTOMER_TERMS)
            )
        discount = None
        if row["discount_id"] is not None:
            discount = self.discounts.get(row["discount_id"])
            if discount is None:
                discount = self.discounts[row["discount_id"]] = DiscountTerms(
                    *(row[f"discount_{name}"] for name in _DISCOUNT_TERMS)
                )
        return MembershipTerms(*(row[name] for name in _MEMBERSHIP_TERMS)), plan, customer, discount


_FEES_BEFORE = bindparam("fees_before", type_=Date())
_BOOKINGS_BEFORE = bindparam("bookings_before", type_=Date())


def _fees_pending(home: bool) -> list[Any]:
    """Pending fees dated before ``fees_before`` (billed in arrears)."""
    return [
        Fee.tenant_id == _TENANT,
        _in_scope(home, Fee.location_id, Fee.company_id),
        Fee.status == "pending",
        Fee.charge_date < _FEES_BEFORE,
    ]


def _bookings_pending(home: bool) -> list[Any]:
    """Confirmed bookings that met before ``bookings_before`` and are not billed yet."""
    return [
        Booking.tenant_id == _TENANT,
        _in_scope(home, Booking.location_id, Booking.company_id),
        Booking.status == "confirmed",
        Booking.meeting_date < _BOOKINGS_BEFORE,
    ]


@cache
def _usage_due(home: bool) -> Select[bool, bool]:
    """Whether any fee or booking is due: most runs have neither, and this one look spares them
    loading both as entities."""
    return select(
        select(Fee.id).where(*_fees_pending(home)).exists(), select(Booking.id).where(*_bookings_pending(home)).exists()
    )


@cache
def _fees_due(home: bool) -> Select[Fee]:
    return select(Fee).where(*_fees_pending(home)).order_by(Fee.charge_date, Fee.id).with_for_update()


@cache
def _bookings_unbilled(home: bool) -> Select[Booking]:
    """In the order they took place (included credits are used up in that order)."""
    return (
        select(Booking)
        .where(*_bookings_pending(home))
        .order_by(Booking.meeting_date, Booking.starts_at, Booking.id)
        .with_for_update()
    )


_LOCK_KEYS = func.unnest(bindparam("keys", type_=ARRAY(String()))).table_valued("key").render_derived("keys")
_RUN_LOCKS = select(func.pg_advisory_xact_lock(func.hashtextextended(_LOCK_KEYS.c.key, 0))).select_from(_LOCK_KEYS)


def _leave_out_oversized(work: Worklist) -> None:
    """A customer whose invoice would come to more than ``MAX_AMOUNT`` (a price typed with too
    many zeros) is not billed, and the run says so, before anything is claimed: the rest of the
    location is billed as usual, and that customer's items wait for the amounts to be corrected.
    Lines and their tax are added up without their signs, so no invoice the charges are split into
    (nor any of its lines) can come to more."""
    size: dict[uuid.UUID, int] = defaultdict(int)
    for charge in work.charges:
        size[charge.company.id] += abs(charge.amount) + abs(
            line_tax(charge.amount, charge.tax.rate, inclusive=work.inclusive)
        )
    oversized = {company_id for company_id, amount in size.items() if amount > MAX_AMOUNT}
    if not oversized:
        return
    currency = work.location.currency
    for company_id in oversized:
        name = next(charge.company.legal_name for charge in work.charges if charge.company.id == company_id)
        work.problems.append(
            f"{name}: the lines and tax of their invoice come to {format_amount(size[company_id], currency)} "
            f"{currency}, over the most one invoice may hold ({format_amount(MAX_AMOUNT, currency)}). Nothing of "
            "theirs is billed until the prices or quantities are corrected."
        )
    work.charges = [charge for charge in work.charges if charge.company.id not in oversized]


async def _claim(
    session: AsyncSession, tenant_id: uuid.UUID, works: list[Worklist]
) -> set[tuple[str, uuid.UUID, date]]:
    """Claim each item (membership cycle, deposit, fee, booking) once, for the run of the location
    that found it; returns the keys these runs won."""
    rows: list[dict[str, Any]] = []
    for work in works:
        firsts = {c.key: c for c in reversed(work.charges)}  # the first line of an item names it
        rows.extend(
            {
                "tenant_id": tenant_id,
                "source_type": source_type,
                "source_id": source_id,
                "period_start": start,
                "period_end": charge.cycle.end,
                "billing_run_id": work.run_id,
                "invoice_line_id": charge.line_id if charge.writes_line else None,
            }
            for (source_type, source_id, start), charge in firsts.items()
        )
    if not rows:
        return set()
    claimed = await insert_rows(
        session,
        BillingItem,
        rows,
        shared=("tenant_id", "billing_run_id", "source_type"),
        returning=("source_type", "source_id", "period_start"),
        skip_conflicts=True,
    )
    return {(row[0], row[1], row[2]) for row in claimed}


@dataclass(slots=True)
class Worklist:
    """What a run found to bill, before claiming it, and what it could not bill, in words."""

    location: Location  # the run's
    places: dict[uuid.UUID, Location]  # where its items may have been supplied
    book: TaxBook
    today: date  # at the location
    run_id: uuid.UUID = field(default_factory=new_id)
    charges: list[Charge] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)
    bookings: list[BookingBill] = field(default_factory=list)

    @property
    def inclusive(self) -> bool:
        return self.location.tax_mode == "inclusive"

    def supplied_at(self, location_id: uuid.UUID, what: str) -> Location | None:
        """The place an item was supplied, if its lines can go on the run's invoices."""
        place, run = self.places[location_id], self.location
        if place.currency != run.currency or place.tax_mode != run.tax_mode:
            self.problems.append(
                f"{what}: supplied at {place.name} ({place.currency}, prices {place.tax_mode} of tax), which "
                f"cannot go on an invoice of {run.name} ({run.currency}, {run.tax_mode}). "
                "It is not billed until the company's home location matches."
            )
            return None
        return place

    def tax(self, what: str, account_id: uuid.UUID, location_id: uuid.UUID, company: Customer) -> AppliedTax | None:
        try:
            return self.book.for_line(account_id, location_id, company.tax_rate_id)
        except MissingTaxRate as exc:
            self.problems.append(f"{what}: {exc.detail} It is not billed until that is fixed.")
            return None


Period = tuple[uuid.UUID, uuid.UUID, date]  # company, location, period opening date


async def _credit_left(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    needed: set[Period],
    billing_days: dict[uuid.UUID, int],
) -> tuple[dict[Period, int], dict[Period, dict[Scope, Pool]]]:
    """For each (company, location, period opening date): the included credit, and the included
    time of each kind, of the company's plans at that location over that period (prorated by the
    days each membership was active), less what bookings already billed used of it."""
    if not needed:
        return {}, {}
    companies = {company for company, _, _ in needed}
    locations = {location for _, location, _ in needed}
    earliest = min(start for _, _, start in needed)
    latest = add_months(max(start for _, _, start in needed), 1)
    left = dict.fromkeys(needed, 0)
    time: dict[Period, dict[Scope, Pool]] = {key: {} for key in needed}
    granting = await session.execute(
        select(Membership, Plan.included_credit, Plan.included_time)
        .join(Plan, (Plan.tenant_id == Membership.tenant_id) & (Plan.id == Membership.plan_id))
        .where(
            Membership.tenant_id == tenant_id,
            Membership.company_id.in_(companies),
            Membership.location_id.in_(locations),
            (Plan.included_credit > 0) | (func.jsonb_array_length(Plan.included_time) > 0),
            Membership.start_date < latest,
            Membership.end_date.is_(None) | (Membership.end_date >= earliest),
        )
    )
    periods: dict[tuple[uuid.UUID, uuid.UUID], list[date]] = defaultdict(list)
    for company, location, start in needed:
        periods[company, location].append(start)
    for membership, included, included_time in granting.all():
        for start in periods[membership.company_id, membership.location_id]:
            end = add_months(start, 1)
            first = max(start, membership.start_date)
            last = end if membership.end_date is None else min(end, membership.end_date + timedelta(days=1))
            if first < last:
                key = (membership.company_id, membership.location_id, start)
                active, days = (last - first).days, (end - start).days
                left[key] += prorate(included * membership.quantity, active, days)
                for entry in included_time:
                    given = prorate(entry["quantity"] * membership.quantity, active, days)
                    pool = time[key].setdefault((entry["unit"], entry["resource_kind"]), Pool(0, 0))
                    pool.granted += given
                    pool.left += given
    used = await session.execute(
        select(
            Booking.company_id, Booking.location_id, Booking.meeting_date, Booking.credit_used, Booking.time_credit
        ).where(
            Booking.tenant_id == tenant_id,
            Booking.company_id.in_(companies),
            Booking.location_id.in_(locations),
            Booking.status == "billed",
            (Booking.credit_used > 0) | (func.jsonb_array_length(Booking.time_credit) > 0),
            Booking.meeting_date >= earliest,
            Booking.meeting_date < latest,
        )
    )
    for company, location, day, amount, time_used in used.all():
        key = (company, location, period_starting_on_or_before(day, billing_days[location]))
        if key in left:
            left[key] -= amount
            for entry in time_used:
                if spent := time[key].get((entry["unit"], entry["resource_kind"])):
                    spent.left = max(spent.left - entry["quantity"], 0)
    return {key: max(value, 0) for key, value in left.items()}, time


async def _gather(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    locations: Sequence[Location],
    period_start: date,
    home: bool,
    clock: Clock,
) -> list[Worklist]:
    """Every charge the period owes, for each location's run: memberships (and deposits) in
    advance, fees and bookings in arrears (a booking once its day has passed there, even when a
    run bills ahead). One query per kind serves all the locations."""
    places = {location.id: location for location in locations}
    if home:
        rows = await session.execute(LocationRepository(session, tenant_id).select())
        places = {place.id: place for place in rows.scalars()}
    book = await TaxBook.load(session, tenant_id)
    works = {
        location.id: Worklist(location, places, book, local_today(clock, location.time_zone)) for location in locations
    }
    scope: dict[str, Any] = {"tenant_id": tenant_id, "location_ids": list(works)}
    await _add_memberships(session, works, scope | {"before": add_months(period_start, 1)}, home)

    def bookings_before(work: Worklist) -> date:
        return min(period_start, work.today)

    scope |= {"fees_before": period_start, "bookings_before": max(map(bookings_before, works.values()))}
    # Most runs have neither: one look first, and entities (their rows change) only when needed.
    fees_due, bookings_due = (await driver.fetch(session, _usage_due(home), scope))[0]
    fees: Sequence[Fee] = ()
    bookings: Sequence[Booking] = ()
    if fees_due:
        fees = (await session.execute(_fees_due(home), scope)).scalars().all()
    if bookings_due:
        bookings = (await session.execute(_bookings_unbilled(home), scope)).scalars().all()
    found = await CompanyRepository(session, tenant_id).by_ids(
        {fee.company_id for fee in fees} | {b.company_id for b in bookings}
    )
    companies = {company_id: Customer.of(company) for company_id, company in found.items()}

    def run_of(location_id: uuid.UUID, company_id: uuid.UUID) -> Worklist:
        return works[found[company_id].home_location_id if home else location_id]

    for fee in fees:
        work, company = run_of(fee.location_id, fee.company_id), companies[fee.company_id]
        work.fees.append(fee)
        what = f"{company.legal_name}, {fee.description}"
        if work.supplied_at(fee.location_id, what) is None:
            continue
        tax = work.tax(what, fee.revenue_account_id, fee.location_id, company)
        if tax is not None:
            work.charges.append(fee_charge(fee, company, tax, work.inclusive))
    met: dict[uuid.UUID, list[Booking]] = defaultdict(list)
    for booking in bookings:
        work = run_of(booking.location_id, booking.company_id)
        if booking.meeting_date < bookings_before(work):
            met[work.location.id].append(booking)
    for location_id, its_bookings in met.items():
        await _add_bookings(session, tenant_id, works[location_id], its_bookings, companies)
    for work in works.values():
        _leave_out_oversized(work)
    return list(works.values())


async def _add_memberships(
    session: AsyncSession, works: dict[uuid.UUID, Worklist], scope: dict[str, Any], home: bool
) -> None:
    tenant_id, period_end = scope["tenant_id"], scope["before"]
    deposits_account: uuid.UUID | None = None
    terms = _Terms()
    for row in await driver.fetch(session, _billable(home), scope):
        work = works[row["run_location_id"]]
        membership, plan, company, discount = terms.read(row)
        what = f"{company.legal_name}, {plan.name}"
        if work.supplied_at(membership.location_id, what) is None:
            continue
        cycles = membership_cycles(
            membership.start_date,
            membership.end_date,
            # The calendar of the place the membership is at, whichever location invoices it.
            work.places[membership.location_id].billing_day,
            plan.interval_months,
            after=row["through"],
            before=period_end,
        )
        if not cycles:
            continue
        tax = work.tax(what, plan.revenue_account_id, membership.location_id, company)
        deposit_tax = None
        if plan.deposit > 0 and cycles[0].start == membership.start_date:
            if deposits_account is None:
                deposits_account = (await RevenueAccountRepository(session, tenant_id).builtin("deposits")).id
            deposit_tax = work.tax(f"{what} deposit", deposits_account, membership.location_id, company)
            if deposit_tax is None:
                continue  # the deposit goes with the first cycle, or neither is billed
        if tax is None:
            continue
        for cycle in cycles:
            work.charges.extend(membership_charges(membership, plan, discount, company, cycle, tax, work.inclusive))
        if deposit_tax is not None and deposits_account is not None:
            work.charges.append(
                deposit_charge(membership, plan, company, deposits_account, deposit_tax, work.inclusive)
            )


async def _add_bookings(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    work: Worklist,
    bookings: Sequence[Booking],
    companies: dict[uuid.UUID, Customer],
) -> None:
    """Price the bookings in the order they took place, each using what is left of its credit."""
    resources = await ResourceRepository(session, tenant_id).by_ids({b.resource_id for b in bookings})
    discounts = await DiscountRepository(session, tenant_id).by_ids({b.discount_id for b in bookings if b.discount_id})
    billing_days = {place.id: place.billing_day for place in work.places.values()}

    def pool(booking: Booking) -> tuple[uuid.UUID, uuid.UUID, date]:
        return (
            booking.company_id,
            booking.location_id,
            period_starting_on_or_before(booking.meeting_date, billing_days[booking.location_id]),
        )

    credit, time = await _credit_left(session, tenant_id, {pool(b) for b in bookings}, billing_days)
    for booking in bookings:
        company, resource = companies[booking.company_id], resources[booking.resource_id]
        what = f"{company.legal_name}, {resource.name} on {booking.meeting_date.isoformat()}"
        place = work.supplied_at(booking.location_id, what)
        tax = None if place is None else work.tax(what, resource.revenue_account_id, booking.location_id, company)
        if place is None or tax is None:
            continue
        key = pool(booking)
        discount = DiscountTerms.of(discounts[booking.discount_id]) if booking.discount_id else None
        zone = ZoneInfo(place.time_zone)
        bill = booking_bill(
            booking, resource, company, discount, credit[key], key[2], zone, tax, work.inclusive, time[key]
        )
        credit[key] -= bill.credit
        work.bookings.append(bill)
        work.charges.append(bill.charge)


Taxes = dict[uuid.UUID, list[dict[str, Any]]]  # a split line's tax parts, as rows, by line id


def _line_row(
    tenant_id: uuid.UUID,
    invoice_id: uuid.UUID,
    position: int,
    charge: Charge,
    inclusive: bool,
    now: datetime,
    taxes: Taxes,
) -> dict[str, Any]:
    """A charge as its invoice line's row. Its tax is rounded once on the rate's combined rate;
    a rate of several components splits that tax between them, kept in ``taxes`` and stated in
    the line's explanation."""
    tax = line_tax(charge.amount, charge.tax.rate, inclusive=inclusive)
    explanation = charge.explanation
    if parts := tax_parts(tax, charge.tax.components):
        taxes[charge.line_id] = [
            {
                "tenant_id": tenant_id,
                "line_id": charge.line_id,
                "position": index,
                "name": part.name,
                "percent": part.percent,
                "compound": part.compound,
                "amount": part.amount,
            }
            for index, part in enumerate(parts, start=1)
        ]
        explanation = explanation | {
            "tax_components": [
                {
                    "name": part.name,
                    "percent": plain_decimal(part.percent),
                    "compound": part.compound,
                    "amount": part.amount,
                }
                for part in parts
            ]
        }
    return {
        "tenant_id": tenant_id,
        "id": charge.line_id,
        "invoice_id": invoice_id,
        "position": position,
        "description": charge.description,
        "quantity": charge.quantity,
        "unit_amount": charge.unit_amount,
        "line_amount": charge.amount,
        "tax_rate_id": charge.tax.tax_rate_id,
        "tax_amount": tax,
        "revenue_account_id": charge.revenue_account_id,
        "membership_id": charge.source_id if charge.group == "recurring" else None,
        "period_start": charge.cycle.start,
        "period_end": charge.cycle.end - timedelta(days=1),
        "explanation": explanation,
        "created_at": now,
        "updated_at": now,
    }


def _invoice_rows(
    tenant_id: uuid.UUID, work: Worklist, groups: list[list[Charge]], now: datetime, first_number: int | None
) -> tuple[list[dict[str, Any]], dict[uuid.UUID, list[dict[str, Any]]], Taxes, list[dict[str, Any]]]:
    """One invoice per group of charges, as rows to write in bulk (the ORM would spend more time
    than PostgreSQL on a run's rows): the invoices' rows, their lines' rows, the tax parts of
    lines taxed at a rate of several components, and what their audit events keep (each invoice
    with its lines). Drafts, or (given the first of the numbers taken for them) invoices issued
    as they are written."""
    location, inclusive, today = work.location, work.inclusive, work.today
    invoice_rows: list[dict[str, Any]] = []
    lines: dict[uuid.UUID, list[dict[str, Any]]] = {}
    taxes: Taxes = {}
    audit_rows: list[dict[str, Any]] = []
    for index, charges in enumerate(groups):
        invoice_id = new_id()
        rows: list[dict[str, Any]] = [
            _line_row(tenant_id, invoice_id, position, charge, inclusive, now, taxes)
            for position, charge in enumerate(charges, start=1)
        ]
        summed = totals(((row["line_amount"], row["tax_amount"]) for row in rows), inclusive=inclusive)
        record = {
            "tenant_id": tenant_id,
            "id": invoice_id,
            "location_id": location.id,
            "company_id": charges[0].company.id,
            "billing_run_id": work.run_id,
            "status": "draft",
            "number": None,
            "currency": location.currency,
            "tax_mode": location.tax_mode,
            "issue_date": None,
            "due_date": None,
            "subtotal": summed.subtotal,
            "tax_total": summed.tax_total,
            "total": summed.total,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        if first_number is not None:
            terms = terms_of_issue(location, charges[0].company.payment_terms_days, first_number + index, today)
            record |= {
                "status": status_on_issue(summed.total),
                "number": terms.number,
                "issue_date": terms.issue_date,
                "due_date": terms.due_date,
            }
        invoice_rows.append(record)
        lines[invoice_id] = rows
        audit_rows.append({**record, "lines": [_line_record(row) for row in rows]})
    return invoice_rows, lines, taxes, audit_rows


# Columns holding one value in all of a run's rows (sent once each, not once per row).
_RUN_WIDE = ("tenant_id", "created_at", "updated_at")
_INVOICE_WIDE = (*_RUN_WIDE, "location_id", "billing_run_id", "status", "number", "currency", "tax_mode", "version")
_NOT_AUDITED = frozenset({"tenant_id", "invoice_id", "explanation", "created_at", "updated_at"})


def _line_record(row: dict[str, Any]) -> dict[str, Any]:
    """A line as the invoice's audit event keeps it (its explanation stays on the line itself)."""
    return {key: value for key, value in row.items() if key not in _NOT_AUDITED}


async def _apply_held_credit(
    session: AsyncSession, tenant_id: uuid.UUID, records: list[dict[str, Any]]
) -> dict[uuid.UUID, Invoice]:
    """Credit a customer already holds pays its new invoices straight away. Looked up once for
    all the run's customers; most hold none, and only the invoices of those who do become
    entities (the session tracks their rows without inserting them again)."""
    if not records:
        return {}
    by_company: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_company[record["company_id"]].append(record)
    holders = await LedgerRepository(session, tenant_id).holding_credit(list(by_company))
    credited: dict[uuid.UUID, Invoice] = {}
    for company_id, mine in by_company.items():  # in the run's order, so locks are taken in one order
        if company_id not in holders:
            continue
        invoices = [Invoice(**record) for record in mine]
        for invoice in invoices:
            make_transient_to_detached(invoice)
            session.add(invoice)
            credited[invoice.id] = invoice
        await apply_credit(session, tenant_id, company_id, invoices, mine[0]["issue_date"])
    return credited


async def bill_location(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    location: Location,
    period_start: date,
    *,
    started_by: str,
    issue_invoices: bool,
    clock: Clock,
    grouping: str = "company",
    invoice_location: str = "location",
) -> RunOutcome:
    """Bill one location for the period opening on ``period_start`` (a billing date)."""
    (outcome,) = await bill_locations(
        session,
        tenant_id,
        [location],
        period_start,
        started_by=started_by,
        issue_invoices=issue_invoices,
        clock=clock,
        grouping=grouping,
        invoice_location=invoice_location,
    )
    return outcome


async def bill_locations(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    locations: Sequence[Location],
    period_start: date,
    *,
    started_by: str,
    issue_invoices: bool,
    clock: Clock,
    grouping: str = "company",
    invoice_location: str = "location",
) -> list[RunOutcome]:
    """Bill locations of one tenant for the period opening on ``period_start`` (a billing date of
    each), in the session's transaction: each location gets its own run, invoices and numbers,
    exactly as if billed alone, while the statements (the tax book, the memberships, the writes)
    serve all of them at once. One outcome per location, in their order.

    ``grouping`` and ``invoice_location`` are the tenant's choices (see ``Tenant``)."""
    if not locations:
        return []
    # One run per location at a time; the claims would keep a second one honest anyway, but it
    # would only wait on the first one's locks to find everything taken. Taken in one order, so
    # runs sharing locations cannot deadlock.
    await driver.execute(session, _RUN_LOCKS, {"keys": sorted(f"billing:{location.id}" for location in locations)})
    works = await _gather(session, tenant_id, locations, period_start, invoice_location == "home", clock)
    won = await _claim(session, tenant_id, works)

    now = clock.now()
    outcomes: list[RunOutcome] = []
    run_rows: list[dict[str, Any]] = []
    audited: list[dict[str, Any]] = []
    line_of: dict[uuid.UUID, uuid.UUID] = {}
    for work in works:
        claimed = [charge for charge in work.charges if charge.key in won]
        line_of |= {charge.source_id: charge.line_id for charge in claimed}
        # One invoice per company, or (split) one for its memberships and one for everything else.
        grouped: dict[tuple[uuid.UUID, str], list[Charge]] = defaultdict(list)
        for charge in claimed:
            if charge.writes_line:
                grouped[charge.company.id, charge.group if grouping == "split" else "all"].append(charge)
        # Issuing on the run numbers the invoices as they are written: one block of numbers for all.
        first_number = None
        if issue_invoices and grouped:
            first_number = await take_number(session, tenant_id, work.location.id, count=len(grouped))
        records, lines, taxes, audit = _invoice_rows(tenant_id, work, list(grouped.values()), now, first_number)
        run_row = {
            "tenant_id": tenant_id,
            "id": work.run_id,
            "location_id": work.location.id,
            "period_start": period_start,
            "period_end": add_months(period_start, 1),
            "status": "completed",
            "started_by": started_by,
            "invoices_created": len(records),
            "lines_created": sum(len(invoice_lines) for invoice_lines in lines.values()),
            "finished_at": now,
            "error": "\n".join(work.problems) or None,
            "created_at": now,
            "updated_at": now,
        }
        run_rows.append(run_row)
        audited.extend(audit)
        outcomes.append(RunOutcome(BillingRun(**run_row), records, lines, work.problems, taxes))

    # The runs, their invoices and lines, and the audit events of both: one statement.
    records = [record for outcome in outcomes for record in outcome.records]
    events = created_events(session.info, "invoice", audited) + created_events(session.info, "billing_run", run_rows)
    await insert_together(
        session,
        [
            Rows(BillingRun, run_rows, _RUN_WIDE),
            Rows(Invoice, records, _INVOICE_WIDE),
            Rows(InvoiceLine, [row for o in outcomes for rows in o.lines.values() for row in rows], _RUN_WIDE),
            Rows(InvoiceLineTax, [row for o in outcomes for rows in o.taxes.values() for row in rows], ("tenant_id",)),
            event_rows(events),
        ],
    )

    for work in works:
        for fee in work.fees:
            if fee.id in line_of:
                fee.status, fee.invoice_line_id = "billed", line_of[fee.id]
        for bill in work.bookings:
            if bill.booking.id in line_of:
                bill.booking.status, bill.booking.credit_used = "billed", bill.credit
                bill.booking.time_credit = [use.record() for use in bill.time]
                bill.booking.invoice_line_id = bill.charge.line_id if bill.charge.writes_line else None
    await session.flush()

    if issue_invoices:
        await outbox.invoices_issued(session, tenant_id, records)
        credited = await _apply_held_credit(session, tenant_id, records)
        for outcome in outcomes:
            outcome.credited = credited
    return outcomes
