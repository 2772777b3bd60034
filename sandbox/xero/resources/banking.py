"""Bank transactions, and the overpayments (customer credit) a RECEIVE-OVERPAYMENT creates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.xero.resources import contacts, documents
from sandbox.xero.resources.common import (
    Answer,
    Call,
    Errors,
    Rejected,
    a_date,
    batch,
    elements,
    listing,
    one,
    touch,
)
from sandbox.xero.resources.payments import bank_account
from sandbox.xero.store import Record, new_id
from sandbox.xero.wire import ZERO

_TYPES = ("RECEIVE", "SPEND", "RECEIVE-OVERPAYMENT", "SPEND-OVERPAYMENT")


def create(call: Call, item: dict[str, Any]) -> Record:
    org, errors = call.org, Errors()
    if item.get("BankTransactionID"):
        raise Rejected("Bank transactions cannot be updated through this sandbox.")
    kind = item.get("Type")
    if kind not in _TYPES:
        errors.add(f"Type must be one of {', '.join(_TYPES)}.")
        kind = "RECEIVE"
    account = bank_account(org, item.get("BankAccount"), errors)
    contact = documents.contact_for(call, item.get("Contact"), errors)
    day = a_date(item.get("Date"), "Date", errors) or call.today
    amount_types = item.get("LineAmountTypes") or "Exclusive"
    if kind.endswith("OVERPAYMENT") and amount_types != "NoTax":
        errors.add("Overpayments must use LineAmountTypes NoTax.")
    if org.is_locked(day):
        errors.add("The document date cannot be on or before the organisation's lock date.")
    raw_lines = item.get("LineItems") or []
    if not raw_lines:
        errors.add("A bank transaction must contain at least one line item.")
    lines = [documents.price_line(org, kind.startswith("RECEIVE"), amount_types, given, errors) for given in raw_lines]
    currency = item.get("CurrencyCode") or org.base_currency
    if currency not in org.currencies:
        errors.add(f"The currency {currency} is not enabled for this organisation.")
    errors.raise_any()
    assert contact is not None
    assert account is not None
    contact = contacts.materialise(call, contact)
    sub_total, total_tax, total = documents.totals(amount_types, lines)
    common: Record = {
        "Date": day,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        "SubTotal": sub_total,
        "TotalTax": total_tax,
        "Total": total,
        "CurrencyCode": currency,
        "CurrencyRate": Decimal(1),
        "Reference": str(item.get("Reference") or ""),
        "_contact": contact,
    }
    transaction: Record = common | {
        "BankTransactionID": new_id(),
        "Type": kind,
        "Status": "AUTHORISED",
        "IsReconciled": bool(item.get("IsReconciled", False)),
        "_account": account,
    }
    if kind == "RECEIVE-OVERPAYMENT":
        overpayment: Record = common | {
            "OverpaymentID": new_id(),
            "Type": "RECEIVE-OVERPAYMENT",
            "Status": "AUTHORISED",
            "RemainingCredit": total,
            "AppliedAmount": ZERO,
            "_allocations": [],
            "_payments": [],
        }
        org.overpayments[overpayment["OverpaymentID"]] = touch(overpayment, call.now)
        transaction["OverpaymentID"] = overpayment["OverpaymentID"]
    org.bank_transactions[transaction["BankTransactionID"]] = transaction
    return touch(transaction, call.now)


def render_transaction(record: Record) -> dict[str, Any]:
    out = dict(record)
    out["Contact"] = contacts.summary(record["_contact"])
    account = record["_account"]
    out["BankAccount"] = {"AccountID": account["AccountID"], "Name": account["Name"]} | (
        {"Code": account["Code"]} if account.get("Code") else {}
    )
    out["HasAttachments"] = False
    return out


def render_overpayment(call: Call, record: Record) -> dict[str, Any]:
    org = call.org
    out = dict(record)
    out["Contact"] = contacts.summary(record["_contact"])
    out["Allocations"] = [documents.allocation_view(org, a) for a in record["_allocations"] if not a["IsDeleted"]]
    out["Payments"] = [
        {"PaymentID": p, "Amount": org.payments[p]["Amount"], "Date": org.payments[p]["Date"]}
        for p in record["_payments"]
        if org.payments[p]["Status"] == "AUTHORISED"
    ]
    out["HasAttachments"] = False
    return out


def put(call: Call) -> Answer:
    return batch(
        call,
        "BankTransactions",
        elements(call, "BankTransactions", "BankTransaction"),
        lambda item: create(call, item),
        render_transaction,
        id_key="BankTransactionID",
        error_flag=None,
    )


def get_transactions(call: Call) -> Answer:
    records = call.org.bank_transactions.values()
    return listing(call, "BankTransactions", records, render_transaction, paged=True)


def get_transaction(call: Call) -> Answer:
    record = one(call.org.bank_transactions, call.params["BankTransactionID"])
    return listing(call, "BankTransactions", [record], render_transaction, paged=False)


def get_overpayments(call: Call) -> Answer:
    records = [r | {"Contact": contacts.summary(r["_contact"])} for r in call.org.overpayments.values()]
    return listing(call, "Overpayments", records, lambda r: render_overpayment(call, r), paged=True)


def get_overpayment(call: Call) -> Answer:
    record = one(call.org.overpayments, call.params["OverpaymentID"])
    return listing(call, "Overpayments", [record], lambda r: render_overpayment(call, r), paged=False)
