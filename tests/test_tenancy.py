"""Tenant isolation in depth: row-level security, composite keys, and every route of the app."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import issue_member_token
from app.auth.web_session import SessionKind, WebSessions, sessions_for
from app.booking.models import Booking, Resource
from app.catalog.models import LocationTaxPolicy, Plan, RevenueAccount
from app.company.models import Company
from app.db.base import Base
from app.db.engine import bind_tenant
from app.db.models import ApiKey, Email, Location, Member, MemberToken, Tenant, User, UserLocation
from app.membership.models import Membership
from app.state import AppState
from tests.fixtures.xero import Xero
from tests.support.api import keyed, ok
from tests.support.web import csrf_in
from tests.support.worlds import World
from tests.support.xero import connect, stored

TENANT_TABLES: list[type[Base]] = [Tenant, Location, User, UserLocation, Member, MemberToken, ApiKey, Email]


async def _counts(db: AsyncSession, models: Sequence[type[Base]] = TENANT_TABLES) -> dict[str, int]:
    return {
        model.__tablename__: (await db.execute(select(func.count()).select_from(model))).scalar_one()
        for model in models
    }


async def test_without_tenant_context_no_row_is_visible(db: AsyncSession, world_a: World, world_b: World) -> None:
    await bind_tenant(db, world_a.tenant_id)
    as_a = await _counts(db)
    assert as_a["tenants"] == 1
    assert as_a["locations"] == 1
    assert as_a["members"] == 1
    await bind_tenant(db, None)
    assert set((await _counts(db)).values()) == {0}


async def test_a_tenant_sees_only_its_own_rows(db: AsyncSession, world_a: World, world_b: World) -> None:
    await bind_tenant(db, world_b.tenant_id)
    tenant_ids = set((await db.execute(select(Location.tenant_id))).scalars())
    assert tenant_ids == {world_b.tenant_id}
    assert (await db.execute(select(Tenant.slug))).scalars().all() == ["bravo"]


async def test_cannot_write_a_row_into_another_tenant(db: AsyncSession, world_a: World, world_b: World) -> None:
    await bind_tenant(db, world_a.tenant_id)
    db.add(
        Location(
            tenant_id=world_b.tenant_id,
            name="Sneaky",
            code="SNK",
            time_zone="UTC",
            country="GB",
            currency="GBP",
            tax_mode="exclusive",
            invoice_number_template="SNK-{number:06}",
            credit_note_number_template="SNK-CN-{number:06}",
        )
    )
    with pytest.raises(DBAPIError, match="row-level security"):
        await db.flush()


async def test_composite_keys_stop_references_into_another_tenant(
    db: AsyncSession, world_a: World, world_b: World
) -> None:
    await bind_tenant(db, world_a.tenant_id)
    db.add(Member(tenant_id=world_a.tenant_id, email="x@alpha.test", name="X", location_id=world_b.location.id))
    with pytest.raises(IntegrityError, match="fk_members_tenant_id_location_id_locations"):
        await db.flush()


async def test_app_connects_as_a_role_that_neither_owns_nor_bypasses(db: AsyncSession) -> None:
    row = (
        await db.execute(
            text(
                "SELECT current_user, r.rolsuper, r.rolbypassrls, "
                "(SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user) "
                "FROM pg_roles r WHERE r.rolname = current_user"
            )
        )
    ).one()
    assert tuple(row) == ("flexledger_app", False, False, 0)
    forced = (
        await db.execute(
            text(
                "SELECT count(*) FROM pg_class WHERE relname = ANY(:names) AND relrowsecurity AND relforcerowsecurity"
            ),
            {"names": [model.__tablename__ for model in TENANT_TABLES]},
        )
    ).scalar_one()
    assert forced == len(TENANT_TABLES)


async def test_system_lookups_are_the_only_path_across_tenants(db: AsyncSession, world_a: World) -> None:
    await bind_tenant(db, None)
    assert (await db.execute(select(Tenant).where(Tenant.slug == "alpha"))).first() is None
    found = (await db.execute(text("SELECT id FROM sys_tenant_by_slug('alpha')"))).scalar_one()
    assert found == world_a.tenant_id
    with pytest.raises(DBAPIError, match="permission denied"):
        await db.execute(text("SET ROLE flexledger_system"))


# --- every route of the app, called with the wrong tenant's credentials --------------------------

PUBLIC = {
    ("GET", "/"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("POST", "/console/logout"),
    ("GET", "/portal/login"),
    ("POST", "/portal/login"),
    ("POST", "/portal/logout"),
    ("POST", "/api/v1/auth/member-tokens"),
}
PUBLIC_PREFIXES = ("/schema", "/static")
PARAM = re.compile(r"{(\w+):\w+}")


def _ids(world: World) -> dict[str, uuid.UUID]:
    return {
        "location_id": world.location.id,
        "user_id": world.staff.id,
        "member_id": world.member.id,
        "api_key_id": world.spare_key.id,
        "tax_rate_id": world.tax_rate.id,
        "revenue_account_id": world.plan.revenue_account_id,
        "plan_id": world.plan.id,
        "discount_id": world.discount.id,
        "company_id": world.company.id,
        "membership_id": world.membership.id,
        "billing_run_id": world.billing_run.id,
        "invoice_id": world.invoice.id,
    }


def _is_member_api(path: str) -> bool:
    return path == "/api/v1/me" or path.startswith("/api/v1/me/")


def _endpoints(app: Litestar) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            found += [(str(method), route.path) for method in sorted(route.methods - {"OPTIONS", "HEAD"})]
    return found


def _fill(path: str, ids: dict[str, uuid.UUID]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"{path}: no cross-tenant fixture for '{name}'; add one to this test"
        return str(ids[name])

    return PARAM.sub(value, path)


async def _money_of(client: httpx.AsyncClient, world: World) -> dict[str, uuid.UUID]:
    """A credit note, a payment, a refund, a fee, a resource and a booking of the tenant, made
    through the API."""
    headers = world.headers()

    async def post(path: str, body: dict[str, object]) -> dict[str, object]:
        response = await client.post(path, json=body, headers=keyed(headers))
        assert response.status_code in {200, 201}, response.text
        answer: dict[str, object] = response.json()
        return answer

    invoice = await post(f"/api/v1/invoices/{world.invoice.id}/issue", {})
    first_line = invoice["lines"][0]  # type: ignore[index]
    note = await post(
        f"/api/v1/invoices/{world.invoice.id}/credit-notes",
        {"lines": [{"invoice_line_id": first_line["id"], "amount": 100}]},
    )
    today = invoice["issue_date"]
    payment = await post(
        "/api/v1/payments",
        {
            "company_id": str(world.company.id),
            "amount": 50000,
            "currency": "GBP",
            "method": "bank_transfer",
            "paid_on": today,
        },
    )
    refund = await post(
        "/api/v1/refunds",
        {
            "company_id": str(world.company.id),
            "amount": 100,
            "currency": "GBP",
            "method": "bank_transfer",
            "refunded_on": today,
        },
    )
    fee = await post(
        "/api/v1/fees",
        {
            "company_id": str(world.company.id),
            "location_id": str(world.location.id),
            "description": "Key card",
            "unit_amount": 500,
            "charge_date": today,
        },
    )
    resource = await post(
        "/api/v1/resources", {"location_id": str(world.location.id), "name": "Boardroom", "hourly_rate": 4000}
    )
    booking = await post(
        "/api/v1/bookings",
        {
            "resource_id": resource["id"],
            "company_id": str(world.company.id),
            "starts_at": f"{today}T10:00:00",
            "ends_at": f"{today}T11:00:00",
        },
    )
    return {
        "resource_id": uuid.UUID(str(resource["id"])),
        "booking_id": uuid.UUID(str(booking["id"])),
        "fee_id": uuid.UUID(str(fee["id"])),
        "credit_note_id": uuid.UUID(str(note["id"])),
        "payment_id": uuid.UUID(str(payment["id"])),
        "refund_id": uuid.UUID(str(refund["id"])),
    }


async def _member_token(db: AsyncSession, state: AppState, world: World) -> str:
    await bind_tenant(db, world.tenant_id)
    world.member.active = True
    token, _ = await issue_member_token(db, state, world.member, "test")
    await db.commit()
    return token


Call = Callable[..., Awaitable[httpx.Response]]


@dataclass
class Probe:
    """Tenant A owns the resources named in the paths; tenant B's credentials try to reach them."""

    db: AsyncSession
    state: AppState
    a: World
    b: World
    a_ids: set[str]
    member_a: str
    member_b: str
    console_b: str
    portal_b: str

    def leaks(self, response: httpx.Response) -> set[str]:
        return self.a_ids & set(re.findall(r"[0-9a-f-]{36}", response.text))


