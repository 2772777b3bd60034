"""One database transaction per request: bound to the authenticated tenant, committed when the
handler succeeds, rolled back when it raises; jobs asked for are enqueued only after the commit.
A handler that only reads asks for ``reads`` instead of ``db`` and gets a direct transaction
(``app.db.direct``) instead of a session. ``tenant_transaction`` is for work that commits on its
own, outside a request's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import structlog
from litestar import Request
from litestar.di import NamedDependency
from litestar.types import Scope
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.capture import set_actor
from app.auth.principal import MemberPrincipal, Operator, actor_label
from app.db.direct import Transaction
from app.db.engine import TENANT_KEY, bind_tenant
from app.state import AppState

log = structlog.get_logger()


_OPENED = "db_session"  # where a transaction opened before the handler waits for it, in the scope's state


def reads_only(scope: Scope) -> bool:
    """Whether the request's handler asks for ``reads`` (a direct transaction) rather than ``db``."""
    return "reads" in scope["route_handler"].parsed_fn_signature.parameters


@asynccontextmanager
async def opened_for(scope: Scope, state: AppState) -> AsyncIterator[AsyncSession | Transaction]:
    """The request's transaction, opened before the handler runs (authentication reads and binds
    in it): a direct one if the handler only reads, else a session, which ``provide_db`` carries on
    (committed here if the handler never asked for it)."""
    if reads_only(scope):
        async with state.direct.transaction() as transaction:
            scope.setdefault("state", {})[_OPENED] = transaction
            yield transaction
        return
    async with state.sessionmaker() as session:
        scope.setdefault("state", {})[_OPENED] = session
        yield session
        if session.in_transaction():
            await session.commit()


def _principal(request: Request[Any, Any, Any]) -> Operator | MemberPrincipal | None:
    found = request.scope.get("user")
    return found if isinstance(found, Operator | MemberPrincipal) else None


def provide_reads(request: Request[Any, Any, Any]) -> Transaction:
    """The direct transaction authentication opened and bound to the principal's tenant."""
    opened = request.scope.get("state", {}).get(_OPENED)
    if not isinstance(opened, Transaction):
        raise RuntimeError("a handler that asks for reads must sit behind authentication, and not ask for db")
    principal = _principal(request)
    tenant_id = principal.tenant_id if principal else None
    if opened.tenant_id != tenant_id:
        raise RuntimeError("the request's transaction is bound to another tenant than its principal")
    if tenant_id is not None:
        structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
    return opened


async def provide_db(
    request: Request[Any, Any, Any], app_state: NamedDependency[AppState]
) -> AsyncGenerator[AsyncSession]:
    principal = _principal(request)
    tenant_id = principal.tenant_id if principal else None
    if tenant_id is not None:
        structlog.contextvars.bind_contextvars(tenant_id=str(tenant_id))
    opened: AsyncSession | Transaction | None = request.scope.get("state", {}).get(_OPENED)
    if isinstance(opened, Transaction):
        raise RuntimeError("a handler asks for db and reads at once")
    async with AsyncExitStack() as stack:
        if opened is None:
            session = await stack.enter_async_context(app_state.sessionmaker())
            await bind_tenant(session, tenant_id)
        else:
            # Authentication bound it to the principal's tenant, in this very transaction.
            session = opened
            if session.info.get(TENANT_KEY) != tenant_id:
                raise RuntimeError("the request's session is bound to another tenant than its principal")
        set_actor(session.sync_session, actor_label(principal))
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
        try:
            await app_state.queue.enqueue_deferred(session)
        except Exception as exc:  # noqa: BLE001 - the request is done; sweeps ring again for its rows
            log.error("jobs.enqueue.failed", error=str(exc))


@asynccontextmanager
async def tenant_transaction(state: AppState, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
    """A transaction of its own for ``tenant_id``, committed when the block ends (rolled back if
    it raises); jobs it asked for are enqueued after the commit."""
    async with state.sessionmaker() as session:
        await bind_tenant(session, tenant_id)
        async with session.begin():
            yield session
        await state.queue.enqueue_deferred(session)
