"""What each kind of document is in Xero: how a claimed batch of ours becomes elements to send.

A kind's ``prepare`` reads our rows for the documents a drain claimed (in the claim's transaction)
and returns, for each, either the work to send (the element, how to recognise it in a look-up, how
to check Xero's answer) or what stops it before any call: a missing mapping (the operator must fix
it) or a document it needs that is not in Xero yet (it waits).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
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
from app.integrations.xero.schemas import WRITE_OFF
from app.invoice.models import Invoice
from app.invoice.repository import InvoiceRepository
from app.kit.money import as_decimal
from app.ledger.models import Allocation, CreditNote
from app.ledger.repository import (
    CreditNoteRepository,
    LedgerRepository,
    PaymentRepository,
    RefundRepository,
    WriteOffRepository,
)


@dataclass
class Work:
    """One claimed document: what to send, and how to recognise it in Xero."""

    doc_id: uuid.UUID
    object_id: uuid.UUID
    version: int
    lease: datetime
    in_doubt: bool
    xero_id: str | None
    # The element to send, given the Xero id known by then; None: nothing needs sending.
    build: Callable[[str | None], dict[str, Any] | None]
    path: str  # the endpoint (allocations go to their credit's own)
    # How to tell it apart in a look-up: a number or a reference; or where it is ("on": the
    # endpoint and Xero id to read), its amount, date and reference.
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
    prepare: Callable[[AsyncSession, uuid.UUID, Sequence[XeroDocument]], Awaitable[Claimed]]


# --- claiming: what each kind sends ------------------------------------------------------------


def _work(doc: XeroDocument, build: Callable[[str | None], Any], path: str) -> Work:
    assert doc.lease_until is not None
    return Work(doc.id, doc.object_id, doc.version, doc.lease_until, doc.in_doubt, doc.xero_id, build, path)


def _refused(doc: XeroDocument, problem: payloads.NotSendable) -> Settled:
    assert doc.lease_until is not None
    outcome = Outcome("invalid", error_kind="validation", error=problem.message, hint=problem.hint)
    return doc.version, doc.lease_until, outcome


def _waiting(doc: XeroDocument, what: str) -> Settled:
    assert doc.lease_until is not None
    outcome = Outcome("waiting", error_kind="waiting", error=f"Waits for {what} to reach Xero.")
    return doc.version, doc.lease_until, outcome


async def _settings(
    session: AsyncSession, tenant_id: uuid.UUID, location_ids: set[uuid.UUID]
) -> dict[uuid.UUID, XeroLocationSettings]:
    """The mapping of each of these locations (those still mapped)."""
    return await LocationSettingsRepository(session, tenant_id).for_locations(location_ids)


async def _mappings(
    session: AsyncSession, tenant_id: uuid.UUID, location_ids: set[uuid.UUID]
) -> dict[uuid.UUID, payloads.Mapping]:
    """What documents with lines need of each location's mapping: its codes, and our fallbacks."""
    accounts = await RevenueAccountRepository(session, tenant_id).all_by_id()
    rates = await TaxRateRepository(session, tenant_id).names()
    found = await _settings(session, tenant_id, location_ids)
    return {location_id: payloads.Mapping(settings, accounts, rates) for location_id, settings in found.items()}


async def _deps(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, kind: str, ids: set[uuid.UUID]
) -> dict[uuid.UUID, str | None]:
    """The Xero ids of the documents of ``kind`` these objects need, for those this organisation has
    (None while one has not reached Xero yet); an object left out is not sent to it at all."""
    docs = await DocumentRepository(session, tenant_id).of_objects(connection_id, kind, ids)
    return {object_id: doc.xero_id for object_id, doc in docs.items()}