async def _member_route(probe: Probe, call: Call, label: str, with_ids: bool) -> None:
    assert (await call({})).status_code == 401, label
    assert (await call(probe.a.headers())).status_code == 401, label
    as_b = await call({"Authorization": f"Bearer {probe.member_b}"})
    if not with_ids:
        assert as_b.status_code < 400, label
        assert not probe.leaks(as_b), label
        return
    assert as_b.status_code == 404, f"{label}: another tenant's id must answer 404, got {as_b.status_code}"
    # Earlier routes may have deactivated A's member (which ends its tokens): start afresh.
    fresh = await _member_token(probe.db, probe.state, probe.a)
    as_a = await call({"Authorization": f"Bearer {fresh}"})
    assert as_a.status_code not in {401, 403, 404}, f"{label}: the member's own call failed: {as_a.text}"


async def _operator_route(probe: Probe, call: Call, label: str, with_ids: bool) -> None:
    assert (await call({})).status_code == 401, label
    assert (await call({"Authorization": f"Bearer {probe.member_a}"})).status_code == 401, label
    as_b = await call(probe.b.headers())
    if with_ids:
        assert as_b.status_code == 404, f"{label}: another tenant's id must answer 404, got {as_b.status_code}"
        # The owner reaches the resource: any answer but "not found" or "not allowed" (a state
        # conflict, such as issuing a voided invoice, still proves the route found it).
        as_a = await call(probe.a.headers())
        assert as_a.status_code not in {401, 403, 404}, f"{label}: the owner's call failed: {as_a.text}"
        assert as_a.status_code < 500, f"{label}: {as_a.text}"
    elif label.startswith("GET"):
        assert as_b.status_code == 200, label
        assert not probe.leaks(as_b), f"{label} leaked tenant A"


