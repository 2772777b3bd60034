"""The operator console and the member portal over HTTP: sign-in forms, CSRF, session cookies, htmx."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import BAD_CREDENTIALS
from app.auth.web_session import WebSessions, sessions_for
from app.db.engine import bind_tenant
from app.location.models import Location
from app.member.models import Member
from app.state import AppState
from app.tenant.models import Tenant
from app.user.models import User
from app.user.schemas import UserCreate
from app.user.service import create_user
from portal.shared.flash import COOKIE, Flash, sign
from tests.support.web import Area, csrf_in, form, login_page, sign_in
from tests.support.worlds import PASSWORD, World

HOST = "testserver.local"
PORTAL = Path(__file__).resolve().parent.parent / "portal"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def set_cookie(response: httpx.Response, name: str) -> dict[str, str] | None:
    """The Set-Cookie of ``name`` in a response: its value under "value", attributes lower-cased."""
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        key, _, value = first.partition("=")
        if key == name:
            parsed = {"value": value.strip('"')}
            for attribute in attributes:
                attr, _, attr_value = attribute.partition("=")
                parsed[attr.lower()] = attr_value
            return parsed
    return None


def plant_cookie(client: httpx.AsyncClient, area: Area, value: str) -> None:
    client.cookies.set(WebSessions.cookie_name(area), value, domain=HOST, path=f"/{area}")


def session_cookie(client: httpx.AsyncClient, area: Area) -> str | None:
    return client.cookies.get(WebSessions.cookie_name(area), domain=HOST, path=f"/{area}")


async def rename_member(db: AsyncSession, world: World, name: str) -> None:
    await bind_tenant(db, world.tenant_id)
    member = (await db.execute(select(Member).where(Member.id == world.member.id))).scalar_one()
    member.name = name
    await db.commit()


# --- sign-in pages ----------------------------------------------------------------------------


async def test_sign_in_pages_render_with_a_csrf_field(client: httpx.AsyncClient) -> None:
    for area in ("portal", "console"):
        client.cookies.clear()
        page = await client.get(f"/{area}/login")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "HX-Request" in [value.strip() for value in page.headers["vary"].split(",")]
        assert "<html" in page.text
        assert f'action="/{area}/login"' in page.text
        token = csrf_in(page)
        cookie = set_cookie(page, "csrftoken")
        assert cookie is not None
        assert cookie["value"] == token
        assert "secure" in cookie
        assert cookie["samesite"].lower() == "lax"
        assert client.cookies.get("csrftoken") == token
        # A browser that has the cookie keeps it, and the page renders the same token.
        again = await client.get(f"/{area}/login")
        assert set_cookie(again, "csrftoken") is None
        assert csrf_in(again) == token


async def test_portal_sign_in_sets_a_fresh_hardened_session_cookie(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    await rename_member(db, world_a, "Grace Hopper")
    planted = "planted-by-an-attacker"
    plant_cookie(client, "portal", planted)

    token = await login_page(client, "portal")
    assert token == client.cookies.get("csrftoken")
    response = await client.post("/portal/login", data=form(world_a, world_a.member.email, token))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/portal/"

    cookie = set_cookie(response, "fl_portal")
    assert cookie is not None, response.headers
    assert cookie["value"]
    assert cookie["value"] != planted
    assert "httponly" in cookie
    assert "secure" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/portal"
    assert session_cookie(client, "portal") == cookie["value"]

    page = await client.get(response.headers["location"])
    assert page.status_code == 200, page.text
    assert "Hello, Grace Hopper" in page.text
    assert world_a.member.email in page.text

    plant_cookie(client, "portal", planted)
    anonymous = await client.get("/portal/")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/portal/login"


async def test_a_planted_session_is_destroyed_by_sign_in(
    client: httpx.AsyncClient, state: AppState, world_a: World
) -> None:
    """Even a session id the attacker knows to be live is replaced, and ends, when someone signs in."""
    planted = await sessions_for(state).create("portal", world_a.tenant_id, world_a.member.id)
    plant_cookie(client, "portal", planted)
    assert (await client.get("/portal/")).status_code == 200

    response = await client.post("/portal/login", data=form(world_a, world_a.member.email, client.cookies["csrftoken"]))
    assert response.status_code == 303, response.text
    fresh = session_cookie(client, "portal")
    assert fresh is not None
    assert fresh != planted
    assert await sessions_for(state).get("portal", planted) is None

    plant_cookie(client, "portal", planted)
    assert (await client.get("/portal/")).status_code == 303


async def test_sign_in_without_csrf_token_is_403(client: httpx.AsyncClient, world_a: World) -> None:
    areas: list[tuple[Area, str]] = [("portal", world_a.member.email), ("console", world_a.owner.email)]
    for area, email in areas:
        await login_page(client, area)
        response = await client.post(f"/{area}/login", data=form(world_a, email, None))
        assert response.status_code == 403, response.text
        assert set_cookie(response, f"fl_{area}") is None
        assert session_cookie(client, area) is None


async def test_sign_in_with_a_wrong_csrf_token_is_403(client: httpx.AsyncClient, world_a: World) -> None:
    token = await login_page(client, "portal")
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    for data in (form(world_a, world_a.member.email, forged), form(world_a, world_a.member.email, "x" * 40)):
        response = await client.post("/portal/login", data=data)
        assert response.status_code == 403, response.text
        assert set_cookie(response, "fl_portal") is None
    # The right token in the form, but no CSRF cookie (a cross-site post): refused as well.
    client.cookies.delete("csrftoken")
    response = await client.post("/portal/login", data=form(world_a, world_a.member.email, token))
    assert response.status_code == 403, response.text
    assert set_cookie(response, "fl_portal") is None


async def test_wrong_password_is_401_with_the_error(client: httpx.AsyncClient, world_a: World) -> None:
    areas: list[tuple[Area, str]] = [("portal", world_a.member.email), ("console", world_a.owner.email)]
    for area, email in areas:
        response = await sign_in(client, area, world_a, email, password="not-the-password")
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "<html" in response.text
        assert BAD_CREDENTIALS in response.text
        assert 'role="alert"' in response.text
        assert f'value="{email}"' in response.text
        assert "not-the-password" not in response.text
        assert set_cookie(response, f"fl_{area}") is None
        assert session_cookie(client, area) is None


async def test_htmx_sign_in_answers_with_fragments_and_hx_redirect(client: httpx.AsyncClient, world_a: World) -> None:
    token = await login_page(client, "portal")
    htmx = {"HX-Request": "true", "x-csrftoken": token}
    wrong = {"organisation": world_a.slug, "email": world_a.member.email, "password": "not-the-password"}
    failed = await client.post("/portal/login", data=wrong, headers=htmx)
    assert failed.status_code == 401, failed.text
    assert "<html" not in failed.text.lower()
    assert "<body" not in failed.text.lower()
    assert failed.text.lstrip().startswith("<form")
    assert 'id="sign-in"' in failed.text
    assert BAD_CREDENTIALS in failed.text
    assert "HX-Request" in failed.headers["vary"]
    assert set_cookie(failed, "fl_portal") is None

    right = {**wrong, "password": PASSWORD}
    response = await client.post("/portal/login", data=right, headers=htmx)
    assert response.status_code == 204, response.text
    assert response.headers["HX-Redirect"] == "/portal/"
    assert response.content == b""
    cookie = set_cookie(response, "fl_portal")
    assert cookie is not None
    assert "httponly" in cookie
    assert "secure" in cookie
    assert cookie["path"] == "/portal"
    assert (await client.get("/portal/")).status_code == 200


async def test_logout_ends_the_session(client: httpx.AsyncClient, world_a: World) -> None:
    response = await sign_in(client, "portal", world_a, world_a.member.email)
    assert response.status_code == 303, response.text
    old = session_cookie(client, "portal")
    assert old is not None
    dashboard = await client.get("/portal/")
    assert dashboard.status_code == 200
    token = csrf_in(dashboard)

    logout = await client.post("/portal/logout", data={"_csrf_token": token})
    assert logout.status_code == 303, logout.text
    assert logout.headers["location"] == "/portal/login"
    cleared = set_cookie(logout, "fl_portal")
    assert cleared is not None
    assert cleared["value"] == ""
    assert session_cookie(client, "portal") is None

    plant_cookie(client, "portal", old)
    replay = await client.get("/portal/")
    assert replay.status_code == 303
    assert replay.headers["location"] == "/portal/login"


async def test_logout_needs_the_csrf_token(client: httpx.AsyncClient, world_a: World) -> None:
    assert (await sign_in(client, "portal", world_a, world_a.member.email)).status_code == 303
    refused = await client.post("/portal/logout", data={})
    assert refused.status_code == 403
    assert (await client.get("/portal/")).status_code == 200


async def test_a_console_session_does_not_open_the_portal(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    # A member whose id is the owner's, so only the session's kind tells them apart.
    await bind_tenant(db, world_a.tenant_id)
    db.add(
        Member(
            tenant_id=world_a.tenant_id,
            id=world_a.owner.id,
            email="twin@alpha.test",
            name="Twin Member",
            location_id=world_a.location.id,
        )
    )
    await db.commit()

    response = await sign_in(client, "console", world_a, world_a.owner.email)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/"
    console = session_cookie(client, "console")
    assert console is not None
    assert (await client.get("/console/")).status_code == 200

    denied = await client.get("/portal/")
    assert denied.status_code == 303
    assert denied.headers["location"] == "/portal/login"
    plant_cookie(client, "portal", console)
    denied = await client.get("/portal/")
    assert denied.status_code == 303, denied.text
    assert denied.headers["location"] == "/portal/login"


async def test_a_portal_session_does_not_open_the_console(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    # A user whose id is the member's, so only the session's kind tells them apart.
    await bind_tenant(db, world_a.tenant_id)
    db.add(
        User(
            tenant_id=world_a.tenant_id,
            id=world_a.member.id,
            email="twin@alpha.test",
            name="Twin Owner",
            role="owner",
            password_hash=None,
        )
    )
    await db.commit()

    response = await sign_in(client, "portal", world_a, world_a.member.email)
    assert response.status_code == 303, response.text
    portal = session_cookie(client, "portal")
    assert portal is not None
    assert (await client.get("/portal/")).status_code == 200

    denied = await client.get("/console/")
    assert denied.status_code == 303
    assert denied.headers["location"] == "/console/login"
    plant_cookie(client, "console", portal)
    denied = await client.get("/console/")
    assert denied.status_code == 303, denied.text
    assert denied.headers["location"] == "/console/login"


async def test_a_location_manager_sees_only_their_locations(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    await bind_tenant(db, world_a.tenant_id)
    annex = Location(
        tenant_id=world_a.tenant_id,
        name="Annex",
        code="ANX",
        time_zone="Europe/London",
        country="GB",
        currency="GBP",
        tax_mode="exclusive",
        invoice_number_template="ANX-{number:06}",
        credit_note_number_template="ANX-CN-{number:06}",
    )
    db.add(annex)
    await db.flush()
    manager = await create_user(
        db,
        world_a.operator,
        state.passwords,
        UserCreate(
            email="manager@alpha.test",
            name="Lena Manager",
            role="location_manager",
            password=PASSWORD,
            location_ids=[annex.id],
        ),
    )
    await db.commit()

    response = await sign_in(client, "console", world_a, manager.email)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/"
    cookie = set_cookie(response, "fl_console")
    assert cookie is not None
    assert cookie["path"] == "/console"
    assert "httponly" in cookie
    assert "secure" in cookie

    dashboard = await client.get("/console/")
    assert dashboard.status_code == 200, dashboard.text
    assert "Lena Manager" in dashboard.text
    assert "<td>Annex</td>" in dashboard.text
    assert "<td>ANX</td>" in dashboard.text
    assert "<td>Main</td>" not in dashboard.text
    assert "<td>MAIN</td>" not in dashboard.text

    # The owner, for contrast, sees both.
    client.cookies.clear()
    assert (await sign_in(client, "console", world_a, world_a.owner.email)).status_code == 303
    owners = await client.get("/console/")
    assert owners.status_code == 200
    assert "<td>Annex</td>" in owners.text
    assert "<td>Main</td>" in owners.text


# --- the vendored htmx ------------------------------------------------------------------------


async def test_vendored_htmx_is_the_pinned_file(client: httpx.AsyncClient) -> None:
    vendored = (PORTAL / "static" / "htmx.min.js").read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == HTMX_SHA256

    served = await client.get("/static/htmx.min.js")
    assert served.status_code == 200
    assert served.content == vendored
    assert "javascript" in served.headers["content-type"]

    sri = "sha384-" + base64.b64encode(hashlib.sha384(vendored).digest()).decode()
    base = (PORTAL / "templates" / "shared" / "base.html").read_text()
    integrity = re.findall(r'<script src="/static/htmx\.min\.js" integrity="([^"]+)"', base)
    assert integrity == [sri]

    page = await client.get("/portal/login")
    assert f'<script src="/static/htmx.min.js" integrity="{sri}"' in page.text


async def test_the_session_lasts_as_configured(client: httpx.AsyncClient, state: AppState, world_a: World) -> None:
    response = await sign_in(client, "portal", world_a, world_a.member.email)
    assert response.status_code == 303, response.text
    cookie = set_cookie(response, "fl_portal")
    assert cookie is not None
    assert int(cookie["max-age"]) == state.settings.session_max_age_seconds
    ttl = await state.redis.ttl(f"{state.settings.redis_key_prefix}websession:{cookie['value']}")
    assert 0 < ttl <= state.settings.session_max_age_seconds


async def test_a_deactivated_member_is_signed_out(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    assert (await sign_in(client, "portal", world_a, world_a.member.email)).status_code == 303
    assert (await client.get("/portal/")).status_code == 200
    await bind_tenant(db, world_a.tenant_id)
    member = (await db.execute(select(Member).where(Member.id == world_a.member.id))).scalar_one()
    member.active = False
    await db.commit()
    response = await client.get("/portal/")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/login"
    again = await sign_in(client, "portal", world_a, world_a.member.email)
    assert again.status_code == 401
    assert BAD_CREDENTIALS in again.text


async def test_htmx_requests_without_a_session_get_hx_redirect(client: httpx.AsyncClient) -> None:
    for area in ("portal", "console"):
        response = await client.get(f"/{area}/", headers={"HX-Request": "true"})
        assert response.status_code == 204
        assert response.headers["HX-Redirect"] == f"/{area}/login"


async def test_repeated_failures_lock_the_sign_in_form(
    client: httpx.AsyncClient, state: AppState, world_a: World
) -> None:
    token = await login_page(client, "portal")
    wrong = form(world_a, world_a.member.email, token, password="not-the-password")
    for _ in range(state.settings.login_attempts_per_window):
        assert (await client.post("/portal/login", data=wrong)).status_code == 401
    locked = await client.post("/portal/login", data=form(world_a, world_a.member.email, token))
    assert locked.status_code == 429, locked.text
    assert 1 <= int(locked.headers["retry-after"]) <= state.settings.login_window_seconds
    assert "Too many sign-in attempts" in locked.text
    assert "<form" in locked.text
    assert set_cookie(locked, "fl_portal") is None
    assert session_cookie(client, "portal") is None


async def test_a_suspended_tenants_web_sessions_stop_working(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    session_id = await sessions_for(state).create("console", world_a.tenant_id, world_a.owner.id)
    client.cookies.set("fl_console", session_id, domain="testserver.local")
    assert (await client.get("/console/", follow_redirects=False)).status_code == 200
    await bind_tenant(db, world_a.tenant_id)
    await db.execute(update(Tenant).where(Tenant.id == world_a.tenant_id).values(status="suspended"))
    await db.commit()
    gone = await client.get("/console/", follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/console/login"


async def test_a_new_password_signs_the_member_out_everywhere(
    client: httpx.AsyncClient, state: AppState, world_a: World
) -> None:
    phone = await sessions_for(state).create("portal", world_a.tenant_id, world_a.member.id)
    laptop = await sessions_for(state).create("portal", world_a.tenant_id, world_a.member.id)
    changed = await client.patch(
        f"/api/v1/members/{world_a.member.id}", json={"password": "a-brand-new-password"}, headers=world_a.headers()
    )
    assert changed.status_code == 200, changed.text
    for session_id in (phone, laptop):
        assert await sessions_for(state).get("portal", session_id) is None


async def test_pages_are_not_framed_or_cached(client: httpx.AsyncClient) -> None:
    page = await client.get("/portal/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert page.headers["cache-control"] == "no-store"
    csrf = next(value for value in page.headers.get_list("set-cookie") if value.startswith("csrftoken="))
    assert "httponly" in csrf.lower()


async def test_a_browser_gets_error_pages_not_json(client: httpx.AsyncClient, world_a: World) -> None:
    assert (await sign_in(client, "portal", world_a, world_a.member.email)).status_code == 303
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    missing = await client.get(f"/portal/invoices/{world_a.invoice.id}", headers=browser)  # a draft: not theirs yet
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "No such invoice." in missing.text
    assert 'href="/portal/"' in missing.text
    nowhere = await client.get("/console/no-such-page", headers=browser)
    assert (nowhere.status_code, nowhere.headers["content-type"][:9]) == (404, "text/html")
    assert 'href="/console/"' in nowhere.text
    # The JSON API answers problem documents to everyone, a browser included.
    api = await client.get("/api/v1/invoices", headers=browser)
    assert (api.status_code, api.headers["content-type"]) == (401, "application/problem+json")


# --- flash messages ---------------------------------------------------------------------------


def plant_flash(client: httpx.AsyncClient, value: str) -> None:
    client.cookies.set(COOKIE, value, domain=HOST, path="/")


async def test_a_flash_is_said_once_on_the_next_full_page(
    client: httpx.AsyncClient, state: AppState, world_a: World
) -> None:
    assert (await sign_in(client, "console", world_a, world_a.owner.email)).status_code == 303
    plant_flash(client, sign(state, Flash("Saved.", error=False)))
    page = await client.get("/console/")
    assert '<p class="notice" role="status">Saved.</p>' in page.text
    cleared = set_cookie(page, COOKIE)
    assert cleared is not None
    assert cleared["max-age"] == "0"
    assert "Saved." not in (await client.get("/console/")).text


async def test_a_refusal_is_flashed_as_an_alert(client: httpx.AsyncClient, state: AppState, world_a: World) -> None:
    assert (await sign_in(client, "console", world_a, world_a.owner.email)).status_code == 303
    plant_flash(client, sign(state, Flash("Not connected.", error=True)))
    assert '<p class="error" role="alert">Not connected.</p>' in (await client.get("/console/")).text


async def test_an_htmx_fragment_leaves_the_flash_for_the_page(
    client: httpx.AsyncClient, state: AppState, world_a: World
) -> None:
    assert (await sign_in(client, "console", world_a, world_a.owner.email)).status_code == 303
    plant_flash(client, sign(state, Flash("Saved.", error=False)))
    fragment = await client.get("/console/", headers={"HX-Request": "true"})
    assert set_cookie(fragment, COOKIE) is None
    assert "Saved." in (await client.get("/console/")).text


async def test_a_forged_flash_says_nothing(client: httpx.AsyncClient, world_a: World) -> None:
    assert (await sign_in(client, "console", world_a, world_a.owner.email)).status_code == 303
    forged = base64.urlsafe_b64encode(b"nYour account is closed: call us").decode().rstrip("=")
    plant_flash(client, f"{forged}.{'0' * 64}")
    page = await client.get("/console/")
    assert page.status_code == 200
    assert "Your account is closed" not in page.text


async def test_a_browser_refused_a_page_gets_an_html_page(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    """A location manager may read the Xero page but not connect an organisation: the refusal is a
    page in the console's look, with the request's reference, not a JSON document."""
    await bind_tenant(db, world_a.tenant_id)
    body = UserCreate(
        email="lena@alpha.test",
        name="Lena Manager",
        role="location_manager",
        password=PASSWORD,
        location_ids=[world_a.location.id],
    )
    await create_user(db, world_a.operator, state.passwords, body)
    await db.commit()
    assert (await sign_in(client, "console", world_a, "lena@alpha.test")).status_code == 303
    page = await client.get("/console/xero")
    assert page.status_code == 200
    refused = await client.post(
        "/console/xero/connect",
        data={"_csrf_token": csrf_in(page)},
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert '<link rel="stylesheet" href="/static/app.css">' in refused.text
    assert "Operator console" in refused.text
    assert 'href="/console/"' in refused.text
    assert "Reference: " in refused.text
