"""The drain: sends one organisation's waiting documents to Xero, in dependency order, in batches.

A pass goes through the kinds in ``DOCUMENT_KINDS`` order (contacts before the invoices that name
them, invoices before the payments of them). For each kind it repeatedly:

1. **claims** up to 50 due documents in a short transaction: builds what to send from our rows,
   marks them ``sending`` with a lease, and commits, so a drain that dies mid-call leaves a trace;
2. **looks up** what may already be in Xero: every document a previous send left in doubt (a lost
   answer, a dead worker), and every new contact (matched by our id, then name or e-mail);
3. **sends** the rest in one call with ``summarizeErrors=false`` and an ``Idempotency-Key`` made of
   the documents' ids and versions, inside the organisation's rate limits (``throttle``);
4. **records** each document's outcome and the call's journal entry in one transaction.

Failures are sorted: Xero's validation errors (and our own missing mappings) wait on the document
for the operator; a refused token pauses the connection; 429s hold the organisation off for as long
as Xero asks; outages and lost answers are retried with backoff, a lost answer after a look-up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.repository import RevenueAccountRepository, TaxRateRepository
from app.company.repository import CompanyRepository
from app.db.session import tenant_transaction
from app.integrations.xero import payloads
from app.integrations.xero.client import (
    XeroAmbiguous,
    XeroAuthError,
    XeroError,
    XeroNotFound,
    XeroRateLimited,
    XeroRejected,
    XeroUnavailable,
)
from app.integrations.xero.models import DOCUMENT_KINDS, XeroDocument, XeroJournalEntry, XeroLocationSettings
from app.integrations.xero.repository import ConnectionRepository, DocumentRepository, LocationSettingsRepository
from app.integrations.xero.throttle import ThrottleTimeout
from app.integrations.xero.tokens import Access, XeroNeedsReconnect, access, client_of, refused_by_xero
from app.invoice.repository import InvoiceRepository
from app.kit.money import as_decimal
from app.ledger.repository import CreditNoteRepository, LedgerRepository, PaymentRepository, RefundRepository
from app.state import AppState

log = structlog.get_logger()

BATCH = 50
LEASE = timedelta(minutes=5)  # longer than a slot's wait plus a call's timeout
SLOT_WAIT = 60.0
WAITING = timedelta(seconds=30)  # a document whose dependency is not in Xero yet looks again after this
LONGEST_DRAIN = 240.0  # seconds; the sweep rings again for what is left
SOON = 10.0  # a retry due within this many seconds is waited for by the running drain
_ENCODER = msgspec.json.Encoder(decimal_format="number")


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


@dataclass
class Drained:
    calls: int = 0
    synced: int = 0
    refused: int = 0
    stopped: str | None = None


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


async def _prepare_invoices(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    repo = InvoiceRepository(session, tenant_id)
    invoices = await repo.by_ids({d.object_id for d in docs})
    lines = await repo.lines(list(invoices))
    connection_id = docs[0].connection_id
    contacts = await _deps(session, tenant_id, connection_id, "contact", {i.company_id for i in invoices.values()})
    mappings = await _mappings(session, tenant_id, {i.location_id for i in invoices.values()})
    claimed = Claimed([], {})
    for doc in docs:
        invoice = invoices[doc.object_id]
        contact_id, mapping = contacts.get(invoice.company_id), mappings[invoice.location_id]
        if contact_id is None and invoice.status != "void":
            claimed.settled[doc.id] = _waiting(doc, "the customer's contact")
            continue
        if mapping is None:
            claimed.settled[doc.id] = _refused(doc, _UNMAPPED)
            continue
        try:
            body = payloads.invoice(invoice, lines.get(invoice.id, []), contact_id or "", mapping)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        build = _void_or(invoice.status, body, "InvoiceID", doc.xero_status)
        work = _work(doc, f"invoice {invoice.number}", build, "Invoices")
        work.key = {"number": invoice.number, "by_reference": mapping.settings.numbering != "ours"}
        work.check = _totals_check(invoice.subtotal, invoice.tax_total, invoice.total, invoice.currency)
        claimed.works.append(work)
    return claimed


async def _prepare_credit_notes(
    session: AsyncSession, state: AppState, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]
) -> Claimed:
    repo = CreditNoteRepository(session, tenant_id)
    notes = await repo.by_ids({d.object_id for d in docs})
    lines = await repo.lines(list(notes))
    connection_id = docs[0].connection_id
    contacts = await _deps(session, tenant_id, connection_id, "contact", {n.company_id for n in notes.values()})
    mappings = await _mappings(session, tenant_id, {n.location_id for n in notes.values()})
    claimed = Claimed([], {})
    for doc in docs:
        note = notes[doc.object_id]
        contact_id, mapping = contacts.get(note.company_id), mappings[note.location_id]
        if contact_id is None:
            claimed.settled[doc.id] = _waiting(doc, "the customer's contact")
            continue
        if mapping is None:
            claimed.settled[doc.id] = _refused(doc, _UNMAPPED)
            continue
        try:
            body = payloads.credit_note(note, lines.get(note.id, []), contact_id, mapping)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        build = _void_or(note.status, body, "CreditNoteID", doc.xero_status)
        work = _work(doc, f"credit note {note.number}", build, "CreditNotes")
        work.key = {"number": note.number, "by_reference": mapping.settings.numbering != "ours"}
        work.check = _totals_check(note.subtotal, note.tax_total, note.total, note.currency)
        claimed.works.append(work)
    return claimed


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


# --- the drain ------------------------------------------------------------------------------------


async def drain(state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> Drained:
    """Send everything due for this organisation, kind by kind, until nothing is due (or a retry
    due within seconds has been waited for). Safe to run twice, and beside another drain of the
    same organisation: each document is claimed by one of them at a time."""
    report, started = Drained(), time.monotonic()
    while report.stopped is None and time.monotonic() - started < LONGEST_DRAIN:
        progressed = False
        for name in DOCUMENT_KINDS:
            while report.stopped is None and await _one_batch(state, tenant_id, connection_id, KINDS[name], report):
                progressed = True
        if report.stopped is not None or progressed:
            continue
        async with tenant_transaction(state, tenant_id) as session:
            due = await DocumentRepository(session, tenant_id).next_due(connection_id)
        wait = None if due is None else (due - state.clock.now()).total_seconds()
        if wait is None or wait > SOON:
            break
        await asyncio.sleep(max(wait, 0.05))
    log.info(
        "xero.drain.done", calls=report.calls, synced=report.synced, refused=report.refused, stopped=report.stopped
    )
    return report


async def _claim(state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID, kind: Kind) -> Claimed | None:
    """Up to a batch of due documents of ``kind``, marked as being sent; None once none are due
    (or the connection is no longer live)."""
    async with tenant_transaction(state, tenant_id) as session:
        connection = await ConnectionRepository(session, tenant_id).get(connection_id)
        if connection is None or connection.status != "active":
            return None
        now = state.clock.now()
        docs = await DocumentRepository(session, tenant_id).due(connection_id, kind.name, now, BATCH)
        if not docs:
            return None
        for doc in docs:
            if doc.status == "sending":  # its drain died mid-call: the call may have landed
                doc.in_doubt = True
            doc.status, doc.lease_until, doc.attempts = "sending", now + LEASE, doc.attempts + 1
        claimed = await kind.prepare(session, state, tenant_id, docs)
        await session.flush()
    return claimed


async def _one_batch(
    state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID, kind: Kind, report: Drained
) -> bool:
    claimed = await _claim(state, tenant_id, connection_id, kind)
    if claimed is None:
        return False
    outcomes: dict[uuid.UUID, Settled] = dict(claimed.settled)
    journal: list[XeroJournalEntry] = []
    works = claimed.works
    try:
        granted = await access(state, tenant_id, connection_id)
    except XeroNeedsReconnect as problem:
        report.stopped = "needs_reconnect"
        _all(outcomes, works, Outcome("retry", error_kind="auth", error=str(problem)))
    except XeroError as problem:
        report.stopped = "unreachable"
        _all(outcomes, works, _retry(str(problem)))
    else:
        call = _Caller(state, tenant_id, granted, kind, journal, report)
        try:
            await _look_up(call, kind, works)
            await _send(call, kind, works, outcomes)
        except _Stop as stop:
            report.stopped = stop.reason if stop.final else None
            _all(outcomes, [w for w in works if w.doc_id not in outcomes], stop.outcome)
    await _record(state, tenant_id, outcomes, journal, report)
    return True


def _all(outcomes: dict[uuid.UUID, Settled], works: Sequence[Work], outcome: Outcome) -> None:
    for work in works:
        outcomes[work.doc_id] = (work.version, work.lease, outcome if not work.in_doubt else _doubt(outcome))


def _doubt(outcome: Outcome) -> Outcome:
    return dataclasses.replace(outcome, in_doubt=True)


def _retry(message: str, after: float = 0.0, *, in_doubt: bool = False, backoff: bool = True) -> Outcome:
    """Try again: after ``after`` seconds, or (``backoff``) after a wait that grows with the
    document's attempts."""
    return Outcome(
        "retry", error_kind="transient", error=message[:500], in_doubt=in_doubt, retry_in=after, backoff=backoff
    )


