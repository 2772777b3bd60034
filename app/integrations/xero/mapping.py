"""Each location's mapping onto its Xero organisation, and the readiness check that compares the
mapping with what the organisation offers right now, before anything is sent.

The organisation's accounts, tax rates, tracking categories, themes and currencies are read live
(five calls), and kept in Redis for two minutes so a few page views do not eat the organisation's
60-calls-a-minute budget that the sync needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.catalog.models import RevenueAccount, TaxRate, TaxRateComponent
from app.catalog.repository import LocationTaxPolicyRepository, RevenueAccountRepository, TaxRateRepository
from app.integrations.xero import documents
from app.integrations.xero.client import XeroAuthError, XeroError
from app.integrations.xero.connections import get_connection
from app.integrations.xero.models import XeroLocationSettings
from app.integrations.xero.repository import LocationSettingsRepository
from app.integrations.xero.schemas import (
    UNTAXED,
    WRITE_OFF,
    AccountChoice,
    ChoicesOut,
    LocationXeroIn,
    OptionChoice,
    ReadinessOut,
    ReadinessProblem,
    TaxTypeChoice,
    ThemeChoice,
    TrackingChoice,
)
from app.integrations.xero.tokens import XeroUnreachable, access, client_of, refused_by_xero
from app.kit.errors import Conflict, InvalidInput, NotFound
from app.kit.money import TaxComponent, effective_rate
from app.ledger.models import PAYMENT_METHODS
from app.location.models import Location
from app.location.service import get_location
from app.state import AppState

CHOICES_SECONDS = 120
XERO_PLACES = Decimal("0.0001")  # Xero states tax rates to four decimal places


def _choices_key(state: AppState, connection_id: uuid.UUID) -> str:
    return f"{state.settings.redis_key_prefix}xero:choices:{connection_id}"


async def choices(state: AppState, operator: Operator, connection_id: uuid.UUID, *, fresh: bool = False) -> ChoicesOut:
    """What this connection's organisation offers now (at most two minutes old unless ``fresh``)."""
    key = _choices_key(state, connection_id)
    if not fresh and (cached := await state.redis.get(key)) is not None:
        return msgspec.json.decode(cached, type=ChoicesOut)
    try:
        granted = await access(state, operator.tenant_id, connection_id)
    except XeroError as problem:
        raise XeroUnreachable(f"Xero could not be reached to renew the connection; try again. ({problem})") from problem
    client = client_of(state)

    async def read(path: str, collection: str) -> list[dict[str, Any]]:
        answer = await client.call(granted.token, granted.xero_tenant_id, "GET", path)
        found: list[dict[str, Any]] = answer.body.get(collection) or []
        return found

    try:
        organisation = (await read("Organisation", "Organisations") or [{}])[0]
        accounts = await read("Accounts", "Accounts")
        tax_rates = await read("TaxRates", "TaxRates")
        tracking = await read("TrackingCategories?includeArchived=true", "TrackingCategories")
        themes = await read("BrandingThemes", "BrandingThemes")
        currencies = await read("Currencies", "Currencies")
    except XeroAuthError as problem:
        raise await refused_by_xero(state, operator.tenant_id, granted, problem.status) from problem
    except XeroError as problem:
        raise XeroUnreachable(f"Xero could not be read just now; try again. ({problem})") from problem
    found = ChoicesOut(
        base_currency=organisation.get("BaseCurrency"),
        currencies=sorted(c["Code"] for c in currencies),
        accounts=[
            AccountChoice(
                code=a["Code"],
                name=a.get("Name", ""),
                type=a.get("Type", ""),
                account_class=a.get("Class", ""),
                status=a.get("Status", ""),
                takes_payments=a.get("Type") == "BANK" or bool(a.get("EnablePaymentsToAccount")),
            )
            for a in accounts
            if a.get("Code")
        ],
        tax_types=[
            TaxTypeChoice(
                tax_type=t["TaxType"],
                name=t.get("Name", ""),
                rate=str(t.get("EffectiveRate", "0")),
                status=t.get("Status", ""),
                for_revenue=bool(t.get("CanApplyToRevenue", True)),
            )
            for t in tax_rates
        ],
        tracking_categories=[
            TrackingChoice(
                id=c["TrackingCategoryID"],
                name=c.get("Name", ""),
                status=c.get("Status", ""),
                options=[
                    OptionChoice(id=o["TrackingOptionID"], name=o.get("Name", ""), status=o.get("Status", ""))
                    for o in c.get("Options") or []
                ],
            )
            for c in tracking
        ],
        branding_themes=[ThemeChoice(id=t["BrandingThemeID"], name=t.get("Name", "")) for t in themes],
    )
    await state.redis.set(key, msgspec.json.encode(found), ex=CHOICES_SECONDS)
    return found


