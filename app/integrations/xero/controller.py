"""The JSON API of Xero connections and location mappings. Connecting itself is a browser flow
(the console's Connect button); everything else is here for the console, scripts and apps."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from app.auth.guards import requires
from app.dependencies import Actor, Db, State
from app.integrations.xero import connections, mapping
from app.integrations.xero.client import deep_link
from app.integrations.xero.models import XeroConnection, XeroLocationSettings
from app.integrations.xero.schemas import ChoicesOut, ConnectionOut, LocationXeroIn, LocationXeroOut, ReadinessOut
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


class XeroConnectionController(Controller):
    path = "/xero/connections"
    tags = ["Xero"]

    @get("/", operation_id="listXeroConnections", guards=[READ])
    async def list_connections(self, db: Db, operator: Actor, app_state: State) -> list[ConnectionOut]:
        found = await connections.list_connections(db, operator)
        return [connection_out(connection, app_state.settings) for connection in found]

    @get("/{connection_id:uuid}", operation_id="getXeroConnection", guards=[READ])
    async def get_connection(
        self, db: Db, operator: Actor, app_state: State, connection_id: FromPath[uuid.UUID]
    ) -> ConnectionOut:
        return connection_out(await connections.get_connection(db, operator, connection_id), app_state.settings)

    @post("/{connection_id:uuid}/disconnect", operation_id="disconnectXero", status_code=200, guards=[WRITE])
    async def disconnect(
        self, db: Db, operator: Actor, app_state: State, connection_id: FromPath[uuid.UUID]
    ) -> ConnectionOut:
        found = await connections.disconnect(db, app_state, operator, connection_id)
        return connection_out(found, app_state.settings)

    @get("/{connection_id:uuid}/choices", operation_id="getXeroChoices", guards=[READ])
    async def choices(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        connection_id: FromPath[uuid.UUID],
        fresh: FromQuery[bool] = False,
    ) -> ChoicesOut:
        await connections.get_connection(db, operator, connection_id)
        return await mapping.choices(app_state, operator, connection_id, fresh=fresh)


class LocationXeroController(Controller):
    path = "/locations/{location_id:uuid}/xero"
    tags = ["Xero"]

    @get("/", operation_id="getLocationXero", guards=[READ])
    async def get_settings(self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID]) -> LocationXeroOut:
        return settings_out(await mapping.location_settings(db, operator, location_id))

    @put("/", operation_id="putLocationXero", guards=[WRITE])
    async def put_settings(
        self, db: Db, operator: Actor, location_id: FromPath[uuid.UUID], data: JSONBody[LocationXeroIn]
    ) -> LocationXeroOut:
        return settings_out(await mapping.save_location_settings(db, operator, location_id, data))

    @get("/readiness", operation_id="getLocationXeroReadiness", guards=[READ])
    async def readiness(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        location_id: FromPath[uuid.UUID],
        fresh: FromQuery[bool] = False,
    ) -> ReadinessOut:
        return await mapping.readiness(db, app_state, operator, location_id, fresh=fresh)