# Routes whose body has required fields: which of tenant A's ids fill them.
BODIES = {
    ("PUT", "/api/v1/locations/{location_id:uuid}/xero"): {"connection_id": "connection_id"},
    ("POST", "/api/v1/locations/{location_id:uuid}/xero/earlier"): {"since": "2026-01-01"},
}

# Pages that answer something other than 200 to a signed-in operator of the right tenant.
WEB_ANSWERS = {
    ("GET", "/console/xero/callback"): 422,  # no consent to finish
    ("POST", "/console/xero/connect"): 303,  # off to Xero's consent screen
}


async def _web_route(probe: Probe, call: Call, label: str, with_ids: bool, kind: SessionKind) -> None:
    anonymous = await call({})
    assert anonymous.status_code == 303, label
    assert anonymous.headers["location"] == f"/{kind}/login", label
    cookie = WebSessions.cookie_name(kind)
    as_b = await call({}, {cookie: probe.console_b if kind == "console" else probe.portal_b})
    method, _, template = label.partition(" ")
    if not with_ids:
        assert as_b.status_code == WEB_ANSWERS.get((method, template), 200), f"{label}: {as_b.text}"
        assert "Alpha Spaces" not in as_b.text, label
        return
    assert as_b.status_code == 404, f"{label}: another tenant's id must answer 404, got {as_b.status_code}"
    subject = probe.a.owner.id if kind == "console" else probe.a.member.id
    session_a = await sessions_for(probe.state).create(kind, probe.a.tenant_id, subject)
    as_a = await call({}, {cookie: session_a})
    if method == "GET":
        assert as_a.status_code == 200, f"{label}: {as_a.status_code}"
    else:  # a form post: a redirect, or the page again saying what was wrong with the (empty) form
        assert as_a.status_code in {303, 422}, f"{label}: {as_a.status_code} {as_a.text}"


