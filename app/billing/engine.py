"""The billing engine: turns a location's memberships into invoices for one billing period.

Recurring fees are billed in advance, one-off fees in arrears (a fee dated before the period
opens is billed by its run): a run for the period opening on billing date B bills every
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
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.billing.models import BillingItem, BillingRun
from app.billing.periods import Cycle, add_months, describe, membership_cycles
from app.catalog.models import Discount, Plan
from app.catalog.tax import AppliedTax, MissingTaxRate, TaxBook
from app.company.models import Company
from app.fee.models import Fee
from app.fee.repository import FeeRepository
from app.invoice.models import Invoice, InvoiceLine
from app.invoice.service import issue
from app.invoice.totals import totals
from app.kit.clock import Clock
from app.kit.ids import new_id
from app.kit.money import format_amount, line_amount, line_tax, percent_of, plain_decimal, prorate
from app.location.models import Location
from app.membership.models import Membership

CLAIM_BATCH = 1000


@dataclass(slots=True)
class Charge:
    """A line the run intends to write, before it has claimed its period."""

    company: Company
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
    line_id: uuid.UUID = field(default_factory=new_id)

    @property
    def key(self) -> tuple[str, uuid.UUID, date]:
        """What is billed once: this source for this period."""
        return self.source_type, self.source_id, self.cycle.start


@dataclass(slots=True)
class RunOutcome:
    run: BillingRun
    invoices: list[Invoice]
    lines: dict[uuid.UUID, list[InvoiceLine]]
    problems: list[str]


def _membership_charges(
    membership: Membership,
    plan: Plan,
    discount: Discount | None,
    company: Company,
    cycle: Cycle,
    tax: AppliedTax,
    inclusive: bool,
) -> list[Charge]:
    """The plan's line for one cycle, and its discount line if it has one."""
    list_price = membership.price_override if membership.price_override is not None else plan.price
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
        "tax_rate": tax.name,
        "tax_percent": plain_decimal(tax.rate * 100),
        "tax_inclusive": inclusive,
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
        if discount.kind == "percent":
            assert discount.percent is not None
            off = percent_of(amount, discount.percent)
            label = f"{plain_decimal(discount.percent)}%"
        else:
            assert discount.amount is not None
            fixed = prorate(discount.amount, cycle.days, cycle.full_days) if prorated else discount.amount
            off = min(fixed, amount)
            label = format_amount(discount.amount, plan.currency)
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


def _fee_charge(fee: Fee, company: Company, tax: AppliedTax, inclusive: bool) -> Charge:
    day = Cycle(
        fee.charge_date, fee.charge_date + timedelta(days=1), fee.charge_date, fee.charge_date + timedelta(days=1)
    )
    return Charge(
        company,
        fee.id,
        day,
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
            "tax_rate": tax.name,
            "tax_percent": plain_decimal(tax.rate * 100),
            "tax_inclusive": inclusive,
        },
        source_type="fee",
    )


async def _companies(session: AsyncSession, tenant_id: uuid.UUID, ids: set[uuid.UUID]) -> dict[uuid.UUID, Company]:
    if not ids:
        return {}
    rows = await session.execute(select(Company).where(Company.tenant_id == tenant_id, Company.id.in_(ids)))
    return {company.id: company for company in rows.scalars()}


async def _billable(
    session: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID, before: date
) -> list[tuple[Membership, Plan, Company, Discount | None, date | None]]:
    """Memberships at the location that may owe something before ``before``, each with the end of
    its last billed cycle (None when nothing is billed yet)."""
    # Only this location's memberships: the run's cost follows the location, not the tenant's history.
    here = select(Membership.id).where(Membership.tenant_id == tenant_id, Membership.location_id == location_id)
    billed = (
        select(BillingItem.source_id, func.max(BillingItem.period_end).label("through"))
        .where(
            BillingItem.tenant_id == tenant_id,
            BillingItem.source_type == "membership",
            BillingItem.source_id.in_(here),
        )
        .group_by(BillingItem.source_id)
        .subquery()
    )
    statement = (
        select(Membership, Plan, Company, Discount, billed.c.through)
        .join(Plan, (Plan.tenant_id == Membership.tenant_id) & (Plan.id == Membership.plan_id))
        .join(Company, (Company.tenant_id == Membership.tenant_id) & (Company.id == Membership.company_id))
        .outerjoin(Discount, (Discount.tenant_id == Membership.tenant_id) & (Discount.id == Membership.discount_id))
        .outerjoin(billed, billed.c.source_id == Membership.id)
        .where(
            Membership.tenant_id == tenant_id,
            Membership.location_id == location_id,
            Membership.start_date < before,
            (Membership.end_date.is_(None)) | (billed.c.through.is_(None)) | (Membership.end_date >= billed.c.through),
        )
        .order_by(Company.legal_name, Company.id, Plan.name, Membership.id)
        # A membership being billed cannot have its dates changed until the run commits.
        .with_for_update(read=True, of=Membership)
    )
    return [tuple(row) for row in (await session.execute(statement)).all()]


async def _claim(
    session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID, charges: list[Charge]
) -> set[tuple[str, uuid.UUID, date]]:
    """Claim each item (membership cycle, fee) once; returns the keys this run won."""
    firsts = {c.key: c for c in reversed(charges)}  # the first line of an item names it
    rows = [
        {
            "tenant_id": tenant_id,
            "source_type": source_type,
            "source_id": source_id,
            "period_start": start,
            "period_end": charge.cycle.end,
            "billing_run_id": run_id,
            "invoice_line_id": charge.line_id,
        }
        for (source_type, source_id, start), charge in firsts.items()
    ]
    won: set[tuple[str, uuid.UUID, date]] = set()
    for offset in range(0, len(rows), CLAIM_BATCH):
        statement = (
            insert(BillingItem)
            .values(rows[offset : offset + CLAIM_BATCH])
            .on_conflict_do_nothing()
            .returning(BillingItem.source_type, BillingItem.source_id, BillingItem.period_start)
        )
        won.update((row.source_type, row.source_id, row.period_start) for row in await session.execute(statement))
    return won