class _Stop(Exception):
    """The batch cannot go on. ``final``: nor can the drain (the connection is refused, Xero is
    down, a long hold-off); otherwise the drain carries on once the organisation's hold passes."""

    def __init__(self, reason: str, outcome: Outcome, *, final: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.outcome, self.final = reason, outcome, final


class _Caller:
    """Calls for one batch: inside the organisation's limits, each one journalled, failures sorted."""

    def __init__(
        self,
        state: AppState,
        tenant_id: uuid.UUID,
        granted: Access,
        kind: Kind,
        journal: list[XeroJournalEntry],
        report: Drained,
    ) -> None:
        self.state, self.tenant_id, self.granted, self.kind = state, tenant_id, granted, kind
        self.journal, self.report = journal, report

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        items: int = 0,
    ) -> Any:
        state, granted = self.state, self.granted
        throttle = state.xero_throttle
        try:
            async with throttle.slot(granted.xero_tenant_id, max_wait=SLOT_WAIT):
                started, status, outcome = time.monotonic(), None, "ok"
                try:
                    answer = await client_of(state).call(
                        granted.token,
                        granted.xero_tenant_id,
                        method,
                        path,
                        body=body,
                        params=params,
                        idempotency_key=key,
                    )
                    status = 200
                    return answer.body
                except XeroRateLimited as problem:
                    status, outcome = 429, f"rate limited: {problem.problem}, retry after {problem.retry_after}s"
                    await throttle.hold_off(granted.xero_tenant_id, problem.retry_after, problem.problem)
                    raise
                except XeroRejected as problem:
                    status, outcome = 400, str(problem)[:500]
                    raise
                except XeroAuthError as problem:
                    status, outcome = problem.status, str(problem)[:500]
                    raise
                except XeroError as problem:
                    outcome = str(problem)[:500]
                    raise
                finally:
                    self.report.calls += 1
                    self.journal.append(
                        XeroJournalEntry(
                            tenant_id=self.tenant_id,
                            connection_id=granted.connection_id,
                            at=state.clock.now(),
                            method=method,
                            path=path[:300],
                            kind=self.kind.name,
                            items=items,
                            idempotency_key=key,
                            status_code=status,
                            outcome=outcome,
                            duration_ms=int((time.monotonic() - started) * 1000),
                        )
                    )
        except ThrottleTimeout as waited:
            raise _Stop("throttled", _retry(str(waited), waited.retry_in, backoff=False)) from None
        except XeroRateLimited as problem:
            # Held off in Redis for every worker; a short hold is waited out by the next slot.
            long_hold = problem.retry_after > SLOT_WAIT
            raise _Stop(
                "rate_limited",
                _retry(str(problem), problem.retry_after if long_hold else 0, backoff=False),
                final=long_hold,
            ) from None
        except XeroAuthError as problem:
            await refused_by_xero(state, self.tenant_id, granted, problem.status)
            raise _Stop("auth", Outcome("retry", error_kind="auth", error=str(problem)[:500])) from None
        except XeroAmbiguous as problem:
            raise _Stop("ambiguous", _retry(str(problem), in_doubt=True)) from None
        except XeroUnavailable as problem:
            # A 500 may come after the write was made; a 503 or no connection means it was not.
            raise _Stop("unavailable", _retry(str(problem), in_doubt=str(problem).startswith("500"))) from None


