"""The app factory: one place where plugins, middleware, routes and errors are put together."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager

import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.enums import HttpMethod, ScopeType
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.routes import BaseRoute, HTTPRoute
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, ControllerRouterHandler, Message, Receive, Scope, Send
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api_key.controller import ApiKeyController
from app.audit.controller import AuditController
from app.auth.middleware import ApiKeyAuthMiddleware, MemberTokenAuthMiddleware
from app.billing.controller import BillingController, BillingRunController
from app.booking.controller import BookingController, ResourceController
from app.catalog.controller import (
    DiscountController,
    PlanController,
    RevenueAccountController,
    TaxPolicyController,
    TaxRateController,
)
from app.company.controller import CompanyController
from app.db.direct import DriverPool
from app.db.engine import create_engine, create_sessionmaker
from app.db.provision import APP_ROLE
from app.db.session import provide_db, provide_reads
from app.dependencies import (
    provide_app_state,
    provide_member,
    provide_operator,
    provide_throttle,
)
from app.fee.controller import FeeController
from app.health.controller import HealthController
from app.integrations.xero.client import XeroClient
from app.integrations.xero.controller import LocationXeroController, XeroConnectionController, XeroDocumentController
from app.integrations.xero.throttle import Limits, XeroThrottle
from app.invoice.controller import InvoiceController
from app.kit.clock import Clock
from app.kit.crypto import SecretBox
from app.kit.errors import EXCEPTION_HANDLERS
from app.kit.jobs import JobQueue, deserialize, serialize
from app.kit.logging import configure_logging
from app.kit.openapi import DESCRIPTION, TAGS, document
from app.kit.providers import Providers
from app.kit.request_context import RequestContextMiddleware
from app.kit.security import Passwords
from app.kit.strict_input import guard_input
from app.ledger.controller import CreditNoteController, PaymentController, RefundController
from app.location.controller import LocationController
from app.member.controller import MemberController
from app.member.me_controller import MeController, MemberTokenController
from app.membership.controller import MembershipController
from app.platform.controller import PlatformController
from app.settings import Settings, get_settings
from app.state import STATE_KEY, AppState
from app.tenant.controller import TenantController
from app.user.controller import UserController

log = structlog.get_logger()


async def build_state(settings: Settings) -> AppState:
    engine = create_engine(
        settings.database_url.get_secret_value(),
        app_role=APP_ROLE,
        pool_size=settings.database_pool_size,
    )
    redis = await create_pool(
        RedisSettings.from_dsn(str(settings.redis_url)),
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=settings.worker_queue_name,
    )
    await _warn_if_privileged(engine)
    direct = await DriverPool.open(
        settings.database_url.get_secret_value(),
        app_role=APP_ROLE,
        size=settings.database_pool_size,
        dialect=engine.dialect,
    )
    return AppState(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        redis=redis,
        queue=JobQueue(redis, settings.worker_queue_name),
        passwords=Passwords(settings),
        clock=Clock(),
        secrets=SecretBox(settings),
        providers=providers(settings, redis),
        direct=direct,
    )


def xero_throttle(settings: Settings, redis: ArqRedis) -> XeroThrottle:
    """Xero's limits, shared by every process through Redis (windows shrunk for a scaled sandbox)."""
    scale = settings.xero_time_scale
    limits = Limits(
        minute_seconds=60 / scale, day_seconds=86_400 / scale, margin_seconds=1 / scale, lease_seconds=120 / scale
    )
    return XeroThrottle(redis, settings.redis_key_prefix, limits)


def xero_client(settings: Settings) -> XeroClient | None:
    if not settings.xero_client_id or settings.xero_client_secret is None:
        return None
    return XeroClient(
        client_id=settings.xero_client_id,
        client_secret=settings.xero_client_secret.get_secret_value(),
        login_url=settings.xero_login_url,
        identity_url=settings.xero_identity_url,
        api_url=settings.xero_api_url,
    )


def providers(settings: Settings, redis: ArqRedis) -> Providers:
    """The outside services this deployment is configured for: Xero once it names its app
    (XERO_CLIENT_ID), with the limits every process shares."""
    held = Providers(xero_throttle(settings, redis))
    if (client := xero_client(settings)) is not None:
        held.put(client)
    return held


async def _warn_if_privileged(engine: AsyncEngine) -> None:
    """RLS holds only if the app's own login cannot step around it; say so loudly if it can."""
    async with engine.connect() as connection:
        privileged = (
            await connection.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user"))
        ).scalar_one()
    if privileged:
        log.warning(
            "db.login.privileged",
            detail="DATABASE_URL logs in as a superuser or a BYPASSRLS role; use `flexledger app-login` to make one",
        )


