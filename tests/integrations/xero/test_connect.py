"""Connecting Xero from the console, end to end against the sandbox over HTTP: consent, the
callback's guards, reconnection, disconnection, and the API's view of it, tenant by tenant."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import bind_tenant
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import ok
from tests.support.web import csrf_in, sign_in
from tests.support.worlds import World
from tests.support.xero import connect, path_of, start_connect, stored


async def test_connect_flow_makes_each_chosen_organisation_a_connection(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession, state: AppState
) -> None:
    organisations = await xero.organisations()
    consent_url = await start_connect(client, world_a)
    assert consent_url.startswith(f"{state.settings.xero_login_url}/identity/connect/authorize?")
    assert "code_challenge=" in consent_url
    assert "offline_access" in consent_url
    back = await xero.consent_at(consent_url, [o["id"] for o in organisations])
    assert back.startswith(state.settings.xero_redirect_uri)
    done = await client.get(path_of(back))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/console/xero"
    page = await client.get(done.headers["location"])
    assert "Connected 2 Xero organisation(s)" in page.text
    assert "Connected 2 Xero organisation(s)" not in (await client.get("/console/xero")).text  # said once
    assert "Demo Coworking Ltd" in page.text
    assert "Harbour Desks Pty" in page.text

    connections, grants = await stored(db, world_a)
    assert [(c.name, c.status, c.base_currency, c.country) for c in connections] == [
        ("Demo Coworking Ltd", "active", "GBP", "GB"),
        ("Harbour Desks Pty", "active", "AUD", "AU"),
    ]
    assert {c.xero_tenant_id for c in connections} == {o["id"] for o in organisations}
    assert len(grants) == 1
    grant = grants[0]
    assert grant.status == "active"
    assert grant.connected_by == world_a.owner.id
    assert {c.grant_id for c in connections} == {grant.id}
    # Tokens rest sealed: what the database holds is not the token, and opens only with our keys.
    assert grant.access_token_sealed is not None
    assert grant.refresh_token_sealed is not None
    access_token = state.secrets.open(grant.access_token_sealed)
    assert access_token.count(".") == 2  # a JWT
    assert access_token.encode() not in grant.access_token_sealed

    listed = ok(await client.get("/api/v1/xero/connections", headers=world_a.headers()))
    assert [c["name"] for c in listed] == ["Demo Coworking Ltd", "Harbour Desks Pty"]
    demo = listed[0]
    short_code = next(o["short_code"] for o in organisations if o["name"] == "Demo Coworking Ltd")
    assert demo["link"].startswith(f"{state.settings.xero_go_url}/organisationlogin/default.aspx?shortcode=")
    opened = await xero.http.get(demo["link"])
    assert opened.status_code == 302
    assert opened.headers["location"].endswith(demo["xero_tenant_id"])
    assert short_code in httpx.URL(demo["link"]).params["shortcode"]


async def test_the_callback_is_single_use_and_only_for_who_started_it(
    client: httpx.AsyncClient, app: object, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    tenant = (await xero.organisations())[0]["id"]
    consent_url = await start_connect(client, world_a)
    back = path_of(await xero.consent_at(consent_url, [tenant]))

    # A colleague in the same tenant cannot finish a consent the owner started.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 40001))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver.local") as colleague:
        await bind_tenant(db, world_a.tenant_id)
        world_a.staff.password_hash = world_a.owner.password_hash
        db.add(world_a.staff)
        await db.commit()
        assert (await sign_in(colleague, "console", world_a, world_a.staff.email)).status_code == 303
        refused = await colleague.get(back)
        assert refused.status_code == 403
        assert "started by someone else" in refused.text
    assert await stored(db, world_a) == ([], [])
    # The stray attempt did not cancel the owner's consent: the owner finishes it, once.
    done = await client.get(back)
    assert done.status_code == 303
    assert done.headers["location"] == "/console/xero"
    assert "Connected 1 Xero organisation(s)" in (await client.get("/console/xero")).text
    again = await client.get(back)
    assert again.status_code == 422
    assert "expired or was already used" in again.text
    assert len((await stored(db, world_a))[0]) == 1

    # A callback with a state nobody issued changes nothing either.
    forged = await client.get("/console/xero/callback?code=abc&state=made-up")
    assert forged.status_code == 422
    assert len((await stored(db, world_a))[1]) == 1


async def test_a_cancelled_consent_changes_nothing(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    consent_url = await start_connect(client, world_a)
    back = await xero.consent_at(consent_url, [], decision="deny")
    assert "error=access_denied" in back
    done = await client.get(path_of(back))
    assert done.status_code == 303
    assert done.headers["location"] == "/console/xero"
    assert "Connecting to Xero was cancelled; nothing changed." in (await client.get("/console/xero")).text
    assert await stored(db, world_a) == ([], [])


async def test_the_xero_pages_need_a_console_session(client: httpx.AsyncClient, world_a: World, xero: Xero) -> None:
    anonymous = await client.post("/console/xero/connect")
    assert anonymous.status_code in (303, 403)  # no session: sign in first (or no CSRF token)
    page = await client.get("/console/xero")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/login"


async def test_reconnecting_moves_the_connection_to_the_new_grant(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    tenant = (await xero.organisations())[0]["id"]
    assert (await connect(client, world_a, xero, [tenant])).status_code == 303
    (first,), (old_grant,) = await stored(db, world_a)
    page = await client.get("/console/xero")
    back = await xero.consent_at(
        str((await client.post("/console/xero/connect", data={"_csrf_token": csrf_in(page)})).headers["location"]),
        [tenant],
    )
    assert (await client.get(path_of(back))).status_code == 303
    connections, grants = await stored(db, world_a)
    assert [c.id for c in connections] == [first.id]  # the same connection, not a second one
    assert connections[0].status == "active"
    by_id = {g.id: g for g in grants}
    assert connections[0].grant_id != old_grant.id
    assert by_id[connections[0].grant_id].status == "active"
    # The old grant keeps no tokens once nothing uses it.
    assert by_id[old_grant.id].status == "closed"
    assert by_id[old_grant.id].refresh_token_sealed is None


async def test_disconnect_stops_the_connection_keeps_our_data_and_tells_xero(
    client: httpx.AsyncClient, world_a: World, xero: Xero, db: AsyncSession
) -> None:
    tenant = (await xero.organisations())[0]["id"]
    await connect(client, world_a, xero, [tenant])
    (connection,), _ = await stored(db, world_a)
    location = str(world_a.location.id)
    body = {"connection_id": str(connection.id), "invoice_status": "DRAFT"}
    ok(await client.put(f"/api/v1/locations/{location}/xero", json=body, headers=world_a.headers()))

    gone = ok(await client.post(f"/api/v1/xero/connections/{connection.id}/disconnect", headers=world_a.headers()))
    assert gone["status"] == "disconnected"
    again = ok(await client.post(f"/api/v1/xero/connections/{connection.id}/disconnect", headers=world_a.headers()))
    assert again["status"] == "disconnected"
    connections, grants = await stored(db, world_a)
    assert connections[0].status == "disconnected"
    assert grants[0].status == "closed"
    assert grants[0].access_token_sealed is None
    # The mapping stays, so reconnecting picks up where it stopped; it can't be re-pointed at a dead connection.
    kept = ok(await client.get(f"/api/v1/locations/{location}/xero", headers=world_a.headers()))
    assert kept["connection_id"] == str(connection.id)
    assert kept["invoice_status"] == "DRAFT"
    refused = await client.put(f"/api/v1/locations/{location}/xero", json=body, headers=world_a.headers())
    assert refused.status_code == 409
    readiness = ok(await client.get(f"/api/v1/locations/{location}/xero/readiness", headers=world_a.headers()))
    assert readiness["ready"] is False
    assert "disconnected" in readiness["problems"][0]["message"]
    # Xero no longer lists the app's connection to that organisation.
    listed = await xero.http.get("/connections", headers={"Authorization": f"Bearer {await _any_token(xero)}"})
    assert listed.status_code == 200
    assert tenant not in listed.text


async def _any_token(xero: Xero) -> str:
    """A token of a fresh consent to the other organisation, to look at Xero's connection list."""
    other = (await xero.organisations())[1]["id"]
    await xero.connect([other])
    return xero.access_token


