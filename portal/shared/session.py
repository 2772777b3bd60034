"""Signed-in browsers: resolve the session cookie to a principal, and send the rest to sign in."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.response import Redirect
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import MemberPrincipal, Operator
from app.auth.service import operator_for_user
from app.auth.web_session import SessionKind, WebSession, WebSessions, sessions_for
from app.db.direct import Transaction
from app.db.engine import bind_tenant
from app.db.session import opened_for
from app.member import repository as members
from app.state import AppState
from app.user.repository import UserRepository


async def _principal(db: AsyncSession | Transaction, session: WebSession) -> Operator | MemberPrincipal | None:
    """Who the browser's session is for, if they and their organisation are still active."""
    if session.kind == "console":
        if not isinstance(db, AsyncSession):
            raise RuntimeError("console pages read through a session (they load the signed-in user)")
        user = await UserRepository(db, session.tenant_id).signed_in(session.subject_id)
        return await operator_for_user(db, user) if user is not None else None
    if not await members.signed_in(db, session.tenant_id, session.subject_id):
        return None
    return MemberPrincipal(tenant_id=session.tenant_id, member_id=session.subject_id)


class WebSessionMiddleware(ASGIMiddleware):
    """Put the signed-in principal (or None) in ``scope["user"]`` for one area's routes.

    The look-up runs in the request's own transaction, which the handler's ``db`` (or ``reads``)
    carries on (see ``app.db.session``), as the bearer credentials' does."""

    def __init__(self, kind: SessionKind) -> None:
        self.kind = kind

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        state = AppState.of(scope["litestar_app"])
        session = await sessions_for(state).get(self.kind, connection.cookies.get(WebSessions.cookie_name(self.kind)))
        if session is None:
            scope["user"] = None
            await next_app(scope, receive, send)
            return
        async with opened_for(scope, state) as db:
            await bind_tenant(db, session.tenant_id)
            scope["user"] = principal = await _principal(db, session)
            if principal is None:
                await bind_tenant(db, None)  # signed out by now: the request acts for no tenant
            await next_app(scope, receive, send)


class NotSignedIn(Exception):
    def __init__(self, login_path: str) -> None:
        super().__init__(login_path)
        self.login_path = login_path


def signed_in(login_path: str) -> Any:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:  # no thread hop
        if connection.scope.get("user") is None:
            raise NotSignedIn(login_path)

    return guard


def not_signed_in_handler(request: Request[Any, Any, Any], exc: NotSignedIn) -> Response[Any]:
    if request.headers.get("hx-request") == "true":
        return Response(content=None, status_code=204, headers={"HX-Redirect": exc.login_path})
    return Redirect(path=exc.login_path, status_code=303)


def tenant_of(request: Request[Any, Any, Any]) -> uuid.UUID:
    principal = request.scope.get("user")
    assert isinstance(principal, Operator | MemberPrincipal)
    return principal.tenant_id