async def mapping_of(session: AsyncSession, operator: Operator, location_id: uuid.UUID) -> XeroLocationSettings | None:
    """The location's mapping, or None while it has none (404 for a location the operator cannot see)."""
    await get_location(session, operator, location_id)
    return await LocationSettingsRepository(session, operator.tenant_id).for_location(location_id)


async def location_settings(session: AsyncSession, operator: Operator, location_id: uuid.UUID) -> XeroLocationSettings:
    found = await mapping_of(session, operator, location_id)
    if found is None:
        raise NotFound("This location is not mapped to a Xero organisation yet.")
    return found


async def mapped_locations(session: AsyncSession, operator: Operator) -> dict[uuid.UUID, uuid.UUID]:
    """Location id -> the connection it is mapped to, for every mapped location."""
    return {s.location_id: s.connection_id for s in await LocationSettingsRepository(session, operator.tenant_id).all()}


async def mapping_subjects(
    session: AsyncSession, operator: Operator
) -> tuple[Sequence[RevenueAccount], Sequence[TaxRate]]:
    """What a mapping maps: the tenant's active revenue accounts and tax rates."""
    return (
        await RevenueAccountRepository(session, operator.tenant_id).active(),
        await TaxRateRepository(session, operator.tenant_id).active(),
    )


async def save_location_settings(
    session: AsyncSession, operator: Operator, location_id: uuid.UUID, data: LocationXeroIn, now: datetime
) -> XeroLocationSettings:
    """Replace the location's mapping. Our own ids in it must be this tenant's; Xero's codes are
    checked against the organisation by the readiness check, not here (Xero may be offline).
    A changed mapping may be the fix for what Xero refused: the organisation's refused and
    waiting documents are sent again at once."""
    await get_location(session, operator, location_id)
    connection = await get_connection(session, operator, data.connection_id)
    if connection.status == "disconnected":
        raise Conflict(f"{connection.name} is disconnected; reconnect it before mapping a location to it.")
    accounts = await RevenueAccountRepository(session, operator.tenant_id).by_ids(data.account_codes.keys())
    if unknown := sorted(str(key) for key in data.account_codes.keys() - accounts.keys()):
        raise NotFound(f"account_codes names revenue accounts that do not exist: {', '.join(unknown)}")
    tax_types = {key if key == UNTAXED else str(_rate_id(key)): code for key, code in data.tax_types.items()}
    rate_ids = {uuid.UUID(key) for key in tax_types if key != UNTAXED}
    rates = await TaxRateRepository(session, operator.tenant_id).by_ids(rate_ids)
    if unknown := sorted(str(key) for key in rate_ids - rates.keys()):
        raise NotFound(f"tax_types names tax rates that do not exist: {', '.join(unknown)}")
    repo = LocationSettingsRepository(session, operator.tenant_id)
    settings = await repo.for_location(location_id, for_update=True)
    if settings is None:
        settings = repo.add(XeroLocationSettings(location_id=location_id, connection_id=connection.id))
    settings.connection_id = connection.id
    settings.account_codes = {str(key): code for key, code in data.account_codes.items()}
    settings.tax_types = tax_types
    settings.payment_accounts = {str(method): code for method, code in data.payment_accounts.items()}
    settings.tracking_category_id, settings.tracking_option_id = data.tracking_category_id, data.tracking_option_id
    settings.branding_theme_id = data.branding_theme_id
    settings.invoice_status, settings.numbering = data.invoice_status, data.numbering
    await session.flush()
    if connection.status == "active":
        await documents.send_waiting(session, operator.tenant_id, connection.id, now)
    return settings


