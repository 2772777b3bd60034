"""Every row lock the ledger takes, in one place and one order: invoices, then payments, then
credit notes (each by id). Two operations touching the same rows queue instead of deadlocking."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.invoice.models import Invoice
from app.ledger.models import CreditNote, Payment


async def lock_for_allocation(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    invoices: Iterable[uuid.UUID] = (),
    payments: Iterable[uuid.UUID] = (),
    credit_notes: Iterable[uuid.UUID] = (),
) -> None:
    for model, ids in ((Invoice, invoices), (Payment, payments), (CreditNote, credit_notes)):
        wanted = sorted(set(ids))
        if wanted:
            # populate_existing: rows already loaded are refreshed to what the lock guards, so a
            # status read before the lock (say, an invoice voided meanwhile) is not trusted.
            await session.execute(
                select(model)
                .where(model.tenant_id == tenant_id, model.id.in_(wanted))
                .order_by(model.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
