"""What the generated OpenAPI document cannot know by itself, added once when the app starts:

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
)

from app.kit.errors import PROBLEM_JSON
from app.kit.schema import Input

PROBLEM = "Problem"

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
