"""What the generated OpenAPI document cannot know by itself: what the API and each group of
operations is for (``DESCRIPTION`` and ``TAGS``, given to the generator; each operation's summary
and description are on its handler), and, added once when the app starts:

- every error the API answers, as ``application/problem+json`` with the ``Problem`` schema (the
  generator would declare only a 400, as plain JSON, in Litestar's own error shape);
- the credentials each part of the API takes, as security schemes and requirements;
- request bodies exactly as the API decodes them: their schemas are msgspec's own, from the
  ``Input`` types that decode them strictly (the generator drops bounds of optional fields, such
  as a rate's minimum of 0), with the rules across fields an ``Input`` states in ``json_schema``;
  like the types, they take no fields beyond those listed;
- optional query parameters as plain values with their limits (the generator writes an optional
  one as "this or null", with the limits beside the choice, where clients miss them).

Which statuses an operation may answer follows from what it is: anything may be a 400 or 429
(rate limits), a credential may be refused (401, also the e-mail and password of a sign-in) or
lack a scope (403), an id in the path or the body may name nothing (404), a body may be too
large (413) or not JSON (415), and a write may clash with the state of what it names (409) or
break a rule the schema cannot state (422).
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import msgspec
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityScheme,
    Tag,
)

from app.kit.errors import PROBLEM_JSON
from app.kit.schema import Input

PROBLEM = "Problem"

DESCRIPTION = """Billing for coworking operators: locations, members and companies, plans and bookings,
billing runs, invoices, payments and credit notes, and their sync to Xero.

Money is always an integer number of minor units of its currency (pence, cents), with the currency
beside it. Lists are paged by cursor: pass a page's `next_cursor` back as `cursor`. Errors are
problem documents (`application/problem+json`) with a stable `code`. Payments, refunds, credit
notes, write-offs and billing runs require an `Idempotency-Key` header, so that a retry never does
them twice. Each operator sees only its own data: another operator's ids answer 404."""

# One per tag the controllers use, in the order a reader meets them.
TAGS = [
    Tag(name=name, description=description)
    for name, description in {
        "Tenant": "The operator's own settings: defaults, lock date, how runs issue and group invoices.",
        "Locations": "The operator's sites, each with its time zone, currency, tax mode, billing day and numbering.",
        "Users": "People who sign in to the console, their roles and, for location managers, their locations.",
        "Members": "The people who use the spaces, and their sign-in to the member portal and app.",
        "API keys": "Keys to this API, each with fixed scopes; the secret is shown once, at creation.",
        "Catalogue": "What is sold and how it is taxed: tax rates, revenue accounts, tax policies, plans, discounts.",
        "Companies": "The billing accounts invoices are addressed to: companies, or people billed as themselves.",
        "Memberships": "Plans held by companies at locations over a date range, billed in advance.",
        "Bookings": "Bookable resources (rooms, desks, offices) and their bookings, billed in arrears.",
        "Billing": "Billing runs, which turn memberships, one-off fees and bookings into invoices; one-off fees.",
        "Invoices": "Invoices from draft to issued, paid or void; an issued invoice is credited, never edited.",
        "Payments": "Money received from companies, and refunds paid back out of the credit they hold.",
        "Credit notes": "Credit notes against invoices, write-offs, company balances and spending held credit.",
        "Audit": "The trail of every change to the operator's data: who made it, what changed and why.",
        "Xero": "Sync to Xero: connected organisations, location mappings, readiness, where each document stands.",
        "Member: me": "The member's own API, for the mobile apps: sign-in, profile, invoices, credit notes, balance.",
        "Platform": "Administration of the platform itself: creating operators (platform token only).",
        "Health": "Liveness and readiness probes for orchestrators; they take no credential.",
    }.items()
]

_STATUS_TEXT = {
    "400": "The request is malformed or breaks the schema; `errors` names the fields.",
    "401": "No credential, or one that is not valid.",
    "403": "The credential may not do this.",
    "404": "Nothing with that id, in the path or the body (another tenant's ids answer the same).",
    "409": "It clashes with the current state of what it names (archived, issued, more than is due, ...).",
    "413": "The body is larger than the API accepts.",
    "415": "The body is not application/json.",
    "422": "Valid by the schema, but a rule it cannot state refuses it (an order of dates, an entry given "
    "twice, a date that must be past); `detail` says which.",
    "429": "Too many requests; retry after the Retry-After seconds.",
}

SIGN_IN = "/api/v1/auth/"
# By path prefix: the security scheme the operations under it require (None: none).
_CREDENTIALS: tuple[tuple[str, str | None], ...] = (
    (SIGN_IN, None),
    ("/api/v1/me", "memberToken"),
    ("/api/v1/", "operatorKey"),
    ("/api/platform/", "platformToken"),
)
_SCHEMES = {
    "operatorKey": SecurityScheme(
        type="http",
        scheme="bearer",
        description="An operator API key (`flk_...`), made in the console or at /api/v1/api-keys.",
    ),
    "memberToken": SecurityScheme(
        type="http",
        scheme="bearer",
        description="A member token (`flm_...`) from POST /api/v1/auth/member-tokens.",
    ),
    "platformToken": SecurityScheme(
        type="http", scheme="bearer", description="The platform's administration token (PLATFORM_ADMIN_TOKEN)."
    ),
}


