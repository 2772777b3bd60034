"""Console pages for Xero: connect, reconnect and disconnect organisations; map each location;
see where every document stands in each organisation, and sync now.

Connect is a plain form post answered with a redirect to Xero's consent screen; Xero sends the
browser back to the callback here, which finishes the consent for the operator who started it.
The Sync now buttons work as plain forms, and with htmx swap in their answer in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from app.auth.guards import requires
from app.dependencies import Db, State, operator_of
from app.integrations.xero import backfill, connections, documents, mapping
from app.integrations.xero.client import XeroClient, deep_link
from app.integrations.xero.models import XeroConnection, XeroDocument
from app.integrations.xero.schemas import UNTAXED, WRITE_OFF, ChoicesOut, LocationXeroIn
from app.kit.errors import AppError
from app.kit.pagination import PageRequest, page_request, paginate
from app.ledger.models import PAYMENT_METHODS
from app.location.service import get_location, list_locations
from portal.shared.flash import redirect_with
from portal.shared.pages import HX_VARY, is_htmx
from portal.shared.session import signed_in

SIGNED_IN = signed_in("/console/login")
WRITE = requires("accounting:write")
# The document lists' filters: what each shows.
SHOWN: dict[str, tuple[str, ...] | None] = {**documents.STANDINGS, "all": None}
DOCUMENTS_PER_PAGE = 50


def _queued(count: int) -> str:
    return f"Sync started: {count} document(s) due now." if count else "Sync started: nothing was waiting."


class AccountingPages(Controller):
    path = "/console"
    include_in_schema = False
    guards = [SIGNED_IN]

    async def _overview(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        state: State,
        *,
        error: str | None,
        status: int,
    ) -> Template:
        operator = operator_of(request)
        found = await connections.list_connections(db, operator)
        locations = await list_locations(db, operator, PageRequest(after=None, limit=200))
        mapped = await mapping.mapped_locations(db, operator)
        names: dict[uuid.UUID | None, str] = {c.id: c.name for c in found}
        links = {c.id: deep_link(state.settings.xero_go_url, c.short_code) for c in found if c.short_code is not None}
        counts = await documents.sync_statuses(db, operator, found)
        tallies = {connection_id: documents.tally(by_status) for connection_id, by_status in counts.items()}
        return Template(
            template_name="console/xero.html",
            context={
                "area": "console",
                "connections": found,
                "tallies": tallies,
                "links": links,
                "locations": [(location, names.get(mapped.get(location.id))) for location in locations],
                "can_change": "accounting:write" in operator.scopes,
                "configured": state.providers.get(XeroClient) is not None,
                "error": error,
            },
            status_code=status,
        )

    @get("/xero")
    async def overview(self, request: Request[Any, Any, Any], db: Db, app_state: State) -> Template:
        return await self._overview(request, db, app_state, error=None, status=200)

    @post("/xero/connect", guards=[WRITE])
    async def connect(self, request: Request[Any, Any, Any], db: Db, app_state: State) -> Response[Any]:
        try:
            url = await connections.begin_consent(app_state, operator_of(request))
        except AppError as problem:
            return await self._overview(request, db, app_state, error=problem.detail, status=problem.status_code)
        return Redirect(path=url, status_code=303)

    @get("/xero/callback", guards=[WRITE])
    async def callback(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        consent_state: Annotated[str, QueryParameter(name="state")] = "",
        error: FromQuery[str] = "",
    ) -> Response[Any]:
        operator = operator_of(request)
        try:
            pending = await connections.take_consent(app_state, operator, consent_state)
            if error:
                return redirect_with(request, "/console/xero", "Connecting to Xero was cancelled; nothing changed.")
            tokens, organisations = await connections.finish_consent(
                app_state, pending, str(request.url), consent_state
            )
            recorded = await connections.record_consent(
                db, app_state, operator, tokens, organisations, app_state.clock.now()
            )
        except AppError as problem:
            return await self._overview(request, db, app_state, error=problem.detail, status=problem.status_code)
        said = f"Connected {len(recorded)} Xero organisation(s). Map your locations below."
        return redirect_with(request, "/console/xero", said)

    @post("/xero/connections/{connection_id:uuid}/disconnect", guards=[WRITE])
    async def disconnect(
        self, request: Request[Any, Any, Any], db: Db, app_state: State, connection_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        await connections.disconnect(db, app_state, operator_of(request), connection_id)
        said = "Disconnected. Nothing more is sent to that organisation; our records and its Xero ids are kept."
        return redirect_with(request, "/console/xero", said)

    # Where documents stand, and Sync now ---------------------------------------------------------

    @get("/xero/connections/{connection_id:uuid}")
    async def documents_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        connection_id: FromPath[uuid.UUID],
        show: FromQuery[str] = "all",
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        operator = operator_of(request)
        show = show if show in SHOWN else "all"
        page = page_request(cursor, DOCUMENTS_PER_PAGE)
        found = await documents.standing(db, operator, connection_id, page, SHOWN[show])
        shown = paginate(found.docs, page, lambda doc: doc)
        return Template(
            template_name="console/xero_documents.html",
            context={
                "area": "console",
                "connection": found.connection,
                "tally": documents.tally(found.counts),
                "show": show,
                "filters": list(SHOWN),
                "rows": await self._rows(db, app_state, found.connection, shown.data),
                "next_cursor": shown.next_cursor,
                "calls": found.calls,
                "can_change": "accounting:write" in operator.scopes,
            },
        )

    @staticmethod
    async def _rows(
        db: Db, state: State, connection: XeroConnection, docs: Sequence[XeroDocument]
    ) -> list[dict[str, Any]]:
        """Each document with what it is, in words, and its deep link into Xero."""
        said = await documents.labels(db, connection.tenant_id, docs)
        go_url = state.settings.xero_go_url
        return [
            {
                "doc": doc,
                "label": said.get(doc.object_id, str(doc.object_id)),
                "link": documents.link(doc, connection, go_url),
            }
            for doc in docs
        ]

    @post("/xero/connections/{connection_id:uuid}/sync", guards=[WRITE])
    async def sync_connection(
        self, request: Request[Any, Any, Any], db: Db, app_state: State, connection_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        operator = operator_of(request)
        try:
            queued = await documents.sync_connection(db, operator, connection_id, app_state.clock.now())
        except AppError as problem:
            if problem.status_code == 404:
                raise
            message, refused = problem.detail, True
        else:
            message, refused = _queued(queued), False
        if is_htmx(request):
            context = {"message": message, "refused": refused}
            return Template(template_name="console/_notice.html", context=context, headers=HX_VARY)
        return redirect_with(request, f"/console/xero/connections/{connection_id}", message, error=refused)

    @post("/xero/documents/{object_id:uuid}/sync", guards=[WRITE])
    async def sync_document(
        self, request: Request[Any, Any, Any], db: Db, app_state: State, object_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        """Sync now for one object of ours (in every organisation it goes to); with htmx, the
        answer is its row in the list it was pressed in."""
        operator = operator_of(request)
        queued, found = await documents.sync_object(db, operator, object_id, app_state.clock.now())
        form = await request.form()
        back = next((c for _, c in found if str(c.id) == form.get("connection_id")), found[0][1])
        if is_htmx(request):
            rows = await self._rows(db, app_state, back, [doc for doc, c in found if c.id == back.id])
            context = {"row": rows[0], "can_change": True, "just_queued": queued > 0}
            return Template(template_name="console/_xero_document.html", context=context, headers=HX_VARY)
        return redirect_with(request, f"/console/xero/connections/{back.id}", _queued(queued))

    # One location's mapping ---------------------------------------------------------------------

    async def _location_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        state: State,
        location_id: uuid.UUID,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Template:
        operator = operator_of(request)
        location = await get_location(db, operator, location_id)
        settings = await mapping.mapping_of(db, operator, location_id)
        live = [c for c in await connections.list_connections(db, operator) if c.status == "active"]
        offered: ChoicesOut | None = None
        readiness = None
        problem = None
        if settings is not None:
            try:
                offered = await mapping.choices(state, operator, settings.connection_id)
                readiness = await mapping.readiness(db, state, operator, location_id)
            except AppError as found:
                problem = found.detail
        accounts, rates = await mapping.mapping_subjects(db, operator)
        return Template(
            template_name="console/location_xero.html",
            context={
                "area": "console",
                "location": location,
                "settings": settings,
                "connections": live,
                "offered": offered,
                "readiness": readiness,
                "accounts": accounts,
                "tax_rows": [(UNTAXED, "Untaxed lines")] + [(str(rate.id), rate.name) for rate in rates],
                "methods": (*PAYMENT_METHODS, WRITE_OFF),
                "can_change": "accounting:write" in operator.scopes,
                "error": error or problem,
            },
            status_code=status,
        )

    @get("/locations/{location_id:uuid}/xero")
    async def location(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        location_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._location_page(request, db, app_state, location_id)

    @post("/locations/{location_id:uuid}/xero", guards=[WRITE])
    async def save_location(
        self, request: Request[Any, Any, Any], db: Db, app_state: State, location_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        form = await request.form()
        try:
            data = msgspec.convert(_mapping_from_form(form), LocationXeroIn)
            now = app_state.clock.now()
            await mapping.save_location_settings(db, operator_of(request), location_id, data, now)
        except (msgspec.ValidationError, ValueError) as problem:
            return await self._location_page(request, db, app_state, location_id, error=str(problem), status=422)
        except AppError as problem:
            if problem.status_code == 404:
                raise
            return await self._location_page(
                request, db, app_state, location_id, error=problem.detail, status=problem.status_code
            )
        return redirect_with(request, f"/console/locations/{location_id}/xero", "Saved.")

    @post("/locations/{location_id:uuid}/xero/earlier", guards=[WRITE])
    async def send_earlier(
        self, request: Request[Any, Any, Any], db: Db, app_state: State, location_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        """Send the location's documents from the date given that its organisation does not have."""
        form = await request.form()
        try:
            since = date.fromisoformat(str(form.get("since") or ""))
        except ValueError:
            error = "Give the first date to send from (as YYYY-MM-DD)."
            return await self._location_page(request, db, app_state, location_id, error=error, status=422)
        try:
            queued = await backfill.send_since(db, operator_of(request), location_id, since)
        except AppError as problem:
            if problem.status_code == 404:
                raise
            return await self._location_page(
                request, db, app_state, location_id, error=problem.detail, status=problem.status_code
            )
        count = sum(queued.values())
        return redirect_with(
            request, f"/console/locations/{location_id}/xero", f"{count} earlier document(s) queued for Xero."
        )


def _mapping_from_form(form: Any) -> dict[str, Any]:
    """The form's fields as the API's body: ``account.<id>``, ``tax.<id>`` and ``payment.<method>``
    fields become the maps; a blank choice is left out; ``tracking`` is "category:option"."""
    body: dict[str, Any] = {"account_codes": {}, "tax_types": {}, "payment_accounts": {}}
    maps = {"account.": "account_codes", "tax.": "tax_types", "payment.": "payment_accounts"}
    for name, value in form.items():
        if not value:
            continue
        prefix = next((p for p in maps if name.startswith(p)), None)
        if prefix is not None:
            body[maps[prefix]][name.removeprefix(prefix)] = value
        elif name == "tracking":
            body["tracking_category_id"], _, body["tracking_option_id"] = value.partition(":")
        elif name in {"connection_id", "branding_theme_id", "invoice_status", "numbering"}:
            body[name] = value
    return body
