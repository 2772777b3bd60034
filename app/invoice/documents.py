"""Invoices as documents people download."""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.repository import TaxRateRepository
from app.company.repository import CompanyRepository
from app.invoice.models import Invoice
from app.invoice.pdf import render_invoice_pdf
from app.invoice.service import invoice_lines
from app.location.repository import LocationRepository
from app.tenant.repository import TenantRepository


async def invoice_pdf(session: AsyncSession, invoice: Invoice) -> bytes:
    """The invoice as a PDF; drawing happens in a worker thread, off the event loop."""
    tenant_id = invoice.tenant_id
    lines = await invoice_lines(session, invoice)
    company = await CompanyRepository(session, tenant_id).get(invoice.company_id)
    location = await LocationRepository(session, tenant_id).get(invoice.location_id)
    tenant = await TenantRepository(session).get(tenant_id)
    rates = await session.execute(TaxRateRepository(session, tenant_id).select())
    tax_names = {rate.id: rate.name for rate in rates.scalars()}
    assert company is not None
    assert location is not None
    assert tenant is not None
    return await anyio.to_thread.run_sync(
        lambda: render_invoice_pdf(invoice, lines, company, location, tenant, tax_names)
    )


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number or 'draft-' + str(invoice.id)[:8]}.pdf"
