"""Checks the stand-in's traffic against Xero's own Accounting API spec (the vendored OpenAPI 3.0 document).

Every request body the stand-in receives and every response body it sends can be checked against the schema the
spec documents for that operation: types, required properties, enums, ``maxLength``, uuid strings, and Microsoft JSON
dates (``/Date(1539993600000+0000)/``) where Xero sends them.

Unknown properties are violations. The spec never sets ``additionalProperties``, so a plain OpenAPI validator would
accept any extra key, and a typo in a field name (``"Nam"`` for ``"Name"``) would go unnoticed on both sides: Xero
silently ignores fields it does not know.

The validator is a small one written for the handful of keywords this spec uses; schemas are compiled once per
process, so checking a large body costs little more than walking it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TypeAlias
from urllib.parse import unquote

import yaml

SPEC_PATH: Final = Path(__file__).parent / "openapi" / "xero_accounting.yaml"

MAX_VIOLATIONS: Final = 50
_ENUM_SHOWN: Final = 8
_METHODS: Final = ("get", "put", "post", "delete", "patch")
_JSON: Final = "application/json"
_ERROR_SCHEMA: Final = "#/components/schemas/Error"

_UUID_RE: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MSDATE_RE: Final = re.compile(r"/Date\(-?\d+([+-]\d{4})?\)/")
_ISO_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT32: Final = (-(2**31), 2**31 - 1)


@dataclass(frozen=True)
class Violation:
    """One way a body departs from the spec.

    ``path`` locates the offending value (``"Invoices[0].LineItems[1].Quantity"``, ``""`` for the root); for an unknown
    property it is the property's own path, for a missing required property the path of the object that lacks it.
    """

    where: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.path or '<root>'}: {self.message}"


# --- compiled schemas ------------------------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Node:
    """A schema reduced to what the checks need; ``$ref`` targets are shared so recursive schemas compile once."""

    type: str | None = None
    properties: dict[str, _Node] | None = None
    required: tuple[str, ...] = ()
    items: _Node | None = None
    enum: frozenset[object] | None = None
    enum_text: str = ""
    max_length: int | None = None
    format: str | None = None
    msdate: bool = False


class _Compiler:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        self._by_ref: dict[str, _Node] = {}
        self._enveloped: dict[_Node, _Node] = {}

    def ref(self, ref: str) -> _Node:
        node = self._by_ref.get(ref)
        if node is None:
            schema = self.resolve(ref)
            if "$ref" in schema:
                node = self._by_ref[ref] = self.ref(schema["$ref"])
            else:
                # Registered before it is filled in, so a schema that refers back to itself finds this same node.
                node = self._by_ref[ref] = _Node()
                self._fill(node, schema)
        return node

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported: {ref}")
        target: Any = self._document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return target

    def enveloped(self, node: _Node) -> _Node:
        """``node`` with room for the envelope Xero puts around every successful response."""
        if node.type != "object" or node.properties is None:
            return node
        copy = self._enveloped.get(node)
        if copy is None:
            copy = self._enveloped[node] = _Node(
                type=node.type,
                properties={**_ENVELOPE, **node.properties},
                required=node.required,
            )
        return copy

    def compile(self, schema: Mapping[str, Any]) -> _Node:
        # OpenAPI 3.0 ignores the siblings of $ref (this spec pairs some with a redundant ``type``).
        if "$ref" in schema:
            return self.ref(schema["$ref"])
        node = _Node()
        self._fill(node, schema)
        return node

    def _fill(self, node: _Node, schema: Mapping[str, Any]) -> None:
        properties = schema.get("properties")
        node.type = schema.get("type") or ("object" if properties is not None else None)
        if properties is not None:
            node.properties = {name: self.compile(sub) for name, sub in properties.items()}
        node.required = tuple(schema.get("required", ()))
        if "items" in schema:
            node.items = self.compile(schema["items"])
        if "enum" in schema:
            values = list(schema["enum"])
            node.enum = frozenset(values)
            shown = ", ".join(repr(v) for v in values[:_ENUM_SHOWN])
            more = f", ... ({len(values) - _ENUM_SHOWN} more)" if len(values) > _ENUM_SHOWN else ""
            node.enum_text = f"[{shown}{more}]"
        node.max_length = schema.get("maxLength")
        node.format = schema.get("format")
        node.msdate = bool(schema.get("x-is-msdate") or schema.get("x-is-msdate-time"))


# Every 2xx body from Xero starts with these four keys. No response schema lists them (every response example shows
# them), so a strict check would otherwise flag each faithful response four times.
_ENVELOPE: Final = {
    "Id": _Node(type="string", format="uuid"),
    "Status": _Node(type="string"),
    "ProviderName": _Node(type="string"),
    "DateTimeUTC": _Node(type="string", msdate=True),
}


# --- validation ------------------------------------------------------------------------------------------------------

# A path is built as a chain of (parent, key) pairs and only rendered when something is wrong.
_Path: TypeAlias = tuple["_Path", str | int] | None


def _render(path: _Path) -> str:
    parts: list[str | int] = []
    while path is not None:
        path, key = path
        parts.append(key)
    text = ""
    for key in reversed(parts):
        if isinstance(key, int):
            text += f"[{key}]"
        elif _IDENT_RE.fullmatch(key):
            text += f".{key}" if text else key
        else:
            text += f"[{key!r}]"
    return text


_JSON_TYPES: Final[tuple[tuple[type | tuple[type, ...], str], ...]] = (
    (bool, "boolean"),  # before int: bool is an int subclass
    ((int, float, Decimal), "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    # Xero reads 1.0 as a decimal, not an integer, so an integral float or Decimal is still the wrong type.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_iso_date(value: str) -> bool:
    # The pattern keeps to the extended forms Xero reads; fromisoformat then rejects impossible dates and times.
    if not _ISO_RE.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_TYPE_MATCHES: Final[dict[str, Callable[[object], bool]]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda value: isinstance(value, bool),
}


class _Full(Exception):
    """Stops the walk once enough violations have been collected."""


class _Checker:
    def __init__(self, where: str, *, response: bool) -> None:
        self.where = where
        self.response = response
        self.found: list[Violation] = []

    def flag(self, path: _Path, message: str) -> None:
        self.found.append(Violation(self.where, _render(path), message))
        if len(self.found) >= MAX_VIOLATIONS:
            raise _Full

    def run(self, node: _Node, value: object) -> list[Violation]:
        with contextlib.suppress(_Full):
            self.check(node, value, None)
        return self.found

    def check(self, node: _Node, value: object, path: _Path) -> None:
        if value is None:
            self.flag(path, "null is not allowed")
            return
        kind = node.type
        matches = _TYPE_MATCHES.get(kind) if kind is not None else None
        if matches is None:
            return
        if not matches(value):
            self.flag(path, f"expected {kind}, got {_json_type(value)}")
        elif isinstance(value, dict):
            self._object(node, value, path)
        elif isinstance(value, list):
            if node.items is not None:
                for index, item in enumerate(value):
                    self.check(node.items, item, (path, index))
        elif isinstance(value, str):
            self._string(node, value, path)
        elif isinstance(value, bool):
            self._enum(node, value, path)
        elif isinstance(value, int | float | Decimal):
            self._number(node, value, path)

    def _object(self, node: _Node, value: dict[Any, Any], path: _Path) -> None:
        for name in node.required:
            if name not in value:
                self.flag(path, f"missing required property {name!r}")
        properties = node.properties
        if properties is None:
            return
        for key, item in value.items():
            sub = properties.get(key)
            if sub is None:
                self.flag((path, str(key)), f"unknown property {key!r}")
            else:
                self.check(sub, item, (path, key))

    def _string(self, node: _Node, value: str, path: _Path) -> None:
        self._enum(node, value, path)
        if node.max_length is not None and len(value) > node.max_length:
            self.flag(path, f"longer than {node.max_length} characters")
        fmt = node.format
        if fmt == "uuid":
            if not _UUID_RE.fullmatch(value):
                self.flag(path, "not a uuid")
        elif fmt in ("date", "date-time") or node.msdate:
            self._date(node, value, path)

    def _date(self, node: _Node, value: str, path: _Path) -> None:
        if _MSDATE_RE.fullmatch(value):
            return
        if node.msdate and self.response:
            # Xero itself always answers with Microsoft JSON dates in these fields; clients parse them as such.
            self.flag(path, "not a Microsoft JSON date")
        elif not _is_iso_date(value):
            self.flag(path, "not a date (YYYY-MM-DD, ISO date-time or /Date(...)/)")

    def _number(self, node: _Node, value: int | float | Decimal, path: _Path) -> None:
        finite = (
            value.is_finite() if isinstance(value, Decimal) else not isinstance(value, float) or math.isfinite(value)
        )
        if not finite:
            self.flag(path, "not a finite number")
            return
        if node.format == "int32" and isinstance(value, int) and not _INT32[0] <= value <= _INT32[1]:
            self.flag(path, "out of int32 range")
        self._enum(node, value, path)

    def _enum(self, node: _Node, value: object, path: _Path) -> None:
        if node.enum is not None and value not in node.enum:
            self.flag(path, f"{value!r} is not one of {node.enum_text}")


# --- operations ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Shapes:
    """The two shapes Xero takes a write in: ``{"Invoices": [invoice, ...]}`` or one bare ``invoice``.

    The spec documents one of them per operation (usually the collection, sometimes the element, as for
    POST /Payments); the other is accepted just as well, so the body's keys decide which schema applies.
    """

    key: str
    collection: _Node
    element: _Node

    def pick(self, body: object) -> _Node:
        if isinstance(body, dict) and self.key in body:
            return self.collection
        return self.element


@dataclass(frozen=True, slots=True)
class _OperationSpec:
    method: str
    template: str
    operation_id: str
    segments: tuple[str | None, ...]  # lower-cased literal, or None for a parameter
    param_names: tuple[str, ...]
    param_uuid: tuple[bool, ...]
    request: _Node | None
    shapes: _Shapes | None
    responses: Mapping[str, _Node | None]
    error: _Node


@dataclass(frozen=True)
class Operation:
    """One documented operation, matched to a concrete request path."""

    method: str
    template: str
    operation_id: str
    params: dict[str, str]
    _spec: _OperationSpec = field(repr=False, compare=False)

    def check_request(self, body: object) -> list[Violation]:
        spec = self._spec
        if spec.request is None:
            return []
        node = spec.request if spec.shapes is None else spec.shapes.pick(body)
        return _Checker(f"{self.method} {self.template} request", response=False).run(node, body)

    def check_response(self, status: int, body: object) -> list[Violation]:
        spec = self._spec
        key = str(status)
        if key in spec.responses:
            node = spec.responses[key]
        elif status == 400 and isinstance(body, dict) and "Type" in body:
            # Most operations leave their 400 undocumented, but Xero's error body has one shape everywhere.
            node = spec.error
        else:
            # Auth, not-found, rate-limit and server errors are documented nowhere: nothing to check against.
            return []
        if node is None:
            return []
        return _Checker(f"{self.method} {self.template} response {status}", response=True).run(node, body)


class AccountingSpec:
    """The operations of the vendored Accounting API spec, each with its compiled request and response schemas."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        compiler = _Compiler(document)
        error = compiler.ref(_ERROR_SCHEMA)
        self._by_method: dict[str, list[_OperationSpec]] = {}
        for template, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method in _METHODS:
                operation = item.get(method)
                if operation is not None:
                    built = _build_operation(compiler, method.upper(), template, operation, shared, error)
                    self._by_method.setdefault(built.method, []).append(built)

    @classmethod
    def load(cls) -> AccountingSpec:
        """The vendored spec, parsed and compiled once per process."""
        return _load()

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation serving ``method`` on ``path`` (relative to /api.xro/2.0), or None if none is documented."""
        path = path.partition("?")[0]
        path = path.removeprefix("/api.xro/2.0")
        values = [unquote(part) for part in path.strip("/").split("/")]
        lowered = [value.lower() for value in values]
        best: tuple[int, int, int] | None = None
        found: _OperationSpec | None = None
        for order, candidate in enumerate(self._by_method.get(method.upper(), ())):
            if len(candidate.segments) != len(values):
                continue
            if not all(seg is None or seg == low for seg, low in zip(candidate.segments, lowered, strict=True)):
                continue
            params = [value for seg, value in zip(candidate.segments, values, strict=True) if seg is None]
            # A literal segment beats a parameter (/Reports/BalanceSheet over /Reports/{ReportID}); among
            # parameters, a uuid value picks the uuid-typed template (/Contacts/{ContactID} over {ContactNumber}).
            literals = len(candidate.segments) - len(params)
            fit = sum(
                is_uuid == bool(_UUID_RE.fullmatch(value))
                for is_uuid, value in zip(candidate.param_uuid, params, strict=True)
            )
            rank = (literals, fit, -order)
            if best is None or rank > best:
                best, found = rank, candidate
        if found is None:
            return None
        params_by_name = dict(
            zip(found.param_names, (v for s, v in zip(found.segments, values, strict=True) if s is None), strict=True)
        )
        return Operation(found.method, found.template, found.operation_id, params_by_name, found)


def _build_operation(
    compiler: _Compiler,
    method: str,
    template: str,
    operation: Mapping[str, Any],
    shared: list[Mapping[str, Any]],
    error: _Node,
) -> _OperationSpec:
    param_schemas: dict[str, Mapping[str, Any]] = {}
    for param in [*shared, *operation.get("parameters", [])]:
        resolved = compiler.resolve(param["$ref"]) if "$ref" in param else param
        if resolved.get("in") == "path":
            param_schemas[resolved["name"]] = resolved.get("schema", {})
    segments: list[str | None] = []
    names: list[str] = []
    for part in template.strip("/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            segments.append(None)
            names.append(part[1:-1])
        else:
            segments.append(part.lower())
    request: _Node | None = None
    shapes: _Shapes | None = None
    request_schema = _json_schema(compiler, operation.get("requestBody"))
    if request_schema is not None:
        request = compiler.compile(request_schema)
        endpoint = next(part for part in reversed(template.split("/")) if part and not part.startswith("{"))
        shapes = _shapes(compiler, request_schema, endpoint)
    responses: dict[str, _Node | None] = {}
    for status, response in operation.get("responses", {}).items():
        schema = _json_schema(compiler, response)
        node = None if schema is None else compiler.compile(schema)
        responses[str(status)] = compiler.enveloped(node) if node is not None and str(status)[0] == "2" else node
    return _OperationSpec(
        method=method,
        template=template,
        operation_id=operation["operationId"],
        segments=tuple(segments),
        param_names=tuple(names),
        param_uuid=tuple(param_schemas.get(name, {}).get("format") == "uuid" for name in names),
        request=request,
        shapes=shapes,
        responses=responses,
        error=error,
    )


def _json_schema(compiler: _Compiler, holder: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The JSON schema of a request body or response object, following a ``$ref`` to the shared definition."""
    if holder is None:
        return None
    if "$ref" in holder:
        holder = compiler.resolve(holder["$ref"])
        assert holder is not None
    schema: Mapping[str, Any] | None = holder.get("content", {}).get(_JSON, {}).get("schema")
    return schema


