"""What Xero should hear about: written in the same transaction as the change it follows.

Each service that changes something Xero keeps (a billing account, an issued invoice, a credit
note, money applied or received or refunded) calls one of these functions before it returns. They
raise the object's version in its ``xero_documents`` row for the organisation its location syncs
to, and ring the doorbell for that organisation's drain once the transaction commits. A rolled-back
change leaves no row and rings nothing; a lost doorbell is found by the sweep.

A location that is not mapped to a Xero organisation (or whose organisation was disconnected) has
nothing to sync, so nothing is written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, event, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.company.models import Company
from app.integrations.xero.models import XeroConnection, XeroDocument, XeroLocationSettings
from app.invoice.models import Invoice
from app.kit.ids import new_id
from app.kit.jobs import defer
from app.ledger.models import Allocation, CreditNote, Payment

DRAIN_JOB = "xero.drain"
_ROUTES = "xero_routes"  # session.info: location id -> connection id (or None), for this transaction


def drain_job_id(connection_id: uuid.UUID) -> str:
    return f"{DRAIN_JOB}:{connection_id}"


def ring(session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    """Ask for the connection's drain once this transaction commits."""
    defer(session, DRAIN_JOB, str(tenant_id), str(connection_id), job_id=drain_job_id(connection_id))


async def connection_for(session: AsyncSession, tenant_id: uuid.UUID, location_id: uuid.UUID) -> uuid.UUID | None:
    """The organisation ``location_id`` syncs to, if any (a billing run asks once per location)."""
    routes: dict[uuid.UUID, uuid.UUID | None] = session.info.setdefault(_ROUTES, {})
    if location_id not in routes:
        found = await session.execute(
            select(XeroConnection.id)
            .join(
                XeroLocationSettings,
                (XeroLocationSettings.tenant_id == XeroConnection.tenant_id)
                & (XeroLocationSettings.connection_id == XeroConnection.id),
            )
            .where(
                XeroLocationSettings.tenant_id == tenant_id,
                XeroLocationSettings.location_id == location_id,
                XeroConnection.status != "disconnected",
            )
        )
        routes[location_id] = found.scalar_one_or_none()
    return routes[location_id]


@event.listens_for(Session, "after_transaction_end")
def _forget_routes(session: Session, transaction: SessionTransaction) -> None:
    """Routes are remembered for one transaction only: the next may see another mapping."""
    if transaction.parent is None:
        session.info.pop(_ROUTES, None)


# Rows a statement writes at once: 10 bind parameters each, well inside PostgreSQL's 32,767.
NOTE_ROWS = 1000


async def note(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    kind: str,
    *object_ids: uuid.UUID,
    changed: bool = True,
) -> int:
    """Record that these objects must reach (or change in) the organisation. ``changed=False`` only
    makes sure the rows exist (the contact an invoice needs), without sending them again. Returns
    how many rows were written."""
    ordered = sorted(set(object_ids))  # one order, so concurrent writers never deadlock
    doc, written = XeroDocument.__table__.c, 0
    for first in range(0, len(ordered), NOTE_ROWS):
        rows = insert(XeroDocument).values(
            [
                {
                    "tenant_id": tenant_id,
                    "id": new_id(),
                    "connection_id": connection_id,
                    "kind": kind,
                    "object_id": object_id,
                    "version": 1,
                    "synced_version": 0,
                    "status": "pending",
                    "in_doubt": False,
                    "attempts": 0,
                    "next_attempt_at": func.now(),
                }
                for object_id in ordered[first : first + NOTE_ROWS]
            ]
        )
        conflict = ["tenant_id", "connection_id", "kind", "object_id"]
        if not changed:
            statement = rows.on_conflict_do_nothing(index_elements=conflict)
        else:
            statement = rows.on_conflict_do_update(
                index_elements=conflict,
                set_={
                    "version": doc.version + 1,
                    # a drain holding it records what it sent, then sees the newer version
                    "status": case((doc.status == "sending", "sending"), else_="pending"),
                    "next_attempt_at": func.now(),
                    "attempts": 0,
                    "updated_at": func.now(),
                },
            )
        written += len((await session.execute(statement.returning(doc.id))).all())
    if written:
        ring(session, tenant_id, connection_id)
    return written


