"""The full web app: the core API plus the console, the portal and their static files."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from litestar import Controller, Litestar, Router, get
from litestar.datastructures import ResponseHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from app.auth.web_session import SessionKind
from app.kit.errors import ERROR_PAGE
from app.main import create_app as create_core_app
from app.main import settings_for
from app.settings import Settings
from app.state import AppState
from portal import console, member
from portal.shared.errors import error_page
from portal.shared.flash import FlashMiddleware, flashed
from portal.shared.session import NotSignedIn, WebSessionMiddleware, not_signed_in_handler

HERE = Path(__file__).parent
# Pages hold people's data: never framed by another site, never kept in a shared cache.
PAGE_HEADERS = [
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Content-Security-Policy", value="frame-ancestors 'none'"),
    ResponseHeader(name="Cache-Control", value="no-store"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
]


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect(path="/portal/", status_code=303)


def web_routes() -> list[Router]:
    areas: list[tuple[SessionKind, list[type[Controller]]]] = [
        ("console", console.PAGES),
        ("portal", member.PAGES),
    ]
    return [
        Router(
            path="/",
            route_handlers=pages,
            middleware=[FlashMiddleware, WebSessionMiddleware(kind)],
            exception_handlers={NotSignedIn: not_signed_in_handler},
            response_headers=PAGE_HEADERS,
        )
        for kind, pages in areas
    ]


def templates(settings: Settings) -> Environment:
    """The pages' templates. Jinja checks each template's file for changes on every render unless
    told not to; only a developer's machine needs that."""
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        auto_reload=settings.environment == "development",
    )
    environment.globals["flashed"] = flashed
    return environment


def create_app(settings: Settings | None = None, *, state: AppState | None = None) -> Litestar:
    settings = settings_for(settings, state)
    environment = templates(settings)
    app = create_core_app(
        settings,
        state=state,
        route_handlers=[
            *web_routes(),
            home,
            create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
        ],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
    )
    app.state[ERROR_PAGE] = error_page(environment)
    return app
