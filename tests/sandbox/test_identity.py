"""The sandbox's identity service over HTTP: consent, codes, token rotation, revocation, connections."""

from __future__ import annotations

import base64
import hashlib
import json

from tests.fixtures.xero import CLIENT_ID, REDIRECT_URI, Xero


def claims_of(token: str) -> dict[str, object]:
    body = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


async def test_consent_connects_the_chosen_organisations_and_names_them_by_auth_event(xero: Xero) -> None:
    orgs = await xero.organisations()
    chosen = [o["id"] for o in orgs]
    await xero.connect(chosen)
    event = str(claims_of(xero.access_token)["authentication_event_id"])
    response = await xero.http.get(
        "/connections", params={"authEventId": event}, headers={"Authorization": f"Bearer {xero.access_token}"}
    )
    assert response.status_code == 200
    connections = response.json()
    assert sorted(c["tenantId"] for c in connections) == sorted(chosen)
    assert {c["tenantName"] for c in connections} == {o["name"] for o in orgs}
    assert all(c["tenantType"] == "ORGANISATION" and c["authEventId"] == event for c in connections)
    # Both organisations answer with this one token.
    for tenant in chosen:
        assert (await xero.api("GET", "Organisation", tenant=tenant)).status_code == 200


async def test_a_code_is_spent_once_and_only_with_its_redirect_uri_and_secret(xero: Xero) -> None:
    tenant = (await xero.organisations())[0]["id"]
    code = await xero.consent([tenant])
    wrong_uri = await xero.token(grant_type="authorization_code", code=code, redirect_uri="http://elsewhere/cb")
    assert (wrong_uri.status_code, wrong_uri.json()["error"]) == (400, "invalid_grant")
    bad_secret = await xero.http.post(
        "/connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, "not-the-secret"),
    )
    assert (bad_secret.status_code, bad_secret.json()["error"]) == (401, "invalid_client")
    first = await xero.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert first.status_code == 200
    body = first.json()
    assert body["expires_in"] == 1800
    assert body["token_type"] == "Bearer"
    assert "id_token" in body
    again = await xero.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


