"""Memberships: plans held by billing accounts at locations, over a date range."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from msgspec import UnsetType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.capture import note
from app.auth.principal import Operator
from app.billing.models import BillingItem
from app.catalog.models import Plan
from app.catalog.repository import PlanRepository
from app.catalog.service import get_plan, usable_discount
from app.company.repository import CompanyRepository
from app.invoice.repository import InvoiceRepository
from app.kit.clock import Clock, local_today
from app.kit.errors import Conflict, Forbidden, NotFound
from app.kit.money import prorate
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch, over_the_limit
from app.ledger.schemas import CreditLineIn, CreditNoteCreate
from app.ledger.service import credit_invoice
from app.location.models import Location
from app.location.repository import LocationRepository
from app.location.service import usable_location
from app.member.service import usable_member
from app.membership.models import Membership
from app.membership.repository import MembershipRepository
from app.membership.schemas import MembershipCreate, MembershipUpdate


async def list_memberships(
    session: AsyncSession,
    operator: Operator,
    page: PageRequest,
    *,
    company_id: uuid.UUID | None = None,
    location_id: uuid.UUID | None = None,
) -> Sequence[Membership]:
    repo = MembershipRepository(session, operator.tenant_id)
    return await repo.page(page, repo.visible(operator.location_ids, company_id=company_id, location_id=location_id))


async def get_membership(
    session: AsyncSession, operator: Operator, membership_id: uuid.UUID, *, for_update: bool = False
) -> Membership:
    membership = await MembershipRepository(session, operator.tenant_id).visible_one(
        membership_id, operator.location_ids, for_update=for_update
    )
    if membership is None:
        raise NotFound("No such membership.")
    return membership


async def create_membership(session: AsyncSession, operator: Operator, data: MembershipCreate) -> Membership:
    company = await CompanyRepository(session, operator.tenant_id).get(data.company_id)
    if company is None:
        raise NotFound(f"Company {data.company_id} does not exist.")
    if not company.active:
        raise Conflict(f"{company.legal_name} is deactivated.")
    plan = await PlanRepository(session, operator.tenant_id).get(data.plan_id)
    if plan is None:
        raise NotFound(f"Plan {data.plan_id} does not exist.")
    if not plan.active:
        raise Conflict(f"The plan '{plan.name}' is deactivated.")
    location = await usable_location(session, operator, data.location_id, for_share=True)
    if not plan.currency == location.currency == company.currency:
        raise Conflict(
            "Mismatched currencies: the plan is priced in "
            f"{plan.currency}, {location.name} bills in {location.currency} and "
            f"{company.legal_name} is billed in {company.currency}; they must be the same."
        )
    await usable_discount(session, operator, data.discount_id, plan.currency)
    await usable_member(session, operator, data.member_id)
    _fits_on_a_line(plan, data.price_override, data.quantity)
    membership = MembershipRepository(session, operator.tenant_id).add(
        Membership(
            company_id=data.company_id,
            member_id=data.member_id,
            plan_id=data.plan_id,
            location_id=data.location_id,
            start_date=data.start_date,
            end_date=data.end_date,
            quantity=data.quantity,
            price_override=data.price_override,
            discount_id=data.discount_id,
            notes=data.notes,
        )
    )
    await session.flush()
    return membership


async def update_membership(
    session: AsyncSession, operator: Operator, membership_id: uuid.UUID, data: MembershipUpdate, clock: Clock
) -> Membership:
    """Every check runs before anything is written (an end inside billed periods writes credit
    notes, so the cheap checks come first)."""
    repo = MembershipRepository(session, operator.tenant_id)
    membership = await get_membership(session, operator, membership_id, for_update=True)
    plan: Plan | None = None
    if not isinstance(data.discount_id, UnsetType):
        plan = await get_plan(session, operator, membership.plan_id)
        await usable_discount(session, operator, data.discount_id, plan.currency)
    if not isinstance(data.member_id, UnsetType):
        await usable_member(session, operator, data.member_id)
    if not isinstance(data.end_date, UnsetType):
        if data.end_date is not None and data.end_date < membership.start_date:
            raise Conflict(f"end_date {data.end_date} is before start_date {membership.start_date}.")
        location = await LocationRepository(session, operator.tenant_id).get(membership.location_id, for_share=True)
        assert location is not None
        if not location.active and (
            data.end_date is None or (membership.end_date and data.end_date > membership.end_date)
        ):
            raise Conflict(f"{location.name} is deactivated and bills nothing more: its memberships cannot run longer.")
        billed_through = await repo.billed_through(membership.id)
        if (
            billed_through is not None
            and data.end_date is not None
            and data.end_date + timedelta(days=1) < billed_through
        ):
            plan = plan or await get_plan(session, operator, membership.plan_id)
            await _end_inside_billed_periods(
                session, operator, membership, plan, location, data.end_date, billed_through, clock
            )
    if not isinstance(data.quantity, UnsetType) or not isinstance(data.price_override, UnsetType):
        plan = plan or await get_plan(session, operator, membership.plan_id)
        _fits_on_a_line(
            plan,
            membership.price_override if isinstance(data.price_override, UnsetType) else data.price_override,
            membership.quantity if isinstance(data.quantity, UnsetType) else data.quantity,
        )
    apply_patch(membership, data)
    await session.flush()
    return membership


def _fits_on_a_line(plan: Plan, price_override: int | None, quantity: int) -> None:
    """A period's line (price times quantity) within what one line may hold."""
    problem = over_the_limit(plan.price if price_override is None else price_override, quantity, "quantity")
    if problem is not None:
        raise Conflict(problem, errors=[{"key": "quantity", "message": problem}])