# --- looking up what may already be in Xero ---------------------------------------------------


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(field_name: str, values: Sequence[str]) -> str:
    return " OR ".join(f"{field_name}=={_quoted(value)}" for value in values)


def _chunks(items: Sequence[Any], size: int = 10) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def xero_date(value: Any) -> date | None:
    """A date as Xero writes it (``/Date(1539993600000+0000)/``, or ISO), or None."""
    text = str(value or "")
    if text.startswith("/Date("):
        millis = int(text[6:].split(")", maxsplit=1)[0].split("+", maxsplit=1)[0].split("-", maxsplit=1)[0])
        return datetime.fromtimestamp(millis / 1000, UTC).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


async def _known(call: _Caller, kind: str, xero_ids: set[str]) -> set[str]:
    """Which of these Xero ids are already another document of ours."""
    if not xero_ids:
        return set()
    async with tenant_transaction(call.state, call.tenant_id) as session:
        return await DocumentRepository(session, call.tenant_id).known_ids(call.granted.connection_id, kind, xero_ids)


async def _look_up(call: _Caller, kind: Kind, works: Sequence[Work]) -> None:
    """Find in Xero what a send in doubt may have made, and the contacts Xero already has, so that
    nothing is made twice."""
    if kind.name == "contact":
        await _match_contacts(call, [w for w in works if w.xero_id is None])
        return
    doubtful = [w for w in works if w.in_doubt and w.xero_id is None]
    if not doubtful:
        return
    if kind.name in ("invoice", "credit_note"):
        await _find_documents(call, kind, doubtful)
    else:
        await _find_movements(call, kind, doubtful)


