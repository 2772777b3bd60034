"""Token lifecycle against the sandbox: refresh with rotation, one refresh for concurrent workers,
a refused grant pausing its connections (and telling the operator once), reconnecting to resume,
and re-sealing under a rotated key."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.email.models import Email
from app.integrations.xero import connections, mapping
from app.integrations.xero.client import XeroUnavailable
from app.integrations.xero.models import XeroConnection
from app.integrations.xero.tokens import XeroNeedsReconnect, access, client_of, reseal_all
from app.kit.clock import FrozenClock
from app.kit.crypto import SecretBox, UnreadableSecret, new_key
from app.kit.providers import Providers
from app.main import xero_client
from app.settings import Settings
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import ok
from tests.support.web import csrf_in
from tests.support.worlds import World, open_tenant
from tests.support.xero import connect, path_of, stored

HALF_HOUR = 31 * 60


async def later(state: AppState, xero: Xero, seconds: float) -> None:
    """Time passes for both sides: our clock and the sandbox's."""
    state.clock = FrozenClock(state.clock.now() + timedelta(seconds=seconds))
    await xero.control("POST", "clock", {"advance": seconds})


async def the_connection(db: AsyncSession, world: World) -> XeroConnection:
    (connection, *_), _ = await stored(db, world)
    return connection


