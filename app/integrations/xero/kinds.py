"""What each kind of document is in Xero: how a claimed batch of ours becomes elements to send.

A kind's ``prepare`` reads our rows for the documents a drain claimed (in the claim's transaction)
and returns, for each, either the work to send (the element, how to recognise it in a look-up, how
to check Xero's answer) or what stops it before any call: a missing mapping (the operator must fix
it) or a document it needs that is not in Xero yet (it waits).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.repository import RevenueAccountRepository, TaxRateRepository
from app.company.repository import CompanyRepository
from app.integrations.xero import payloads
from app.integrations.xero.models import DOCUMENT_KINDS, XeroDocument, XeroLocationSettings
from app.integrations.xero.repository import DocumentRepository, LocationSettingsRepository
from app.invoice.repository import InvoiceRepository
from app.kit.money import as_decimal
from app.ledger.repository import CreditNoteRepository, LedgerRepository, PaymentRepository, RefundRepository
from app.state import AppState


@dataclass
class Work:
    """One claimed document: what to send, and how to recognise it in Xero."""

    doc_id: uuid.UUID
    object_id: uuid.UUID
    version: int
    lease: datetime
    in_doubt: bool
    xero_id: str | None
    label: str
    # The element to send, given the Xero id known by then; None: nothing needs sending.
    build: Callable[[str | None], dict[str, Any] | None]
    path: str  # the endpoint (allocations go to their credit's own)
    # How to tell it apart in a look-up: a number, a reference, or amount, date and reference.
    key: dict[str, Any] = field(default_factory=dict)
    check: Callable[[dict[str, Any]], str | None] | None = None  # Xero's answer against our totals
    found: dict[str, Any] | None = None  # what a look-up found in Xero


@dataclass
class Outcome:
    status: str  # synced, mismatch, invalid, retry, waiting
    xero_id: str | None = None
    xero_number: str | None = None
    xero_status: str | None = None
    error_kind: str | None = None
    error: str | None = None
    hint: str | None = None
    in_doubt: bool = False
    retry_in: float = 0.0
    backoff: bool = False


# What became of a document before or after a call: the version it is about, the claim's lease, the outcome.
Settled: TypeAlias = tuple[int, datetime, Outcome]


@dataclass
class Claimed:
    works: list[Work]
    settled: dict[uuid.UUID, Settled]  # refused or waiting before any call


@dataclass
class Kind:
    name: str
    method: str
    plural: str
    id_key: str
    number_key: str | None
    params: dict[str, str]
    prepare: Callable[[AsyncSession, AppState, uuid.UUID, Sequence[XeroDocument]], Awaitable[Claimed]]


# --- claiming: what each kind sends ------------------------------------------------------------


def _work(doc: XeroDocument, label: str, build: Callable[[str | None], Any], path: str) -> Work:
    assert doc.lease_until is not None
    return Work(doc.id, doc.object_id, doc.version, doc.lease_until, doc.in_doubt, doc.xero_id, label, build, path)


def _refused(doc: XeroDocument, problem: payloads.NotSendable) -> Settled:
    assert doc.lease_until is not None
    outcome = Outcome("invalid", error_kind="validation", error=problem.message, hint=problem.hint)
    return doc.version, doc.lease_until, outcome


def _waiting(doc: XeroDocument, what: str) -> Settled:
    assert doc.lease_until is not None
    outcome = Outcome("waiting", error_kind="waiting", error=f"Waits for {what} to reach Xero.")
    return doc.version, doc.lease_until, outcome


_UNMAPPED = payloads.NotSendable("The location is no longer mapped to Xero.", "Map it, then press Sync now.")


async def _mappings(session: AsyncSession, tenant_id: uuid.UUID, location_ids: set[uuid.UUID]) -> dict[Any, Any]:
    repo = LocationSettingsRepository(session, tenant_id)
    accounts = await RevenueAccountRepository(session, tenant_id).all_by_id()
    rates = await TaxRateRepository(session, tenant_id).names()
    found: dict[Any, Any] = {}
    for location_id in location_ids:
        settings: XeroLocationSettings | None = await repo.for_location(location_id)
        found[location_id] = None if settings is None else payloads.Mapping(settings, accounts, rates)
    return found


async def _deps(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, kind: str, ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The Xero ids of the documents of ``kind`` these objects need (those that reached Xero)."""
    docs = await DocumentRepository(session, tenant_id).of_objects(connection_id, kind, ids)
    return {object_id: doc.xero_id for object_id, doc in docs.items() if doc.xero_id}


