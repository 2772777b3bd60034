"""The portal's first page (the account's balance and latest invoices), and its sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from litestar import Controller, Request, get
from litestar.response import Template

from app.dependencies import Reads, member_of
from app.kit.money import format_amount
from app.member import documents
from app.member.repository import MemberRepository
from portal.shared.pages import day_text
from portal.shared.session import signed_in
from portal.shared.sign_in import SignInPages

# How many of the account's latest invoices the portal's first page lists.
DASHBOARD_INVOICES = 50


@dataclass(frozen=True, slots=True)
class ListedInvoice:
    """An invoice as a list in the portal shows it, every field already text: formatted here
    rather than by calls from the template, which cost several times more per call."""

    id: str
    number: str
    issued: str
    due: str
    total: str
    to_pay: str
    currency: str
    status: str
    status_label: str

    @classmethod
    def of(cls, row: asyncpg.Record) -> ListedInvoice:
        currency = row["currency"]
        return cls(
            id=str(row["id"]),
            number=row["number"],
            issued=day_text(row["issue_date"]),
            due=day_text(row["due_date"]),
            total=format_amount(row["total"], currency),
            to_pay=format_amount(row["amount_due"], currency),
            currency=currency,
            status=row["status"],
            status_label=row["status"].replace("_", " "),
        )


class MemberSignIn(SignInPages):
    path = "/portal"
    kind = "portal"
    people = MemberRepository
    title = "Member portal"


class MemberDashboard(Controller):
    path = "/portal"
    include_in_schema = False

    @get("/", guards=[signed_in("/portal/login")])
    async def dashboard(self, request: Request[Any, Any, Any], reads: Reads) -> Template:
        member = member_of(request)
        summary, invoices = await documents.overview(reads, member, DASHBOARD_INVOICES)
        return Template(
            template_name="member/dashboard.html",
            context={
                "summary": summary,
                "area": "portal",
                "invoices": [ListedInvoice.of(invoice) for invoice in invoices],
                "money": format_amount,
                "currency": invoices[0]["currency"] if invoices else None,
            },
        )
