from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from functools import cache
from typing import Any

import asyncpg
from sqlalchemy import Integer, Select, Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.db import driver
from app.db.repository import TenantRepository
from app.invoice.models import Invoice, InvoiceLine, InvoiceLineTax
from app.kit.pagination import PageRequest
from app.ledger.repository import amount_due, tax_parts_of
from app.member.models import Member

_TENANT = bindparam("tenant_id", type_=Uuid())


@cache
def _listing(equal_to: tuple[str, ...], *, by_location: bool, of_member: bool, after: bool) -> Select[Any]:
    """A page of invoices with what is due on each, as one statement (built once per shape)."""
    statement = select(Invoice.__table__, amount_due().label("amount_due")).where(Invoice.tenant_id == _TENANT)
    for name in equal_to:
        column = Invoice.__table__.c[name]
        statement = statement.where(column == bindparam(name, type_=column.type))
    if by_location:
        statement = statement.where(Invoice.location_id == any_(bindparam("location_ids", type_=ARRAY(Uuid()))))
    if of_member:
        # The member's billing account: the documents of the company they belong to, never drafts.
        account = select(Member.company_id).where(
            Member.tenant_id == _TENANT, Member.id == bindparam("member_id", type_=Uuid()), Member.active
        )
        statement = statement.where(Invoice.company_id == account.scalar_subquery(), Invoice.status != "draft")
    if after:
        statement = statement.where(Invoice.id > bindparam("after", type_=Uuid()))
    return statement.order_by(Invoice.id).limit(bindparam("limit", type_=Integer()))


@cache
def _latest_of_member() -> Select[Any]:
    """The member's issued invoices with what is due on each, latest issued first."""
    listing = _listing((), by_location=False, of_member=True, after=False)
    return listing.order_by(None).order_by(Invoice.issue_date.desc(), Invoice.number.desc(), Invoice.id.desc())


async def page_with_due(
    db: driver.Target,
    tenant_id: uuid.UUID,
    request: PageRequest,
    location_ids: Collection[uuid.UUID] | None = None,
    member_id: uuid.UUID | None = None,
    **equal_to: object,
) -> list[asyncpg.Record]:
    """A page of the tenant's invoices in id order (one extra row, as ``page``), each invoice's
    columns and ``amount_due``, in one round trip: the rows an operator limited to ``location_ids``
    may see with each column in ``equal_to`` equal to its value (None filters nothing), or with
    ``member_id`` the issued invoices of that member's billing account."""
    given = {name: value for name, value in equal_to.items() if value is not None}
    statement = _listing(
        tuple(sorted(given)),
        by_location=location_ids is not None,
        of_member=member_id is not None,
        after=request.after is not None,
    )
    params = {"tenant_id": tenant_id, "limit": request.limit + 1, "after": request.after, **given}
    if location_ids is not None:
        params["location_ids"] = list(location_ids)
    if member_id is not None:
        params["member_id"] = member_id
    return await driver.fetch(db, statement, params)


async def latest_of_member(
    db: driver.Target, tenant_id: uuid.UUID, member_id: uuid.UUID, limit: int
) -> list[asyncpg.Record]:
    """Up to ``limit`` of the member's issued invoices, latest first, each with ``amount_due``."""
    params = {"tenant_id": tenant_id, "member_id": member_id, "limit": limit}
    return await driver.fetch(db, _latest_of_member(), params)


class InvoiceRepository(TenantRepository[Invoice]):
    model = Invoice

    async def get_many(self, invoice_ids: Sequence[uuid.UUID]) -> list[Invoice]:
        """The invoices with these ids, in the order given (missing ones left out)."""
        found = await self.by_ids(invoice_ids)
        return [found[invoice_id] for invoice_id in invoice_ids if invoice_id in found]

    async def of_lines(self, line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Invoice]:
        """The invoice of each of these lines, by line id."""
        if not line_ids:
            return {}
        statement = (
            select(InvoiceLine.id, Invoice)
            .join(Invoice, (Invoice.tenant_id == InvoiceLine.tenant_id) & (Invoice.id == InvoiceLine.invoice_id))
            .where(InvoiceLine.tenant_id == self.tenant_id, InvoiceLine.id.in_(line_ids))
        )
        return {row[0]: row[1] for row in (await self.session.execute(statement)).all()}

    async def any_at(self, location_id: uuid.UUID) -> bool:
        statement = self.select().where(Invoice.location_id == location_id).limit(1)
        return (await self.session.execute(statement)).first() is not None

    async def lines(self, invoice_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[InvoiceLine]]:
        found: dict[uuid.UUID, list[InvoiceLine]] = defaultdict(list)
        if not invoice_ids:
            return found
        statement = (
            select(InvoiceLine)
            .where(InvoiceLine.tenant_id == self.tenant_id, InvoiceLine.invoice_id.in_(invoice_ids))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        )
        for line in (await self.session.execute(statement)).scalars():
            found[line.invoice_id].append(line)
        return found

    async def taxes(self, line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[InvoiceLineTax]]:
        """The tax parts of these lines (those taxed at a rate of several components), in order."""
        return await tax_parts_of(self.session, InvoiceLineTax, self.tenant_id, line_ids)