async def _match_contacts(call: _Caller, works: Sequence[Work]) -> None:
    """Our id in ``ContactNumber`` first (archived contacts too); then an active contact of the
    same name, or the one active contact with the same e-mail, that carries no other id of ours."""
    if not works:
        return
    found: list[dict[str, Any]] = []
    for chunk in _chunks([w.key["number"] for w in works]):
        params = {"where": _any_of("ContactNumber", chunk), "includeArchived": "true"}
        found += (await call("GET", "Contacts", params=params)).get("Contacts") or []
    by_number = {c.get("ContactNumber"): c for c in found}
    rest = []
    for work in works:
        if (match := by_number.get(work.key["number"])) is not None:
            work.xero_id = match["ContactID"]
        else:
            rest.append(work)
    candidates: list[dict[str, Any]] = []
    for chunk in _chunks(rest, 5):
        where = " OR ".join(
            f"{_any_of('Name', [w.key['name']])} OR {_any_of('EmailAddress', [w.key['email']])}" for w in chunk
        )
        candidates += (await call("GET", "Contacts", params={"where": where})).get("Contacts") or []
    free = [c for c in candidates if c.get("ContactStatus", "ACTIVE") == "ACTIVE" and not c.get("ContactNumber")]
    taken = await _known(call, "contact", {c["ContactID"] for c in free})
    for work in rest:
        named = [
            c
            for c in free
            if c["ContactID"] not in taken and c.get("Name", "").casefold() == work.key["name"].casefold()
        ]
        mailed = [
            c
            for c in free
            if c["ContactID"] not in taken and (c.get("EmailAddress") or "").casefold() == work.key["email"].casefold()
        ]
        match = named[0] if named else mailed[0] if len(mailed) == 1 else None
        if match is not None:
            work.xero_id = match["ContactID"]
            taken.add(match["ContactID"])


