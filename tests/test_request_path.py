"""The request path's fixed costs. Nothing on it runs in a worker thread: Litestar sends a plain-function guard or
dependency to its thread pool on every request, a hand-off that cost more than the guard itself."""

from __future__ import annotations

import gc

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.utils.sync import AsyncCallable, is_async_callable

from app.main import create_app
from app.settings import Settings


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


def test_no_handler_resolves_its_dependencies_in_a_task_group(app: Litestar) -> None:
    """Dependencies ready at the same time are resolved in an anyio task group: a task per
    dependency, on every request. Each handler's resolve one after another instead."""
    grouped = [
        f"{route.path} {handler.handler_name}: {[sorted(d.key for d in batch) for batch in batches]}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler, HTTPRouteHandler)
        for batches in [handler.create_kwargs_model(path_parameters=route.path_parameters).dependency_batches]
        if any(len(batch) > 1 for batch in batches)
    ]
    assert not grouped, grouped


def test_a_handler_that_reads_directly_opens_no_session(app: Litestar) -> None:
    """A handler taking ``reads`` (a direct transaction) resolves nothing that needs ``db``: its
    principal comes after ``reads`` (``OPERATOR_READS``, ``MEMBER_READS``), and it never takes both."""
    readers = [
        (route, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if isinstance(handler, HTTPRouteHandler) and "reads" in handler.parsed_fn_signature.parameters
    ]
    assert {route.path for route, _ in readers} >= {"/api/v1/invoices", "/api/v1/me/invoices", "/portal"}
    for route, handler in readers:
        model = handler.create_kwargs_model(path_parameters=route.path_parameters)
        resolved = {dependency.key for batch in model.dependency_batches for dependency in batch}
        assert "db" not in resolved, (route.path, resolved)


async def test_the_api_process_keeps_what_it_built_at_start_out_of_the_collector(settings: Settings) -> None:
    """A full collection would otherwise walk every module, route and schema object under load."""
    gc.unfreeze()
    app = create_app(settings)
    async with app.lifespan():
        assert gc.get_freeze_count() > 10_000
    gc.unfreeze()
