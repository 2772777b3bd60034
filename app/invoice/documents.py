"""Invoices as documents people download."""

from __future__ import annotations

import uuid

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.repository import TaxRateRepository
from app.company.repository import CompanyRepository
from app.invoice.models import Invoice
from app.invoice.pdf import render_invoice_pdf
from app.invoice.service import invoice_lines, line_taxes
from app.location.repository import LocationRepository
from app.tenant.repository import TenantRepository


async def tax_rate_names(session: AsyncSession, tenant_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rates = await session.execute(TaxRateRepository(session, tenant_id).select())
    return {rate.id: rate.name for rate in rates.scalars()}


async def invoice_pdf(session: AsyncSession, invoice: Invoice) -> bytes:
    """The invoice as a PDF; drawing happens in a worker thread, off the event loop."""
    tenant_id = invoice.tenant_id
    lines = await invoice_lines(session, invoice)
    taxes = await line_taxes(session, tenant_id, lines)
    company = await CompanyRepository(session, tenant_id).get(invoice.company_id)
    location = await LocationRepository(session, tenant_id).get(invoice.location_id)
    tenant = await TenantRepository(session).get(tenant_id)
    tax_names = await tax_rate_names(session, tenant_id)
    assert company is not None
    assert location is not None
    assert tenant is not None
    return await anyio.to_thread.run_sync(
        lambda: render_invoice_pdf(invoice, lines, company, location, tenant, tax_names, taxes)
    )


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number or 'draft-' + str(invoice.id)[:8]}.pdf"
