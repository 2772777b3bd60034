"""Our objects as Xero's JSON, and what Xero's answers mean for them.

Amounts leave as ``Decimal`` in the currency's major units (``app.kit.money``); lines carry their
quantity and unit price when those give the line's amount exactly, else one unit of the line's
amount, so Xero's per-line arithmetic lands on our figures. Xero's totals are checked against ours
after every push.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.catalog.models import RevenueAccount
from app.company.models import Company
from app.integrations.xero.models import XeroLocationSettings
from app.integrations.xero.schemas import UNTAXED, WRITE_OFF
from app.invoice.models import Invoice, InvoiceLine
from app.kit.money import as_decimal, line_amount
from app.ledger.models import CreditNote, CreditNoteLine, Payment


class NotSendable(Exception):
    """Something of ours stops the object from being sent (a mapping is missing): the operator must
    fix it, as with a validation error from Xero, but no call is spent finding out."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


# The company's columns its Xero contact is made of: a change to any of them is sent.
CONTACT_FIELDS = (
    "legal_name",
    "billing_email",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "tax_number",
    "payment_terms_days",
)


def contact(company: Company, xero_id: str | None) -> dict[str, Any]:
    """The billing account as a Xero contact. ``ContactNumber`` carries our id, so the contact is
    found again whatever is renamed on either side."""
    address = {
        "AddressType": "POBOX",
        "AddressLine1": company.address_line1 or "",
        "AddressLine2": company.address_line2 or "",
        "City": company.city or "",
        "Region": company.region or "",
        "PostalCode": company.postal_code or "",
        "Country": company.country,
    }
    body: dict[str, Any] = {
        "ContactNumber": str(company.id),
        "Name": company.legal_name,
        "EmailAddress": company.billing_email,
        "Addresses": [address],
        "PaymentTerms": {"Sales": {"Day": company.payment_terms_days, "Type": "DAYSAFTERBILLDATE"}},
    }
    if company.tax_number:
        body["TaxNumber"] = company.tax_number
    if xero_id:
        body["ContactID"] = xero_id
    return body


@dataclass(frozen=True)
class Mapping:
    """One location's choices, with the revenue accounts' own codes as the fallback."""

    settings: XeroLocationSettings
    accounts: dict[Any, RevenueAccount]
    tax_names: dict[str, str]  # tax rate id -> our name, for messages

    def account_code(self, revenue_account_id: Any) -> str:
        code = self.settings.account_codes.get(str(revenue_account_id))
        if code:
            return code
        account = self.accounts.get(revenue_account_id)
        if account is None:
            raise NotSendable("A line's revenue account no longer exists.", "Re-issue the document.")
        return account.code

    def tax_type(self, tax_rate_id: Any) -> str:
        found = self.settings.tax_types.get(str(tax_rate_id)) or self.settings.tax_types.get(UNTAXED)
        if not found:
            name = self.tax_names.get(str(tax_rate_id), str(tax_rate_id))
            raise NotSendable(
                f"No Xero tax type is chosen for {name}.",
                "Choose one on the location's Xero page, then press Sync now.",
            )
        return found


# The location of the document is no longer mapped to an organisation.
UNMAPPED = NotSendable("The location is no longer mapped to Xero.", "Map it, then press Sync now.")


def not_here(invoice_number: str | None) -> NotSendable:
    """Money applied to an invoice this organisation never got (issued before its location was mapped)."""
    return NotSendable(
        f"Invoice {invoice_number} is not in this Xero organisation: it was issued before its location was "
        "mapped to Xero, so Xero has nothing to apply this to.",
        "Record it in Xero by hand if the books need it there; it stands in FlexLedger already.",
    )


CREDIT_ELSEWHERE = NotSendable(
    "The credit applied here is held in another Xero organisation (or at a location not synced to Xero); "
    "Xero applies credit only within one organisation.",
    "Record it in Xero by hand in both organisations if the books need it; it stands in FlexLedger already.",
)


def payment_account(settings: XeroLocationSettings | None, method: str) -> str:
    """The code of the Xero account money by ``method`` goes into (or comes out of)."""
    if settings is None:
        raise UNMAPPED
    code = settings.payment_accounts.get(method)
    if not code and method == WRITE_OFF:
        raise NotSendable(
            "No Xero account is chosen for write-offs.",
            "Choose the account written-off debts go to (a bad-debt expense account with 'Enable payments to "
            "this account' ticked in Xero) on the location's Xero page, then press Sync now.",
        )
    if not code:
        label = method.replace("_", " ")
        raise NotSendable(
            f"No Xero account is chosen for {label} payments.",
            f"Choose the account {label} payments go into on the location's Xero page, then press Sync now.",
        )
    return code


def _lines(lines: Sequence[InvoiceLine | CreditNoteLine], currency: str, mapping: Mapping) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        exact = line_amount(line.quantity, line.unit_amount) == line.line_amount
        quantity, unit = (line.quantity, line.unit_amount) if exact else (Decimal(1), line.line_amount)
        item: dict[str, Any] = {
            "Description": line.description,
            "Quantity": quantity,
            "UnitAmount": as_decimal(unit, currency),
            "AccountCode": mapping.account_code(line.revenue_account_id),
            "TaxType": mapping.tax_type(line.tax_rate_id),
        }
        settings = mapping.settings
        if settings.tracking_category_id and settings.tracking_option_id:
            item["Tracking"] = [
                {"TrackingCategoryID": settings.tracking_category_id, "TrackingOptionID": settings.tracking_option_id}
            ]
        out.append(item)
    return out


