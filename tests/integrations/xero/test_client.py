"""The product's Xero client against the sandbox over HTTP: consent, tokens, connections, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from app.integrations.xero.client import (
    XeroAmbiguous,
    XeroAuthError,
    XeroClient,
    XeroNotFound,
    XeroRateLimited,
    XeroRejected,
    XeroUnavailable,
)
from sandbox.xero.server import SandboxServer
from tests.fixtures.xero import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Xero


@pytest.fixture
async def client(xero_server: SandboxServer, xero: Xero) -> AsyncIterator[XeroClient]:
    url = xero_server.url
    made = XeroClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, login_url=url, identity_url=url, api_url=url)
    yield made
    await made.aclose()


async def test_consent_code_exchange_and_connections_of_this_consent(client: XeroClient, xero: Xero) -> None:
    tenants = [o["id"] for o in await xero.organisations()]
    start = client.authorization(REDIRECT_URI)
    assert "code_challenge=" in start.url
    callback = await xero.consent_at(start.url, tenants)
    with pytest.raises(XeroAuthError):
        client.code_from_callback(callback, "another-state")
    code = client.code_from_callback(callback, start.state)
    tokens = await client.exchange_code(code, REDIRECT_URI, start.code_verifier)
    assert tokens.expires_in == 1800
    assert tokens.auth_event_id
    found = await client.connections(tokens.access_token, tokens.auth_event_id)
    assert sorted(c.tenant_id for c in found) == sorted(tenants)
    with pytest.raises(XeroAuthError):
        await client.exchange_code(code, REDIRECT_URI, start.code_verifier)


async def test_refresh_rotates_and_a_spent_token_is_an_auth_error(client: XeroClient, xero: Xero) -> None:
    await xero.connect()
    renewed = await client.refresh(xero.refresh_token)
    assert renewed.refresh_token != xero.refresh_token
    await client.refresh(renewed.refresh_token)
    with pytest.raises(XeroAuthError):
        await client.refresh(xero.refresh_token)


async def test_calls_send_decimal_amounts_exactly_and_classify_failures(client: XeroClient, xero: Xero) -> None:
    [tenant] = await xero.connect()
    token = xero.access_token
    made = await client.call(
        token, tenant, "PUT", "Contacts", body={"Contacts": [{"Name": "Acme Ltd"}]}, idempotency_key="c-1"
    )
    assert made.minute_remaining == 59
    contact_id = made.body["Contacts"][0]["ContactID"]
    line = {"Description": "Desk", "Quantity": 1, "UnitAmount": Decimal("0.10"), "AccountCode": "210"}
    invoice = {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "LineItems": [line, line, line]}
    saved = await client.call(token, tenant, "PUT", "Invoices", body={"Invoices": [invoice]})
    assert saved.body["Invoices"][0]["Total"] == Decimal("0.36")
    with pytest.raises(XeroRejected) as rejected:
        await client.call(token, tenant, "PUT", "Contacts", body={"Contacts": [{"Name": "Acme Ltd"}]})
    assert rejected.value.body["Type"] == "ValidationException"
    with pytest.raises(XeroNotFound):
        await client.call(token, tenant, "GET", "Invoices/00000000-0000-4000-8000-000000000000")
    await xero.control("POST", "faults", {"fail_next": [503]})
    with pytest.raises(XeroUnavailable):
        await client.call(token, tenant, "GET", "Organisation")
    await xero.control("POST", "faults", {"lose_next": 1})
    with pytest.raises(XeroAmbiguous):
        await client.call(token, tenant, "PUT", "Contacts", body={"Contacts": [{"Name": "Bolt Ltd"}]})
    await xero.control("POST", "faults", {})
    await xero.control("POST", "limits", {"per_day": 6})
    with pytest.raises(XeroRateLimited) as limited:
        await client.call(token, tenant, "GET", "Organisation")
    assert limited.value.problem == "day"
    assert limited.value.retry_after > 3600
    await xero.control("POST", "clock", {"advance": 1801})
    with pytest.raises(XeroAuthError):
        await client.call(token, tenant, "GET", "Organisation")
