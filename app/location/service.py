"""Locations: the operator's sites, each with its own time zone, currency, tax mode and billing day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec
from msgspec import UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.db.integrity import flush_unique
from app.invoice.repository import InvoiceRepository
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch
from app.location.models import Location
from app.location.repository import LocationRepository
from app.location.schemas import LocationCreate, LocationUpdate

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
    location = await _repo(session, operator).get(location_id, for_update=for_update)
    if location is None or not operator.sees_location(location.id):
        raise NotFound("No such location.")
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
    apply_patch(location, data)
    await flush_unique(session, _UNIQUE)
    await _template_unused_elsewhere(session, operator, location)
    return location


async def set_location_active(
    session: AsyncSession, operator: Operator, location_id: uuid.UUID, *, active: bool
) -> Location:
    location = await get_location(session, operator, location_id, for_update=True)
    location.active = active
    await session.flush()
    return location
