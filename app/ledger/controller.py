from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import requires
from app.catalog.tax import tax_totals
from app.company.service import get_company
from app.dependencies import Actor, Db, State
from app.idempotency.http import IdempotencyKey, OptionalIdempotencyKey, require_key, respond_once
from app.invoice.controller import tax_parts_out
from app.invoice.service import get_invoice
from app.kit.clock import local_today
from app.ledger import service
from app.ledger.models import Allocation, CreditNote, CreditNoteLine, CreditNoteLineTax, Payment, Refund
from app.ledger.schemas import (
    AllocationOut,
    Balance,
    CreditNoteCreate,
    CreditNoteLineOut,
    CreditNoteOut,
    PaymentCreate,
    PaymentOut,
    RefundCreate,
    RefundOut,
    WriteOffCreate,
    WriteOffOut,
)
from app.location.repository import LocationRepository

READ, WRITE = requires("billing:read"), requires("billing:write")


def allocation_out(allocation: Allocation) -> AllocationOut:
    return msgspec.convert(allocation, AllocationOut, from_attributes=True)


async def payment_out(db: Db, payment: Payment) -> PaymentOut:
    allocations = await service.allocations(db, payment.tenant_id, payment_id=payment.id)
    return PaymentOut(
        id=payment.id,
        company_id=payment.company_id,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        paid_on=payment.paid_on,
        reference=payment.reference,
        unallocated=payment.amount - sum(a.amount for a in allocations),
        allocations=[allocation_out(a) for a in allocations],
        created_at=payment.created_at,
    )


async def credit_note_out(db: Db, note: CreditNote) -> CreditNoteOut:
    [out] = await credit_notes_out(db, [note])
    return out


async def credit_notes_out(db: Db, notes: Sequence[CreditNote]) -> list[CreditNoteOut]:
    """Credit notes of one tenant, in the order given, with two queries for all of them."""
    if not notes:
        return []
    tenant_id, ids = notes[0].tenant_id, [note.id for note in notes]
    allocated, lines, taxes = await service.credit_note_parts(db, tenant_id, ids)
    return [_credit_note_out(note, allocated[note.id], lines[note.id], taxes) for note in notes]


def _credit_note_out(
    note: CreditNote,
    allocated: int,
    lines: Sequence[CreditNoteLine],
    taxes: Mapping[uuid.UUID, Sequence[CreditNoteLineTax]],
) -> CreditNoteOut:
    out = CreditNoteOut(
        id=note.id,
        number=note.number,
        status=note.status,
        invoice_id=note.invoice_id,
        company_id=note.company_id,
        location_id=note.location_id,
        currency=note.currency,
        tax_mode=note.tax_mode,
        issue_date=note.issue_date,
        subtotal=note.subtotal,
        tax_total=note.tax_total,
        total=note.total,
        unallocated=note.total - allocated,
        reason=note.reason,
        lines=[msgspec.convert(line, CreditNoteLineOut, from_attributes=True) for line in lines],
    )
    for line in out.lines:
        line.tax_components = tax_parts_out(taxes.get(line.id, ()))
    out.tax_by_component = tax_parts_out(tax_totals(part for line in out.lines for part in line.tax_components))
    return out


async def refund_out(db: Db, refund: Refund) -> RefundOut:
    allocations = await service.allocations(db, refund.tenant_id, refund_id=refund.id)
    return RefundOut(
        id=refund.id,
        company_id=refund.company_id,
        amount=refund.amount,
        currency=refund.currency,
        method=refund.method,
        refunded_on=refund.refunded_on,
        reference=refund.reference,
        allocations=[allocation_out(a) for a in allocations],
    )


async def _payment_recorded(db: Db, operator: Actor, data: PaymentCreate) -> PaymentOut:
    return await payment_out(db, await service.record_payment(db, operator, data))


async def _refund_recorded(db: Db, operator: Actor, data: RefundCreate) -> RefundOut:
    return await refund_out(db, await service.refund(db, operator, data))


async def _invoice_credited(
    db: Db, operator: Actor, app_state: State, invoice_id: uuid.UUID, data: CreditNoteCreate
) -> CreditNoteOut:
    today = await _today_at_invoice(db, operator, invoice_id, app_state)
    return await credit_note_out(db, await service.credit_invoice(db, operator, invoice_id, data, today))


class PaymentController(Controller):
    path = "/payments"
    tags = ["Payments"]

    @post("/", operation_id="recordPayment", summary="Record a payment", guards=[WRITE, require_key])
    async def record_payment(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        data: JSONBody[PaymentCreate],
        idempotency_key: IdempotencyKey,
    ) -> Response[Any]:
        """Money received from a company, in its currency (minor units). Requires an `Idempotency-Key`. With
        `allocations` it pays those invoices; without, the company's credit, oldest first (this payment last),
        pays its open invoices, oldest due first. The rest stays as credit. Invoice statuses follow, and each
        change is queued for Xero where its location syncs."""
        return await respond_once(
            request, db, operator.tenant_id, idempotency_key, data, lambda: _payment_recorded(db, operator, data)
        )

    @get("/{payment_id:uuid}", operation_id="getPayment", summary="Get a payment", guards=[READ])
    async def get_payment(self, db: Db, operator: Actor, payment_id: FromPath[uuid.UUID]) -> PaymentOut:
        """One payment with its allocations (to invoices, or refunded) and what is still `unallocated`, which
        is credit the company holds."""
        return await payment_out(db, await service.get_payment(db, operator, payment_id))


