"""Running billing for a location: preview (same code, rolled back) and run."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator, actor_label
from app.billing.engine import RunOutcome, bill_locations
from app.billing.models import BillingRun
from app.billing.periods import add_months, period_starting_on_or_before
from app.billing.repository import BillingRunRepository
from app.kit.clock import Clock, local_today
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest
from app.location.models import Location
from app.location.service import get_location
from app.tenant.models import Tenant
from app.tenant.service import get_tenant

T = TypeVar("T")


def resolve_period(location: Location, requested: date | None, current: date) -> date:
    """The billing date a run is for: the one asked for, or ``current`` (the one opening today's
    period there)."""
    if requested is None:
        return current
    if requested.day != location.billing_day:
        raise Conflict(
            f"period_start must be a billing date of {location.name} (day {location.billing_day} of a month); "
            f"{requested.isoformat()} is not."
        )
    return requested


def _current_period(location: Location, clock: Clock) -> date:
    return period_starting_on_or_before(local_today(clock, location.time_zone), location.billing_day)


async def _bill(
    session: AsyncSession,
    tenant: Tenant,
    locations: Sequence[Location],
    period: date,
    *,
    started_by: str,
    clock: Clock,
) -> list[RunOutcome]:
    """Runs with the tenant's own choices (issue on run, grouping, where invoices go)."""
    return await bill_locations(
        session,
        tenant.id,
        locations,
        period,
        started_by=started_by,
        issue_invoices=tenant.issue_on_run,
        clock=clock,
        grouping=tenant.invoice_grouping,
        invoice_location=tenant.invoice_location,
    )


async def run_billing(
    session: AsyncSession, operator: Operator, location_id: uuid.UUID, requested: date | None, clock: Clock
) -> RunOutcome:
    location = await get_location(session, operator, location_id)
    current = _current_period(location, clock)
    period = resolve_period(location, requested, current)
    latest = add_months(current, 1)
    if period > latest:
        raise Conflict(
            f"{period.isoformat()} is more than one period ahead; bill it from {latest.isoformat()} on "
            "(a preview can look further)."
        )
    tenant = await get_tenant(session, operator.tenant_id)
    (outcome,) = await _bill(session, tenant, [location], period, started_by=actor_label(operator), clock=clock)
    return outcome


async def preview_billing(
    session: AsyncSession,
    operator: Operator,
    location_id: uuid.UUID,
    requested: date | None,
    clock: Clock,
    present: Callable[[RunOutcome], T],
) -> T:
    """Run the very same billing inside a savepoint, describe it with ``present``, roll it back."""
    location = await get_location(session, operator, location_id)
    period = resolve_period(location, requested, _current_period(location, clock))
    tenant = await get_tenant(session, operator.tenant_id)
    savepoint = await session.begin_nested()
    try:
        (outcome,) = await _bill(session, tenant, [location], period, started_by=actor_label(operator), clock=clock)
        return present(outcome)
    finally:
        await savepoint.rollback()


async def list_runs(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[BillingRun]:
    repo = BillingRunRepository(session, operator.tenant_id)
    return await repo.page(page, repo.visible(operator.location_ids))


async def get_run(session: AsyncSession, operator: Operator, run_id: uuid.UUID) -> BillingRun:
    run = await BillingRunRepository(session, operator.tenant_id).visible_one(run_id, operator.location_ids)
    if run is None:
        raise NotFound("No such billing run.")
    return run


SCHEDULER = "system:scheduler"
# The locations and their tenant, in one query (the scheduler asks for every location it bills).
_SCHEDULED = (
    select(Location, Tenant)
    .join(Tenant, Tenant.id == Location.tenant_id)
    .where(
        Location.tenant_id == bindparam("tenant_id", type_=Uuid()),
        Location.id.in_(bindparam("location_ids", expanding=True)),
    )
    .order_by(Location.id)
)


async def run_scheduled(
    session: AsyncSession, tenant_id: uuid.UUID, location_ids: Sequence[uuid.UUID], period: date, clock: Clock
) -> list[RunOutcome]:
    """The scheduler's run of some locations of one tenant, all for one period, in the session's
    transaction (bound to the tenant): closed locations, and those of a tenant no longer active,
    are skipped."""
    found = (await session.execute(_SCHEDULED, {"tenant_id": tenant_id, "location_ids": list(location_ids)})).all()
    locations = [location for location, tenant in found if location.active and tenant.status == "active"]
    if not locations:
        return []
    return await _bill(session, found[0][1], locations, period, started_by=SCHEDULER, clock=clock)


async def record_failed_run(
    session: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID, period: date, error: str, clock: Clock
) -> BillingRun:
    """A run that failed leaves nothing behind but this record of it, one per location and period
    however often the scheduler tries again (the latest error and time win)."""
    repo = BillingRunRepository(session, tenant_id)
    statement = repo.select().where(
        BillingRun.location_id == location_id, BillingRun.period_start == period, BillingRun.status == "failed"
    )
    run = (await session.execute(statement.with_for_update())).scalars().first()
    if run is None:
        run = repo.add(
            BillingRun(
                location_id=location_id,
                period_start=period,
                period_end=add_months(period, 1),
                status="failed",
                started_by=SCHEDULER,
            )
        )
    run.finished_at, run.error = clock.now(), error
    await session.flush()
    return run