def _rate_id(key: str) -> uuid.UUID:
    try:
        return uuid.UUID(key)
    except ValueError:
        raise InvalidInput(f"tax_types keys are tax rate ids or '{UNTAXED}'; '{key[:60]}' is neither") from None


def percent_of_rate(components: Sequence[TaxRateComponent]) -> Decimal:
    """The rate billing charges for these components, as a percentage to Xero's 4 places."""
    parts = [TaxComponent(c.name, c.percent, c.compound) for c in components]
    return (effective_rate(parts) * 100).quantize(XERO_PLACES, rounding=ROUND_HALF_UP)


async def readiness(
    session: AsyncSession, state: AppState, operator: Operator, location_id: uuid.UUID, *, fresh: bool = False
) -> ReadinessOut:
    """Everything that would stop this location's documents reaching Xero, checked against the
    organisation's settings (read live, or up to two minutes old unless ``fresh``), each with a
    hint how to fix it."""
    location = await get_location(session, operator, location_id)
    problems: list[ReadinessProblem] = []
    settings = await LocationSettingsRepository(session, operator.tenant_id).for_location(location_id)
    if settings is None:
        problems.append(
            ReadinessProblem("connection_id", "The location is not mapped to a Xero organisation.", "Choose one.")
        )
        return ReadinessOut(location.id, False, problems, state.clock.now())
    connection = await get_connection(session, operator, settings.connection_id)
    if connection.status != "active":
        problems.append(
            ReadinessProblem(
                "connection_id",
                f"{connection.name} is {connection.status.replace('_', ' ')}.",
                "Reconnect it from the Xero page of the console, or map the location to another organisation.",
            )
        )
        return ReadinessOut(location.id, False, problems, state.clock.now())
    offered = await choices(state, operator, connection.id, fresh=fresh)
    problems += _currency_problems(location, offered)
    accounts = await RevenueAccountRepository(session, operator.tenant_id).active()
    problems += _account_problems(settings, accounts, offered)
    problems += await _tax_problems(session, operator, location, settings, accounts, offered)
    problems += _other_problems(settings, offered)
    return ReadinessOut(location.id, not any(p.blocking for p in problems), problems, state.clock.now())


def _currency_problems(location: Location, offered: ChoicesOut) -> list[ReadinessProblem]:
    if location.currency == offered.base_currency or location.currency in offered.currencies:
        return []
    return [
        ReadinessProblem(
            "currency",
            f"{location.currency} is not enabled in the Xero organisation "
            f"(its base currency is {offered.base_currency}).",
            f"Add {location.currency} under Settings > Currencies in Xero (needs a plan with multi-currency).",
        )
    ]


def _account_problems(
    settings: XeroLocationSettings, accounts: Sequence[RevenueAccount], offered: ChoicesOut
) -> list[ReadinessProblem]:
    by_code = {a.code: a for a in offered.accounts}
    problems = []
    for account in accounts:
        code = settings.account_codes.get(str(account.id), account.code)
        field = f"account_codes.{account.id}"
        found = by_code.get(code)
        wanted = "LIABILITY" if account.liability else "REVENUE"
        if found is None:
            problems.append(
                ReadinessProblem(field, f"{account.name}: Xero has no account {code}.", "Choose an account Xero has.")
            )
        elif found.status != "ACTIVE":
            problems.append(
                ReadinessProblem(
                    field,
                    f"{account.name}: Xero account {code} ({found.name}) is archived.",
                    "Restore it in Xero's chart of accounts, or choose another account.",
                )
            )
        elif found.account_class != wanted:
            kind = "a liability" if account.liability else "a revenue"
            problems.append(
                ReadinessProblem(
                    field,
                    f"{account.name}: Xero account {code} ({found.name}) is not {kind} account.",
                    f"Choose {kind} account.",
                )
            )
    return problems