def api_router() -> Router:
    operator_api = Router(
        path="/",
        route_handlers=[
            TenantController,
            LocationController,
            UserController,
            MemberController,
            ApiKeyController,
            TaxRateController,
            RevenueAccountController,
            TaxPolicyController,
            PlanController,
            DiscountController,
            CompanyController,
            ResourceController,
            BookingController,
            MembershipController,
            BillingController,
            BillingRunController,
            InvoiceController,
            AuditController,
            PaymentController,
            RefundController,
            CreditNoteController,
            FeeController,
            XeroConnectionController,
            XeroDocumentController,
            LocationXeroController,
        ],
        middleware=[DefineMiddleware(ApiKeyAuthMiddleware)],
        dependencies={"operator": Provide(provide_operator, sync_to_thread=False)},
    )
    member_api = Router(
        path="/",
        route_handlers=[MeController],
        middleware=[DefineMiddleware(MemberTokenAuthMiddleware)],
        dependencies={"member": Provide(provide_member, sync_to_thread=False)},
    )
    return Router(path="/api/v1", route_handlers=[operator_api, member_api, MemberTokenController])


class AllowEveryMethod:
    """An OPTIONS answer lists every method its path takes. Litestar keeps the handlers of one path
    in several routes when they come from different places (a controller's list and its create),
    and answers OPTIONS from the first of them, listing only its methods."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.methods: dict[str, set[str]] = defaultdict(set)
        for route in routes:
            if isinstance(route, HTTPRoute):
                self.methods[route.path_format] |= {str(method) for method in route.methods}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != HttpMethod.OPTIONS:
            await self.app(scope, receive, send)
            return

        async def send_allow(message: Message) -> None:
            allowed = self.methods.get(scope.get("path_template", ""))
            if message["type"] == "http.response.start" and allowed:
                headers = MutableScopeHeaders.from_message(message)
                if "allow" in headers:
                    headers["allow"] = ", ".join(sorted(allowed))
            await send(message)

        await self.app(scope, receive, send_allow)


def settings_for(settings: Settings | None, state: AppState | None) -> Settings:
    """The settings an app is built with: those given, else the state's, else the environment's."""
    return settings or (state.settings if state else get_settings())


def create_app(
    settings: Settings | None = None,
    *,
    state: AppState | None = None,
    route_handlers: Sequence[ControllerRouterHandler] = (),
    template_config: TemplateConfig | None = None,  # type: ignore[type-arg]
) -> Litestar:
    """Build the ASGI app. ``state`` lets tests hand in their own database and Redis handles;
    ``route_handlers`` and ``template_config`` are how the portal mounts itself."""
    settings = settings_for(settings, state)
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None]:
        own = state is None
        app.state[STATE_KEY] = app_state = state or await build_state(settings)
        if own:
            # What is built by now (modules, routes, the schema, the pools) lives as long as the
            # process: kept out of the collector's sight, a full collection no longer walks it
            # (one took 0.2 s under load, a pause every request in flight waited out).
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if own:
                await app_state.close()

    app = Litestar(
        route_handlers=[
            api_router(),
            PlatformController,
            HealthController,
            *route_handlers,
        ],
        dependencies={
            "app_state": Provide(provide_app_state, sync_to_thread=False),
            "db": Provide(provide_db),
            "reads": Provide(provide_reads, sync_to_thread=False),
            "throttle": Provide(provide_throttle, sync_to_thread=False),
        },
        lifespan=[lifespan],
        before_request=guard_input,
        exception_handlers=EXCEPTION_HANDLERS,
        csrf_config=CSRFConfig(
            secret=settings.secret_key.get_secret_value(),
            cookie_secure=settings.session_cookie_secure,
            cookie_httponly=True,  # the token reaches forms and htmx through the page, not through JS
            cookie_samesite="lax",
            exclude=["^/api/", "^/health/"],
        ),
        openapi_config=OpenAPIConfig(
            title="FlexLedger API",
            version="1.0.0",
            description=DESCRIPTION,
            tags=TAGS,
            use_handler_docstrings=True,
        ),
        template_config=template_config,
        request_max_body_size=settings.request_max_body_bytes,
        debug=False,
    )
    document(app.openapi_schema)
    # Outside Litestar's own exception handling, so the access log sees the status every response
    # really went out with (a 401 raised by authentication, a 404 or 405 from the router).
    app.asgi_handler = RequestContextMiddleware(AllowEveryMethod(app.asgi_handler, app.routes))
    return app
