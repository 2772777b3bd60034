"""Where each of our objects stands in Xero, the journal of the sync's calls, and "Sync now"."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.company.models import Company
from app.company.repository import CompanyRepository
from app.integrations.xero.client import deep_link
from app.integrations.xero.connections import get_connection
from app.integrations.xero.models import XeroConnection, XeroDocument, XeroJournalEntry
from app.integrations.xero.outbox import ring
from app.integrations.xero.repository import ConnectionRepository, DocumentRepository, JournalRepository
from app.invoice.models import Invoice
from app.invoice.repository import InvoiceRepository
from app.kit.errors import Conflict, NotFound
from app.kit.money import format_amount
from app.kit.pagination import PageRequest
from app.ledger.models import Allocation
from app.ledger.repository import CreditNoteRepository, PaymentRepository

# What the operator is shown of the statuses, grouped.
STANDINGS: dict[str, tuple[str, ...]] = {
    "attention": ("invalid", "mismatch"),  # refused by Xero, or its totals differ
    "waiting": ("pending", "sending"),
    "synced": ("synced",),
}

# Xero's own page for each kind of document (payments and allocations have none of their own).
_PAGES = {
    "contact": "/Contacts/View/{id}",
    "invoice": "/AccountsReceivable/View.aspx?InvoiceID={id}",
    "credit_note": "/AccountsPayable/ViewCreditNote.aspx?creditNoteID={id}",
}


def link(doc: XeroDocument, connection: XeroConnection, go_url: str) -> str | None:
    """A deep link that opens the document in its own organisation."""
    page = _PAGES.get(doc.kind)
    if page is None or doc.xero_id is None or connection.short_code is None:
        return None
    return deep_link(go_url, connection.short_code, page.format(id=doc.xero_id))


async def sync_status(session: AsyncSession, operator: Operator, connection_id: uuid.UUID) -> dict[str, int]:
    await get_connection(session, operator, connection_id)
    return (await DocumentRepository(session, operator.tenant_id).counts([connection_id]))[connection_id]


async def sync_statuses(
    session: AsyncSession, operator: Operator, connections: Sequence[XeroConnection]
) -> dict[uuid.UUID, dict[str, int]]:
    """``sync_status`` of each of the operator's connections (as listed for it), in one query."""
    return await DocumentRepository(session, operator.tenant_id).counts([c.id for c in connections])


def tally(counts: dict[str, int]) -> dict[str, int]:
    """Counts by status (``sync_status``) as the operator is shown them: by ``STANDINGS`` group."""
    return {group: sum(counts.get(status, 0) for status in statuses) for group, statuses in STANDINGS.items()}


@dataclass(frozen=True)
class Standing:
    """One organisation's page of documents, its counts and its latest calls (newest first)."""

    connection: XeroConnection
    counts: dict[str, int]
    docs: Sequence[XeroDocument]
    calls: Sequence[XeroJournalEntry]


async def standing(
    session: AsyncSession,
    operator: Operator,
    connection_id: uuid.UUID,
    page: PageRequest,
    statuses: Collection[str] | None,
    calls: int = 50,
) -> Standing:
    connection = await get_connection(session, operator, connection_id)
    repo = DocumentRepository(session, operator.tenant_id)
    return Standing(
        connection,
        (await repo.counts([connection_id]))[connection_id],
        await repo.page(page, repo.listed(connection_id, statuses, None)),
        await JournalRepository(session, operator.tenant_id).latest(connection_id, calls),
    )


async def list_documents(
    session: AsyncSession,
    operator: Operator,
    connection_id: uuid.UUID,
    page: PageRequest,
    *,
    statuses: Collection[str] | None = None,
    kind: str | None = None,
) -> tuple[XeroConnection, Sequence[XeroDocument]]:
    connection = await get_connection(session, operator, connection_id)
    repo = DocumentRepository(session, operator.tenant_id)
    return connection, await repo.page(page, repo.listed(connection_id, statuses, kind))


