"""Payments (against invoices, and refunds of credit notes and overpayments) and allocations of credit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.xero.resources import contacts
from sandbox.xero.resources.common import (
    Answer,
    Call,
    Errors,
    Missing,
    Rejected,
    a_date,
    batch,
    decimal,
    elements,
    listing,
    one,
    touch,
)
from sandbox.xero.resources.documents import allocation_view, restate
from sandbox.xero.store import Organisation, Record, new_id
from sandbox.xero.wire import money

_TARGETS = (
    ("Invoice", "invoices", "InvoiceID", "InvoiceNumber"),
    ("CreditNote", "credit_notes", "CreditNoteID", "CreditNoteNumber"),
    ("Overpayment", "overpayments", "OverpaymentID", None),
)


def _target(org: Organisation, item: dict[str, Any], errors: Errors) -> tuple[str, Record] | None:
    for key, attr, id_key, number_key in _TARGETS:
        ref = item.get(key)
        if not isinstance(ref, dict):
            if key == "Invoice" and item.get("InvoiceNumber"):
                ref = {"InvoiceNumber": item["InvoiceNumber"]}
            elif key == "CreditNote" and item.get("CreditNoteNumber"):
                ref = {"CreditNoteNumber": item["CreditNoteNumber"]}
            else:
                continue
        books: dict[str, Record] = getattr(org, attr)
        if ref.get(id_key):
            record = books.get(str(ref[id_key]).lower())
        elif number_key and ref.get(number_key):
            record = next((r for r in books.values() if r[number_key] == ref[number_key]), None)
        else:
            record = None
        if record is None:
            errors.add(f"{key} could not be found.")
            return None
        return key, record
    errors.add("A payment must be made against an Invoice, Credit Note or Overpayment.")
    return None


def bank_account(org: Organisation, ref: Any, errors: Errors) -> Record | None:
    if not isinstance(ref, dict):
        errors.add("An Account must be specified.")
        return None
    account = org.accounts.get(str(ref.get("AccountID", "")).lower()) or (
        org.account_by_code(str(ref["Code"])) if ref.get("Code") else None
    )
    if account is None or account["Status"] != "ACTIVE":
        errors.add("Account must be valid.")
        return None
    if account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
        errors.add("Payments can only be made to a bank account or an account with payments enabled.")
        return None
    return account


def outstanding(kind: str, record: Record) -> Decimal:
    amount: Decimal = record["AmountDue"] if kind == "Invoice" else record["RemainingCredit"]
    return amount


def settle(kind: str, record: Record, column: str, amount: Decimal, day: date, now: datetime) -> None:
    """Add ``amount`` (negative to undo) to one running total (AmountPaid, AmountCredited or
    AppliedAmount), restate what is left, and move the status between AUTHORISED and PAID."""
    record[column] += amount
    restate(record)
    if outstanding(kind, record) == 0 and record["Status"] == "AUTHORISED":
        record["Status"] = "PAID"
        if kind != "Overpayment":  # the spec gives overpayments no FullyPaidOnDate
            record["FullyPaidOnDate"] = day
    elif outstanding(kind, record) > 0 and record["Status"] == "PAID":
        record["Status"] = "AUTHORISED"
        record.pop("FullyPaidOnDate", None)
    touch(record, now)


_PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",
    "ACCPAYCREDIT": "APCREDITPAYMENT",
    "RECEIVE-OVERPAYMENT": "AROVERPAYMENTPAYMENT",
}


def create(call: Call, item: dict[str, Any]) -> Record:
    org, errors = call.org, Errors()
    if item.get("PaymentID"):
        raise Rejected("A PaymentID cannot be given when creating a payment.")
    target = _target(org, item, errors)
    account = bank_account(org, item.get("Account"), errors)
    amount = decimal(item.get("Amount"), "Amount", errors)
    day = a_date(item.get("Date"), "Date", errors) or call.today
    if amount is None or amount <= 0:
        errors.add("Payment amount must be greater than zero.")
    elif money(amount) != amount:
        errors.add("Payment amount can have at most two decimal places.")
    if org.is_locked(day):
        errors.add("The payment date cannot be on or before the organisation's lock date.")
    if target is not None:
        kind, record = target
        if record["Status"] != "AUTHORISED":
            errors.add(f"Payment cannot be created as the {kind} is not approved (its status is {record['Status']}).")
        elif amount is not None and amount > outstanding(kind, record):
            errors.add("Payment amount exceeds the amount outstanding on this document")
    errors.raise_any()
    assert target is not None
    assert account is not None
    assert amount is not None
    kind, record = target
    payment: Record = {
        "PaymentID": new_id(),
        "Date": day,
        "Amount": amount,
        "BankAmount": amount,
        "Reference": str(item.get("Reference") or ""),
        "CurrencyRate": Decimal(str(item.get("CurrencyRate") or 1)),
        "IsReconciled": bool(item.get("IsReconciled", False)),
        "Status": "AUTHORISED",
        "PaymentType": _PAYMENT_TYPES[record["Type"]],
        "HasAccount": True,
        "_target": (kind, record),
        "_account": account,
    }
    org.payments[payment["PaymentID"]] = payment
    record["_payments"].append(payment["PaymentID"])
    settle(kind, record, _paid_column(kind), amount, day, call.now)
    return touch(payment, call.now)


def _paid_column(kind: str) -> str:
    return "AmountPaid" if kind == "Invoice" else "AppliedAmount"


def delete(call: Call, payment: Record, item: dict[str, Any]) -> Record:
    if set(item) - {"Status", "PaymentID"} or item.get("Status") != "DELETED":
        raise Rejected("Only Status accepted for updates.")
    if payment["Status"] == "DELETED":
        return payment
    kind, record = payment["_target"]
    settle(kind, record, _paid_column(kind), -payment["Amount"], payment["Date"], call.now)
    payment["Status"] = "DELETED"
    return touch(payment, call.now)


def render(call: Call, payment: Record) -> dict[str, Any]:
    out = dict(payment)
    kind, record = payment["_target"]
    account = payment["_account"]
    out["Account"] = {"AccountID": account["AccountID"]} | ({"Code": account["Code"]} if account.get("Code") else {})
    summary = {"Contact": contacts.summary(record["_contact"]), "Type": record["Type"]}
    if kind == "Invoice":
        out["Invoice"] = summary | {"InvoiceID": record["InvoiceID"], "InvoiceNumber": record["InvoiceNumber"]}
    elif kind == "CreditNote":
        out["CreditNote"] = summary | {
            "CreditNoteID": record["CreditNoteID"],
            "CreditNoteNumber": record["CreditNoteNumber"],
        }
    else:
        out["Overpayment"] = {"OverpaymentID": record["OverpaymentID"], "Contact": summary["Contact"]}
    return out


def get_list(call: Call) -> Answer:
    return listing(call, "Payments", call.org.payments.values(), lambda p: render(call, p), paged=True)


def _find(call: Call) -> Record:
    return one(call.org.payments, call.params["PaymentID"])


def get_one(call: Call) -> Answer:
    return listing(call, "Payments", [_find(call)], lambda p: render(call, p), paged=False)


def put(call: Call) -> Answer:
    return _batch(call, elements(call, "Payments", "Payment"), lambda item: create(call, item))


def post(call: Call) -> Answer:
    return _batch(call, elements(call, "Payments", "Payment")[:1], lambda item: create(call, item))


def post_one(call: Call) -> Answer:
    payment = _find(call)
    return _batch(call, elements(call, "Payments", "Payment"), lambda item: delete(call, payment, item))


def _batch(call: Call, items: list[dict[str, Any]], save: Callable[[dict[str, Any]], Record]) -> Answer:
    return batch(
        call, "Payments", items, save, lambda p: render(call, p), id_key="PaymentID", error_flag="HasValidationErrors"
    )


# Allocations: credit notes and overpayments applied to invoices of the same contact and currency.


# The credit a path names, by its id key: what Xero calls it, and where it is kept.
_CREDITS = {"CreditNoteID": ("CreditNote", "credit_notes"), "OverpaymentID": ("Overpayment", "overpayments")}


def _credit(call: Call, id_key: str) -> tuple[str, Record]:
    kind, attr = _CREDITS[id_key]
    return kind, one(getattr(call.org, attr), call.params[id_key])


def allocate(call: Call, id_key: str) -> Answer:
    kind, credit = _credit(call, id_key)

    def save(item: dict[str, Any]) -> Record:
        org, errors = call.org, Errors()
        invoice_ref = item.get("Invoice")
        invoice = (
            org.invoices.get(str(invoice_ref.get("InvoiceID", "")).lower()) if isinstance(invoice_ref, dict) else None
        )
        amount = decimal(item.get("Amount"), "Amount", errors)
        day = a_date(item.get("Date"), "Date", errors)
        if invoice is None:
            errors.add("Invoice could not be found.")
        if day is None:
            errors.add("Date is required.")
        if amount is None or amount <= 0:
            errors.add("Amount must be greater than zero.")
        if credit["Status"] != "AUTHORISED":
            errors.add(f"The {kind} must be approved before it can be allocated.")
        if invoice is not None and amount is not None and amount > 0:
            if invoice["Status"] != "AUTHORISED":
                errors.add("Allocations can only be made to approved invoices.")
            elif invoice["_contact"]["ContactID"] != credit["_contact"]["ContactID"]:
                errors.add("The invoice and the credit must be for the same contact.")
            elif invoice["CurrencyCode"] != credit["CurrencyCode"]:
                errors.add("The invoice and the credit must be in the same currency.")
            elif amount > credit["RemainingCredit"]:
                errors.add("The amount allocated exceeds the remaining credit.")
            elif amount > invoice["AmountDue"]:
                errors.add("The amount allocated exceeds the amount due on the invoice.")
        errors.raise_any()
        assert invoice is not None
        assert amount is not None
        assert day is not None
        allocation: Record = {
            "AllocationID": new_id(),
            "Amount": amount,
            "Date": day,
            "IsDeleted": False,
            "invoice_id": invoice["InvoiceID"],
        }
        credit["_allocations"].append(allocation)
        invoice["_credits"].append(
            {"kind": kind, "id": credit[id_key], "amount": amount}
            | {"date": day, "allocation_id": allocation["AllocationID"]}
        )
        settle("Invoice", invoice, "AmountCredited", amount, day, call.now)
        settle(kind, credit, "AppliedAmount", amount, day, call.now)
        return allocation

    return batch(
        call,
        "Allocations",
        elements(call, "Allocations", "Allocation"),
        save,
        lambda a: allocation_view(call.org, a),
        id_key="AllocationID",
        error_flag=None,
    )


def unallocate(call: Call, id_key: str) -> Answer:
    kind, credit = _credit(call, id_key)
    wanted = call.params["AllocationID"].lower()
    allocation = next((a for a in credit["_allocations"] if a["AllocationID"] == wanted), None)
    if allocation is None:
        raise Missing
    if not allocation["IsDeleted"]:
        invoice = call.org.invoices[allocation["invoice_id"]]
        allocation["IsDeleted"] = True
        invoice["_credits"] = [c for c in invoice["_credits"] if c.get("allocation_id") != allocation["AllocationID"]]
        settle("Invoice", invoice, "AmountCredited", -allocation["Amount"], allocation["Date"], call.now)
        settle(kind, credit, "AppliedAmount", -allocation["Amount"], allocation["Date"], call.now)
    return Answer(200, allocation_view(call.org, allocation), wrote=True)
