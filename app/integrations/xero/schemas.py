from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

import msgspec
from msgspec import Meta

from app.kit.schema import LINE, UUID, Input

# What Xero calls codes and ids: account codes ("200"), tax types ("OUTPUT2"), GUIDs.
XeroCode = Annotated[str, Meta(min_length=1, max_length=50, pattern=LINE)]
XeroId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]
PaymentMethod = Literal["bank_transfer", "cash", "cheque", "card_terminal", "card", "direct_debit"]
# The key of the account written-off debts are paid from (a bad-debt expense account that takes
# payments), beside the payment methods' accounts.
WRITE_OFF = "write_off"
# The key of the tax type for lines that carry no tax rate.
UNTAXED = "none"


class ConnectionOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    status: str
    problem: str | None
    xero_tenant_id: str
    short_code: str | None
    base_currency: str | None
    country: str | None
    connected_at: datetime
    link: str | None


class ConnectStarted(msgspec.Struct):
    authorization_url: str


class LocationXeroIn(Input):
    """A location's whole Xero mapping (PUT replaces it)."""

    connection_id: uuid.UUID
    # revenue account id -> Xero account code; an account left out uses its own code
    account_codes: dict[uuid.UUID, XeroCode] = {}
    # tax rate id, or "none" for untaxed lines -> Xero TaxType
    tax_types: dict[Annotated[str, Meta(pattern=f"^(?:{UNTAXED}|{UUID})$")], XeroCode] = {}
    # payment method -> code of the Xero bank or clearing account its payments go to; "write_off"
    # -> the account write-offs are paid from
    payment_accounts: dict[PaymentMethod | Literal["write_off"], XeroCode] = {}
    tracking_category_id: XeroId | None = None
    tracking_option_id: XeroId | None = None
    branding_theme_id: XeroId | None = None
    invoice_status: Literal["DRAFT", "AUTHORISED"] = "AUTHORISED"
    numbering: Literal["ours", "xero"] = "ours"

    # The keys of the maps (the decoder checks them, JSON Schema says so here).
    json_schema: ClassVar[dict[str, Any]] = {
        "properties": {
            "account_codes": {"propertyNames": {"pattern": f"^{UUID}$"}},
            "tax_types": {"propertyNames": {"pattern": f"^(?:{UNTAXED}|{UUID})$"}},
            "payment_accounts": {"propertyNames": {"enum": [*get_args(PaymentMethod), WRITE_OFF]}},
        },
        "anyOf": [
            {"properties": {"tracking_category_id": {"type": "null"}, "tracking_option_id": {"type": "null"}}},
            {
                "properties": {"tracking_category_id": {"type": "string"}, "tracking_option_id": {"type": "string"}},
                "required": ["tracking_category_id", "tracking_option_id"],
            },
        ],
    }

    def __post_init__(self) -> None:
        if (self.tracking_category_id is None) != (self.tracking_option_id is None):
            raise ValueError("tracking_category_id and tracking_option_id go together: give both or neither")


class LocationXeroOut(msgspec.Struct):
    location_id: uuid.UUID
    connection_id: uuid.UUID
    account_codes: dict[str, str]
    tax_types: dict[str, str]
    payment_accounts: dict[str, str]
    tracking_category_id: str | None
    tracking_option_id: str | None
    branding_theme_id: str | None
    invoice_status: str
    numbering: str
    updated_at: datetime


class AccountChoice(msgspec.Struct):
    code: str
    name: str
    type: str
    account_class: str
    status: str
    takes_payments: bool


class TaxTypeChoice(msgspec.Struct):
    tax_type: str
    name: str
    rate: str
    status: str
    for_revenue: bool


class OptionChoice(msgspec.Struct):
    id: str
    name: str
    status: str


class TrackingChoice(msgspec.Struct):
    id: str
    name: str
    status: str
    options: list[OptionChoice]


class ThemeChoice(msgspec.Struct):
    id: str
    name: str


class ChoicesOut(msgspec.Struct):
    """What the organisation offers right now, to choose a mapping from."""

    base_currency: str | None
    currencies: list[str]
    accounts: list[AccountChoice]
    tax_types: list[TaxTypeChoice]
    tracking_categories: list[TrackingChoice]
    branding_themes: list[ThemeChoice]


class ReadinessProblem(msgspec.Struct):
    field: str
    message: str
    hint: str
    # False for what only delays some documents (an unmapped payment method), not the location.
    blocking: bool = True


class ReadinessOut(msgspec.Struct):
    location_id: uuid.UUID
    ready: bool
    problems: list[ReadinessProblem]
    checked_at: datetime


DocumentKind = Literal["contact", "invoice", "credit_note", "overpayment", "payment", "allocation", "refund"]
DocumentStatus = Literal["pending", "sending", "synced", "invalid", "mismatch"]


class DocumentOut(msgspec.Struct):
    """One of our objects in one Xero organisation: where it stands, and what stops it if anything."""

    id: uuid.UUID
    connection_id: uuid.UUID
    kind: str
    object_id: uuid.UUID
    status: str
    version: int
    synced_version: int
    in_doubt: bool
    attempts: int
    next_attempt_at: datetime
    xero_id: str | None
    xero_number: str | None
    xero_status: str | None
    error_kind: str | None
    error: str | None
    hint: str | None
    synced_at: datetime | None
    link: str | None


class SyncStatusOut(msgspec.Struct):
    connection_id: uuid.UUID
    counts: dict[str, int]


class SyncRequested(msgspec.Struct):
    queued: int


class EarlierIn(Input):
    """Send the location's documents dated on or after ``since`` (the first day to send)."""

    since: date


class EarlierOut(msgspec.Struct):
    """How many documents were queued for the organisation, in all and by kind (what was already
    on its way there, or there, is not counted: it is not sent again)."""

    queued: int
    by_kind: dict[str, int]


class JournalEntryOut(msgspec.Struct):
    id: uuid.UUID
    at: datetime
    method: str
    path: str
    kind: str
    items: int
    idempotency_key: str | None
    status_code: int | None
    outcome: str
    duration_ms: int
