"""The portal and the console in a real browser: Debian's Chromium driven by Playwright, against the
real server (and the Xero sandbox, for connecting an organisation)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import ROLE_SCOPES, Operator
from app.billing.engine import bill_location
from app.catalog import service as catalog
from app.catalog.repository import RevenueAccountRepository
from app.catalog.schemas import PlanCreate, TaxComponentIn, TaxRateCreate
from app.location.models import Location
from app.location.schemas import LocationCreate
from app.location.service import create_location
from app.main import build_state
from app.member.models import Member
from app.member.schemas import MemberCreate
from app.member.service import create_member
from app.membership.schemas import MembershipCreate
from app.membership.service import create_membership
from app.settings import Settings
from app.state import AppState
from app.tenant.service import create_tenant
from sandbox.xero.server import SandboxServer
from tests.fixtures.server import api_process
from tests.fixtures.xero import CLIENT_ID, CLIENT_SECRET, Xero
from tests.support.worlds import PASSWORD, new_customer, new_tenant

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MEMBER_PASSWORD = "browser-member-1"


@dataclass(frozen=True)
class Site:
    url: str
    slug: str
    member_email: str


Extra = Callable[[AsyncSession, AppState, Operator, Location, Member], Awaitable[None]]


async def _seed(settings: Settings, extra: Extra | None = None) -> tuple[str, str]:
    """An operator (its owner signs in with the tests' password) with a location and a member,
    and whatever ``extra`` adds in the same transaction."""
    state = await build_state(settings)
    slug = f"b{uuid.uuid4().hex[:10]}"
    try:
        async with state.sessionmaker() as session, session.begin():
            tenant, owner, _, _ = await create_tenant(
                session,
                state.passwords,
                new_tenant(slug),
                state.clock.now(),
            )
            operator = Operator(tenant.id, "user", owner.id, ROLE_SCOPES["owner"], role="owner")
            location = await create_location(
                session,
                operator,
                LocationCreate(
                    name="Main",
                    code="MAIN",
                    time_zone="Europe/London",
                    country="GB",
                    currency="GBP",
                    tax_mode="exclusive",
                ),
            )
            member = await create_member(
                session,
                operator,
                state.passwords,
                state.settings,
                MemberCreate(
                    email="grace@example.test",
                    name="Grace Hopper",
                    location_id=location.id,
                    password=MEMBER_PASSWORD,
                    send_welcome=False,
                ),
            )
            if extra is not None:
                await extra(session, state, operator, location, member)
    finally:
        await state.close()
    return slug, member.email


@pytest.fixture(scope="module")
def server(settings: Settings, xero_server: SandboxServer) -> Iterator[str]:
    """The real API process, with the Xero sandbox as its Xero."""
    with api_process(settings, xero_server.url) as url:
        yield url


@pytest.fixture
async def site(server: str, settings: Settings) -> Site:
    slug, email = await _seed(settings)
    return Site(server, slug, email)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium package is needed: `python3 dev.py test` installs it (apt-get install chromium)"
    return path


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


async def test_member_signs_in_and_out_of_the_portal(browser: Browser, site: Site, tmp_path: Path) -> None:
    page = await browser.new_page()
    await page.goto(f"{site.url}/portal/")
    await expect(page).to_have_url(f"{site.url}/portal/login")

    # A wrong password: htmx swaps the form in place with the error, the page stays.
    await page.get_by_label("Organisation").fill(site.slug)
    await page.get_by_label("E-mail").fill(site.member_email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not right")
    await expect(page).to_have_url(f"{site.url}/portal/login")

    await page.get_by_label("Password").fill(MEMBER_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site.url}/portal/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Grace Hopper")
    await page.screenshot(path=str(tmp_path / "portal-dashboard.png"), full_page=True)
    cookie = next(c for c in await page.context.cookies() if c["name"] == "fl_portal")
    assert cookie["httpOnly"]
    assert cookie["secure"]
    assert cookie["sameSite"] == "Lax"

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{site.url}/portal/login")
    await page.goto(f"{site.url}/portal/")
    await expect(page).to_have_url(f"{site.url}/portal/login")


async def test_the_sign_in_form_works_without_javascript(chromium_path: str, site: Site) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        context = await browser.new_context(java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{site.url}/portal/login")
        await page.get_by_label("Organisation").fill(site.slug)
        await page.get_by_label("E-mail").fill(site.member_email)
        await page.get_by_label("Password").fill(MEMBER_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(f"{site.url}/portal/")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Grace Hopper")
        await browser.close()


async def test_operator_connects_xero_and_syncs_from_the_console(
    browser: Browser, site: Site, xero: Xero, tmp_path: Path
) -> None:
    await xero.control(
        "POST",
        "apps",
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{site.url}/console/xero/callback"],
        },
    )
    page = await browser.new_page()
    await page.goto(f"{site.url}/console/login")
    await page.get_by_label("Organisation").fill(site.slug)
    await page.get_by_label("E-mail").fill(f"owner@{site.slug}.test")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site.url}/console/")
    await page.get_by_role("link", name="Xero: connections and location mapping").click()

    # Connect: off to Xero's consent screen, tick one organisation, allow, and back.
    await page.get_by_role("button", name="Connect a Xero organisation").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Connect to Xero (sandbox)")
    await page.get_by_label("Demo Coworking Ltd").check()
    await page.get_by_role("button", name="Allow access").click()
    await expect(page).to_have_url(f"{site.url}/console/xero")
    await expect(page.get_by_role("status")).to_contain_text("Connected 1 Xero organisation(s)")
    await expect(page.get_by_role("cell", name="Demo Coworking Ltd")).to_be_visible()

    # The organisation's sync page; Sync now answers in place (htmx), the page stays.
    await page.get_by_role("link", name="0 synced · 0 waiting").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Demo Coworking Ltd")
    here = page.url
    await page.get_by_role("button", name="Sync now").click()
    await expect(page.get_by_role("status")).to_have_text("Sync started: nothing was waiting.")
    assert page.url == here
    await page.screenshot(path=str(tmp_path / "console-xero-sync.png"), full_page=True)


async def _gst_pst_invoice(
    session: AsyncSession, state: AppState, operator: Operator, location: Location, member: Member
) -> None:
    """The member's company issued November's invoice for a 250.00 desk, taxed GST 5% + PST 7%."""
    components = [TaxComponentIn(name="GST", percent="5"), TaxComponentIn(name="PST", percent="7")]
    rate = await catalog.create_tax_rate(session, operator, TaxRateCreate(name="GST + PST", components=components))
    (await RevenueAccountRepository(session, operator.tenant_id).builtin("membership_fees")).tax_rate_id = rate.id
    plan = await catalog.create_plan(session, operator, PlanCreate(name="Hot desk", currency="GBP", price=25000))
    company = await new_customer(session, operator, location)
    member.company_id = company.id
    membership = MembershipCreate(
        company_id=company.id, plan_id=plan.id, location_id=location.id, start_date=date(2026, 11, 1)
    )
    await create_membership(session, operator, membership)
    await bill_location(
        session,
        operator.tenant_id,
        location,
        date(2026, 11, 1),
        started_by="test",
        issue_invoices=True,
        clock=state.clock,
    )


async def test_a_member_reads_each_tax_component_of_an_invoice_on_desktop_and_phone(
    browser: Browser, server: str, settings: Settings, tmp_path: Path
) -> None:
    slug, email = await _seed(settings, _gst_pst_invoice)
    for name, size in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        context = await browser.new_context(viewport=size)  # type: ignore[arg-type]
        page = await context.new_page()
        await page.goto(f"{server}/portal/login")
        await page.get_by_label("Organisation").fill(slug)
        await page.get_by_label("E-mail").fill(email)
        await page.get_by_label("Password").fill(MEMBER_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page).to_have_url(f"{server}/portal/")
        await page.get_by_role("link", name="MAIN-").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice MAIN-")
        # 30.00 of tax on 250.00, split 12.50 and 17.50 on the line and again in the totals.
        parts = page.locator("ul.tax-parts li")
        await expect(parts).to_have_text(["GST 5% 12.50", "PST 7% 17.50"])
        totals = page.locator("table.totals tr.part")
        await expect(totals).to_have_text(["GST 5%12.50", "PST 7%17.50"])
        await expect(page.locator("table.totals tr.total")).to_contain_text("280.00 GBP")
        # Nothing runs off the side of a phone's screen.
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await page.screenshot(path=str(tmp_path / f"portal-invoice-{name}.png"), full_page=True)
        await context.close()
