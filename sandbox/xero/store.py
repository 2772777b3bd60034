"""Everything the sandbox remembers: apps, grants, connections and each organisation's books.

Records are dicts shaped like Xero's JSON objects, holding Python values (``Decimal`` amounts,
``date`` and ``datetime``) so that filters compare them natively; ``wire.to_wire`` writes them out.
Keys starting with ``_`` are private bookkeeping and never leave the sandbox.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Record = dict[str, Any]


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class ClientApp:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    name: str = "FlexLedger"


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    auth_event_id: str
    expires_at: float
    code_challenge: str | None
    used: bool = False


@dataclass
class Grant:
    """One consent's token family. Refresh tokens rotate; the previous one has a grace period."""

    grant_id: str
    client_id: str
    user_id: str
    scopes: list[str]
    auth_event_id: str
    refresh_token: str
    refreshed_at: float
    previous_refresh_token: str | None = None
    previous_valid_until: float = 0.0
    revoked: bool = False


@dataclass
class Connection:
    id: str
    client_id: str
    user_id: str
    tenant_id: str
    auth_event_id: str
    created: datetime
    updated: datetime


@dataclass
class Replay:
    """A stored response for an ``Idempotency-Key``."""

    fingerprint: tuple[str, str, bytes]
    status: int
    body: bytes
    content_type: str
    expires_at: float


@dataclass
class Organisation:
    id: str
    name: str
    short_code: str
    country: str
    base_currency: str
    timezone: str
    currencies: list[str]
    created: datetime
    period_lock_date: date | None = None
    accounts: dict[str, Record] = field(default_factory=dict)
    tax_rates: dict[str, Record] = field(default_factory=dict)
    tracking: dict[str, Record] = field(default_factory=dict)
    themes: dict[str, Record] = field(default_factory=dict)
    contacts: dict[str, Record] = field(default_factory=dict)
    invoices: dict[str, Record] = field(default_factory=dict)
    credit_notes: dict[str, Record] = field(default_factory=dict)
    payments: dict[str, Record] = field(default_factory=dict)
    bank_transactions: dict[str, Record] = field(default_factory=dict)
    overpayments: dict[str, Record] = field(default_factory=dict)
    replays: dict[str, Replay] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    # (document type, number) -> the document last given that number, so checks need no scan.
    numbers: dict[tuple[str, str], Record] = field(default_factory=dict)

    def numbered(self, doc_type: str, number: str, number_key: str) -> Record | None:
        """The live document of this type holding ``number`` (a deleted draft gives its number up)."""
        found = self.numbers.get((doc_type, number))
        if found is None or found[number_key] != number or found["Status"] == "DELETED":
            return None
        return found

    def next_number(self, doc_type: str, prefix: str) -> str:
        while True:
            self.sequences[prefix] = self.sequences.get(prefix, 0) + 1
            number = f"{prefix}-{self.sequences[prefix]:04d}"
            if (doc_type, number) not in self.numbers:
                return number

    def is_locked(self, day: date) -> bool:
        return self.period_lock_date is not None and day <= self.period_lock_date

    def account_by_code(self, code: str) -> Record | None:
        return next((a for a in self.accounts.values() if a.get("Code") == code), None)


@dataclass
class Store:
    apps: dict[str, ClientApp] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    user_id: str = field(default_factory=new_id)
    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def grant_by_refresh_token(self, token: str) -> tuple[Grant, bool] | None:
        """The grant a refresh token belongs to, and whether it is that grant's current token."""
        for grant in self.grants.values():
            if grant.refresh_token == token:
                return grant, True
            if grant.previous_refresh_token == token:
                return grant, False
        return None

    def connections_of(self, client_id: str, user_id: str) -> list[Connection]:
        return [c for c in self.connections.values() if c.client_id == client_id and c.user_id == user_id]


def _account(code: str, name: str, kind: str, tax_type: str, **extra: Any) -> Record:
    classes = {"REVENUE": "REVENUE", "SALES": "REVENUE", "OTHERINCOME": "REVENUE", "BANK": "ASSET"}
    return {
        "AccountID": new_id(),
        "Code": code,
        "Name": name,
        "Type": kind,
        "Status": "ACTIVE",
        "TaxType": tax_type,
        "Class": classes.get(kind, "LIABILITY" if kind == "CURRLIAB" else "EXPENSE"),
        "EnablePaymentsToAccount": kind == "BANK",
        "ShowInExpenseClaims": False,
        "HasAttachments": False,
        **extra,
    }


def _tax_rate(tax_type: str, name: str, rate: str, *, revenue: bool = True) -> Record:
    value = Decimal(rate)
    return {
        "TaxType": tax_type,
        "Name": name,
        "Status": "ACTIVE",
        "ReportTaxType": "OUTPUT" if revenue else "INPUT",
        "TaxComponents": [{"Name": name, "Rate": value, "IsCompound": False, "IsNonRecoverable": False}],
        "CanApplyToRevenue": revenue,
        "CanApplyToExpenses": not revenue,
        "CanApplyToAssets": True,
        "CanApplyToLiabilities": True,
        "CanApplyToEquity": True,
        "DisplayTaxRate": value,
        "EffectiveRate": value,
    }


