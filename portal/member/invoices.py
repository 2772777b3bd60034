"""A member's invoice: the page, line by line, and its PDF."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from app.catalog.tax import tax_totals
from app.dependencies import Db, member_of
from app.invoice.controller import pdf_response
from app.invoice.documents import invoice_pdf, pdf_filename, tax_rate_names
from app.invoice.pdf import component_label
from app.invoice.service import amounts_due, invoice_lines, line_taxes
from app.kit.money import format_amount, plain_decimal
from app.member import documents
from app.member.service import get_self
from app.tenant.service import get_tenant
from portal.shared.pages import HX_VARY
from portal.shared.session import signed_in


class InvoicePages(Controller):
    path = "/portal"
    include_in_schema = False

    @get("/invoices/{invoice_id:uuid}", guards=[signed_in("/portal/login")])
    async def invoice(self, request: Request[Any, Any, Any], db: Db, invoice_id: FromPath[uuid.UUID]) -> Template:
        """One of the member's invoices, line by line, each line's tax split between the
        components of its rate where it has several."""
        member = member_of(request)
        invoice = await documents.my_invoice(db, member, invoice_id)
        lines = await invoice_lines(db, invoice)
        taxes = await line_taxes(db, member.tenant_id, lines)
        return Template(
            template_name="member/invoice.html",
            context={
                "tenant": await get_tenant(db, member.tenant_id),
                "member": await get_self(db, member),
                "area": "portal",
                "invoice": invoice,
                "lines": lines,
                "taxes": taxes,
                "tax_names": await tax_rate_names(db, member.tenant_id),
                "by_component": tax_totals(part for line in lines for part in taxes.get(line.id, ())),
                "due": (await amounts_due(db, member.tenant_id, [invoice]))[invoice.id],
                "money": format_amount,
                "label": component_label,
                "quantity": plain_decimal,
            },
            headers=HX_VARY,
        )

    @get("/invoices/{invoice_id:uuid}/pdf", guards=[signed_in("/portal/login")])
    async def invoice_pdf(
        self, request: Request[Any, Any, Any], db: Db, invoice_id: FromPath[uuid.UUID]
    ) -> Response[bytes]:
        member = member_of(request)
        invoice = await documents.my_invoice(db, member, invoice_id)
        return pdf_response(await invoice_pdf(db, invoice), pdf_filename(invoice))
