"""Locations: the operator's sites, each with its own time zone, currency, tax mode and billing day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec
from msgspec import UnsetType
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.booking.models import Booking
from app.company.models import Company
from app.company.repository import CompanyRepository
from app.db.integrity import flush_unique
from app.fee.models import Fee
from app.invoice.repository import InvoiceRepository
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch
from app.location.models import Location
from app.location.repository import LocationRepository
from app.location.schemas import LocationCreate, LocationUpdate
from app.membership.models import Membership
from app.membership.repository import billed_through

_UNIQUE = {"uq_locations_tenant_id_code": "Another location already uses this code."}


def _repo(session: AsyncSession, operator: Operator) -> LocationRepository:
    return LocationRepository(session, operator.tenant_id)


async def _template_unused_elsewhere(session: AsyncSession, operator: Operator, location: Location) -> None:
    """Numbers are unique across the operator (one ledger may hold every location), so no two
    numbering templates may be the same, whether of invoices or of credit notes."""
    mine = {location.invoice_number_template, location.credit_note_number_template}
    if len(mine) < 2:
        raise Conflict("Invoices and credit notes need different numbering templates.")
    others = await session.execute(_repo(session, operator).select().where(Location.id != location.id))
    for other in others.scalars():
        taken = mine & {other.invoice_number_template, other.credit_note_number_template}
        if taken:
            raise Conflict(f"{other.name} already numbers its documents '{taken.pop()}'.")


async def list_locations(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[Location]:
    repo = _repo(session, operator)
    return await repo.page(page, repo.visible(operator.location_ids))


async def get_location(
    session: AsyncSession,
    operator: Operator,
    location_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Location:
    location = await _repo(session, operator).visible_one(location_id, operator.location_ids, for_update=for_update)
    if location is None:
        raise NotFound("No such location.")
    return location


async def usable_location(
    session: AsyncSession, operator: Operator, location_id: uuid.UUID, *, for_share: bool = False
) -> Location:
    """A location new rows can be written at: one the operator sees, and active (``for_share``
    keeps it from being deactivated until the transaction ends)."""
    location = await _repo(session, operator).get(location_id, for_share=for_share)
    if location is None or not operator.sees_location(location_id):
        raise NotFound(f"Location {location_id} does not exist.")
    if not location.active:
        raise Conflict(f"Location {location.name} is deactivated.")
    return location


async def create_location(session: AsyncSession, operator: Operator, data: LocationCreate) -> Location:
    fields = msgspec.structs.asdict(data)
    fields["invoice_number_template"] = data.invoice_number_template or f"{data.code}-{{number:06}}"
    fields["credit_note_number_template"] = data.credit_note_number_template or f"{data.code}-CN-{{number:06}}"
    location = _repo(session, operator).add(Location(**fields, active=True))
    await flush_unique(session, _UNIQUE)
    await _template_unused_elsewhere(session, operator, location)
    return location


async def update_location(
    session: AsyncSession,
    operator: Operator,
    location_id: uuid.UUID,
    data: LocationUpdate,
) -> Location:
    location = await get_location(session, operator, location_id, for_update=True)
    frozen = [
        field
        for field in ("currency", "tax_mode", "billing_day")
        if not isinstance(getattr(data, field), UnsetType) and getattr(data, field) != getattr(location, field)
    ]
    if frozen and await InvoiceRepository(session, operator.tenant_id).any_at(location.id):
        raise Conflict(
            f"{location.name} has invoices: its {', '.join(frozen)} cannot change (billed periods and amounts "
            "would no longer add up). Open a new location instead."
        )
    if "currency" in frozen:
        assert isinstance(data.currency, str)
        others = await CompanyRepository(session, operator.tenant_id).billed_otherwise_at(location.id, data.currency)
        if others:
            raise Conflict(
                f"currency: {', '.join(others)} call {location.name} home and are billed in another currency "
                f"than {data.currency}; move them to a location billing theirs first."
            )
    apply_patch(location, data)
    await flush_unique(session, _UNIQUE)
    await _template_unused_elsewhere(session, operator, location)
    return location


async def set_location_active(
    session: AsyncSession, operator: Operator, location_id: uuid.UUID, *, active: bool
) -> Location:
    location = await get_location(session, operator, location_id, for_update=True)
    if location.active and not active:
        owed = await _still_owed(session, operator.tenant_id, location.id)
        if owed:
            raise Conflict(
                f"{location.name} still has {', '.join(owed)}. A closed location is never billed again, so end, "
                "bill or move these first."
            )
    location.active = active
    await session.flush()
    return location


async def _still_owed(session: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID) -> list[str]:
    """What a run of this location would still bill (or, for companies homed here, invoice)."""
    through = billed_through(tenant_id, Membership.id).scalar_subquery()
    counts = {
        "running or unbilled memberships": select(func.count()).where(
            Membership.tenant_id == tenant_id,
            Membership.location_id == location_id,
            Membership.end_date.is_(None) | (func.coalesce(through, Membership.start_date) <= Membership.end_date),
        ),
        "pending one-off fees": select(func.count()).where(
            Fee.tenant_id == tenant_id, Fee.location_id == location_id, Fee.status == "pending"
        ),
        "unbilled bookings": select(func.count()).where(
            Booking.tenant_id == tenant_id, Booking.location_id == location_id, Booking.status == "confirmed"
        ),
        "active companies whose home location it is": select(func.count()).where(
            Company.tenant_id == tenant_id, Company.home_location_id == location_id, Company.active
        ),
    }
    found = (await session.execute(select(*(count.scalar_subquery() for count in counts.values())))).one()
    return [f"{number} {what}" for what, number in zip(counts, found, strict=True) if number]