async def labels(session: AsyncSession, tenant_id: uuid.UUID, docs: Sequence[XeroDocument]) -> dict[uuid.UUID, str]:
    """What each document is, in the operator's words ("Invoice L1-000042", the company's name,
    "Payment of 120.00 GBP to invoice L1-000042 on 2026-11-01"): one query per kind present."""
    ids: dict[str, set[uuid.UUID]] = defaultdict(set)
    for doc in docs:
        ids[doc.kind].add(doc.object_id)
    said: dict[uuid.UUID, str] = {}
    companies = await CompanyRepository(session, tenant_id).by_ids(ids["contact"])
    said |= {company_id: company.legal_name for company_id, company in companies.items()}
    for title, numbered in (
        ("Invoice", await InvoiceRepository(session, tenant_id).by_ids(ids["invoice"])),
        ("Credit note", await CreditNoteRepository(session, tenant_id).by_ids(ids["credit_note"])),
    ):
        said |= {row_id: f"{title} {row.number or '(draft)'}" for row_id, row in numbered.items()}
    for payment_id, payment in (await PaymentRepository(session, tenant_id).by_ids(ids["overpayment"])).items():
        left = _money(payment.amount, payment.currency)
        said[payment_id] = f"Credit left by the payment of {left} on {payment.paid_on}"
    moved = ids["payment"] | ids["allocation"] | ids["refund"]
    if moved:
        statement = (
            select(
                Allocation.id,
                Allocation.amount,
                Allocation.allocated_on,
                Allocation.write_off_id,
                func.coalesce(Invoice.currency, Company.currency).label("currency"),
                Invoice.number,
            )
            .join(Company, (Company.tenant_id == Allocation.tenant_id) & (Company.id == Allocation.company_id))
            .outerjoin(Invoice, (Invoice.tenant_id == Allocation.tenant_id) & (Invoice.id == Allocation.invoice_id))
            .where(Allocation.tenant_id == tenant_id, Allocation.id.in_(moved))
        )
        for row in await session.execute(statement):
            amount = _money(row.amount, row.currency)
            if row.id in ids["refund"]:
                said[row.id] = f"Refund of {amount} on {row.allocated_on}"
            else:
                what = "Write-off" if row.write_off_id else "Payment" if row.id in ids["payment"] else "Credit"
                said[row.id] = f"{what} of {amount} to invoice {row.number} on {row.allocated_on}"
    return said


def _money(amount: int, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


async def documents_of(
    session: AsyncSession, operator: Operator, object_id: uuid.UUID, *, for_update: bool = False
) -> list[tuple[XeroDocument, XeroConnection]]:
    """Every organisation's document of one object of ours (an invoice, a company, a payment...);
    404 when none of the tenant's objects of this id goes to Xero."""
    found = await DocumentRepository(session, operator.tenant_id).of_object(object_id, for_update=for_update)
    if not found:
        raise NotFound("Nothing of this id goes to Xero.")
    connections = await ConnectionRepository(session, operator.tenant_id).by_ids({doc.connection_id for doc in found})
    return [(doc, connections[doc.connection_id]) for doc in found]


async def journal(
    session: AsyncSession, operator: Operator, connection_id: uuid.UUID, page: PageRequest
) -> Sequence[XeroJournalEntry]:
    await get_connection(session, operator, connection_id)
    repo = JournalRepository(session, operator.tenant_id)
    return await repo.page(page, repo.of_connection(connection_id))


def _again(doc: XeroDocument, now: datetime) -> bool:
    """Make a document due now. One Xero refused (or whose totals differ) gets a new version, so
    that the retry is a new request to Xero (which keeps refusals under their idempotency keys).
    Returns whether anything changed."""
    if doc.status in ("invalid", "mismatch"):
        doc.version += 1
        doc.status = "pending"
    elif doc.status != "pending":
        return False
    doc.attempts = 0
    doc.next_attempt_at = min(doc.next_attempt_at, now)
    return True


async def sync_connection(session: AsyncSession, operator: Operator, connection_id: uuid.UUID, now: datetime) -> int:
    """ "Sync now" for an organisation: everything waiting (a backoff, a refusal after its fix) is
    sent at once. Returns how many documents were made due."""
    connection = await get_connection(session, operator, connection_id)
    if connection.status != "active":
        raise Conflict(f"{connection.name} is {connection.status.replace('_', ' ')}; reconnect it first.")
    return await send_waiting(session, operator.tenant_id, connection_id, now)


async def send_waiting(session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, now: datetime) -> int:
    """Everything of the organisation not in Xero as it is here made due now (refusals as new
    requests), and its drain rung. Returns how many documents were made due."""
    docs = await DocumentRepository(session, tenant_id).waiting(connection_id)
    changed = sum(_again(doc, now) for doc in docs)
    await session.flush()
    ring(session, tenant_id, connection_id)
    return changed


async def sync_object(
    session: AsyncSession, operator: Operator, object_id: uuid.UUID, now: datetime
) -> tuple[int, list[tuple[XeroDocument, XeroConnection]]]:
    """ "Sync now" for one object of ours, in every organisation it goes to. Returns how many
    documents were made due, and the object's documents as they now stand."""
    found = await documents_of(session, operator, object_id, for_update=True)
    changed = 0
    for doc, connection in found:
        changed += _again(doc, now)
        if connection.status == "active":
            ring(session, operator.tenant_id, connection.id)
    await session.flush()
    return changed, found