async def _end_inside_billed_periods(
    session: AsyncSession,
    operator: Operator,
    membership: Membership,
    plan: Plan,
    location: Location,
    end: date,
    billed_through: date,
    clock: Clock,
) -> None:
    """End a membership inside periods it has already been invoiced for: the unused days are
    credited on those invoices (by the actual-days convention, net of the discount; a plan
    without proration keeps a period once it has started) and the billed periods are cut at the
    new end, so nothing is billed or credited twice. A draft invoice is refused: voiding it and
    billing again corrects it without a credit note. Crediting needs the billing:write scope."""
    end_excl = end + timedelta(days=1)
    items = (
        (
            await session.execute(
                select(BillingItem)
                .where(
                    BillingItem.tenant_id == operator.tenant_id,
                    BillingItem.source_type == "membership",
                    BillingItem.source_id == membership.id,
                    BillingItem.period_end > end_excl,
                )
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    invoice_repo = InvoiceRepository(session, operator.tenant_id)
    line_ids = [item.invoice_line_id for item in items if item.invoice_line_id is not None]
    invoices = await invoice_repo.of_lines(line_ids)
    last = billed_through - timedelta(days=1)
    if drafts := [invoice for invoice in invoices.values() if invoice.status == "draft"]:
        raise Conflict(
            f"This membership is billed through {last:%d %b %Y} on a draft invoice; void the draft (its periods "
            "are billed again by the next run) or issue it, then end the membership."
            + (f" ({len(drafts)} drafts)" if len(drafts) > 1 else "")
        )
    if "billing:write" not in operator.scopes:
        raise Forbidden(
            f"This membership is invoiced through {last:%d %b %Y}: ending it earlier credits those invoices, "
            "which needs the billing:write scope."
        )
    on_invoices = await invoice_repo.lines(list({invoice.id for invoice in invoices.values()}))
    lines = [line for found in on_invoices.values() for line in found if line.membership_id == membership.id]
    by_id = {line.id: line for line in lines}
    to_credit: dict[uuid.UUID, list[CreditLineIn]] = defaultdict(list)
    for item in items:
        if item.invoice_line_id is None:
            continue
        started = item.period_start < end_excl
        if started and not plan.prorate:
            continue
        main = by_id[item.invoice_line_id]
        # The cycle's own lines: the plan and its discount (a deposit is returned on its own terms).
        net = sum(
            line.line_amount
            for line in lines
            if line.invoice_id == main.invoice_id
            and line.period_start == main.period_start
            and line.explanation.get("kind") in {"membership", "discount"}
        )
        assert main.period_start is not None
        assert main.period_end is not None
        # Days still billed after the new end, of the days the line itself billed (an earlier
        # cut may have shortened the billed period already).
        unused = (item.period_end - max(item.period_start, end_excl)).days
        amount = prorate(net, unused, (main.period_end - main.period_start).days + 1)
        if amount > 0:
            to_credit[main.invoice_id].append(CreditLineIn(invoice_line_id=main.id, amount=amount))
    today = local_today(clock, location.time_zone)
    for invoice_id, entries in to_credit.items():
        reason = f"{plan.name} ended on {end:%d %b %Y}: the days after it are credited."
        await credit_invoice(session, operator, invoice_id, CreditNoteCreate(lines=entries, reason=reason), today)
    for item in items:
        if item.period_start >= end_excl:
            await session.delete(item)
        else:
            item.period_end = end_excl
    await note(
        session,
        operator.tenant_id,
        "membership",
        membership.id,
        {"billed_through": [billed_through, end_excl], "credited_invoices": list(to_credit)},
    )