async def _find_documents(call: _Caller, kind: Kind, works: Sequence[Work]) -> None:
    assert kind.number_key is not None
    found: list[dict[str, Any]] = []
    by_number = [w.key["number"] for w in works if not w.key["by_reference"]]
    by_reference = [w.key["number"] for w in works if w.key["by_reference"]]
    for chunk in _chunks(by_number):
        if kind.name == "invoice":
            params = {"InvoiceNumbers": ",".join(chunk)}
        else:
            params = {"where": _any_of(kind.number_key, chunk)}
        found += (await call("GET", kind.plural, params=params)).get(kind.plural) or []
    for chunk in _chunks(by_reference):
        found += (await call("GET", kind.plural, params={"where": _any_of("Reference", chunk)})).get(kind.plural) or []
    live = [d for d in found if d.get("Status") != "DELETED"]
    for work in works:
        field_name = "Reference" if work.key["by_reference"] else kind.number_key
        match = next((d for d in live if d.get(field_name) == work.key["number"]), None)
        if match is not None:
            work.xero_id, work.found = match[kind.id_key], match


async def _find_movements(call: _Caller, kind: Kind, works: Sequence[Work]) -> None:
    """Payments, allocations, refunds and overpayments carry no number: a candidate is one with the
    same amount, date (and reference) on the same document that is not already ours."""
    listed: dict[Any, list[dict[str, Any]]] = {}
    for work in works:
        where = work.key.get("on") or ("Overpayments", work.key["contact"])
        if where in listed:
            continue
        if kind.name == "overpayment":
            params = {"where": f'Contact.ContactID==GUID("{work.key["contact"]}")'}
            listed[where] = (await call("GET", "Overpayments", params=params)).get("Overpayments") or []
        else:
            path, xero_id = where
            document = ((await call("GET", f"{path}/{xero_id}")).get(path) or [{}])[0]
            listed[where] = document.get("Allocations" if kind.name == "allocation" else "Payments") or []
    id_key = kind.id_key
    taken = await _known(call, kind.name, {c[id_key] for found in listed.values() for c in found if c.get(id_key)})
    for work in works:
        where = work.key.get("on") or ("Overpayments", work.key["contact"])
        for candidate in listed[where]:
            if candidate.get(id_key) in taken or not _same_movement(kind, work, candidate):
                continue
            work.xero_id, work.found = candidate[id_key], candidate
            taken.add(candidate[id_key])
            break


def _same_movement(kind: Kind, work: Work, candidate: dict[str, Any]) -> bool:
    amount = candidate.get("Total" if kind.name == "overpayment" else "Amount")
    if (
        amount is None
        or Decimal(str(amount)) != work.key["amount"]
        or xero_date(candidate.get("Date")) != work.key["date"]
    ):
        return False
    if kind.name == "allocation":
        return bool((candidate.get("Invoice") or {}).get("InvoiceID") == work.key["invoice"])
    return (candidate.get("Reference") or "") == work.key.get("ref", "") or "Reference" not in candidate


# --- sending ----------------------------------------------------------------------------------------


def idempotency_key(kind: Kind, works: Sequence[Work], body: bytes) -> str:
    """The documents and versions in the call, and what is said of them: a replay of the very
    same call is answered from Xero's memory; anything else is a new call."""
    digest = hashlib.sha256(kind.name.encode())
    for work in works:
        digest.update(f"{work.object_id}:{work.version};".encode())
    digest.update(body)
    return f"flexledger-{kind.name}-{digest.hexdigest()[:48]}"


def _answered(kind: Kind, work: Work, element: dict[str, Any]) -> Outcome:
    """What Xero's answer for one element means for its document."""
    messages = payloads.validation_messages(element)
    if messages or element.get("StatusAttributeString") == "ERROR" or element.get("HasErrors"):
        message = "; ".join(messages) or "Xero refused it without saying why."
        return Outcome("invalid", error_kind="validation", error=message[:2000], hint=payloads.hint_for(message))
    xero_id = element.get(kind.id_key) or work.xero_id
    number = element.get(kind.number_key) if kind.number_key else None
    differs = (
        work.check(element) if work.check is not None and element.get("Status") not in ("VOIDED", "DELETED") else None
    )
    if differs:
        hint = "Check the tax types and account codes mapped for the location; Xero rounds each line's tax."
        return Outcome(
            "mismatch", xero_id, number, element.get("Status"), "mismatch", f"Totals differ: {differs}.", hint
        )
    return Outcome("synced", xero_id, number, element.get("Status"))