def _header(
    document: Invoice | CreditNote, contact_id: str, day: date, mapping: Mapping, number_key: str
) -> dict[str, Any]:
    settings = mapping.settings
    body: dict[str, Any] = {
        "Contact": {"ContactID": contact_id},  # the id alone: a name beside it would rename the contact
        "Date": day.isoformat(),
        "LineAmountTypes": "Inclusive" if document.tax_mode == "inclusive" else "Exclusive",
        "Status": settings.invoice_status,
        "CurrencyCode": document.currency,
    }
    if settings.numbering == "ours":
        body[number_key] = document.number
    else:
        body["Reference"] = document.number
    if settings.branding_theme_id:
        body["BrandingThemeID"] = settings.branding_theme_id
    return body


def invoice(document: Invoice, lines: Sequence[InvoiceLine], contact_id: str, mapping: Mapping) -> dict[str, Any]:
    assert document.issue_date is not None
    assert document.due_date is not None
    body = _header(document, contact_id, document.issue_date, mapping, "InvoiceNumber")
    body |= {"Type": "ACCREC", "DueDate": document.due_date.isoformat()}
    body["LineItems"] = _lines(lines, document.currency, mapping)
    return body


def credit_note(
    document: CreditNote, lines: Sequence[CreditNoteLine], contact_id: str, mapping: Mapping
) -> dict[str, Any]:
    body = _header(document, contact_id, document.issue_date, mapping, "CreditNoteNumber")
    body["Type"] = "ACCRECCREDIT"
    body["LineItems"] = _lines(lines, document.currency, mapping)
    return body


def overpayment(contact_id: str, account_code: str, payment: Payment, amount: Decimal) -> dict[str, Any]:
    """The part of a payment that paid no invoice when it came in: money received into the bank
    account as the customer's credit (Xero makes overpayments only as bank transactions)."""
    return {
        "Type": "RECEIVE-OVERPAYMENT",
        "Contact": {"ContactID": contact_id},
        "BankAccount": {"Code": account_code},
        "Date": payment.paid_on.isoformat(),
        "Reference": payment.reference or "",
        "CurrencyCode": payment.currency,
        "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Payment received as credit", "Quantity": Decimal(1), "UnitAmount": amount}],
    }


def totals_differ(answer: dict[str, Any], subtotal: int, tax: int, total: int, currency: str) -> str | None:
    """Xero's totals against ours, to the cent; what differs, said for the operator."""
    ours = {"SubTotal": subtotal, "TotalTax": tax, "Total": total}
    differences = [
        f"{key} {as_decimal(value, currency)} here, {answer.get(key)} in Xero"
        for key, value in ours.items()
        if Decimal(str(answer.get(key, "NaN"))) != as_decimal(value, currency)
    ]
    return "; ".join(differences) or None


def tax_parts_differ(answer: dict[str, Any], ours: Sequence[Sequence[tuple[str, int]]], currency: str) -> str | None:
    """Xero's split of each line's tax between the components of its rate (``TaxBreakdown``, where
    Xero gives one) against ours (``ours``: each line's (component, amount) in the order sent).
    Equal totals can still hide a split that differs (a Xero rate of 6% + 6% mapped to ours of
    5% + 7%), which would misstate what is owed to each tax authority. The amounts are compared as
    sets: Xero may list the components in another order."""
    for number, (item, parts) in enumerate(zip(answer.get("LineItems") or (), ours, strict=False), start=1):
        breakdown = item.get("TaxBreakdown")
        if not parts or not breakdown:
            continue
        mine = sorted(as_decimal(amount, currency) for _, amount in parts)
        theirs = sorted(Decimal(str(part.get("TaxAmount", "NaN"))) for part in breakdown)
        if theirs != mine:
            here = ", ".join(f"{name} {as_decimal(amount, currency)}" for name, amount in parts)
            there = ", ".join(f"{part.get('Name')} {part.get('TaxAmount')}" for part in breakdown)
            return f"line {number}'s tax is split {here} here, {there} in Xero"
    return None


# Xero's validation messages, and what the operator can do about each (first match wins).
_HINTS = (
    (r"contact name .* (already|unique)", "Another Xero contact has this name. Rename one of them, then Sync now."),
    (r"archived.*contact|contact.*archived", "The contact is archived in Xero. Restore it there, then Sync now."),
    (r"account code|account must be valid", "Map the account to an active Xero account on the location's Xero page."),
    (r"tax ?type|tax rate", "Map the tax rate to an active Xero tax type for income on the location's Xero page."),
    (
        r"# must be unique|number .* unique",
        "Xero already has a document with this number: give each location its own number prefix, "
        "or let Xero number this location's documents.",
    ),
    (r"lock date", "The date is on or before the lock date in Xero: move the lock date, then Sync now."),
    (r"currency", "Enable the currency in Xero (Settings > Currencies), then Sync now."),
    (
        r"not approved|approved invoices|must be approved",
        "The document is a draft in Xero: approve it there (or push this location's invoices as approved).",
    ),
    (r"exceeds", "Xero shows less outstanding than we do: look for money recorded in Xero directly."),
    (r"tracking", "Choose an active tracking option on the location's Xero page."),
    (r"branding", "Choose a branding theme the organisation has."),
)


def hint_for(message: str) -> str:
    lowered = message.lower()
    for pattern, hint in _HINTS:
        if re.search(pattern, lowered):
            return hint
    return "Correct what Xero names, then press Sync now."


def validation_messages(element: dict[str, Any]) -> list[str]:
    return [str(error.get("Message", "")) for error in element.get("ValidationErrors") or []]