async def test_another_tenant_never_reaches_these_connections(
    client: httpx.AsyncClient, world_a: World, world_b: World, xero: Xero, db: AsyncSession
) -> None:
    tenant = (await xero.organisations())[0]["id"]
    await connect(client, world_a, xero, [tenant])
    (connection,), _ = await stored(db, world_a)
    b = world_b.headers()
    assert ok(await client.get("/api/v1/xero/connections", headers=b)) == []
    for method, path in [
        ("GET", f"/api/v1/xero/connections/{connection.id}"),
        ("POST", f"/api/v1/xero/connections/{connection.id}/disconnect"),
        ("GET", f"/api/v1/xero/connections/{connection.id}/choices"),
        ("GET", f"/api/v1/locations/{world_a.location.id}/xero"),
        ("GET", f"/api/v1/locations/{world_a.location.id}/xero/readiness"),
    ]:
        response = await client.request(method, path, headers=b)
        assert response.status_code == 404, (method, path, response.text)
    # B cannot point its own location at A's connection.
    body = {"connection_id": str(connection.id)}
    stolen = await client.put(f"/api/v1/locations/{world_b.location.id}/xero", json=body, headers=b)
    assert stolen.status_code == 404
    connections, _ = await stored(db, world_a)
    assert connections[0].status == "active"


async def test_an_unknown_connection_is_404(client: httpx.AsyncClient, world_a: World, xero: Xero) -> None:
    missing = uuid.uuid4()
    response = await client.get(f"/api/v1/xero/connections/{missing}", headers=world_a.headers())
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