async def test_a_spent_access_token_is_refreshed_once_and_the_rotation_kept(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    tenant = (await xero.organisations())[0]["id"]
    await connect(client, world_a, xero, [tenant])
    connection = await the_connection(db, world_a)
    (grant,) = (await stored(db, world_a))[1]
    assert grant.refresh_token_sealed is not None
    consented_refresh_token = state.secrets.open(grant.refresh_token_sealed)
    first = await access(state, world_a.tenant_id, connection.id)
    assert first.xero_tenant_id == tenant
    assert (await xero.control("GET", "stats"))["tokens"].get("refresh_token") is None  # still fresh

    await later(state, xero, HALF_HOUR)
    second = await access(state, world_a.tenant_id, connection.id)
    assert second.token != first.token
    third = await access(state, world_a.tenant_id, connection.id)
    assert third.token == second.token  # the refreshed token is kept, not refreshed again
    assert (await xero.control("GET", "stats"))["tokens"]["refresh_token"] == 1
    (rotated,) = (await stored(db, world_a))[1]
    assert rotated.refresh_token_sealed is not None
    assert state.secrets.open(rotated.refresh_token_sealed) != consented_refresh_token
    # The new token works for the Accounting API.
    answer = await client_of(state).call(second.token, tenant, "GET", "Organisation")
    assert answer.body["Organisations"][0]["Name"] == "Demo Coworking Ltd"

    # Past the old refresh token's grace, only the stored (rotated) one works: two more half
    # hours pass, and each refresh succeeds because the latest token was stored each time.
    for _ in range(2):
        await later(state, xero, HALF_HOUR)
        await access(state, world_a.tenant_id, connection.id)
    assert (await xero.control("GET", "stats"))["tokens"]["refresh_token"] == 3


async def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(
    live: AppState, xero: Xero, settings: Settings
) -> None:
    tenant = (await xero.organisations())[0]["id"]
    async with live.sessionmaker() as session, session.begin():
        operator, _ = await open_tenant(session, live)
    authorization = client_of(live).authorization(settings.xero_redirect_uri)
    back = await xero.consent_at(authorization.url, [tenant])
    pending = connections.PendingConsent(operator.tenant_id, operator.actor_id, authorization.code_verifier)
    tokens, organisations = await connections.finish_consent(live, pending, back, authorization.state)
    async with live.sessionmaker() as session:
        await bind_tenant(session, operator.tenant_id)
        async with session.begin():
            (connection,) = await connections.record_consent(
                session, live, operator, tokens, organisations, live.clock.now()
            )

    # An hour on, eight callers need a token at once, each on its own pooled database connection,
    # so they meet at the grant's row lock as separate workers would.
    worker = dataclasses.replace(live, clock=FrozenClock(live.clock.now() + timedelta(hours=1)))
    await xero.control("POST", "clock", {"advance": 3600})
    found = await asyncio.gather(*(access(worker, operator.tenant_id, connection.id) for _ in range(8)))
    assert len({granted.token for granted in found}) == 1
    assert (await xero.control("GET", "stats"))["tokens"]["refresh_token"] == 1
    # The token everyone got is the stored one, and Xero accepts it.
    answer = await client_of(live).call(found[0].token, tenant, "GET", "Organisation")
    assert answer.body["Organisations"][0]["OrganisationID"] == tenant


async def test_a_refused_grant_pauses_its_connections_then_reconnecting_resumes(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    organisations = [o["id"] for o in await xero.organisations()]
    await connect(client, world_a, xero, organisations)
    first = await the_connection(db, world_a)
    # The operator removes the app inside Xero; our tokens die with it.
    await xero.control("POST", "revoke", {"client_id": "flexledger-test"})
    await later(state, xero, HALF_HOUR)
    with pytest.raises(XeroNeedsReconnect):
        await access(state, world_a.tenant_id, first.id)
    found, (grant,) = await stored(db, world_a)
    assert [c.status for c in found] == ["needs_reconnect", "needs_reconnect"]
    assert "invalid_grant" in (found[0].problem or "")
    assert grant.status == "failed"
    assert grant.refresh_token_sealed is None

    # Asked again (another worker, a retry), nothing more happens: no refresh, no second e-mail.
    with pytest.raises(XeroNeedsReconnect):
        await access(state, world_a.tenant_id, found[1].id)
    await bind_tenant(db, world_a.tenant_id)
    emails = (await db.scalars(select(Email).order_by(Email.to_address))).all()
    await db.commit()
    assert [e.to_address for e in emails] == [world_a.owner.email]
    assert "Reconnect Xero" in emails[0].subject
    assert "Demo Coworking Ltd" in emails[0].text_body
    assert "refresh_token" not in (await xero.control("GET", "stats"))["tokens"]

    listed = ok(await client.get("/api/v1/xero/connections", headers=world_a.headers()))
    assert {c["status"] for c in listed} == {"needs_reconnect"}
    page = await client.get("/console/xero")
    assert "needs reconnect" in page.text
    assert "Reconnect" in page.text

    # Reconnect from the console: the same connections come back to life on a new grant.
    started = await client.post("/console/xero/connect", data={"_csrf_token": csrf_in(page)})
    back = await xero.consent_at(str(started.headers["location"]), organisations)
    assert (await client.get(path_of(back))).status_code == 303
    resumed, grants = await stored(db, world_a)
    assert [c.id for c in resumed] == [c.id for c in found]
    assert {c.status for c in resumed} == {"active"}
    assert {g.status for g in grants} == {"closed", "active"}  # the refused grant serves nothing now
    granted = await access(state, world_a.tenant_id, first.id)
    answer = await client_of(state).call(granted.token, granted.xero_tenant_id, "GET", "Organisation")
    assert answer.body["Organisations"][0]["OrganisationID"] == first.xero_tenant_id


async def test_a_disconnected_connection_gives_no_token(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    await connect(client, world_a, xero, [(await xero.organisations())[0]["id"]])
    connection = await the_connection(db, world_a)
    ok(await client.post(f"/api/v1/xero/connections/{connection.id}/disconnect", headers=world_a.headers()))
    with pytest.raises(XeroNeedsReconnect, match="disconnected"):
        await access(state, world_a.tenant_id, connection.id)
    with pytest.raises(XeroNeedsReconnect):
        await access(state, world_a.tenant_id, uuid.uuid4())


async def test_tokens_are_resealed_under_a_new_key(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState, settings: Settings
) -> None:
    old, new = new_key(), new_key()
    state.secrets = SecretBox(settings.model_copy(update={"token_keys": SecretStr(old)}))
    await connect(client, world_a, xero, [(await xero.organisations())[0]["id"]])
    (grant,) = (await stored(db, world_a))[1]
    assert grant.refresh_token_sealed is not None
    refresh_token = state.secrets.open(grant.refresh_token_sealed)

    state.secrets = SecretBox(settings.model_copy(update={"token_keys": SecretStr(f"{new},{old}")}))
    count, _ = await reseal_all(state)  # other tests' grants, under other keys, are skipped
    assert count >= 1
    (resealed,) = (await stored(db, world_a))[1]
    assert resealed.refresh_token_sealed is not None
    only_new = SecretBox(settings.model_copy(update={"token_keys": SecretStr(new)}))
    assert only_new.open(resealed.refresh_token_sealed) == refresh_token
    only_old = SecretBox(settings.model_copy(update={"token_keys": SecretStr(old)}))
    with pytest.raises(UnreadableSecret):
        only_old.open(resealed.refresh_token_sealed)


def test_token_keys_must_be_fernet_keys(settings: Settings) -> None:
    with pytest.raises(ValueError, match="key 2 is not a Fernet key"):
        Settings.model_validate({**settings.model_dump(), "token_keys": f"{new_key()},not-a-key"})
    with pytest.raises(ValueError, match="TOKEN_KEYS must be set in production"):
        Settings.model_validate({**settings.model_dump(), "environment": "production"})


async def test_an_organisation_that_no_longer_lets_us_in_pauses_only_its_connection(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    await connect(client, world_a, xero, [o["id"] for o in await xero.organisations()])
    gone, kept = (await stored(db, world_a))[0]
    # Someone removes the app from one organisation inside Xero.
    granted = await access(state, world_a.tenant_id, gone.id)
    await client_of(state).disconnect(granted.token, gone.xero_connection_id)
    # Called as a job would, outside a request (in this harness a request's rollback would also
    # undo what the token module committed on the same test connection).
    with pytest.raises(XeroNeedsReconnect, match="no longer lets FlexLedger into Demo Coworking Ltd"):
        await mapping.choices(state, world_a.operator, gone.id)
    refused = await client.get(f"/api/v1/xero/connections/{gone.id}/choices", headers=world_a.headers())
    assert refused.status_code == 409
    assert refused.json()["code"] == "xero_needs_reconnect"
    after, (grant,) = await stored(db, world_a)
    assert [c.status for c in after] == ["needs_reconnect", "active"]
    assert grant.status == "active"  # the grant still serves the other organisation
    offered = ok(await client.get(f"/api/v1/xero/connections/{kept.id}/choices", headers=world_a.headers()))
    assert offered["base_currency"] == "AUD"


async def test_a_refusal_of_our_own_credentials_keeps_the_grant(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState, settings: Settings
) -> None:
    await connect(client, world_a, xero, [(await xero.organisations())[0]["id"]])
    connection = await the_connection(db, world_a)
    await later(state, xero, HALF_HOUR)
    # The client secret was changed in Xero before the deployment's setting: invalid_client.
    wrong = xero_client(settings.model_copy(update={"xero_client_secret": SecretStr("not-the-secret")}))
    assert wrong is not None
    try:
        with pytest.raises(XeroUnavailable, match="invalid_client"):
            await access(dataclasses.replace(state, providers=Providers(wrong)), world_a.tenant_id, connection.id)
    finally:
        await wrong.aclose()
    (grant,) = (await stored(db, world_a))[1]
    assert grant.status == "active"
    assert grant.refresh_token_sealed is not None
    # Once the setting is right again, the same grant refreshes as if nothing happened.
    granted = await access(state, world_a.tenant_id, connection.id)
    assert (await client_of(state).call(granted.token, granted.xero_tenant_id, "GET", "Organisation")).body
