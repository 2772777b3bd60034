"""The guard every request's input passes before a handler sees it.

Litestar reads input leniently: it converts ``"100"`` to ``100``, takes JSON whatever the content
type says, reads ``?limit=null`` as "no limit given" and takes the first of a repeated parameter.
This guard, run before any route's parameters are read, holds the API to what its schema declares
instead:

- a route that takes a JSON body takes only ``application/json`` (or a ``+json`` type): 415;
- the body must be UTF-8 JSON of sane depth: 400 (a malformed body is the client's mistake, never
  a 500, whatever it is made of);
- it is decoded strictly into the route's declared type: no string is taken for a number, no
  number for a boolean: 400 naming the field, in the shape Litestar's own validation errors have
  (a number without a fraction, ``2.0``, is an integer, as JSON Schema counts it);
- a query parameter that is not a list comes once, and ``null`` is not a value of one that is not
  text (leave the parameter out instead): 400 naming it.

It is installed as the app's ``before_request`` hook, which every route inherits; a test walks
every route with a body to prove none slips past it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, HTTPException, ValidationException
from litestar.handlers import BaseRouteHandler
from litestar.params import BodyKwarg, QueryParameter
from litestar.typing import FieldDefinition

# msgspec names the failing field as a JSON path at the end of its message; a check across fields
# (a schema's ``__post_init__``) fails at the root and names its field first, as ``field: why``.
_AT_PATH = re.compile(r" - at `\$\.?(.*)`$")
_NAMED = re.compile(r"^([a-z_][a-z0-9_]*): ")
# Deep enough for any body this API declares; deeper is an attack on the decoder, not data.
MAX_DEPTH = 32


class UnsupportedMediaType(HTTPException):
    status_code = 415


def takes_json(data: FieldDefinition | None) -> bool:
    """Whether a handler's ``data`` parameter is a JSON body (the default kind of body)."""
    if data is None:
        return False
    kind = data.kwarg_definition
    return not isinstance(kind, BodyKwarg) or kind.media_type == RequestEncodingType.JSON


def is_json_media(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _too_deep(body: bytes) -> bool:
    """Whether the body nests arrays or objects more than ``MAX_DEPTH`` levels, counted without
    decoding (brackets inside strings skipped), so a hostile body costs one pass over its bytes."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _field_error(request: Request[Any, Any, Any], message: str) -> ValidationException:
    text, _, _ = message.partition(" - at `")
    error: dict[str, str] = {"message": text, "source": "body"}
    if (path := _AT_PATH.search(message)) and path.group(1):
        error["key"] = path.group(1)
    elif named := _NAMED.match(text):
        error["key"] = named.group(1)
    return ValidationException(detail=f"Validation failed for {request.method} {request.url.path}", extra=[error])


@lru_cache(maxsize=1024)  # a handler's signature is fixed: worked out once, not per request
def _single_query_parameters(handler: BaseRouteHandler) -> dict[str, bool]:
    """A handler's query parameters that take one value, by the name they have in the query
    string: whether text is among their types (so that ``null`` is a value of theirs)."""
    return {
        kind.query or kind.name or name: str in field.args or field.annotation is str
        for name, field in handler.parsed_fn_signature.parameters.items()
        if isinstance(kind := field.kwarg_definition, QueryParameter) and not field.is_non_string_sequence
    }


def _check_query(request: Request[Any, Any, Any]) -> None:
    if not request.scope["query_string"]:
        return
    declared = _single_query_parameters(request.route_handler)
    for name, values in request.query_params.dict().items():
        takes_text = declared.get(name)
        if takes_text is None:
            continue
        if len(values) > 1:
            raise _query_error(request, name, f"give {name} once (it came {len(values)} times)")
        if values[0] == "null" and not takes_text:
            raise _query_error(request, name, f"null is not a value of {name}; leave the parameter out instead")


def _query_error(request: Request[Any, Any, Any], name: str, message: str) -> ValidationException:
    return ValidationException(
        detail=f"Validation failed for {request.method} {request.url.path}",
        extra=[{"message": message, "key": name, "source": "query"}],
    )


async def guard_input(request: Request[Any, Any, Any]) -> None:
    """Refuse input that is not what the route declares (see the module's docstring)."""
    _check_query(request)
    data = request.route_handler.parsed_data_field
    if not takes_json(data):
        return
    assert data is not None
    body = await request.body()  # Litestar's body-size limit applies here (413)
    if not body:
        if data.is_optional or data.has_default:
            return
        raise ClientException("A request body is required.")
    media_type, _ = request.content_type
    if not is_json_media(media_type):
        raise UnsupportedMediaType(f"Send the body as application/json (it came as '{media_type or 'nothing'}').")
    if _too_deep(body):
        raise ClientException(f"The JSON body nests deeper than {MAX_DEPTH} levels.")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClientException(f"The body is not valid UTF-8 (byte {exc.start}).") from exc
    try:
        msgspec.json.decode(body, type=data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        if "got `float`" not in str(exc):
            raise _field_error(request, str(exc)) from exc
        _decode_whole_numbers(request, body, data.annotation)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ClientException(f"The body is malformed JSON: {exc}") from exc


def _whole(value: Any) -> Any:
    """``value`` with every float that has no fraction as an int: in JSON (and JSON Schema) ``2.0``
    is the integer 2, as ``2`` is; msgspec's strict mode would refuse it where an int is declared."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole(item) for key, item in value.items()}
    return value


def _decode_whole_numbers(request: Request[Any, Any, Any], body: bytes, annotation: Any) -> None:
    try:
        msgspec.convert(_whole(msgspec.json.decode(body)), type=annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise _field_error(request, str(exc)) from exc
