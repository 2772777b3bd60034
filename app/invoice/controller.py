from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import asyncpg
import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import requires
from app.catalog.tax import tax_totals
from app.dependencies import OPERATOR_READS, Actor, Db, Reads, State
from app.invoice import service
from app.invoice.documents import invoice_pdf, pdf_filename
from app.invoice.models import Invoice, InvoiceLine
from app.invoice.schemas import InvoiceLineOut, InvoiceOut, TaxPartOut, VoidRequest
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate

READ, WRITE = requires("billing:read"), requires("billing:write")
Status = Literal["draft", "issued", "partially_paid", "paid", "void"]


def tax_parts_out(parts: Sequence[Any]) -> list[TaxPartOut]:
    return [msgspec.convert(part, TaxPartOut, from_attributes=True) for part in parts]


def to_out(
    invoice: Invoice,
    lines: Sequence[InvoiceLine | Mapping[str, Any]] | None = None,
    amount_due: int | None = None,
    taxes: Mapping[uuid.UUID, Sequence[Any]] | None = None,
) -> InvoiceOut:
    """``taxes``: the tax parts of the lines taxed at a rate of several components, by line id."""
    out = msgspec.convert(invoice, InvoiceOut, from_attributes=True)
    out.amount_due = amount_due
    if lines is not None:
        out.lines = [msgspec.convert(line, InvoiceLineOut, from_attributes=True) for line in lines]
        for line in out.lines:
            line.tax_components = tax_parts_out((taxes or {}).get(line.id, ()))
        out.tax_by_component = tax_parts_out(tax_totals(part for line in out.lines for part in line.tax_components))
    return out


# The fields a listed invoice fills, in the struct's order (its rows come straight from the database).
_LISTED = tuple(name for name in InvoiceOut.__struct_fields__ if name not in ("tax_by_component", "lines"))


def listed_out(rows: Sequence[asyncpg.Record]) -> list[InvoiceOut]:
    """Invoices read as rows with their ``amount_due`` (a listing), without their lines."""
    return [InvoiceOut(*[row[name] for name in _LISTED]) for row in rows]


async def full_out(db: Db, invoice: Invoice) -> InvoiceOut:
    """The invoice with its lines (each with its tax parts) and what is due on it."""
    due = await service.amounts_due(db, invoice.tenant_id, [invoice])
    lines = await service.invoice_lines(db, invoice)
    return to_out(invoice, lines, due[invoice.id], await service.line_taxes(db, invoice.tenant_id, lines))


def pdf_response(pdf: bytes, filename: str) -> Response[bytes]:
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


class InvoiceController(Controller):
    path = "/invoices"
    tags = ["Invoices"]

    @get("/", operation_id="listInvoices", summary="List invoices", guards=[READ], dependencies=OPERATOR_READS)
    async def list_invoices(
        self,
        reads: Reads,
        operator: Actor,
        cursor: Cursor = None,
        limit: Limit = None,
        status: FromQuery[Status | None] = None,
        company_id: FromQuery[uuid.UUID | None] = None,
        billing_run_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[InvoiceOut]:
        """Invoices without their lines, each with what is still due on it (`amount_due`), oldest first, a page
        at a time (pass `next_cursor` back as `cursor`). Filter by `status` (`draft`, `issued`,
        `partially_paid`, `paid`, `void`), `company_id` or `billing_run_id`. Amounts are integer minor units of
        `currency`."""
        page = page_request(cursor, limit)
        rows = await service.list_invoices(
            reads, operator, page, status=status, company_id=company_id, billing_run_id=billing_run_id
        )
        return paginate(listed_out(rows), page, lambda out: out)

    @get("/{invoice_id:uuid}", operation_id="getInvoice", summary="Get an invoice", guards=[READ])
    async def get_invoice(self, db: Db, operator: Actor, invoice_id: FromPath[uuid.UUID]) -> InvoiceOut:
        """One invoice with its explained lines, their tax parts, its totals and `amount_due`, in integer minor
        units of `currency`; line amounts are gross when `tax_mode` is inclusive."""
        invoice = await service.get_invoice(db, operator, invoice_id)
        return await full_out(db, invoice)

    @get(
        "/{invoice_id:uuid}/pdf",
        operation_id="getInvoicePdf",
        summary="Download an invoice as a PDF",
        media_type="application/pdf",
        guards=[READ],
    )
    async def invoice_pdf(self, db: Db, operator: Actor, invoice_id: FromPath[uuid.UUID]) -> Response[bytes]:
        """The invoice as a PDF attachment named by its number. Drafts and voided invoices are stamped as such."""
        invoice = await service.get_invoice(db, operator, invoice_id)
        return pdf_response(await invoice_pdf(db, invoice), pdf_filename(invoice))

    @post(
        "/{invoice_id:uuid}/issue",
        operation_id="issueInvoice",
        summary="Issue a draft invoice",
        status_code=200,
        guards=[WRITE],
    )
    async def issue_invoice(
        self, db: Db, operator: Actor, app_state: State, invoice_id: FromPath[uuid.UUID]
    ) -> InvoiceOut:
        """Number and date a `draft`: dated today where its location is, due after the company's payment terms.
        Any other status is refused (409). A zero total is `paid` at once; otherwise credit the company holds
        pays what it can. The invoice is queued for Xero if its location syncs."""
        invoice = await service.issue_invoice(db, operator, invoice_id, app_state.clock)
        return await full_out(db, invoice)

    @post(
        "/{invoice_id:uuid}/void",
        operation_id="voidInvoice",
        summary="Void an invoice",
        status_code=200,
        guards=[WRITE],
    )
    async def void_invoice(
        self, db: Db, operator: Actor, invoice_id: FromPath[uuid.UUID], data: JSONBody[VoidRequest | None] = None
    ) -> InvoiceOut:
        """Void a `draft`, or an `issued` invoice nothing is applied to; anything else is refused (409): credit
        it instead. Its fees, bookings and membership periods are released for the next run to bill again,
        unless later periods are billed already (409). The reason goes to the audit trail; a numbered invoice
        is queued for Xero where its location syncs."""
        invoice = await service.void_invoice(db, operator, invoice_id, data.reason if data else None)
        return await full_out(db, invoice)
