"""Nothing on a request's path runs in a worker thread: Litestar sends a plain-function guard or
dependency to its thread pool on every request, a hand-off that cost more than the guard itself."""

from __future__ import annotations

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.utils.sync import AsyncCallable, is_async_callable


def _handlers(app: Litestar) -> list[HTTPRouteHandler]:
    return [
        handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler, HTTPRouteHandler)
    ]


def test_every_guard_is_a_coroutine(app: Litestar) -> None:
    threaded = [
        f"{handler.handler_name}: {getattr(guard, 'func', guard)!r}"
        for handler in _handlers(app)
        for guard in handler.resolve_guards()
        if isinstance(guard, AsyncCallable) or not is_async_callable(guard)
    ]
    assert not threaded, threaded


def test_no_dependency_is_sent_to_a_thread(app: Litestar) -> None:
    threaded = [
        f"{handler.handler_name}: {name}"
        for handler in _handlers(app)
        for name, provide in handler.resolve_dependencies().items()
        if provide.sync_to_thread
    ]
    assert not threaded, threaded
