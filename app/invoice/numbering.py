"""Invoice numbers: a per-location template and a gap-free sequence."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.invoice.models import InvoiceSequence

# Literal text around exactly one {number} field, optionally zero-padded: "LON-{number:06}".
TEMPLATE = re.compile(r"^[A-Za-z0-9 ._/#-]{0,20}\{number(?::0[1-9])?\}[A-Za-z0-9 ._/#-]{0,20}$")


def render(template: str, number: int) -> str:
    return template.format(number=number)


async def take_number(
    session: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID, kind: str = "invoice", *, count: int = 1
) -> int:
    """The location's next number (the first of ``count`` consecutive ones), under a row lock held
    until the issuing transaction ends, so concurrent issues queue up and a rolled-back issue gives
    its numbers back: no gaps, no repeats."""
    statement = (
        insert(InvoiceSequence)
        .values(tenant_id=tenant_id, location_id=location_id, kind=kind, next_number=1 + count)
        .on_conflict_do_update(
            index_elements=[InvoiceSequence.tenant_id, InvoiceSequence.location_id, InvoiceSequence.kind],
            set_={"next_number": InvoiceSequence.next_number + count},
        )
        .returning(InvoiceSequence.next_number - count)
    )
    first: int = (await session.execute(statement)).scalar_one()
    return first