# Per country: currency, time zone and the tax rates an operator's chart would offer.
_COUNTRIES: dict[str, tuple[str, str, list[tuple[str, str, str, bool]]]] = {
    "GB": (
        "GBP",
        "GMTSTANDARDTIME",
        [
            ("OUTPUT2", "20% (VAT on Income)", "20.0000", True),
            ("RROUTPUT", "5% (VAT on Income)", "5.0000", True),
            ("ZERORATEDOUTPUT", "Zero Rated Income", "0.0000", True),
            ("EXEMPTOUTPUT", "Exempt Income", "0.0000", True),
            ("NONE", "No VAT", "0.0000", True),
            ("INPUT2", "20% (VAT on Expenses)", "20.0000", False),
        ],
    ),
    "AU": (
        "AUD",
        "AUSEASTERNSTANDARDTIME",
        [
            ("OUTPUT", "GST on Income", "10.0000", True),
            ("EXEMPTOUTPUT", "GST Free Income", "0.0000", True),
            ("BASEXCLUDED", "BAS Excluded", "0.0000", True),
            ("INPUT", "GST on Expenses", "10.0000", False),
        ],
    ),
    "NZ": (
        "NZD",
        "NEWZEALANDSTANDARDTIME",
        [
            ("OUTPUT2", "15% GST on Income", "15.0000", True),
            ("ZERORATED", "Zero Rated", "0.0000", True),
            ("NONE", "No GST", "0.0000", True),
            ("INPUT2", "15% GST on Expenses", "15.0000", False),
        ],
    ),
    "US": (
        "USD",
        "EASTERNSTANDARDTIME",
        [("OUTPUT", "Tax on Sales", "8.8750", True), ("NONE", "Tax Exempt", "0", True)],
    ),
}


def new_organisation(name: str, country: str, now: datetime, *, short_code: str | None = None) -> Organisation:
    """An organisation set up as a small operator's would be: a chart, tax rates, one theme, one tracking slot used."""
    currency, timezone, rates = _COUNTRIES[country]
    default_output = rates[0][0]
    org = Organisation(
        id=new_id(),
        name=name,
        short_code=short_code or "!" + secrets.token_urlsafe(4)[:5],
        country=country,
        base_currency=currency,
        timezone=timezone,
        currencies=[currency],
        created=now,
    )
    for tax_type, rate_name, rate, revenue in rates:
        org.tax_rates[tax_type] = _tax_rate(tax_type, rate_name, rate, revenue=revenue)
    exempt = next(t for t, _, r, rev in rates if rev and Decimal(r) == 0)
    for account in (
        _account("090", "Business Bank Account", "BANK", exempt, BankAccountType="BANK", CurrencyCode=currency),
        _account("091", "Card Clearing", "BANK", exempt, BankAccountType="BANK", CurrencyCode=currency),
        _account("092", "Direct Debit Clearing", "BANK", exempt, BankAccountType="BANK", CurrencyCode=currency),
        _account("200", "Sales", "SALES", default_output),
        _account("210", "Membership Income", "REVENUE", default_output),
        _account("220", "Meeting Room Income", "REVENUE", default_output),
        _account("230", "Other Revenue", "OTHERINCOME", default_output),
        _account("260", "Old Desk Income", "REVENUE", default_output, Status="ARCHIVED"),
        _account("610", "Accounts Receivable", "CURRENT", exempt, SystemAccount="DEBTORS"),
        _account("820", "Sales Tax", "CURRLIAB", exempt, SystemAccount="GST"),
        _account("835", "Member Deposits Held", "CURRLIAB", exempt),
        _account("860", "Rounding", "CURRLIAB", exempt, SystemAccount="ROUNDING"),
        _account("400", "Advertising", "OVERHEADS", rates[-1][0]),
        _account("495", "Bad Debts", "EXPENSE", exempt, EnablePaymentsToAccount=True),
    ):
        org.accounts[account["AccountID"]] = account
    theme_id = new_id()
    org.themes[theme_id] = {
        "BrandingThemeID": theme_id,
        "Name": "Standard",
        "Type": "INVOICE",
        "SortOrder": 0,
        "CreatedDateUTC": now,
    }
    second = new_id()
    org.themes[second] = {**org.themes[theme_id], "BrandingThemeID": second, "Name": "Members", "SortOrder": 1}
    region_id = new_id()
    org.tracking[region_id] = {
        "TrackingCategoryID": region_id,
        "Name": "Region",
        "Status": "ACTIVE",
        "Options": [
            {"TrackingOptionID": new_id(), "Name": name, "Status": "ACTIVE", "TrackingCategoryID": region_id}
            for name in ("North", "South")
        ],
    }
    return org


DEMO_ORGANISATIONS = (("Demo Coworking Ltd", "GB", "!DemoG"), ("Harbour Desks Pty", "AU", "!DemoA"))


def seeded_store(now: datetime) -> Store:
    store = Store()
    for name, country, code in DEMO_ORGANISATIONS:
        org = new_organisation(name, country, now, short_code=code)
        store.organisations[org.id] = org
    return store