def _shapes(compiler: _Compiler, schema: Mapping[str, Any], endpoint: str) -> _Shapes | None:
    """Both accepted shapes of a request body, whichever of them the spec documents."""
    documented = compiler.compile(schema)
    if documented.type != "object":
        return None
    # Collection schemas name their key in x-objectArrayKey (snake case: "bank_transfers"); element schemas such as
    # Payment or TrackingCategory have none, even when they hold arrays of their own.
    resolved = compiler.resolve(schema["$ref"]) if "$ref" in schema else schema
    array_key = resolved.get("x-objectArrayKey")
    if array_key:
        wanted = array_key.replace("_", "").lower()
        for name, sub in resolved.get("properties", {}).items():
            items = sub.get("items", {})
            if sub.get("type") == "array" and "$ref" in items and name.lower() == wanted:
                return _Shapes(name, documented, compiler.ref(items["$ref"]))
        return None
    # An element schema: its collection is named after the endpoint (POST /Payments takes {"Payments": [...]}).
    if documented.properties is not None and endpoint in documented.properties:
        return None
    collection = _Node(type="object", properties={endpoint: _Node(type="array", items=documented)})
    return _Shapes(endpoint, collection, documented)


class _Loader(yaml.CSafeLoader):
    """Keeps unquoted dates such as ``2019-03-11`` as the strings the spec means them to be."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }


@functools.cache
def _load() -> AccountingSpec:
    with SPEC_PATH.open("rb") as stream:
        document = yaml.load(stream, Loader=_Loader)  # noqa: S506 - a safe loader with one resolver removed
    return AccountingSpec(document)