async def test_every_route_refuses_another_tenants_credentials(
    app: Litestar,
    client: httpx.AsyncClient,
    db: AsyncSession,
    state: AppState,
    world_a: World,
    world_b: World,
    xero: Xero,
) -> None:
    connection_id = await _xero_of(client, db, world_a, xero)  # first, so A's money is synced too
    ids_a = {**_ids(world_a), **await _money_of(client, world_a), "connection_id": connection_id}
    ids_a["object_id"] = ids_a["invoice_id"]
    csrf = await _csrf(client)
    probe = Probe(
        db=db,
        state=state,
        a=world_a,
        b=world_b,
        a_ids={str(value) for value in ids_a.values()} | {str(world_a.tenant_id)},
        member_a=await _member_token(db, state, world_a),
        member_b=await _member_token(db, state, world_b),
        console_b=await sessions_for(state).create("console", world_b.tenant_id, world_b.owner.id),
        portal_b=await sessions_for(state).create("portal", world_b.tenant_id, world_b.member.id),
    )
    checked = 0
    for method, template in _endpoints(app):
        if (method, template) in PUBLIC or template.startswith(PUBLIC_PREFIXES):
            continue
        checked += 1

        async def call(
            headers: dict[str, str],
            cookies: dict[str, str] | None = None,
            method: str = method,
            path: str = _fill(template, ids_a),
            template: str = template,
        ) -> httpx.Response:
            client.cookies.clear()
            # Forms carry the CSRF token and money-moving posts their Idempotency-Key, so what is
            # tested is the tenant wall.
            if method != "GET":
                cookies = {**(cookies or {}), "csrftoken": csrf[0]}
                headers = keyed({**headers, "x-csrftoken": csrf[1]})
            for name, value in (cookies or {}).items():
                client.cookies.set(name, value, domain="testserver.local")
            body: dict[str, object] | None = {} if method in {"PATCH", "POST", "PUT"} else None
            if (method, template) in BODIES:  # a body the route cannot do without, naming A's ids
                body = {key: str(ids_a.get(name, name)) for key, name in BODIES[method, template].items()}
            return await client.request(method, path, json=body, headers=headers, follow_redirects=False)

        label, with_ids = f"{method} {template}", bool(PARAM.search(template))
        if _is_member_api(template):
            await _member_route(probe, call, label, with_ids)
        elif template.startswith("/api/v1/"):
            await _operator_route(probe, call, label, with_ids)
        elif template.startswith("/api/platform/"):
            assert (await call({})).status_code == 401, label
            assert (await call(world_a.headers())).status_code == 401, label
        elif template.startswith(("/console", "/portal")):
            await _web_route(probe, call, label, with_ids, "console" if template.startswith("/console") else "portal")
        else:
            pytest.fail(f"{label} is in no known area: classify it in this test")
    assert checked >= 20


async def _xero_of(client: httpx.AsyncClient, db: AsyncSession, world: World, xero: Xero) -> uuid.UUID:
    """A Xero connection of the tenant, made through the console's consent flow, with the
    tenant's location mapped to it."""
    await connect(client, world, xero, [(await xero.organisations())[0]["id"]])
    (connection,), _ = await stored(db, world)
    body = {"connection_id": str(connection.id)}
    ok(await client.put(f"/api/v1/locations/{world.location.id}/xero", json=body, headers=world.headers()))
    return connection.id


async def _csrf(client: httpx.AsyncClient) -> tuple[str, str]:
    """A CSRF cookie and its token, as a page of the console hands them out."""
    client.cookies.clear()
    page = await client.get("/console/login")
    return str(client.cookies["csrftoken"]), csrf_in(page)