async def _prepare_contacts(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> Claimed:
    companies = await CompanyRepository(session, tenant_id).by_ids({d.object_id for d in docs})
    claimed = Claimed([], {})
    for doc in docs:
        company = companies[doc.object_id]
        work = _work(doc, functools.partial(payloads.contact, company), "Contacts")
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


def _figures_check(
    document: Invoice | CreditNote, parts: list[list[tuple[str, int]]]
) -> Callable[[dict[str, Any]], str | None]:
    """Xero's totals and its split of each line's tax (``parts``: ours, line by line) against ours."""
    currency = document.currency

    def check(answer: dict[str, Any]) -> str | None:
        return payloads.totals_differ(
            answer, document.subtotal, document.tax_total, document.total, currency
        ) or payloads.tax_parts_differ(answer, parts, currency)

    return check


async def _prepare_documents(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    docs: Sequence[XeroDocument],
    found: dict[uuid.UUID, Any],
    lines: dict[uuid.UUID, Any],
    taxes: dict[uuid.UUID, Any],  # the tax parts of lines taxed at a rate of several components
    element: Callable[[Any, Any, str, payloads.Mapping], dict[str, Any]],
    path: str,  # Xero's endpoint
    id_key: str,  # Xero's id
) -> Claimed:
    """Invoices and credit notes: whole documents with lines, needing their customer's contact."""
    contacts = await _deps(session, tenant_id, docs[0].connection_id, "contact", {d.company_id for d in found.values()})
    mappings = await _mappings(session, tenant_id, {d.location_id for d in found.values()})
    claimed = Claimed([], {})
    for doc in docs:
        document = found[doc.object_id]
        contact_id, mapping = contacts.get(document.company_id), mappings.get(document.location_id)
        if contact_id is None and document.status != "void":
            claimed.settled[doc.id] = _waiting(doc, "the customer's contact")
            continue
        if mapping is None:
            claimed.settled[doc.id] = _refused(doc, payloads.UNMAPPED)
            continue
        try:
            body = element(document, lines.get(document.id, []), contact_id or "", mapping)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        work = _work(doc, _void_or(document.status, body, id_key, doc.xero_status), path)
        work.key = {"number": document.number, "by_reference": mapping.settings.numbering != "ours"}
        parts = [[(part.name, part.amount) for part in taxes.get(line.id, ())] for line in lines.get(document.id, [])]
        work.check = _figures_check(document, parts)
        claimed.works.append(work)
    return claimed


async def _prepare_invoices(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> Claimed:
    repo = InvoiceRepository(session, tenant_id)
    invoices = await repo.by_ids({d.object_id for d in docs})
    lines = await repo.lines(list(invoices))
    taxes = await repo.taxes([line.id for found in lines.values() for line in found])
    return await _prepare_documents(
        session, tenant_id, docs, invoices, lines, taxes, payloads.invoice, "Invoices", "InvoiceID"
    )


async def _prepare_credit_notes(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> Claimed:
    repo = CreditNoteRepository(session, tenant_id)
    notes = await repo.by_ids({d.object_id for d in docs})
    lines = await repo.lines(list(notes))
    taxes = await repo.taxes([line.id for found in lines.values() for line in found])
    return await _prepare_documents(
        session, tenant_id, docs, notes, lines, taxes, payloads.credit_note, "CreditNotes", "CreditNoteID"
    )


def _amount_check(amount: Decimal, field_name: str = "Amount") -> Callable[[dict[str, Any]], str | None]:
    def check(answer: dict[str, Any]) -> str | None:
        theirs = Decimal(str(answer.get(field_name, "NaN")))
        return None if theirs == amount else f"{field_name} {amount} here, {theirs} in Xero"

    return check


async def _prepare_payments(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> Claimed:
    """A payment of an invoice, received now: one per allocation of the payment to an invoice. A
    write-off is a payment too, from the location's write-off (bad-debt) account."""
    allocations = await LedgerRepository(session, tenant_id).allocations_by_ids({d.object_id for d in docs})
    payments = await PaymentRepository(session, tenant_id).by_ids(
        {a.payment_id for a in allocations.values() if a.payment_id}
    )
    write_offs = await WriteOffRepository(session, tenant_id).by_ids(
        {a.write_off_id for a in allocations.values() if a.write_off_id}
    )
    invoices = await InvoiceRepository(session, tenant_id).by_ids(
        {a.invoice_id for a in allocations.values() if a.invoice_id}
    )
    targets = await _deps(session, tenant_id, docs[0].connection_id, "invoice", set(invoices))
    settings = await _settings(session, tenant_id, {i.location_id for i in invoices.values()})
    claimed = Claimed([], {})
    for doc in docs:
        allocation = allocations[doc.object_id]
        assert allocation.invoice_id is not None
        invoice = invoices[allocation.invoice_id]
        if allocation.payment_id is not None:
            payment = payments[allocation.payment_id]
            method, day, reference = payment.method, payment.paid_on, payment.reference or ""
        else:
            assert allocation.write_off_id is not None
            given_up = write_offs[allocation.write_off_id]
            method, day = WRITE_OFF, given_up.written_off_on
            reference = f"Written off: {given_up.reason}"[:255] if given_up.reason else "Written off"
        if invoice.id not in targets:
            claimed.settled[doc.id] = _refused(doc, payloads.not_here(invoice.number))
            continue
        target = targets[invoice.id]
        if target is None:
            claimed.settled[doc.id] = _waiting(doc, f"invoice {invoice.number}")
            continue
        try:
            code = payloads.payment_account(settings.get(invoice.location_id), method)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        amount = as_decimal(allocation.amount, invoice.currency)
        body = {
            "Invoice": {"InvoiceID": target},
            "Account": {"Code": code},
            "Date": day.isoformat(),
            "Amount": amount,
            "Reference": reference,
        }
        work = _work(doc, _once(body), "Payments")
        work.key = {"on": ("Invoices", target), "amount": amount, "date": day, "ref": reference}
        work.check = _amount_check(amount)
        claimed.works.append(work)
    return claimed


def _once(body: dict[str, Any]) -> Callable[[str | None], dict[str, Any] | None]:
    """Payments and allocations are made once and never changed: sent only while not in Xero."""
    return lambda xero_id: None if xero_id else dict(body)


async def _prepare_overpayments(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> Claimed:
    """What a payment brought beyond the invoices it paid at once: the customer's credit."""
    payments = await PaymentRepository(session, tenant_id).by_ids({d.object_id for d in docs})
    applied = await LedgerRepository(session, tenant_id).applied_at_receipt(list(payments))
    companies = await CompanyRepository(session, tenant_id).by_ids({p.company_id for p in payments.values()})
    contacts = await _deps(session, tenant_id, docs[0].connection_id, "contact", set(companies))
    settings = await _settings(session, tenant_id, {c.home_location_id for c in companies.values()})
    claimed = Claimed([], {})
    for doc in docs:
        payment = payments[doc.object_id]
        company = companies[payment.company_id]
        contact_id = contacts.get(company.id)
        if contact_id is None:
            claimed.settled[doc.id] = _waiting(doc, "the customer's contact")
            continue
        try:
            code = payloads.payment_account(settings.get(company.home_location_id), payment.method)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        amount = as_decimal(payment.amount - applied.get(payment.id, 0), payment.currency)
        body = payloads.overpayment(contact_id, code, payment, amount)
        work = _work(doc, _once(body), "BankTransactions")
        work.key = {"on": ("Contact", contact_id), "amount": amount, "date": payment.paid_on, "ref": body["Reference"]}
        work.check = _amount_check(amount, "Total")
        claimed.works.append(work)
    return claimed


async def _credits_spent(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, allocations: Iterable[Allocation]
) -> dict[uuid.UUID, tuple[str, str | None]]:
    """For each allocation, the credit it spends as Xero knows it: (the credit's endpoint, its Xero
    id, None while it is not in Xero). A credit note's, or a payment's overpayment. An allocation
    whose credit this organisation does not hold is left out."""
    allocations = list(allocations)
    notes = await _deps(
        session, tenant_id, connection_id, "credit_note", {a.credit_note_id for a in allocations if a.credit_note_id}
    )
    overpayments = await _deps(
        session, tenant_id, connection_id, "overpayment", {a.payment_id for a in allocations if a.payment_id}
    )
    spent: dict[uuid.UUID, tuple[str, str | None]] = {}
    for allocation in allocations:
        if allocation.credit_note_id is not None:
            if allocation.credit_note_id in notes:
                spent[allocation.id] = ("CreditNotes", notes[allocation.credit_note_id])
        else:
            assert allocation.payment_id is not None
            if allocation.payment_id in overpayments:
                spent[allocation.id] = ("Overpayments", overpayments[allocation.payment_id])
    return spent


async def _prepare_allocations(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> Claimed:
    """Credit applied to an invoice: from a credit note, or from a payment's overpayment."""
    allocations = await LedgerRepository(session, tenant_id).allocations_by_ids({d.object_id for d in docs})
    connection_id = docs[0].connection_id
    invoice_ids = {a.invoice_id for a in allocations.values() if a.invoice_id}
    targets = await _deps(session, tenant_id, connection_id, "invoice", invoice_ids)
    spent = await _credits_spent(session, tenant_id, connection_id, allocations.values())
    invoices = await InvoiceRepository(session, tenant_id).by_ids(invoice_ids)
    claimed = Claimed([], {})
    for doc in docs:
        allocation = allocations[doc.object_id]
        assert allocation.invoice_id is not None
        invoice = invoices[allocation.invoice_id]
        if invoice.id not in targets or allocation.id not in spent:
            problem = payloads.not_here(invoice.number) if invoice.id not in targets else payloads.CREDIT_ELSEWHERE
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        target, (path, source) = targets[invoice.id], spent[allocation.id]
        if target is None or source is None:
            claimed.settled[doc.id] = _waiting(doc, f"invoice {invoice.number}" if target is None else "the credit")
            continue
        amount = as_decimal(allocation.amount, invoice.currency)
        body = {"Invoice": {"InvoiceID": target}, "Amount": amount, "Date": allocation.allocated_on.isoformat()}
        work = _work(doc, _once(body), f"{path}/{source}/Allocations")
        work.key = {"on": (path, source), "amount": amount, "date": allocation.allocated_on, "invoice": target}
        work.check = _amount_check(amount)
        claimed.works.append(work)
    return claimed


async def _prepare_refunds(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> Claimed:
    """Credit paid back: a payment out of the credit note or overpayment it came from."""
    allocations = await LedgerRepository(session, tenant_id).allocations_by_ids({d.object_id for d in docs})
    refunds = await RefundRepository(session, tenant_id).by_ids(
        {a.refund_id for a in allocations.values() if a.refund_id}
    )
    spent = await _credits_spent(session, tenant_id, docs[0].connection_id, allocations.values())
    companies = await CompanyRepository(session, tenant_id).by_ids({r.company_id for r in refunds.values()})
    settings = await _settings(session, tenant_id, {c.home_location_id for c in companies.values()})
    claimed = Claimed([], {})
    for doc in docs:
        allocation = allocations[doc.object_id]
        assert allocation.refund_id is not None
        refund = refunds[allocation.refund_id]
        if allocation.id not in spent:  # noted where the credit is held, so only if it was since unmapped
            claimed.settled[doc.id] = _refused(doc, payloads.CREDIT_ELSEWHERE)
            continue
        path, source = spent[allocation.id]
        if source is None:
            claimed.settled[doc.id] = _waiting(doc, "the credit it pays back")
            continue
        try:
            code = payloads.payment_account(settings.get(companies[refund.company_id].home_location_id), refund.method)
        except payloads.NotSendable as problem:
            claimed.settled[doc.id] = _refused(doc, problem)
            continue
        amount = as_decimal(allocation.amount, refund.currency)
        credit = path.removesuffix("s")  # CreditNote or Overpayment
        body = {
            credit: {f"{credit}ID": source},
            "Account": {"Code": code},
            "Date": refund.refunded_on.isoformat(),
            "Amount": amount,
            "Reference": refund.reference or "",
        }
        work = _work(doc, _once(body), "Payments")
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
