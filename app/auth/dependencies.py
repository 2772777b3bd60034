from __future__ import annotations

from typing import Any

from litestar import Request

from app.auth.principal import MemberPrincipal, Operator
from app.auth.ratelimit import LoginThrottle
from app.kit.errors import Unauthenticated
from app.state import AppState


def provide_app_state(request: Request[Any, Any, Any]) -> AppState:
    return AppState.of(request.app)


def provide_operator(request: Request[Any, Any, Any]) -> Operator:
    principal = request.scope.get("user")
    if not isinstance(principal, Operator):
        raise Unauthenticated("Operator credentials are required.")
    return principal


def provide_member(request: Request[Any, Any, Any]) -> MemberPrincipal:
    principal = request.scope.get("user")
    if not isinstance(principal, MemberPrincipal):
        raise Unauthenticated("A member token is required.")
    return principal


def provide_throttle(app_state: AppState) -> LoginThrottle:
    settings = app_state.settings
    return LoginThrottle(
        app_state.redis, attempts=settings.login_attempts_per_window, window_seconds=settings.login_window_seconds
    )