async def _prepare_contacts(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    companies = await CompanyRepository(session, tenant_id).by_ids({d.object_id for d in docs})
    claimed = Claimed([], {})
    for doc in docs:
        company = companies[doc.object_id]
        work = _work(doc, company.legal_name, functools.partial(payloads.contact, company), "Contacts")
        work.key = {"number": str(company.id), "name": company.legal_name, "email": company.billing_email}
        claimed.works.append(work)
    return claimed


def _void_or(
    status: str, body: dict[str, Any], id_key: str, drafted: str | None
) -> Callable[[str | None], dict[str, Any] | None]:
    """The element for an invoice or credit note: voiding it once it is void here, else all of it."""

    def build(xero_id: str | None) -> dict[str, Any] | None:
        if status != "void":
            return body | ({id_key: xero_id} if xero_id else {})
        if xero_id is None:
            return None  # voided before it ever reached Xero: nothing to undo
        return {id_key: xero_id, "Status": "DELETED" if drafted in ("DRAFT", "SUBMITTED") else "VOIDED"}

    return build


def _totals_check(subtotal: int, tax: int, total: int, currency: str) -> Callable[[dict[str, Any]], str | None]:
    return lambda answer: payloads.totals_differ(answer, subtotal, tax, total, currency)


async def _prepare_documents(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    docs: Sequence[XeroDocument],
    found: dict[uuid.UUID, Any],
    lines: dict[uuid.UUID, Any],
    element: Callable[[Any, Any, str, payloads.Mapping], dict[str, Any]],
    kind: tuple[str, str, str],  # what we call it, Xero's endpoint, Xero's id key
) -> Claimed:
    """Invoices and credit notes: whole documents with lines, needing their customer's contact."""
    label, path, id_key = kind
    contacts = await _deps(session, tenant_id, docs[0].connection_id, "contact", {d.company_id for d in found.values()})
    mappings = await _mappings(session, tenant_id, {d.location_id for d in found.values()})
    claimed = Claimed([], {})
    for doc in docs:
        document = found[doc.object_id]
        contact_id, mapping = contacts.get(document.company_id), mappings[document.location_id]
        if contact_id is None and document.status != "void":
            claimed.settled[doc.id] = _waiting(doc, "the customer's contact")
            continue
        if mapping is None:
            claimed.settled[doc.id] = _refused(doc, _UNMAPPED)
            continue
        try:
            body = element(document, lines.get(document.id, []), contact_id or "", mapping)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        work = _work(doc, f"{label} {document.number}", _void_or(document.status, body, id_key, doc.xero_status), path)
        work.key = {"number": document.number, "by_reference": mapping.settings.numbering != "ours"}
        work.check = _totals_check(document.subtotal, document.tax_total, document.total, document.currency)
        claimed.works.append(work)
    return claimed


async def _prepare_invoices(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    repo = InvoiceRepository(session, tenant_id)
    invoices = await repo.by_ids({d.object_id for d in docs})
    lines = await repo.lines(list(invoices))
    return await _prepare_documents(
        session, tenant_id, docs, invoices, lines, payloads.invoice, ("invoice", "Invoices", "InvoiceID")
    )


async def _prepare_credit_notes(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    repo = CreditNoteRepository(session, tenant_id)
    notes = await repo.by_ids({d.object_id for d in docs})
    lines = await repo.lines(list(notes))
    return await _prepare_documents(
        session, tenant_id, docs, notes, lines, payloads.credit_note, ("credit note", "CreditNotes", "CreditNoteID")
    )


def _amount_check(amount: Decimal, field_name: str = "Amount") -> Callable[[dict[str, Any]], str | None]:
    def check(answer: dict[str, Any]) -> str | None:
        theirs = Decimal(str(answer.get(field_name, "NaN")))
        return None if theirs == amount else f"{field_name} {amount} here, {theirs} in Xero"

    return check


async def _prepare_payments(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    """A payment of an invoice, received now: one per allocation of the payment to an invoice."""
    allocations = await LedgerRepository(session, tenant_id).allocations_by_ids({d.object_id for d in docs})
    payments = await PaymentRepository(session, tenant_id).by_ids(
        {a.payment_id for a in allocations.values() if a.payment_id}
    )
    invoices = await InvoiceRepository(session, tenant_id).by_ids(
        {a.invoice_id for a in allocations.values() if a.invoice_id}
    )
    connection_id = docs[0].connection_id
    targets = await _deps(session, tenant_id, connection_id, "invoice", set(invoices))
    mappings = await _mappings(session, tenant_id, {i.location_id for i in invoices.values()})
    claimed = Claimed([], {})
    for doc in docs:
        allocation = allocations[doc.object_id]
        assert allocation.payment_id is not None
        assert allocation.invoice_id is not None
        payment, invoice = payments[allocation.payment_id], invoices[allocation.invoice_id]
        target = targets.get(invoice.id)
        if target is None:
            claimed.settled[doc.id] = _waiting(doc, f"invoice {invoice.number}")
            continue
        mapping = mappings[invoice.location_id]
        try:
            if mapping is None:
                raise _UNMAPPED
            code = mapping.payment_account(payment.method)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        amount = as_decimal(allocation.amount, payment.currency)
        body = {
            "Invoice": {"InvoiceID": target},
            "Account": {"Code": code},
            "Date": payment.paid_on.isoformat(),
            "Amount": amount,
            "Reference": payment.reference or "",
        }
        work = _work(doc, f"payment of {amount} on invoice {invoice.number}", _once(body), "Payments")
        work.key = {"on": ("Invoices", target), "amount": amount, "date": payment.paid_on, "ref": body["Reference"]}
        work.check = _amount_check(amount)
        claimed.works.append(work)
    return claimed


def _once(body: dict[str, Any]) -> Callable[[str | None], dict[str, Any] | None]:
    """Payments and allocations are made once and never changed: sent only while not in Xero."""
    return lambda xero_id: None if xero_id else dict(body)


async def _prepare_overpayments(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    """What a payment brought beyond the invoices it paid at once: the customer's credit."""
    payments = await PaymentRepository(session, tenant_id).by_ids({d.object_id for d in docs})
    applied = await LedgerRepository(session, tenant_id).applied_at_receipt(list(payments))
    companies = await CompanyRepository(session, tenant_id).by_ids({p.company_id for p in payments.values()})
    connection_id = docs[0].connection_id
    contacts = await _deps(session, tenant_id, connection_id, "contact", set(companies))
    mappings = await _mappings(session, tenant_id, {c.home_location_id for c in companies.values()})
    claimed = Claimed([], {})
    for doc in docs:
        payment = payments[doc.object_id]
        company = companies[payment.company_id]
        contact_id = contacts.get(company.id)
        if contact_id is None:
            claimed.settled[doc.id] = _waiting(doc, "the customer's contact")
            continue
        mapping = mappings[company.home_location_id]
        try:
            if mapping is None:
                raise _UNMAPPED
            code = mapping.payment_account(payment.method)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        amount = as_decimal(payment.amount - applied.get(payment.id, 0), payment.currency)
        body = payloads.overpayment(contact_id, code, payment, amount)
        work = _work(doc, f"credit of {amount} from a payment", _once(body), "BankTransactions")
        work.key = {"contact": contact_id, "amount": amount, "date": payment.paid_on, "ref": body["Reference"]}
        work.check = _amount_check(amount, "Total")
        claimed.works.append(work)
    return claimed


async def _prepare_allocations(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    """Credit applied to an invoice: from a credit note, or from a payment's overpayment."""
    allocations = await LedgerRepository(session, tenant_id).allocations_by_ids({d.object_id for d in docs})
    connection_id = docs[0].connection_id
    invoice_ids = {a.invoice_id for a in allocations.values() if a.invoice_id}
    targets = await _deps(session, tenant_id, connection_id, "invoice", invoice_ids)
    notes = await _deps(
        session,
        tenant_id,
        connection_id,
        "credit_note",
        {a.credit_note_id for a in allocations.values() if a.credit_note_id},
    )
    overpayments = await _deps(
        session, tenant_id, connection_id, "overpayment", {a.payment_id for a in allocations.values() if a.payment_id}
    )
    invoices = await InvoiceRepository(session, tenant_id).by_ids(invoice_ids)
    claimed = Claimed([], {})
    for doc in docs:
        allocation = allocations[doc.object_id]
        assert allocation.invoice_id is not None
        invoice = invoices[allocation.invoice_id]
        target = targets.get(invoice.id)
        if allocation.credit_note_id is not None:
            source, path, what = notes.get(allocation.credit_note_id), "CreditNotes", "the credit note"
        else:
            assert allocation.payment_id is not None
            source, path, what = overpayments.get(allocation.payment_id), "Overpayments", "the payment's credit"
        if target is None or source is None:
            claimed.settled[doc.id] = _waiting(doc, f"invoice {invoice.number}" if target is None else what)
            continue
        amount = as_decimal(allocation.amount, invoice.currency)
        body = {"Invoice": {"InvoiceID": target}, "Amount": amount, "Date": allocation.allocated_on.isoformat()}
        work = _work(
            doc, f"{amount} of credit on invoice {invoice.number}", _once(body), f"{path}/{source}/Allocations"
        )
        work.key = {"on": (path, source), "amount": amount, "date": allocation.allocated_on, "invoice": target}
        work.check = _amount_check(amount)
        claimed.works.append(work)
    return claimed


async def _prepare_refunds(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    """Credit paid back: a payment out of the credit note or overpayment it came from."""
    allocations = await LedgerRepository(session, tenant_id).allocations_by_ids({d.object_id for d in docs})
    refunds = await RefundRepository(session, tenant_id).by_ids(
        {a.refund_id for a in allocations.values() if a.refund_id}
    )
    connection_id = docs[0].connection_id
    notes = await _deps(
        session,
        tenant_id,
        connection_id,
        "credit_note",
        {a.credit_note_id for a in allocations.values() if a.credit_note_id},
    )
    overpayments = await _deps(
        session, tenant_id, connection_id, "overpayment", {a.payment_id for a in allocations.values() if a.payment_id}
    )
    companies = await CompanyRepository(session, tenant_id).by_ids({r.company_id for r in refunds.values()})
    mappings = await _mappings(session, tenant_id, {c.home_location_id for c in companies.values()})
    claimed = Claimed([], {})
    for doc in docs:
        allocation = allocations[doc.object_id]
        assert allocation.refund_id is not None
        refund = refunds[allocation.refund_id]
        if allocation.credit_note_id is not None:
            source, ref_key, path = notes.get(allocation.credit_note_id), "CreditNote", "CreditNotes"
        else:
            assert allocation.payment_id is not None
            source, ref_key, path = overpayments.get(allocation.payment_id), "Overpayment", "Overpayments"
        if source is None:
            claimed.settled[doc.id] = _waiting(doc, "the credit it pays back")
            continue
        mapping = mappings[companies[refund.company_id].home_location_id]
        try:
            if mapping is None:
                raise _UNMAPPED
            code = mapping.payment_account(refund.method)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        amount = as_decimal(allocation.amount, refund.currency)
        body = {
            ref_key: {f"{ref_key}ID": source},
            "Account": {"Code": code},
            "Date": refund.refunded_on.isoformat(),
            "Amount": amount,
            "Reference": refund.reference or "",
        }
        work = _work(doc, f"refund of {amount}", _once(body), "Payments")
        work.key = {"on": (path, source), "amount": amount, "date": refund.refunded_on, "ref": body["Reference"]}
        work.check = _amount_check(amount)
        claimed.works.append(work)
    return claimed


KINDS = {
    kind.name: kind
    for kind in (
        Kind("contact", "POST", "Contacts", "ContactID", None, {}, _prepare_contacts),
        Kind("invoice", "POST", "Invoices", "InvoiceID", "InvoiceNumber", {"unitdp": "4"}, _prepare_invoices),
        Kind(
            "credit_note",
            "POST",
            "CreditNotes",
            "CreditNoteID",
            "CreditNoteNumber",
            {"unitdp": "4"},
            _prepare_credit_notes,
        ),
        Kind("overpayment", "PUT", "BankTransactions", "OverpaymentID", None, {}, _prepare_overpayments),
        Kind("payment", "PUT", "Payments", "PaymentID", None, {}, _prepare_payments),
        Kind("allocation", "PUT", "Allocations", "AllocationID", None, {}, _prepare_allocations),
        Kind("refund", "PUT", "Payments", "PaymentID", None, {}, _prepare_refunds),
    )
}
assert tuple(KINDS) == DOCUMENT_KINDS
