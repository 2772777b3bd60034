"""Input is held to its declared schema before a handler runs (``app.kit.strict_input``): bodies no
schema allows (nested a thousand deep, not UTF-8, JSON under another content type, a string for a
number) answer a clear 4xx, on every route that takes a body, signed in or not; so do query
parameters given twice, or given as ``null``."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import structlog
from litestar import Litestar
from litestar.routes import HTTPRoute

from app.kit.strict_input import MAX_DEPTH, takes_json
from app.settings import Settings
from tests.support.api import keyed
from tests.support.worlds import PASSWORD, World, location_body

NESTED = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
NOT_UTF8 = b'{"name": "\xff\xfe"}'


def _json_routes(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every route whose handler takes a JSON body, path parameters filled."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if takes_json(handler.parsed_data_field):
                path = route.path_format
                for name, parameter in route.path_parameters.items():
                    value = "00000000-0000-0000-0000-000000000000" if parameter.type is uuid.UUID else "1"
                    path = path.replace("{" + name + "}", value)
                found.extend((method, path) for method in handler.http_methods)
    return sorted(found)


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_routes_with_a_json_body_are_found(app: Litestar) -> None:
    """The walk below covers the API: the routes that create things are among those it finds."""
    routes = _json_routes(app)
    assert ("POST", "/api/v1/locations") in routes
    assert ("POST", "/api/v1/payments") in routes
    assert ("POST", "/api/v1/auth/member-tokens") in routes
    assert len(routes) >= 40


async def _credentials(client: httpx.AsyncClient, world: World, settings: Settings) -> dict[str, dict[str, str]]:
    """The bearer each part of the API takes, by path prefix."""
    body = {"organisation": world.slug, "email": world.member.email, "password": PASSWORD}
    signed_in = await client.post("/api/v1/auth/member-tokens", json=body)
    assert signed_in.status_code == 201, signed_in.text
    assert settings.platform_admin_token is not None
    return {
        "/api/v1/me/": {"Authorization": f"Bearer {signed_in.json()['token']}"},
        "/api/platform/": {"Authorization": f"Bearer {settings.platform_admin_token.get_secret_value()}"},
        "/api/": world.headers(),
    }


@pytest.mark.parametrize("body", [NESTED, NOT_UTF8], ids=["nested-5000", "not-utf8"])
async def test_every_json_route_refuses_hostile_bodies(
    client: httpx.AsyncClient, app: Litestar, settings: Settings, world_a: World, body: bytes
) -> None:
    bearers = await _credentials(client, world_a, settings)
    for method, path in _json_routes(app):
        bearer = next(headers for prefix, headers in bearers.items() if f"{path}/".startswith(prefix))
        headers = {**keyed(bearer), "Content-Type": "application/json"}
        response = await client.request(method, path, content=body, headers=headers)
        problem = _problem(response, 400)
        assert "nests deeper" in problem["detail"] or "UTF-8" in problem["detail"], problem


@pytest.mark.parametrize("body", [NESTED, NOT_UTF8], ids=["nested-5000", "not-utf8"])
async def test_hostile_bodies_at_sign_in_are_refused(client: httpx.AsyncClient, body: bytes) -> None:
    """Sign-in takes no credential, so anybody can send it anything."""
    json_type = {"Content-Type": "application/json"}
    response = await client.post("/api/v1/auth/member-tokens", content=body, headers=json_type)
    _problem(response, 400)


async def test_nesting_up_to_the_limit_is_only_a_schema_error(client: httpx.AsyncClient, world_a: World) -> None:
    """The depth guard counts brackets, not brackets inside strings, and stops at the limit."""
    inside = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)
    body = b'{"name": "[[[[{{{{' + b"[" * 100 + b'", "code": ' + inside + b"}"
    response = await client.post(
        "/api/v1/locations", content=body, headers={**world_a.headers(), "Content-Type": "application/json"}
    )
    problem = _problem(response, 400)
    assert problem["errors"][0]["key"] == "code", problem


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"amount": 100}'),
        ("application/x-www-form-urlencoded", b"amount=100"),
        (None, b'{"amount": 100}'),
    ],
)
async def test_json_under_another_content_type_is_refused(
    client: httpx.AsyncClient, world_a: World, content_type: str | None, content: bytes
) -> None:
    headers = world_a.headers()
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post("/api/v1/locations", content=content, headers=headers)
    problem = _problem(response, 415)
    assert "application/json" in problem["detail"]


async def test_a_json_subtype_is_accepted(client: httpx.AsyncClient, world_a: World) -> None:
    body = b'{"name": "North", "code": "NTH", "time_zone": "Europe/London", "country": "GB", "currency": "GBP",'
    body += b' "tax_mode": "exclusive", "billing_day": 5}'
    response = await client.post(
        "/api/v1/locations",
        content=body,
        headers={**world_a.headers(), "Content-Type": "application/merge-patch+json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("billing_day", "5", "Expected `int`, got `str`"),
        ("billing_day", 5.5, "Expected `int`, got `float`"),
        ("billing_day", True, "Expected `int`, got `bool`"),
        ("name", 5, "Expected `str`, got `int`"),
    ],
)
async def test_values_are_taken_only_as_declared(
    client: httpx.AsyncClient, world_a: World, field: str, value: object, says: str
) -> None:
    body = location_body(**{field: value})
    response = await client.post("/api/v1/locations", json=body, headers=world_a.headers())
    problem = _problem(response, 400)
    assert problem["errors"] == [{"message": says, "key": field, "source": "body"}]


async def test_a_number_without_a_fraction_is_an_integer(client: httpx.AsyncClient, world_a: World) -> None:
    """JSON Schema counts 5.0 as an integer, so the API does too (5.5 is refused, above)."""
    body = location_body(billing_day=5.0)
    response = await client.post("/api/v1/locations", json=body, headers=world_a.headers())
    assert response.status_code == 201, response.text
    assert response.json()["billing_day"] == 5


async def test_a_payment_amount_as_a_string_is_refused(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.post(
        "/api/v1/payments",
        json={
            "company_id": str(world_a.company.id),
            "amount": "100",
            "currency": "GBP",
            "method": "bank_transfer",
            "paid_on": "2026-11-05",
        },
        headers={**world_a.headers(), "Idempotency-Key": "string-amount"},
    )
    problem = _problem(response, 400)
    assert problem["errors"][0]["key"] == "amount"


async def test_the_access_log_records_the_status_sent(client: httpx.AsyncClient, world_a: World) -> None:
    """A 401 from authentication, a 404 from the router and a 200 are logged as what they were."""
    with structlog.testing.capture_logs() as logs:
        unauthenticated = await client.get("/api/v1/locations")
        missing = await client.get("/api/v1/no-such-thing", headers=world_a.headers())
        fine = await client.get("/api/v1/locations", headers=world_a.headers())
    assert [unauthenticated.status_code, missing.status_code, fine.status_code] == [401, 404, 200]
    lines = [(line["path"], line["status"]) for line in logs if line["event"] == "http.request"]
    assert lines == [("/api/v1/locations", 401), ("/api/v1/no-such-thing", 404), ("/api/v1/locations", 200)]
    assert all(response.headers["x-request-id"] for response in (unauthenticated, missing, fine))


@pytest.mark.parametrize(
    ("query", "name", "says"),
    [
        ("limit=null", "limit", "null is not a value of limit"),
        ("limit=5&limit=6", "limit", "give limit once"),
        ("company_id=null", "company_id", "null is not a value of company_id"),
        ("status=issued&status=paid", "status", "give status once"),
    ],
)
async def test_query_parameters_are_taken_only_as_declared(
    client: httpx.AsyncClient, world_a: World, query: str, name: str, says: str
) -> None:
    response = await client.get(f"/api/v1/invoices?{query}", headers=world_a.headers())
    problem = _problem(response, 400)
    [error] = problem["errors"]
    assert (error["key"], error["source"]) == (name, "query")
    assert error["message"].startswith(says), error


async def test_a_text_filter_may_be_the_word_null(client: httpx.AsyncClient, world_a: World) -> None:
    """Only parameters that are not text refuse it: for a text one it is just a value."""
    response = await client.get("/api/v1/audit-events?object_type=null", headers=world_a.headers())
    assert response.status_code == 200, response.text
    assert response.json()["data"] == []