async def test_pkce_verifier_must_match_the_challenge(xero: Xero) -> None:
    tenant = (await xero.organisations())[0]["id"]
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = await xero.consent([tenant], challenge=challenge)
    wrong = await xero.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier="x")
    assert wrong.status_code == 400
    code = await xero.consent([tenant], challenge=challenge)
    right = await xero.token(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    assert right.status_code == 200


async def test_the_authorize_page_refuses_unknown_redirects_and_reports_bad_scopes_and_refusals(xero: Xero) -> None:
    base = {"response_type": "code", "client_id": CLIENT_ID, "scope": "openid accounting.contacts", "state": "z"}
    unknown = await xero.http.get("/identity/connect/authorize", params=base | {"redirect_uri": "http://evil/cb"})
    assert unknown.status_code == 400
    assert "location" not in unknown.headers
    bad_scope = await xero.http.get(
        "/identity/connect/authorize", params=base | {"redirect_uri": REDIRECT_URI, "scope": "accounting.everything"}
    )
    assert bad_scope.status_code == 302
    assert bad_scope.headers["location"] == f"{REDIRECT_URI}?error=invalid_scope&state=z"
    denied = await xero.http.post(
        "/identity/connect/authorize",
        data={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": "z",
            "decision": "deny",
        },
    )
    assert denied.headers["location"] == f"{REDIRECT_URI}?error=access_denied&state=z"


async def test_access_tokens_expire_after_thirty_minutes(xero: Xero) -> None:
    await xero.connect()
    await xero.control("POST", "clock", {"advance": 1790})
    assert (await xero.api("GET", "Organisation")).status_code == 200
    await xero.control("POST", "clock", {"advance": 20})
    expired = await xero.api("GET", "Organisation")
    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")


async def test_refresh_rotates_and_the_old_token_has_a_thirty_minute_grace(xero: Xero) -> None:
    await xero.connect()
    old = xero.refresh_token
    first = (await xero.token(grant_type="refresh_token", refresh_token=old)).json()
    assert first["refresh_token"] != old
    # The answer was lost: the old token, retried inside the grace, gives the same successor.
    retry = (await xero.token(grant_type="refresh_token", refresh_token=old)).json()
    assert retry["refresh_token"] == first["refresh_token"]
    xero.access_token = retry["access_token"]
    assert (await xero.api("GET", "Organisation")).status_code == 200
    await xero.control("POST", "clock", {"advance": 1801})
    late = await xero.token(grant_type="refresh_token", refresh_token=old)
    assert (late.status_code, late.json()) == (400, {"error": "invalid_grant"})
    assert (await xero.token(grant_type="refresh_token", refresh_token=first["refresh_token"])).status_code == 200


async def test_once_the_successor_is_spent_the_old_refresh_token_is_dead(xero: Xero) -> None:
    await xero.connect()
    old = xero.refresh_token
    successor = (await xero.token(grant_type="refresh_token", refresh_token=old)).json()["refresh_token"]
    assert (await xero.token(grant_type="refresh_token", refresh_token=successor)).status_code == 200
    reuse = await xero.token(grant_type="refresh_token", refresh_token=old)
    assert reuse.status_code == 400


async def test_an_unused_refresh_token_dies_after_sixty_days(xero: Xero) -> None:
    await xero.connect()
    await xero.control("POST", "clock", {"advance": 59 * 86400})
    fresh = await xero.token(grant_type="refresh_token", refresh_token=xero.refresh_token)
    assert fresh.status_code == 200
    await xero.control("POST", "clock", {"advance": 60 * 86400 + 1})
    stale = await xero.token(grant_type="refresh_token", refresh_token=fresh.json()["refresh_token"])
    assert (stale.status_code, stale.json()["error"]) == (400, "invalid_grant")


async def test_revocation_ends_the_grant_and_every_connection(xero: Xero) -> None:
    await xero.connect([o["id"] for o in await xero.organisations()])
    revoked = await xero.http.post(
        "/connect/revocation", data={"token": xero.refresh_token}, auth=(CLIENT_ID, "test-secret")
    )
    assert revoked.status_code == 200
    assert (await xero.token(grant_type="refresh_token", refresh_token=xero.refresh_token)).status_code == 400
    assert (await xero.api("GET", "Organisation")).status_code == 401
    # A new consent starts again from nothing.
    await xero.connect()
    assert (await xero.api("GET", "Organisation")).status_code == 200


async def test_disconnecting_one_organisation_leaves_the_others_reachable(xero: Xero) -> None:
    first, second = [o["id"] for o in await xero.organisations()]
    await xero.connect([first, second])
    auth = {"Authorization": f"Bearer {xero.access_token}"}
    connections = (await xero.http.get("/connections", headers=auth)).json()
    gone = next(c["id"] for c in connections if c["tenantId"] == first)
    assert (await xero.http.delete(f"/connections/{gone}", headers=auth)).status_code == 204
    assert (await xero.http.delete(f"/connections/{gone}", headers=auth)).status_code == 404
    refused = await xero.api("GET", "Organisation", tenant=first)
    assert (refused.status_code, refused.json()["Detail"]) == (403, "AuthenticationUnsuccessful")
    assert (await xero.api("GET", "Organisation", tenant=second)).status_code == 200
    assert (await xero.token(grant_type="refresh_token", refresh_token=xero.refresh_token)).status_code == 200


async def test_the_gate_checks_tenant_scope_and_accept(xero: Xero) -> None:
    tenant = (await xero.organisations())[0]["id"]
    code = await xero.consent([tenant], scope="offline_access accounting.settings.read")
    tokens = (await xero.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)).json()
    xero.access_token, xero.tenants = tokens["access_token"], [tenant]
    assert (await xero.api("GET", "Accounts")).status_code == 200
    no_scope = await xero.api("GET", "Contacts")
    assert (no_scope.status_code, no_scope.json()["Detail"]) == (401, "AuthorizationUnsuccessful")
    read_only = await xero.api("PUT", "Accounts", {"Code": "299", "Name": "New", "Type": "REVENUE"})
    assert read_only.status_code == 401
    stranger = await xero.api("GET", "Accounts", tenant="00000000-0000-4000-8000-000000000000")
    assert stranger.status_code == 403
    xml = await xero.api("GET", "Accounts", Accept="application/xml")
    assert xml.status_code == 406
    no_token = await xero.http.get("/api.xro/2.0/Accounts", headers={"xero-tenant-id": tenant})
    assert no_token.status_code == 401