async def _send(call: _Caller, kind: Kind, works: Sequence[Work], outcomes: dict[uuid.UUID, Settled]) -> None:
    groups: dict[str, list[tuple[Work, dict[str, Any]]]] = defaultdict(list)
    for work in works:
        if work.doc_id in outcomes:
            continue
        body = work.build(work.xero_id)
        voiding = body is not None and body.get("Status") in ("VOIDED", "DELETED")
        if work.found is not None and kind.name != "contact" and not voiding:
            outcomes[work.doc_id] = (work.version, work.lease, _answered(kind, work, work.found))
        elif body is None:  # voided before it reached Xero, or already there
            outcomes[work.doc_id] = (work.version, work.lease, Outcome("synced", work.xero_id))
        else:
            groups[work.path].append((work, body))
    for path, group in groups.items():
        sent = [work for work, _ in group]
        plural = kind.plural
        encoded = _ENCODER.encode({plural: [body for _, body in group]})
        key = idempotency_key(kind, sent, encoded)
        params = kind.params | {"summarizeErrors": "false"}
        try:
            answer = await call(
                kind.method, path, params=params, body={plural: [b for _, b in group]}, key=key, items=len(group)
            )
            elements = answer.get(plural) or []
        except XeroRejected as problem:  # the request as a whole (not one element) was refused
            body = problem.body if isinstance(problem.body, dict) else {}
            elements = body.get("Elements") or []
            if len(elements) != len(group):
                message = str(body.get("Message") or problem)[:2000]
                elements = [{"ValidationErrors": [{"Message": message}]}] * len(group)
        except XeroNotFound:
            elements = [{"ValidationErrors": [{"Message": f"Xero has no {path.split('/')[0]} {path}."}]}] * len(group)
        if len(elements) != len(group):  # an answer we cannot pair up: look everything up next time
            _all(outcomes, sent, _retry("Xero's answer did not list every document sent.", in_doubt=True))
            continue
        for work, element in zip(sent, elements, strict=True):
            outcomes[work.doc_id] = (work.version, work.lease, _answered(kind, work, element))


# --- recording ----------------------------------------------------------------------------------------


async def _record(
    state: AppState,
    tenant_id: uuid.UUID,
    outcomes: dict[uuid.UUID, Settled],
    journal: list[XeroJournalEntry],
    report: Drained,
) -> None:
    async with tenant_transaction(state, tenant_id) as session:
        session.add_all(journal)
        docs = await DocumentRepository(session, tenant_id).locked(list(outcomes))
        now = state.clock.now()
        for doc_id, (version, lease, outcome) in outcomes.items():
            doc = docs.get(doc_id)
            if doc is None or doc.status != "sending" or doc.lease_until != lease:
                continue  # the lease ran out and another drain has it now
            _apply(doc, version, outcome, now)
            report.synced += outcome.status == "synced"
            report.refused += outcome.status in ("invalid", "mismatch")


def _apply(doc: XeroDocument, version: int, outcome: Outcome, now: datetime) -> None:
    newer = doc.version > version  # changed again while this send was out: send that too
    doc.lease_until = None
    doc.error_kind, doc.error, doc.hint = outcome.error_kind, outcome.error, outcome.hint
    if outcome.status in ("synced", "mismatch"):
        doc.synced_version, doc.synced_at, doc.attempts, doc.in_doubt = version, now, 0, False
        doc.xero_id = outcome.xero_id or doc.xero_id
        doc.xero_number = outcome.xero_number or doc.xero_number
        doc.xero_status = outcome.xero_status or doc.xero_status
        doc.status, doc.next_attempt_at = ("pending", now) if newer else (outcome.status, doc.next_attempt_at)
    elif outcome.status == "invalid":
        doc.in_doubt = False
        doc.status, doc.next_attempt_at = ("pending", now) if newer else ("invalid", doc.next_attempt_at)
    elif outcome.status == "waiting":
        doc.status, doc.attempts, doc.next_attempt_at = "pending", max(doc.attempts - 1, 0), now + WAITING
    else:
        delay = (
            max(outcome.retry_in, min(2.0 ** max(doc.attempts - 1, 0), 900.0)) if outcome.backoff else outcome.retry_in
        )
        doc.status, doc.next_attempt_at = "pending", now + timedelta(seconds=delay)
        doc.in_doubt = doc.in_doubt or outcome.in_doubt
