"""Flash messages: what the next page says once, after a form sent the browser on.

A handler that redirects after a change says what happened with ``redirect_with``; the message
rides in a short-lived cookie, signed with the app's secret so no one else can put words on our
pages. ``FlashMiddleware`` reads it on the next full page (not an htmx fragment) and clears it as
that page goes out; ``shared/base.html`` shows it. One mechanism for every page, instead of codes
in the URL that each page would have to know.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.state import AppState
from portal.shared.pages import go

COOKIE = "fl_flash"
_STATE = "flash"
MAX_LENGTH = 500
SECONDS = 120  # long enough to follow a redirect, no longer


def _key(state: AppState) -> bytes:
    secret = state.settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"flash messages", hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Flash:
    text: str
    error: bool  # a refusal (shown as an alert), not a notice


def sign(state: AppState, flash: Flash) -> str:
    """The cookie value that carries ``flash``, signed."""
    said = ("e" if flash.error else "n") + flash.text[:MAX_LENGTH]
    payload = base64.urlsafe_b64encode(said.encode()).decode().rstrip("=")
    mac = hmac.new(_key(state), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def _opened(state: AppState, value: str) -> Flash | None:
    payload, _, mac = value.partition(".")
    expected = hmac.new(_key(state), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    said = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    return Flash(said[1:], error=said[:1] == "e")


def redirect_with(request: Request[Any, Any, Any], path: str, message: str, *, error: bool = False) -> Response[Any]:
    """Send the browser to ``path`` (see ``go``), which then says ``message`` once (as a refusal
    if ``error``)."""
    state = AppState.of(request.app)
    response = go(request, path)
    response.set_cookie(
        COOKIE,
        sign(state, Flash(message, error)),
        path="/",
        max_age=SECONDS,
        httponly=True,
        secure=state.settings.session_cookie_secure,
        samesite="lax",
    )
    return response


def flashed(request: Request[Any, Any, Any]) -> Flash | None:
    """The message this page should show, if any (a template global)."""
    flash: Flash | None = request.scope.get("state", {}).get(_STATE)
    return flash


class FlashMiddleware:
    """Reads a flashed message for a full page and clears its cookie as that page goes out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        cookie = connection.cookies.get(COOKIE)
        if cookie is None or connection.headers.get("hx-request") == "true":
            await self.app(scope, receive, send)
            return
        state = AppState.of(scope["litestar_app"])
        scope.setdefault("state", {})[_STATE] = _opened(state, cookie)
        cleared = Cookie(key=COOKIE, value="", path="/", max_age=0, httponly=True, samesite="lax")

        async def send_clearing(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 300:
                MutableScopeHeaders.from_message(message).add("set-cookie", cleared.to_header(header=""))
            await send(message)

        await self.app(scope, receive, send_clearing)