def test_every_operator_api_handler_declares_a_scope(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/v1/"):
            continue
        if _is_member_api(route.path) or route.path.startswith("/api/v1/auth/"):
            continue
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"}:
                continue
            scopes = [getattr(guard, "required_scope", None) for guard in handler.guards or []]
            assert any(scopes), f"{route.path} {handler.http_methods} has no requires(...) guard"


async def test_bodies_naming_another_tenants_ids_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World, world_b: World
) -> None:
    """Writes by tenant B that point at tenant A's rows fail, and nothing is written anywhere."""
    a = world_a
    b_room = ok(
        await client.post(
            "/api/v1/resources",
            json={"location_id": str(world_b.location.id), "name": "Room", "hourly_rate": 100},
            headers=world_b.headers(),
        ),
        201,
    )
    attempts = [
        ("/api/v1/members", {"email": "x@bravo.test", "name": "X", "location_id": str(a.location.id)}),
        (
            "/api/v1/users",
            {"email": "m@bravo.test", "name": "M", "role": "location_manager", "location_ids": [str(a.location.id)]},
        ),
        (
            "/api/v1/companies",
            {
                "legal_name": "Sneaky",
                "billing_email": "s@bravo.test",
                "country": "GB",
                "currency": "GBP",
                "home_location_id": str(a.location.id),
            },
        ),
        (
            "/api/v1/memberships",
            {
                "company_id": str(a.company.id),
                "plan_id": str(world_b.plan.id),
                "location_id": str(world_b.location.id),
                "start_date": "2026-12-01",
            },
        ),
        (
            "/api/v1/memberships",
            {
                "company_id": str(world_b.company.id),
                "plan_id": str(a.plan.id),
                "location_id": str(world_b.location.id),
                "start_date": "2026-12-01",
            },
        ),
        (
            "/api/v1/memberships",
            {
                "company_id": str(world_b.company.id),
                "plan_id": str(world_b.plan.id),
                "location_id": str(world_b.location.id),
                "start_date": "2026-12-01",
                "discount_id": str(a.discount.id),
            },
        ),
        ("/api/v1/revenue-accounts", {"name": "Sneaky", "code": "SNK", "tax_rate_id": str(a.tax_rate.id)}),
        ("/api/v1/resources", {"location_id": str(a.location.id), "name": "Sneaky", "hourly_rate": 1}),
        (
            "/api/v1/resources",
            {
                "location_id": str(world_b.location.id),
                "name": "Sneaky",
                "hourly_rate": 1,
                "revenue_account_id": str(a.plan.revenue_account_id),
            },
        ),
        (
            "/api/v1/bookings",
            {
                "resource_id": str(b_room["id"]),
                "company_id": str(a.company.id),
                "starts_at": "2026-12-01T10:00:00",
                "ends_at": "2026-12-01T11:00:00",
            },
        ),
        (
            "/api/v1/bookings",
            {
                "resource_id": str(b_room["id"]),
                "company_id": str(world_b.company.id),
                "starts_at": "2026-12-01T10:00:00",
                "ends_at": "2026-12-01T11:00:00",
                "discount_id": str(a.discount.id),
            },
        ),
        (
            "/api/v1/plans",
            {"name": "Sneaky", "currency": "GBP", "price": 1, "revenue_account_id": str(a.plan.revenue_account_id)},
        ),
    ]
    # Every table the attempts would write to, besides the foundation's.
    written: list[type[Base]] = [
        *TENANT_TABLES,
        Company,
        Membership,
        RevenueAccount,
        Resource,
        Booking,
        Plan,
        LocationTaxPolicy,
    ]
    await bind_tenant(db, world_b.tenant_id)
    before = await _counts(db, written)
    for path, body in attempts:
        response = await client.post(path, json=body, headers=world_b.headers())
        assert response.status_code == 404, f"{path} {body}: {response.status_code} {response.text}"
    policy = {
        "entries": [{"revenue_account_id": str(world_b.plan.revenue_account_id), "tax_rate_id": str(a.tax_rate.id)}]
    }
    response = await client.put(
        f"/api/v1/locations/{world_b.location.id}/tax-policy", json=policy, headers=world_b.headers()
    )
    assert response.status_code == 404, response.text
    await bind_tenant(db, world_b.tenant_id)
    assert await _counts(db, written) == before


async def test_lists_never_show_another_tenants_names(
    client: httpx.AsyncClient, world_a: World, world_b: World
) -> None:
    words_of_a = ["Alpha Spaces", "owner@alpha.test", "member@alpha.test", "staff@alpha.test"]
    for path in ("/api/v1/users", "/api/v1/members", "/api/v1/companies", "/api/v1/tenant", "/api/v1/invoices"):
        response = await client.get(path, headers=world_b.headers())
        assert response.status_code == 200, path
        assert not [word for word in words_of_a if word in response.text], path
