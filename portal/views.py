"""Pages of the operator console (/console) and the member portal (/portal).

Every page works without JavaScript (forms post and answer 303); with htmx, forms swap in place and
a successful sign-in answers with HX-Redirect. Fragments are named blocks of the page's template.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, ClassVar

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from msgspec import Meta

from app.auth.service import Credentials, People, sign_in
from app.auth.web_session import SessionKind, WebSessions, sessions_for
from app.catalog.tax import tax_totals
from app.dependencies import Db, Reads, State, Throttle, member_of, operator_of
from app.invoice.controller import pdf_response
from app.invoice.documents import invoice_pdf, pdf_filename, tax_rate_names
from app.invoice.pdf import component_label
from app.invoice.service import amounts_due, invoice_lines, line_taxes
from app.kit.errors import TooManyRequests, Unauthenticated
from app.kit.money import format_amount, plain_decimal
from app.kit.pagination import PageRequest
from app.kit.request_context import client_address
from app.location.service import list_locations
from app.member import documents
from app.member.repository import MemberRepository
from app.member.service import get_self
from app.tenant.service import get_tenant
from app.user.repository import UserRepository
from app.user.service import get_user
from portal.session import signed_in

HX_VARY = {"Vary": "HX-Request"}
# How many of the account's latest invoices the portal's first page lists.
DASHBOARD_INVOICES = 50


@lru_cache(maxsize=4096)  # a list shows few distinct days, and strftime is slow next to a look-up
def day_text(day: date) -> str:
    return day.strftime("%-d %b %Y")  # 7 Dec 2026


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


class SignInForm(msgspec.Struct):
    organisation: Annotated[str, Meta(max_length=40)] = ""
    email: Annotated[str, Meta(max_length=320)] = ""
    password: Annotated[str, Meta(max_length=200)] = ""


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def _go(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    if is_htmx(request):
        return Response(content=None, status_code=204, headers={"HX-Redirect": path, **HX_VARY})
    return Redirect(path=path, status_code=303, headers=HX_VARY)


class SignInPages(Controller):
    """Sign-in and sign-out, shared by both areas; subclasses say which."""

    include_in_schema = False
    kind: ClassVar[SessionKind]
    people: ClassVar[type[People[Any]]]
    title: ClassVar[str]

    def _page(
        self,
        request: Request[Any, Any, Any],
        form: SignInForm,
        error: str | None,
        status: int,
        retry_after: int | None = None,
    ) -> Template:
        context = {"area": self.kind, "title": self.title, "form": form, "error": error}
        block = "form" if is_htmx(request) else None
        headers = {**HX_VARY, **({"Retry-After": str(retry_after)} if retry_after else {})}
        return Template(
            template_name="login.html",
            context={**context, "block": block},
            status_code=status,
            headers=headers,
        )

    @get("/login")
    async def login_page(
        self, request: Request[Any, Any, Any], organisation: FromQuery[str] = ""
    ) -> Response[Any] | Template:
        if request.scope.get("user") is not None:
            return _go(request, f"/{self.kind}/")
        return self._page(request, SignInForm(organisation=organisation), None, 200)

    @post("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        throttle: Throttle,
        data: URLEncodedBody[SignInForm],
    ) -> Response[Any] | Template:
        client = client_address(request)
        try:
            person = await sign_in(
                db,
                app_state,
                throttle,
                self.people,
                Credentials(data.organisation, data.email, data.password, client),
            )
        except TooManyRequests as exc:
            return self._page(request, SignInForm(data.organisation, data.email), exc.detail, 429, exc.retry_after)
        except Unauthenticated as exc:
            return self._page(request, SignInForm(data.organisation, data.email), exc.detail, 401)
        sessions = sessions_for(app_state)
        await sessions.delete(request.cookies.get(WebSessions.cookie_name(self.kind)))
        session_id = await sessions.create(self.kind, person.tenant_id, person.id)
        response = _go(request, f"/{self.kind}/")
        response.set_cookie(
            WebSessions.cookie_name(self.kind),
            session_id,
            path=f"/{self.kind}",
            httponly=True,
            secure=app_state.settings.session_cookie_secure,
            samesite="lax",
            max_age=app_state.settings.session_max_age_seconds,
        )
        return response

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any], app_state: State) -> Response[Any]:
        name = WebSessions.cookie_name(self.kind)
        await sessions_for(app_state).delete(request.cookies.get(name))
        response = _go(request, f"/{self.kind}/login")
        response.delete_cookie(name, path=f"/{self.kind}")
        return response


class ConsolePages(SignInPages):
    path = "/console"
    kind = "console"
    people = UserRepository
    title = "Operator console"

    @get("/", guards=[signed_in("/console/login")])
    async def dashboard(self, request: Request[Any, Any, Any], db: Db) -> Template:
        operator = operator_of(request)
        tenant = await get_tenant(db, operator.tenant_id)
        assert operator.user_id is not None
        user = await get_user(db, operator, operator.user_id)
        locations = await list_locations(db, operator, PageRequest(after=None, limit=200))
        return Template(
            template_name="console/dashboard.html",
            context={
                "tenant": tenant,
                "user": user,
                "locations": locations,
                "area": "console",
            },
        )


class PortalPages(SignInPages):
    path = "/portal"
    kind = "portal"
    people = MemberRepository
    title = "Member portal"

    @get("/", guards=[signed_in("/portal/login")])
    async def dashboard(self, request: Request[Any, Any, Any], reads: Reads) -> Template:
        member = member_of(request)
        summary, invoices = await documents.overview(reads, member, DASHBOARD_INVOICES)
        return Template(
            template_name="portal/dashboard.html",
            context={
                "summary": summary,
                "area": "portal",
                "invoices": [ListedInvoice.of(invoice) for invoice in invoices],
                "money": format_amount,
                "currency": invoices[0]["currency"] if invoices else None,
            },
        )

    @get("/invoices/{invoice_id:uuid}", guards=[signed_in("/portal/login")])
    async def invoice(self, request: Request[Any, Any, Any], db: Db, invoice_id: FromPath[uuid.UUID]) -> Template:
        """One of the member's invoices, line by line, each line's tax split between the
        components of its rate where it has several."""
        member = member_of(request)
        invoice = await documents.my_invoice(db, member, invoice_id)
        lines = await invoice_lines(db, invoice)
        taxes = await line_taxes(db, member.tenant_id, lines)
        return Template(
            template_name="portal/invoice.html",
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