async def _plan(
    session: AsyncSession, tenant_id: uuid.UUID, location: Location, period_start: date, period_end: date
) -> tuple[list[Charge], list[str], Sequence[Fee]]:
    """Every charge the period owes: memberships in advance, fees in arrears; and what cannot be
    billed yet (a missing tax rate), in words."""
    book = await TaxBook.load(session, tenant_id)
    inclusive = location.tax_mode == "inclusive"
    charges: list[Charge] = []
    problems: list[str] = []
    for membership, plan, company, discount, through in await _billable(session, tenant_id, location.id, period_end):
        cycles = membership_cycles(
            membership.start_date,
            membership.end_date,
            location.billing_day,
            plan.interval_months,
            after=through,
            before=period_end,
        )
        if not cycles:
            continue
        try:
            tax = book.for_line(plan.revenue_account_id, location.id, company.tax_rate_id)
        except MissingTaxRate as exc:
            problems.append(
                f"{company.legal_name}, {plan.name}: {exc.detail} This membership is not billed until that is fixed."
            )
            continue
        for cycle in cycles:
            charges.extend(_membership_charges(membership, plan, discount, company, cycle, tax, inclusive))
    fees = await FeeRepository(session, tenant_id).due_at(location.id, period_start)
    companies = await _companies(session, tenant_id, {fee.company_id for fee in fees})
    for fee in fees:
        company = companies[fee.company_id]
        try:
            tax = book.for_line(fee.revenue_account_id, location.id, company.tax_rate_id)
        except MissingTaxRate as exc:
            problems.append(f"{company.legal_name}, {fee.description}: {exc.detail} This fee is not billed until then.")
            continue
        charges.append(_fee_charge(fee, company, tax, inclusive))

    return charges, problems, fees


async def bill_location(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    location: Location,
    period_start: date,
    *,
    started_by: str,
    issue_invoices: bool,
    clock: Clock,
) -> RunOutcome:
    """Bill one location for the period opening on ``period_start`` (a billing date)."""
    # One run per location at a time; the claims would keep a second one honest anyway, but it
    # would only wait on the first one's locks to find everything taken.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"billing:{location.id}"}
    )
    period_end = add_months(period_start, 1)
    run = BillingRun(
        tenant_id=tenant_id,
        id=new_id(),
        location_id=location.id,
        period_start=period_start,
        period_end=period_end,
        status="running",
        started_by=started_by,
    )
    session.add(run)
    await session.flush()

    inclusive = location.tax_mode == "inclusive"
    charges, problems, fees = await _plan(session, tenant_id, location, period_start, period_end)
    won = await _claim(session, tenant_id, run.id, charges)
    by_company: dict[uuid.UUID, list[Charge]] = defaultdict(list)
    billed_fees: dict[uuid.UUID, uuid.UUID] = {}
    for charge in charges:
        if charge.key in won:
            by_company[charge.company.id].append(charge)
            if charge.source_type == "fee":
                billed_fees[charge.source_id] = charge.line_id

    invoices: list[Invoice] = []
    lines: dict[uuid.UUID, list[InvoiceLine]] = {}
    for company_charges in by_company.values():
        company = company_charges[0].company
        invoice = Invoice(
            tenant_id=tenant_id,
            id=new_id(),
            location_id=location.id,
            company_id=company.id,
            billing_run_id=run.id,
            status="draft",
            currency=location.currency,
            tax_mode=location.tax_mode,
            version=1,
        )
        invoice_lines = [
            InvoiceLine(
                tenant_id=tenant_id,
                id=charge.line_id,
                invoice_id=invoice.id,
                position=position,
                description=charge.description,
                quantity=charge.quantity,
                unit_amount=charge.unit_amount,
                line_amount=charge.amount,
                tax_rate_id=charge.tax.tax_rate_id,
                tax_amount=line_tax(charge.amount, charge.tax.rate, inclusive=inclusive),
                revenue_account_id=charge.revenue_account_id,
                membership_id=charge.source_id if charge.source_type == "membership" else None,
                period_start=charge.cycle.start,
                period_end=charge.cycle.end - timedelta(days=1),
                explanation=charge.explanation,
            )
            for position, charge in enumerate(company_charges, start=1)
        ]
        summed = totals(((line.line_amount, line.tax_amount) for line in invoice_lines), inclusive=inclusive)
        invoice.subtotal, invoice.tax_total, invoice.total = summed.subtotal, summed.tax_total, summed.total
        invoices.append(invoice)
        lines[invoice.id] = invoice_lines
    session.add_all(invoices)
    await session.flush()
    session.add_all(line for invoice_lines in lines.values() for line in invoice_lines)
    await session.flush()

    for fee in fees:
        line_id = billed_fees.get(fee.id)
        if line_id is not None:
            fee.status, fee.invoice_line_id = "billed", line_id
    await session.flush()

    if issue_invoices:
        for invoice in invoices:
            await issue(session, tenant_id, invoice, clock)

    run.status = "completed"
    run.invoices_created = len(invoices)
    run.lines_created = sum(len(invoice_lines) for invoice_lines in lines.values())
    run.finished_at = clock.now()
    run.error = "\n".join(problems) or None
    await session.flush()
    return RunOutcome(run, invoices, lines, problems)
