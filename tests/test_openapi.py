"""The OpenAPI document says what the API does: what each operation is for, the errors it answers
(as problem+json), the credential each part takes, the limits of list parameters and the
Idempotency-Key where money moves; and what the API answers agrees with it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from app.invoice.numbering import TEMPLATE
from app.kit.geo import COUNTRIES, time_zones
from app.kit.money import CURRENCY_EXPONENTS
from tests.support.worlds import World

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_says_what_it_does(document: dict[str, Any]) -> None:
    """A short summary to find it by, and a description of what it does and the rules a caller meets:
    more than a restatement of its name, and never another operation's (a copied one is wrong)."""
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(operations) > 100
    summaries: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for label, operation in operations:
        summary, description = operation.get("summary", ""), operation.get("description", "")
        # Litestar's default summary is the handler's name run together ("ListInvoices").
        assert " " in summary.strip(), f"{label}: {summary!r}"
        assert len(summary) <= 60, f"{label}: {summary!r}"
        assert 60 <= len(description) <= 600, f"{label}: {description!r}"
        assert summary not in summaries, f"{label} and {summaries.get(summary)}: {summary!r}"
        assert description not in descriptions, f"{label} and {descriptions.get(description)}"
        summaries[summary], descriptions[description] = label, label
    tags = {tag["name"]: tag.get("description", "") for tag in document["tags"]}
    assert {tag for _, operation in operations for tag in operation["tags"]} == set(tags)
    assert all(len(description) >= 30 for description in tags.values()), tags
    assert "minor units" in document["info"]["description"]


def test_every_operation_declares_its_errors_as_problem_documents(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) > 100
    for path, method, operation in operations:
        label = f"{method.upper()} {path}"
        errors = {status: answer for status, answer in operation["responses"].items() if status.startswith("4")}
        assert {"400", "429"} <= set(errors), label
        for status, answer in errors.items():
            assert list(answer["content"]) == ["application/problem+json"], f"{label} {status}"
            assert answer["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
        if "{" in path:
            assert "404" in errors, label
        if method != "get":
            assert {"409", "422"} <= set(errors), label
        if "requestBody" in operation:
            assert {"413", "415"} <= set(errors), label
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code", "detail"} <= set(problem["required"])


def test_every_operation_names_its_credential(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {name: scheme["scheme"] for name, scheme in schemes.items()} == {
        "operatorKey": "bearer",
        "memberToken": "bearer",
        "platformToken": "bearer",
    }
    for path, method, operation in _operations(document):
        label = f"{method.upper()} {path}"
        if path.startswith("/api/v1/auth/"):
            assert "security" not in operation, label
            continue
        expected = (
            "memberToken"
            if path.startswith("/api/v1/me")
            else "platformToken"
            if path.startswith("/api/platform/")
            else "operatorKey"
        )
        assert operation["security"] == [{expected: []}], label
        assert {"401", "403"} <= set(operation["responses"]), label


def test_list_parameters_declare_their_limits(document: dict[str, Any]) -> None:
    lists = 0
    for path, method, operation in _operations(document):
        parameters = {parameter["name"]: parameter for parameter in operation.get("parameters", [])}
        if "limit" not in parameters:
            continue
        lists += 1
        limit, cursor = parameters["limit"]["schema"], parameters["cursor"]["schema"]
        assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 200), f"{method} {path}: {limit}"
        assert (cursor["type"], cursor["pattern"]) == ("string", "^[A-Za-z0-9_-]{22}$"), f"{method} {path}: {cursor}"
    assert lists >= 15


def test_money_moving_operations_require_an_idempotency_key(document: dict[str, Any]) -> None:
    required = {
        "/api/v1/payments",
        "/api/v1/refunds",
        "/api/v1/invoices/{invoice_id}/credit-notes",
        "/api/v1/invoices/{invoice_id}/write-off",
        "/api/v1/locations/{location_id}/billing/run",
    }
    for path in required:
        parameters = document["paths"][path]["post"]["parameters"]
        [key] = [parameter for parameter in parameters if parameter["name"] == "Idempotency-Key"]
        assert (key["in"], key["required"]) == ("header", True), path
        assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 200), path


async def test_a_method_the_path_does_not_take_is_answered_with_allow(
    client: httpx.AsyncClient, world_a: World
) -> None:
    response = await client.delete("/api/v1/payments", headers=world_a.headers())
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert set(response.headers["allow"].split(", ")) == {"OPTIONS", "POST"}
    invoice = await client.put(f"/api/v1/invoices/{world_a.invoice.id}", headers=world_a.headers())
    assert invoice.status_code == 405
    assert set(invoice.headers["allow"].split(", ")) == {"OPTIONS", "GET"}