def _problem_schema() -> Schema:
    text = Schema(type=OpenAPIType.STRING)
    error = Schema(
        type=OpenAPIType.OBJECT,
        properties={"message": text, "key": text, "source": text},
        required=["message"],
    )
    return Schema(
        type=OpenAPIType.OBJECT,
        description="An RFC 9457 problem document; `code` is stable for clients to branch on.",
        properties={
            "type": text,
            "title": text,
            "status": Schema(type=OpenAPIType.INTEGER),
            "code": text,
            "detail": text,
            "instance": text,
            "request_id": text,
            "errors": Schema(type=OpenAPIType.ARRAY, items=error),
        },
        required=["type", "title", "status", "code", "detail"],
    )


def _statuses(path: str, method: str, operation: Operation, scheme: str | None) -> list[str]:
    """The errors an operation may answer (see the module's docstring)."""
    statuses = ["400", "429"]
    if scheme is not None:
        statuses += ["401", "403"]
    elif path.startswith(SIGN_IN):
        statuses.append("401")  # the credentials in the body are wrong
    if "{" in path or operation.request_body is not None:
        statuses.append("404")  # an id in the path, or one the body names
    if method != "get":
        statuses += ["409", "422"]
    if operation.request_body is not None:
        statuses += ["413", "415"]
    return sorted(set(statuses))


def _plain(schema: Schema) -> Schema:
    """``oneOf: [X, null]`` (with limits beside it) as X with its limits."""
    branches = [branch for branch in schema.one_of or () if getattr(branch, "type", None) != OpenAPIType.NULL]
    if len(branches) != 1 or len(branches) == len(schema.one_of or ()) or not isinstance(branches[0], Schema):
        return schema
    return dataclasses.replace(schema, one_of=None, type=branches[0].type, format=branches[0].format or schema.format)


def _input_classes(base: type[Input] = Input) -> list[type[Input]]:
    """Every request type (a subclass of ``Input``, however deep)."""
    found: list[type[Input]] = []
    for cls in base.__subclasses__():
        found += [cls, *_input_classes(cls)]
    return found


def request_schemas() -> dict[str, dict[str, Any]]:
    """The request types' schemas, by name, as msgspec (which decodes them) describes them, each
    completed with the rules across its fields that the type states in ``json_schema``."""
    classes = sorted(_input_classes(), key=lambda cls: cls.__name__)
    _, schemas = msgspec.json.schema_components(classes, ref_template="#/components/schemas/{name}")
    for cls in classes:
        _merge(schemas[cls.__name__], cls.json_schema)
    return {name: _without_nulls(schema) for name, schema in schemas.items()}


def _merge(schema: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(schema.get(key), dict):
            _merge(schema[key], value)
        else:
            schema[key] = value


def _without_nulls(schema: Any) -> Any:
    """A key set to None is one a type takes away (a ``format`` its pattern replaces)."""
    if isinstance(schema, dict):
        return {key: _without_nulls(value) for key, value in schema.items() if value is not None}
    if isinstance(schema, list):
        return [_without_nulls(value) for value in schema]
    return schema


def document(openapi: OpenAPI) -> None:
    """Complete the document in place (see the module's docstring)."""
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    openapi.components = components
    # Litestar writes plain dicts into the document as they are.
    requests = {name: cast("Schema", schema) for name, schema in request_schemas().items()}
    components.schemas = {**(components.schemas or {}), **requests, PROBLEM: _problem_schema()}
    components.security_schemes = {**(components.security_schemes or {}), **_SCHEMES}
    problem = OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{PROBLEM}"))
    retry_after: dict[str, OpenAPIHeader | Reference] = {
        "Retry-After": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER), description="Seconds.")
    }
    for path, item in (openapi.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        scheme = next((name for prefix, name in _CREDENTIALS if path.startswith(prefix)), None)
        for method in ("get", "put", "post", "patch", "delete"):
            operation = getattr(item, method)
            if not isinstance(operation, Operation):
                continue
            if scheme is not None:
                operation.security = [{scheme: []}]
            for parameter in operation.parameters or ():
                if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema) and not parameter.required:
                    parameter.schema = _plain(parameter.schema)
            responses = dict(operation.responses or {})
            for status in _statuses(path, method, operation, scheme):
                responses[status] = OpenAPIResponse(
                    description=_STATUS_TEXT[status],
                    content={PROBLEM_JSON: problem},
                    headers=retry_after if status == "429" else None,
                )
            operation.responses = responses
