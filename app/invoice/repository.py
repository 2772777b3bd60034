from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from app.db.repository import TenantRepository
from app.invoice.models import Invoice, InvoiceLine, InvoiceLineTax


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
        found: dict[uuid.UUID, list[InvoiceLineTax]] = defaultdict(list)
        if not line_ids:
            return found
        statement = (
            select(InvoiceLineTax)
            .where(InvoiceLineTax.tenant_id == self.tenant_id, InvoiceLineTax.line_id.in_(line_ids))
            .order_by(InvoiceLineTax.line_id, InvoiceLineTax.position)
        )
        for part in (await self.session.execute(statement)).scalars():
            found[part.line_id].append(part)
        return found