async def resume(session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    """The connection is live again (reconnected): what waited for it goes now, not at its backoff."""
    await session.execute(
        update(XeroDocument)
        .where(
            XeroDocument.tenant_id == tenant_id,
            XeroDocument.connection_id == connection_id,
            XeroDocument.status == "pending",
        )
        .values(next_attempt_at=func.now(), attempts=0)
    )
    ring(session, tenant_id, connection_id)


async def company_changed(session: AsyncSession, company: Company) -> None:
    """A billing account was made or its billing details changed: its contact, in the organisation
    of its home location and in every organisation that already has it."""
    connections = set(
        (
            await session.scalars(
                select(XeroDocument.connection_id).where(
                    XeroDocument.tenant_id == company.tenant_id,
                    XeroDocument.kind == "contact",
                    XeroDocument.object_id == company.id,
                )
            )
        ).all()
    )
    if home := await connection_for(session, company.tenant_id, company.home_location_id):
        connections.add(home)
    for connection_id in sorted(connections):
        await note(session, company.tenant_id, connection_id, "contact", company.id)


async def invoice_changed(session: AsyncSession, invoice: Invoice) -> None:
    """An invoice was issued (numbered) or voided. Drafts stay ours until they are issued."""
    if invoice.number is None:
        return
    if connection_id := await connection_for(session, invoice.tenant_id, invoice.location_id):
        await note(session, invoice.tenant_id, connection_id, "contact", invoice.company_id, changed=False)
        await note(session, invoice.tenant_id, connection_id, "invoice", invoice.id)


async def invoices_issued(session: AsyncSession, tenant_id: uuid.UUID, records: Sequence[dict[str, Any]]) -> None:
    """A billing run's issued invoices (written in bulk, as ``invoices`` rows)."""
    routed: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["number"] is not None and (
            connection_id := await connection_for(session, tenant_id, record["location_id"])
        ):
            routed[connection_id].append(record)
    for connection_id, mine in routed.items():
        companies = [record["company_id"] for record in mine]
        await note(session, tenant_id, connection_id, "contact", *companies, changed=False)
        await note(session, tenant_id, connection_id, "invoice", *(record["id"] for record in mine))


async def credit_note_issued(session: AsyncSession, credit_note: CreditNote) -> None:
    tenant_id = credit_note.tenant_id
    if connection_id := await connection_for(session, tenant_id, credit_note.location_id):
        await note(session, tenant_id, connection_id, "contact", credit_note.company_id, changed=False)
        await note(session, tenant_id, connection_id, "credit_note", credit_note.id)


async def allocation_made(session: AsyncSession, allocation: Allocation, invoice: Invoice, *, receipt: bool) -> None:
    """Money applied to an invoice. ``receipt``: it is part of a payment being received now, so
    Xero gets a payment of the invoice; credit applied later (a payment's unapplied rest, a credit
    note) is an allocation of that credit. A write-off is a payment from the write-off account."""
    if connection_id := await connection_for(session, invoice.tenant_id, invoice.location_id):
        paid = receipt and allocation.payment_id is not None
        kind = "payment" if paid or allocation.write_off_id is not None else "allocation"
        await note(session, invoice.tenant_id, connection_id, kind, allocation.id)


async def payment_received(session: AsyncSession, payment: Payment, applied: int) -> None:
    """What a payment brought beyond what it paid at once is the customer's credit: in Xero, an
    overpayment, in the organisation of the customer's home location."""
    if payment.amount - applied <= 0:
        return
    company = await session.get_one(Company, (payment.tenant_id, payment.company_id))
    if connection_id := await connection_for(session, payment.tenant_id, company.home_location_id):
        await note(session, payment.tenant_id, connection_id, "contact", company.id, changed=False)
        await note(session, payment.tenant_id, connection_id, "overpayment", payment.id)


async def refund_made(session: AsyncSession, allocation: Allocation) -> None:
    """Credit paid back to the customer: in Xero, a payment out of the credit note or overpayment
    the credit came from, in the organisation that holds it."""
    tenant_id = allocation.tenant_id
    connection_id: uuid.UUID | None = None
    if allocation.credit_note_id is not None:
        credit_note = await session.get_one(CreditNote, (tenant_id, allocation.credit_note_id))
        connection_id = await connection_for(session, tenant_id, credit_note.location_id)
    elif allocation.payment_id is not None:
        connection_id = (
            await session.scalars(
                select(XeroDocument.connection_id).where(
                    XeroDocument.tenant_id == tenant_id,
                    XeroDocument.kind == "overpayment",
                    XeroDocument.object_id == allocation.payment_id,
                )
            )
        ).first()
    if connection_id is not None:
        await note(session, tenant_id, connection_id, "refund", allocation.id)
