"""The application's error tree and its rendering as RFC 9457 problem+json.

Every expected failure is an ``AppError`` subclass with an HTTP status and a stable ``code``
string that clients may branch on. Anything else that escapes a handler is a bug: it is logged
with the request id and answered with a generic 500 that leaks nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger()


class AppError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class InvalidInput(AppError):
    status_code = 422
    code = "invalid_input"
    title = "Invalid input"


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    request: Request[Any, Any, Any],
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": f"about:blank#{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
    }
    headers = dict(headers or {})
    if request_id := request.scope.get("state", {}).get("request_id"):
        body["request_id"] = request_id
    if (retry_after := extra.pop("retry_after", None)) is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="flexledger"'  # RFC 9110: a 401 names its scheme
    body.update({k: v for k, v in extra.items() if v is not None})
    if (page := _page_for(request, body)) is not None:
        return Response(page, status_code=status, media_type=MediaType.HTML, headers=headers)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# Where the web faces leave their renderer of a problem as a page, in the app's state (the JSON API
# itself renders none; see portal.shared.errors).
ERROR_PAGE = "error_page"


def _page_for(request: Request[Any, Any, Any], problem: dict[str, Any]) -> str | None:
    """A browser on the console's or the portal's pages gets a page, not JSON (the JSON API never)."""
    if request.url.path.startswith(("/api/", "/health", "/schema")):
        return None
    if "text/html" not in request.headers.get("accept", "") and request.headers.get("hx-request") != "true":
        return None
    render = request.app.state.get(ERROR_PAGE)
    return render(problem) if render is not None else None


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    return problem(
        exc.status_code,
        exc.code,
        exc.title,
        exc.detail,
        request,
        errors=exc.errors,
        retry_after=getattr(exc, "retry_after", None),
    )


_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        return internal_error_handler(request, exc)
    code, title = _HTTP_CODES.get(status, ("http_error", "Request failed"))
    errors = None
    if isinstance(exc, ValidationException):
        code, title = "invalid_request", "The request is not valid"
        errors = _validation_errors(exc.extra)
    detail = exc.detail
    if isinstance(exc, NotFoundException):
        detail = "No such resource."
    elif isinstance(exc, NotAuthorizedException | PermissionDeniedException) and not detail:
        detail = title
    # Litestar's own headers go along: a 405 lists the methods the path takes (Allow).
    return problem(status, code, title, str(detail), request, headers=exc.headers, errors=errors)


def _validation_errors(extra: Any) -> list[dict[str, Any]] | None:
    errors = (
        [extra]
        if isinstance(extra, dict)
        else [e for e in extra if isinstance(e, dict)]
        if isinstance(extra, list)
        else []
    )
    for error in errors:
        # A missing body surfaces as the bare name of the handler's parameter; say what it means.
        if error.get("key") == "data" and error.get("message") == "'data'":
            error["message"] = "A request body is required."
    return errors or None


# PostgreSQL refuses some text outright (a NUL character); that is the client's input, not our bug.
_UNSTORABLE_TEXT = {"22021", "22P05"}
# Raised by the lock-date trigger (see the audit-and-lock-date migration).
PERIOD_LOCKED = "FLLCK"
# Raised by the bookings trigger when a resource is already taken (see the bookings migration).
DOUBLE_BOOKED = "FLOVL"


# Refusals the database's own triggers raise, by SQLSTATE: (code, title, message when it gives none).
_REFUSALS = {
    PERIOD_LOCKED: ("period_locked", "Period locked", "The books are locked for that date."),
    DOUBLE_BOOKED: ("double_booked", "Already booked", "The resource is already booked then."),
}


def driver_error(exc: BaseException) -> Any:
    """The driver's own exception under SQLAlchemy's wrapper (it carries SQLSTATE, message and
    constraint name), or None."""
    return getattr(getattr(exc, "orig", None), "__cause__", None)


def database_error_handler(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    cause = driver_error(exc)
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _REFUSALS:
        code, title, fallback = _REFUSALS[sqlstate]
        return problem(409, code, title, getattr(cause, "message", None) or fallback, request)
    if sqlstate in _UNSTORABLE_TEXT:
        return problem(
            400, "invalid_text", "Invalid text", "The request contains characters that cannot be stored.", request
        )
    return internal_error_handler(request, exc)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("request.failed", path=request.url.path, method=request.method, exc_info=exc)
    return problem(
        500,
        "internal_error",
        "Internal error",
        "Something went wrong on our side.",
        request,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    AppError: app_error_handler,
    HTTPException: http_exception_handler,
    DBAPIError: database_error_handler,
    Exception: internal_error_handler,
}
