"""What a member sees of their billing account: issued invoices, credit notes, the balance.

A member sees the documents of the company they belong to (their billing account); never drafts,
never another account's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache

import asyncpg
from sqlalchemy import Select, Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import MemberPrincipal
from app.db import driver
from app.invoice.models import Invoice
from app.invoice.repository import InvoiceRepository, latest_of_member, page_with_due
from app.kit.errors import NotFound
from app.kit.pagination import PageRequest
from app.ledger.models import CreditNote
from app.ledger.repository import CreditNoteRepository, LedgerRepository, balance_columns
from app.member.models import Member
from app.member.service import get_self
from app.tenant.models import Tenant


async def _account(session: AsyncSession, principal: MemberPrincipal) -> uuid.UUID | None:
    return (await get_self(session, principal)).company_id


async def my_invoices(db: driver.Target, principal: MemberPrincipal, page: PageRequest) -> list[asyncpg.Record]:
    """A page of the issued invoices of the member's billing account, each with ``amount_due``."""
    return await page_with_due(db, principal.tenant_id, page, member_id=principal.member_id)


@cache
def _overview() -> Select[str, str, str, int, int]:
    tenant_id, member_id = bindparam("tenant_id", type_=Uuid()), bindparam("member_id", type_=Uuid())
    outstanding, credit = balance_columns(Member.tenant_id, Member.company_id)
    return (
        select(
            Tenant.name.label("organisation"),
            Member.name,
            Member.email,
            outstanding.label("outstanding"),
            credit.label("credit"),
        )
        .join(Tenant, Tenant.id == Member.tenant_id)
        .where(Member.tenant_id == tenant_id, Member.id == member_id, Member.active)
    )


async def overview(
    db: driver.Target, principal: MemberPrincipal, limit: int
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """What the portal's first page shows, in two statements: the organisation's and the member's
    names with the account's balance (``outstanding``, ``credit``), and the account's latest
    ``limit`` issued invoices, each with ``amount_due``."""
    params = {"tenant_id": principal.tenant_id, "member_id": principal.member_id}
    found = await driver.fetch(db, _overview(), params)
    if not found:
        raise NotFound("No such member.")
    invoices = await latest_of_member(db, principal.tenant_id, principal.member_id, limit)
    return found[0], invoices


async def my_invoice(session: AsyncSession, principal: MemberPrincipal, invoice_id: uuid.UUID) -> Invoice:
    account = await _account(session, principal)
    invoice = await InvoiceRepository(session, principal.tenant_id).get(invoice_id)
    if invoice is None or account is None or invoice.company_id != account or invoice.status == "draft":
        raise NotFound("No such invoice.")
    return invoice


async def my_credit_notes(session: AsyncSession, principal: MemberPrincipal, page: PageRequest) -> Sequence[CreditNote]:
    account = await _account(session, principal)
    if account is None:
        return []
    repo = CreditNoteRepository(session, principal.tenant_id)
    return await repo.page(page, repo.select().where(CreditNote.company_id == account))


async def my_balance(session: AsyncSession, principal: MemberPrincipal) -> tuple[int, int]:
    """(outstanding, credit) of the member's billing account."""
    account = await _account(session, principal)
    if account is None:
        return 0, 0
    return await LedgerRepository(session, principal.tenant_id).owed(account)
