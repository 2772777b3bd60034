"""Request dependencies: their providers, and the typed names handlers declare them by."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import MemberPrincipal, Operator
from app.auth.ratelimit import LoginThrottle
from app.db.direct import Transaction
from app.kit.errors import Unauthenticated
from app.state import AppState


def provide_app_state(request: Request[Any, Any, Any]) -> AppState:
    return AppState.of(request.app)


def operator_of(request: Request[Any, Any, Any]) -> Operator:
    principal = request.scope.get("user")
    if not isinstance(principal, Operator):
        raise Unauthenticated("Operator credentials are required.")
    return principal


def member_of(request: Request[Any, Any, Any]) -> MemberPrincipal:
    principal = request.scope.get("user")
    if not isinstance(principal, MemberPrincipal):
        raise Unauthenticated("A member token is required.")
    return principal


# The principal and the throttle are provided after ``db``, although they need nothing from it:
# Litestar resolves dependencies that are ready at the same time in an anyio task group, which cost
# more than resolving these does. Chained, they are resolved one after another, with no group.


def provide_operator(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Operator:
    return operator_of(request)


def provide_member(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> MemberPrincipal:
    return member_of(request)


def provide_operator_reading(request: Request[Any, Any, Any], reads: NamedDependency[Transaction]) -> Operator:
    return operator_of(request)


def provide_member_reading(request: Request[Any, Any, Any], reads: NamedDependency[Transaction]) -> MemberPrincipal:
    return member_of(request)


# A handler that only reads asks for ``reads`` instead of ``db`` and takes these dependencies, so
# that its principal is provided after ``reads`` as others' after ``db``.
OPERATOR_READS = {"operator": Provide(provide_operator_reading, sync_to_thread=False)}
MEMBER_READS = {"member": Provide(provide_member_reading, sync_to_thread=False)}


def provide_throttle(app_state: NamedDependency[AppState], db: NamedDependency[AsyncSession]) -> LoginThrottle:
    settings = app_state.settings
    return LoginThrottle(
        app_state.redis,
        attempts=settings.login_attempts_per_window,
        window_seconds=settings.login_window_seconds,
        prefix=settings.redis_key_prefix,
    )


# What handlers declare. The parameter name picks the provider registered in app.main.
Db = NamedDependency[AsyncSession]
Reads = NamedDependency[Transaction]  # a direct transaction, for handlers that only read (app.db.direct)
Actor = NamedDependency[Operator]
Me = NamedDependency[MemberPrincipal]
State = NamedDependency[AppState]
Throttle = NamedDependency[LoginThrottle]