async def test_options_lists_every_method_the_document_gives_a_path(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    for path in ("/api/v1/plans", "/api/v1/plans/{plan_id}", "/api/v1/tenant", "/api/v1/locations/{location_id}/xero"):
        url = path.replace("{plan_id}", "00000000-0000-0000-0000-000000000000").replace(
            "{location_id}", "00000000-0000-0000-0000-000000000000"
        )
        response = await client.options(url)
        assert response.status_code == 204, f"{path}: {response.text}"
        documented = {method.upper() for method in document["paths"][path] if method in METHODS}
        assert set(response.headers["allow"].split(", ")) == documented | {"OPTIONS"}, path


def test_request_bodies_take_only_the_fields_they_list(document: dict[str, Any]) -> None:
    """Request schemas refuse unknown fields (400), so the document says so; answers may grow."""
    schemas = document["components"]["schemas"]
    for path, method, operation in _operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" in body:
            name = body["$ref"].rsplit("/", 1)[1]
            assert schemas[name].get("additionalProperties") is False, f"{method.upper()} {path}: {name}"
    assert "additionalProperties" not in schemas["InvoiceOut"]


def test_request_bodies_carry_every_bound_the_decoder_checks(document: dict[str, Any]) -> None:
    """Request schemas are the decoder's own (msgspec's), so an optional field keeps its bounds
    and the lists the code checks codes against are enums."""
    schemas = document["components"]["schemas"]
    hourly = schemas["ResourceUpdate"]["properties"]["hourly_rate"]["anyOf"]
    assert (hourly[0]["type"], hourly[0]["minimum"], hourly[0]["maximum"]) == ("integer", 0, 10**12)
    assert hourly[1] == {"type": "null"}
    assert schemas["DiscountCreate"]["properties"]["amount"]["anyOf"][0]["exclusiveMinimum"] == 0
    location = schemas["LocationCreate"]["properties"]
    assert location["currency"]["enum"] == sorted(CURRENCY_EXPONENTS)
    assert location["country"]["enum"] == sorted(COUNTRIES)
    assert location["time_zone"]["enum"] == sorted(time_zones())
    template = location["invoice_number_template"]["anyOf"][0]
    assert template["pattern"] == TEMPLATE.pattern
    assert schemas["TaxComponentIn"]["properties"]["percent"]["type"] == "string"
    assert "pattern" in schemas["TaxComponentIn"]["properties"]["percent"]


def test_rules_across_fields_are_in_the_document(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    discount = schemas["DiscountCreate"]["oneOf"]
    assert [branch["properties"]["kind"]["const"] for branch in discount] == ["percent", "fixed"]
    assert schemas["ResourceCreate"]["anyOf"][1]["required"] == ["daily_rate"]
    tracking = schemas["LocationXeroIn"]["anyOf"][1]
    assert tracking["required"] == ["tracking_category_id", "tracking_option_id"]
    assert schemas["LocationXeroIn"]["properties"]["payment_accounts"]["propertyNames"]["enum"][-1] == "write_off"
    assert schemas["UserCreate"]["oneOf"][0]["properties"]["role"]["const"] == "location_manager"
    # A local time has no offset, which format date-time would require: the pattern says it all.
    starts = schemas["BookingCreate"]["properties"]["starts_at"]
    assert "format" not in starts
    assert re.search(starts["pattern"], "2028-02-29T09:30:00")
    assert not re.search(starts["pattern"], "2027-02-29T09:30:00")
    assert not re.search(starts["pattern"], "2027-03-01T09:30:15")


def test_sign_in_may_refuse_its_credentials(document: dict[str, Any]) -> None:
    sign_in = document["paths"]["/api/v1/auth/member-tokens"]["post"]
    assert "401" in sign_in["responses"]
    assert "security" not in sign_in


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/tax-rates", {"name": "VAT", "components": [{"name": "VAT", "percent": 20}]}),
        ("/api/v1/tax-rates", {"name": "VAT", "components": [{"name": "VAT", "percent": "2e1"}]}),
        ("/api/v1/discounts", {"name": "Zero", "kind": "percent", "percent": "0"}),
        ("/api/v1/discounts", {"name": "Both", "kind": "fixed", "amount": 100}),
        (
            "/api/v1/locations",
            {
                "name": "N",
                "code": "NN",
                "time_zone": "Mars/Base",
                "country": "GB",
                "currency": "GBP",
                "tax_mode": "exclusive",
            },
        ),
    ],
)
async def test_what_the_document_refuses_is_refused_as_a_schema_error(
    client: httpx.AsyncClient, world_a: World, path: str, body: dict[str, Any]
) -> None:
    response = await client.post(path, json=body, headers=world_a.headers())
    assert response.status_code == 400, response.text
