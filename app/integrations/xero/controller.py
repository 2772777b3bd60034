"""The JSON API of Xero connections and location mappings. Connecting itself is a browser flow
(the console's Connect button); everything else is here for the console, scripts and apps."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import requires
from app.dependencies import Actor, Db, State
from app.integrations.xero import backfill, connections, documents, mapping
from app.integrations.xero.client import deep_link
from app.integrations.xero.models import XeroConnection, XeroDocument, XeroJournalEntry, XeroLocationSettings
from app.integrations.xero.schemas import (
    ChoicesOut,
    ConnectionOut,
    DocumentKind,
    DocumentOut,
    DocumentStatus,
    EarlierIn,
    EarlierOut,
    JournalEntryOut,
    LocationXeroIn,
    LocationXeroOut,
    ReadinessOut,
    SyncRequested,
    SyncStatusOut,
)
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate
from app.settings import Settings

READ, WRITE = requires("accounting:read"), requires("accounting:write")


def connection_out(connection: XeroConnection, settings: Settings) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        name=connection.name,
        status=connection.status,
        problem=connection.problem,
        xero_tenant_id=connection.xero_tenant_id,
        short_code=connection.short_code,
        base_currency=connection.base_currency,
        country=connection.country,
        connected_at=connection.connected_at,
        link=deep_link(settings.xero_go_url, connection.short_code) if connection.short_code else None,
    )


def settings_out(found: XeroLocationSettings) -> LocationXeroOut:
    return LocationXeroOut(
        location_id=found.location_id,
        connection_id=found.connection_id,
        account_codes=found.account_codes,
        tax_types=found.tax_types,
        payment_accounts=found.payment_accounts,
        tracking_category_id=found.tracking_category_id,
        tracking_option_id=found.tracking_option_id,
        branding_theme_id=found.branding_theme_id,
        invoice_status=found.invoice_status,
        numbering=found.numbering,
        updated_at=found.updated_at,
    )


def document_out(doc: XeroDocument, connection: XeroConnection, settings: Settings) -> DocumentOut:
    return DocumentOut(
        id=doc.id,
        connection_id=doc.connection_id,
        kind=doc.kind,
        object_id=doc.object_id,
        status=doc.status,
        version=doc.version,
        synced_version=doc.synced_version,
        in_doubt=doc.in_doubt,
        attempts=doc.attempts,
        next_attempt_at=doc.next_attempt_at,
        xero_id=doc.xero_id,
        xero_number=doc.xero_number,
        xero_status=doc.xero_status,
        error_kind=doc.error_kind,
        error=doc.error,
        hint=doc.hint,
        synced_at=doc.synced_at,
        link=documents.link(doc, connection, settings.xero_go_url),
    )


def journal_out(entry: XeroJournalEntry) -> JournalEntryOut:
    return JournalEntryOut(
        id=entry.id,
        at=entry.at,
        method=entry.method,
        path=entry.path,
        kind=entry.kind,
        items=entry.items,
        idempotency_key=entry.idempotency_key,
        status_code=entry.status_code,
        outcome=entry.outcome,
        duration_ms=entry.duration_ms,
    )


class XeroConnectionController(Controller):
    path = "/xero/connections"
    tags = ["Xero"]

    @get("/", operation_id="listXeroConnections", summary="List Xero connections", guards=[READ])
    async def list_connections(self, db: Db, operator: Actor, app_state: State) -> list[ConnectionOut]:
        """The Xero organisations the operator connected (from the console), live ones first, then by name:
        `status` is `active`, `needs_reconnect` or `disconnected`, with a link that opens the organisation in
        Xero. Not paginated."""
        found = await connections.list_connections(db, operator)
        return [connection_out(connection, app_state.settings) for connection in found]

    @get("/{connection_id:uuid}", operation_id="getXeroConnection", summary="Get a Xero connection", guards=[READ])
    async def get_connection(
        self, db: Db, operator: Actor, app_state: State, connection_id: FromPath[uuid.UUID]
    ) -> ConnectionOut:
        """One connected organisation: its status and any problem, its base currency and country, and when it
        was connected."""
        return connection_out(await connections.get_connection(db, operator, connection_id), app_state.settings)

    @post(
        "/{connection_id:uuid}/disconnect",
        operation_id="disconnectXero",
        summary="Disconnect a Xero organisation",
        status_code=200,
        guards=[WRITE],
    )
    async def disconnect(
        self, db: Db, operator: Actor, app_state: State, connection_id: FromPath[uuid.UUID]
    ) -> ConnectionOut:
        """Stop syncing to the organisation and remove the app from it in Xero. Documents, their Xero ids and
        location mappings are kept, so reconnecting from the console carries on where it stopped. Disconnecting
        twice changes nothing."""
        found = await connections.disconnect(db, app_state, operator, connection_id)
        return connection_out(found, app_state.settings)

    @get(
        "/{connection_id:uuid}/choices",
        operation_id="getXeroChoices",
        summary="List what a Xero organisation offers",
        guards=[READ],
    )
    async def choices(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        connection_id: FromPath[uuid.UUID],
        fresh: FromQuery[bool] = False,
    ) -> ChoicesOut:
        """The organisation's accounts, tax types, tracking categories, branding themes and currencies, to
        build a location's mapping from; read from Xero and kept up to two minutes (`fresh=true` reads them
        again). 502 when Xero cannot be reached."""
        await connections.get_connection(db, operator, connection_id)
        return await mapping.choices(app_state, operator, connection_id, fresh=fresh)

    @get(
        "/{connection_id:uuid}/sync",
        operation_id="getXeroSyncStatus",
        summary="Count a connection's documents by status",
        guards=[READ],
    )
    async def sync_status(self, db: Db, operator: Actor, connection_id: FromPath[uuid.UUID]) -> SyncStatusOut:
        """How many of the organisation's documents are `pending`, `sending`, `synced`, `invalid` (refused by
        Xero, waiting for a fix) or `mismatch` (in Xero with other totals)."""
        return SyncStatusOut(connection_id, await documents.sync_status(db, operator, connection_id))

    @post(
        "/{connection_id:uuid}/sync",
        operation_id="syncXeroConnection",
        summary="Sync a Xero organisation now",
        status_code=202,
        guards=[WRITE],
    )
    async def sync_now(
        self, db: Db, operator: Actor, app_state: State, connection_id: FromPath[uuid.UUID]
    ) -> SyncRequested:
        """Make everything waiting for the organisation due at once, refused documents included (sent as new
        requests, after their fix), and start the sync; answers how many were queued. The connection must be
        `active` (409)."""
        queued = await documents.sync_connection(db, operator, connection_id, app_state.clock.now())
        return SyncRequested(queued)

    @get(
        "/{connection_id:uuid}/documents",
        operation_id="listXeroDocuments",
        summary="List a connection's Xero documents",
        guards=[READ],
    )
    async def list_documents(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        connection_id: FromPath[uuid.UUID],
        cursor: Cursor = None,
        limit: Limit = None,
        status: FromQuery[DocumentStatus | None] = None,
        kind: FromQuery[DocumentKind | None] = None,
    ) -> Page[DocumentOut]:
        """Our objects (contacts, invoices, credit notes, payments, allocations, refunds) as documents of one
        organisation, each with its status and what stops it, if anything; oldest first, a page at a time (pass
        `next_cursor` back as `cursor`). Filter by `status` or `kind`."""
        page = page_request(cursor, limit)
        statuses = None if status is None else [status]
        connection, found = await documents.list_documents(
            db, operator, connection_id, page, statuses=statuses, kind=kind
        )
        return paginate(found, page, lambda doc: document_out(doc, connection, app_state.settings))

    @get(
        "/{connection_id:uuid}/journal",
        operation_id="listXeroJournal",
        summary="List a connection's calls to Xero",
        guards=[READ],
    )
    async def journal(
        self,
        db: Db,
        operator: Actor,
        connection_id: FromPath[uuid.UUID],
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[JournalEntryOut]:
        """Every call the sync made to the organisation: method, path, idempotency key, HTTP status, outcome
        and duration; oldest first, a page at a time (pass `next_cursor` back as `cursor`)."""
        page = page_request(cursor, limit)
        return paginate(await documents.journal(db, operator, connection_id, page), page, journal_out)


class XeroDocumentController(Controller):
    path = "/xero/documents"
    tags = ["Xero"]

    @get("/{object_id:uuid}", operation_id="getXeroDocuments", summary="Get one object's Xero documents", guards=[READ])
    async def of_object(
        self, db: Db, operator: Actor, app_state: State, object_id: FromPath[uuid.UUID]
    ) -> list[DocumentOut]:
        """Where one of our objects (an invoice, credit note, company, payment or allocation id) stands in each
        Xero organisation it goes to. 404 when nothing of that id goes to Xero."""
        found = await documents.documents_of(db, operator, object_id)
        return [document_out(doc, connection, app_state.settings) for doc, connection in found]

    @post(
        "/{object_id:uuid}/sync",
        operation_id="syncXeroDocument",
        summary="Sync one object to Xero now",
        status_code=202,
        guards=[WRITE],
    )
    async def sync_now(
        self, db: Db, operator: Actor, app_state: State, object_id: FromPath[uuid.UUID]
    ) -> SyncRequested:
        """Make one object's documents due at once in every organisation it goes to (a refused one as a new
        request, after its fix) and start the sync of active connections; answers how many were queued."""
        queued, _ = await documents.sync_object(db, operator, object_id, app_state.clock.now())
        return SyncRequested(queued)


class LocationXeroController(Controller):
    path = "/locations/{location_id:uuid}/xero"
    tags = ["Xero"]

    @get("/", operation_id="getLocationXero", summary="Get a location's Xero mapping", guards=[READ])
    async def get_settings(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationXeroOut:
        """The organisation the location syncs to and how: account codes, tax types, payment accounts,
        tracking, branding theme, invoice status and numbering. 404 until the location is mapped."""
        return settings_out(await mapping.location_settings(db, operator, location_id))

    @put("/", operation_id="putLocationXero", summary="Map a location to Xero", guards=[WRITE])
    async def put_settings(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        location_id: FromPath[uuid.UUID],
        data: JSONBody[LocationXeroIn],
    ) -> LocationXeroOut:
        """Replace the location's whole mapping. Our ids in it must be this operator's (404 otherwise); Xero's codes are
        checked by the readiness check instead. A disconnected organisation is refused (409). If the connection
        is active, its waiting and refused documents are sent again at once."""
        now = app_state.clock.now()
        return settings_out(await mapping.save_location_settings(db, operator, location_id, data, now))

    @get(
        "/readiness",
        operation_id="getLocationXeroReadiness",
        summary="Check a location is ready for Xero",
        guards=[READ],
    )
    async def readiness(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        location_id: FromPath[uuid.UUID],
        fresh: FromQuery[bool] = False,
    ) -> ReadinessOut:
        """Everything that would stop the location's documents reaching Xero, checked against the
        organisation's settings (up to two minutes old; `fresh=true` reads them again), each with a hint;
        `ready` is false while any problem is blocking."""
        return await mapping.readiness(db, app_state, operator, location_id, fresh=fresh)

    @post(
        "/earlier",
        operation_id="sendEarlierLocationXero",
        summary="Send a location's earlier documents to Xero",
        status_code=202,
        guards=[WRITE],
    )
    async def send_earlier(
        self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID], data: JSONBody[EarlierIn]
    ) -> EarlierOut:
        """Queue the location's documents dated on or after `since` that the organisation does not have from us
        yet (those from before the location was mapped, say), with the credit they spend. Asking twice sends
        nothing twice; answers how many were queued, by kind."""
        queued = await backfill.send_since(db, operator, location_id, data.since)
        return EarlierOut(sum(queued.values()), queued)
