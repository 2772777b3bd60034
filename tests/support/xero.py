"""Connecting, mapping and reading the Xero sandbox's books in tests."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.integrations.xero.models import XeroConnection, XeroDocument, XeroGrant
from tests.fixtures.xero import Xero
from tests.support.api import keyed, ok
from tests.support.ledger import payment
from tests.support.web import csrf_in, sign_in
from tests.support.worlds import World


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def connect(client: httpx.AsyncClient, world: World, xero: Xero, tenant_ids: list[str]) -> httpx.Response:
    consent_url = await start_connect(client, world)
    back = await xero.consent_at(consent_url, tenant_ids)
    return await client.get(path_of(back))


async def stored(db: AsyncSession, world: World) -> tuple[list[XeroConnection], list[XeroGrant]]:
    await bind_tenant(db, world.tenant_id)
    fresh = {"populate_existing": True}  # what the app wrote since, not what this session last saw
    connections = (
        await db.scalars(select(XeroConnection).order_by(XeroConnection.name), execution_options=fresh)
    ).all()
    grants = (await db.scalars(select(XeroGrant), execution_options=fresh)).all()
    await db.commit()
    return list(connections), list(grants)


ACCOUNT_CODES = {"membership_fees": "210", "booking_fees": "220", "one_off_fees": "200", "deposits": "835"}


PAYMENTS = {"bank_transfer": "090", "card": "091", "direct_debit": "092"}


async def connected(client: httpx.AsyncClient, world: World, xero: Xero, db: AsyncSession, name: str) -> str:
    """Connect the sandbox organisation called ``name``; returns our connection id."""
    org = next(o for o in await xero.organisations() if o["name"] == name)
    await connect(client, world, xero, [org["id"]])
    connections, _ = await stored(db, world)
    return str(next(c.id for c in connections if c.xero_tenant_id == org["id"]))


async def full_mapping(client: httpx.AsyncClient, world: World, connection_id: str) -> dict[str, Any]:
    accounts = ok(await client.get("/api/v1/revenue-accounts", headers=world.headers()))["data"]
    return {
        "connection_id": connection_id,
        "account_codes": {a["id"]: ACCOUNT_CODES[a["kind"]] for a in accounts},
        "tax_types": {str(world.tax_rate.id): "OUTPUT2", "none": "NONE"},
        "payment_accounts": dict(PAYMENTS),
        "invoice_status": "AUTHORISED",
        "numbering": "ours",
    }


ORG = "Demo Coworking Ltd"


async def mapped(client: httpx.AsyncClient, world: World, xero: Xero, db: AsyncSession) -> tuple[uuid.UUID, str]:
    """The world's location mapped in full to the sandbox's GBP organisation: (our connection id,
    the organisation's Xero id)."""
    connection_id = await connected(client, world, xero, db, ORG)
    body = await full_mapping(client, world, connection_id)
    ok(await client.put(f"/api/v1/locations/{world.location.id}/xero", json=body, headers=world.headers()))
    org = next(o for o in await xero.organisations() if o["name"] == ORG)
    return uuid.UUID(connection_id), org["id"]


async def books(xero: Xero, org_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await xero.control("GET", f"organisations/{org_id}/books")
    return found


async def docs(db: AsyncSession, world: World) -> dict[tuple[str, uuid.UUID], XeroDocument]:
    await bind_tenant(db, world.tenant_id)  # the app's last request may have bound another
    statement = select(XeroDocument).where(XeroDocument.tenant_id == world.tenant_id)
    rows = await db.scalars(statement.execution_options(populate_existing=True))
    return {(doc.kind, doc.object_id): doc for doc in rows}


async def pay(client: httpx.AsyncClient, world: World, amount: int, day: str) -> None:
    """A bank transfer from the world's billing account, recorded through the API."""
    ok(await client.post("/api/v1/payments", json=payment(world, amount, day), headers=keyed(world.headers())), 201)


def amount(value: Any) -> Decimal:
    return Decimal(str(value))


async def start_connect(client: httpx.AsyncClient, world: World, email: str | None = None) -> str:
    """Sign in to the console and press Connect; returns the consent URL the browser is sent to."""
    signed = await sign_in(client, "console", world, email or world.owner.email)
    assert signed.status_code == 303, signed.text
    page = await client.get("/console/xero")
    assert page.status_code == 200, page.text
    started = await client.post("/console/xero/connect", data={"_csrf_token": csrf_in(page)})
    assert started.status_code == 303, started.text
    return str(started.headers["location"])
