"""Where each of our objects stands in Xero, the journal of the sync's calls, and "Sync now"."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.integrations.xero.client import deep_link
from app.integrations.xero.connections import get_connection
from app.integrations.xero.models import XeroConnection, XeroDocument, XeroJournalEntry
from app.integrations.xero.outbox import ring
from app.integrations.xero.repository import ConnectionRepository, DocumentRepository, JournalRepository
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest

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
    return await DocumentRepository(session, operator.tenant_id).counts(connection_id)


async def list_documents(
    session: AsyncSession,
    operator: Operator,
    connection_id: uuid.UUID,
    page: PageRequest,
    *,
    status: str | None = None,
    kind: str | None = None,
) -> tuple[XeroConnection, Sequence[XeroDocument]]:
    connection = await get_connection(session, operator, connection_id)
    repo = DocumentRepository(session, operator.tenant_id)
    return connection, await repo.page(page, repo.listed(connection_id, status, kind))


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
    repo = DocumentRepository(session, operator.tenant_id)
    docs = await repo.waiting(connection_id)
    changed = sum(_again(doc, now) for doc in docs)
    await session.flush()
    ring(session, operator.tenant_id, connection_id)
    return changed


async def sync_object(session: AsyncSession, operator: Operator, object_id: uuid.UUID, now: datetime) -> int:
    """ "Sync now" for one object of ours, in every organisation it goes to."""
    found = await documents_of(session, operator, object_id, for_update=True)
    changed = 0
    for doc, connection in found:
        changed += _again(doc, now)
        if connection.status == "active":
            ring(session, operator.tenant_id, connection.id)
    await session.flush()
    return changed