class RefundController(Controller):
    path = "/refunds"
    tags = ["Payments"]

    @post("/", operation_id="recordRefund", summary="Record a refund", guards=[WRITE, require_key])
    async def record_refund(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        data: JSONBody[RefundCreate],
        idempotency_key: IdempotencyKey,
    ) -> Response[Any]:
        """Money paid back to a company out of the credit it holds (unallocated payments and credit notes,
        oldest first). Requires an `Idempotency-Key`; more than the credit held is refused (409). In Xero it is
        paid out of the credit note or overpayment the credit came from."""
        return await respond_once(
            request, db, operator.tenant_id, idempotency_key, data, lambda: _refund_recorded(db, operator, data)
        )

    @get("/{refund_id:uuid}", operation_id="getRefund", summary="Get a refund", guards=[READ])
    async def get_refund(self, db: Db, operator: Actor, refund_id: FromPath[uuid.UUID]) -> RefundOut:
        """One refund with its allocations: the payments and credit notes whose credit it paid back."""
        return await refund_out(db, await service.get_refund(db, operator, refund_id))


class CreditNoteController(Controller):
    path = "/"
    tags = ["Credit notes"]

    @post(
        "/invoices/{invoice_id:uuid}/credit-notes",
        operation_id="creditInvoice",
        summary="Credit an invoice",
        guards=[WRITE, require_key],
    )
    async def credit_invoice(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        app_state: State,
        invoice_id: FromPath[uuid.UUID],
        data: JSONBody[CreditNoteCreate],
        idempotency_key: IdempotencyKey,
    ) -> Response[Any]:
        """A numbered credit note against an `issued`, `partially_paid` or `paid` invoice: all that is left (no
        `lines`), or amounts of given lines, taxed at each line's rate. Requires an `Idempotency-Key`. With
        `allocate` (default) it pays down what is due; the rest is company credit. What was written off cannot
        be credited (409)."""
        return await respond_once(
            request,
            db,
            operator.tenant_id,
            idempotency_key,
            data,
            lambda: _invoice_credited(db, operator, app_state, invoice_id, data),
        )

    @get(
        "/credit-notes/{credit_note_id:uuid}", operation_id="getCreditNote", summary="Get a credit note", guards=[READ]
    )
    async def get_credit_note(self, db: Db, operator: Actor, credit_note_id: FromPath[uuid.UUID]) -> CreditNoteOut:
        """One credit note with its lines, tax parts and totals in minor units, and what is still
        `unallocated`: credit the company can spend on invoices or have refunded."""
        return await credit_note_out(db, await service.get_credit_note(db, operator, credit_note_id))

    @post(
        "/invoices/{invoice_id:uuid}/write-off",
        operation_id="writeOffInvoice",
        summary="Write off an invoice",
        guards=[WRITE, require_key],
    )
    async def write_off(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        app_state: State,
        invoice_id: FromPath[uuid.UUID],
        data: JSONBody[WriteOffCreate],
        idempotency_key: IdempotencyKey,
    ) -> Response[Any]:
        """Give up what is still due on an `issued` or `partially_paid` invoice, which then counts as `paid`.
        Requires an `Idempotency-Key`; an invoice with nothing due is refused (409). Where the location syncs,
        Xero gets it as a payment from the mapped write-off account."""

        async def written_off() -> WriteOffOut:
            today = await _today_at_invoice(db, operator, invoice_id, app_state)
            given_up = await service.write_off(db, operator, invoice_id, data.reason, today)
            return msgspec.convert(given_up, WriteOffOut, from_attributes=True)

        return await respond_once(request, db, operator.tenant_id, idempotency_key, data, written_off)

    @get(
        "/companies/{company_id:uuid}/balance",
        operation_id="getCompanyBalance",
        summary="Get a company's balance",
        guards=[READ],
    )
    async def balance(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> Balance:
        """What the company owes on open invoices (`outstanding`) and the credit it holds (`credit`), in minor
        units of its currency."""
        return await service.company_balance(db, operator, company_id)

    @post(
        "/companies/{company_id:uuid}/apply-credit",
        operation_id="applyCompanyCredit",
        summary="Apply a company's credit",
        status_code=200,
        guards=[WRITE],
    )
    async def apply_credit(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        app_state: State,
        company_id: FromPath[uuid.UUID],
        idempotency_key: OptionalIdempotencyKey = None,
    ) -> Response[Any]:
        """Spend the credit the company holds (unallocated payments and credit notes, oldest first) on its open
        invoices, oldest due first, and answer the new balance. An `Idempotency-Key` is optional here: a retry
        with the same key gets the first answer."""

        async def applied() -> Balance:
            company = await get_company(db, operator, company_id)
            location = await LocationRepository(db, operator.tenant_id).get(company.home_location_id)
            assert location is not None
            today = local_today(app_state.clock, location.time_zone)
            await service.apply_company_credit(db, operator, company_id, today)
            return await service.company_balance(db, operator, company_id)

        return await respond_once(request, db, operator.tenant_id, idempotency_key, None, applied, status_code=200)


async def _today_at_invoice(db: Db, operator: Actor, invoice_id: uuid.UUID, app_state: State) -> date:
    """Documents are dated in the invoice's location's time zone."""
    invoice = await get_invoice(db, operator, invoice_id)
    location = await LocationRepository(db, operator.tenant_id).get(invoice.location_id)
    assert location is not None
    return local_today(app_state.clock, location.time_zone)