async def _tax_problems(
    session: AsyncSession,
    operator: Operator,
    location: Location,
    settings: XeroLocationSettings,
    accounts: Sequence[RevenueAccount],
    offered: ChoicesOut,
) -> list[ReadinessProblem]:
    """Every tax rate this location's lines can carry (the location's policy, else the account's
    own rate, else none) needs a Xero tax type of the same rate that applies to revenue."""
    policy = {
        p.revenue_account_id: p.tax_rate_id
        for p in await LocationTaxPolicyRepository(session, operator.tenant_id).for_location(location.id)
    }
    used = {policy.get(account.id, account.tax_rate_id) for account in accounts}
    rates_repo = TaxRateRepository(session, operator.tenant_id)
    rates: dict[uuid.UUID, TaxRate] = await rates_repo.by_ids({r for r in used if r is not None})
    components = await rates_repo.components(list(rates))
    by_type = {t.tax_type: t for t in offered.tax_types}
    problems = []
    for rate_id in sorted(used, key=lambda r: (r is not None, str(r))):
        key, name = (UNTAXED, "Untaxed lines") if rate_id is None else (str(rate_id), rates[rate_id].name)
        ours = Decimal(0) if rate_id is None else percent_of_rate(components.get(rate_id, []))
        tax_type = settings.tax_types.get(key)
        field = f"tax_types.{key}"
        found = by_type.get(tax_type) if tax_type else None
        if tax_type is None:
            problems.append(ReadinessProblem(field, f"{name}: no Xero tax type chosen.", "Choose one."))
        elif found is None:
            problems.append(ReadinessProblem(field, f"{name}: Xero has no tax type {tax_type}.", "Choose another."))
        elif found.status != "ACTIVE":
            problems.append(
                ReadinessProblem(field, f"{name}: Xero's {found.name} is archived.", "Choose an active tax rate.")
            )
        elif not found.for_revenue:
            problems.append(
                ReadinessProblem(field, f"{name}: Xero's {found.name} is not for income.", "Choose an income tax rate.")
            )
        elif Decimal(found.rate).quantize(XERO_PLACES, rounding=ROUND_HALF_UP) != ours:
            problems.append(
                ReadinessProblem(
                    field,
                    f"{name} is {ours.normalize():f}% here "
                    f"but Xero's {found.name} is {Decimal(found.rate).normalize():f}%.",
                    "Totals would differ; choose a Xero tax rate of the same percentage.",
                )
            )
    return problems


def _other_problems(settings: XeroLocationSettings, offered: ChoicesOut) -> list[ReadinessProblem]:
    problems = []
    if settings.tracking_category_id is not None:
        category = next((c for c in offered.tracking_categories if c.id == settings.tracking_category_id), None)
        option = next((o for o in category.options if o.id == settings.tracking_option_id), None) if category else None
        if category is None or category.status != "ACTIVE":
            problems.append(
                ReadinessProblem(
                    "tracking_category_id", "The tracking category is gone or archived in Xero.", "Choose another."
                )
            )
        elif option is None or option.status != "ACTIVE":
            problems.append(
                ReadinessProblem(
                    "tracking_option_id", f"The {category.name} option is gone or archived in Xero.", "Choose another."
                )
            )
    if settings.branding_theme_id is not None and all(
        t.id != settings.branding_theme_id for t in offered.branding_themes
    ):
        problems.append(
            ReadinessProblem("branding_theme_id", "The branding theme is gone from Xero.", "Choose another theme.")
        )
    by_code = {a.code: a for a in offered.accounts}
    for method, code in sorted(settings.payment_accounts.items()):
        found = by_code.get(code)
        if found is None or found.status != "ACTIVE" or not found.takes_payments:
            problems.append(
                ReadinessProblem(
                    f"payment_accounts.{method}",
                    f"{_paid_by(method)}: Xero account {code} cannot take payments"
                    f"{' (archived)' if found is not None and found.status != 'ACTIVE' else ''}.",
                    "Choose a bank account, or one with 'Enable payments to this account' ticked in Xero.",
                )
            )
    for method in (*PAYMENT_METHODS, WRITE_OFF):
        if method not in settings.payment_accounts:
            problems.append(
                ReadinessProblem(
                    f"payment_accounts.{method}",
                    f"{_paid_by(method)} have no Xero account; they will wait until one is chosen.",
                    "Choose a bad-debt expense account that takes payments."
                    if method == WRITE_OFF
                    else "Choose the bank or clearing account these payments land in.",
                    blocking=False,
                )
            )
    return problems


def _paid_by(method: str) -> str:
    return "Write-offs" if method == WRITE_OFF else f"Payments by {method.replace('_', ' ')}"
