from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody

from app.auth.guards import requires
from app.dependencies import Actor, Db, State
from app.idempotency import service as idempotency
from app.kit.clock import local_today
from app.ledger import service
from app.ledger.models import Allocation, CreditNote, Payment, Refund
from app.ledger.repository import CreditNoteRepository
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
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", description="Retry-safe: the same key and body answer the same, once"),
]


def allocation_out(allocation: Allocation) -> AllocationOut:
    return msgspec.convert(allocation, AllocationOut, from_attributes=True)


async def payment_out(db: Db, payment: Payment) -> PaymentOut:
    allocations = await service.allocations_of(db, payment.tenant_id, payment_id=payment.id)
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
    allocations = await service.allocations_of(db, note.tenant_id, credit_note_id=note.id)
    lines = await CreditNoteRepository(db, note.tenant_id).lines(note.id)
    return CreditNoteOut(
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
        unallocated=note.total - sum(a.amount for a in allocations),
        reason=note.reason,
        lines=[msgspec.convert(line, CreditNoteLineOut, from_attributes=True) for line in lines],
    )


async def refund_out(db: Db, refund: Refund) -> RefundOut:
    allocations = await service.allocations_of(db, refund.tenant_id, refund_id=refund.id)
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


async def _replayed(
    request: Request[Any, Any, Any], db: Db, operator: Actor, key: str | None, data: msgspec.Struct
) -> Response[Any] | None:
    if key is None:
        return None
    print_ = idempotency.fingerprint(request.method, request.url.path, msgspec.json.encode(data))
    stored = await idempotency.claim(db, operator.tenant_id, key, print_)
    return Response(stored.body, status_code=stored.status_code) if stored else None


async def _created(db: Db, operator: Actor, key: str | None, body: msgspec.Struct) -> Response[Any]:
    if key is not None:
        await idempotency.remember(db, operator.tenant_id, key, 201, msgspec.to_builtins(body))
    return Response(body, status_code=201)


class PaymentController(Controller):
    path = "/payments"
    tags = ["Payments"]

    @post("/", operation_id="recordPayment", guards=[WRITE])
    async def record_payment(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        data: JSONBody[PaymentCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        if (replay := await _replayed(request, db, operator, idempotency_key, data)) is not None:
            return replay
        payment = await service.record_payment(db, operator, data)
        return await _created(db, operator, idempotency_key, await payment_out(db, payment))

    @get("/{payment_id:uuid}", operation_id="getPayment", guards=[READ])
    async def get_payment(self, db: Db, operator: Actor, payment_id: FromPath[uuid.UUID]) -> PaymentOut:
        return await payment_out(db, await service.get_payment(db, operator, payment_id))


class RefundController(Controller):
    path = "/refunds"
    tags = ["Payments"]

    @post("/", operation_id="recordRefund", guards=[WRITE])
    async def record_refund(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        data: JSONBody[RefundCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        if (replay := await _replayed(request, db, operator, idempotency_key, data)) is not None:
            return replay
        paid_back = await service.refund(db, operator, data)
        return await _created(db, operator, idempotency_key, await refund_out(db, paid_back))

    @get("/{refund_id:uuid}", operation_id="getRefund", guards=[READ])
    async def get_refund(self, db: Db, operator: Actor, refund_id: FromPath[uuid.UUID]) -> RefundOut:
        return await refund_out(db, await service.get_refund(db, operator, refund_id))


class CreditNoteController(Controller):
    path = "/"
    tags = ["Credit notes"]

    @post("/invoices/{invoice_id:uuid}/credit-notes", operation_id="creditInvoice", guards=[WRITE])
    async def credit_invoice(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        app_state: State,
        invoice_id: FromPath[uuid.UUID],
        data: JSONBody[CreditNoteCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        if (replay := await _replayed(request, db, operator, idempotency_key, data)) is not None:
            return replay
        today = await _today_at_invoice(db, operator, invoice_id, app_state)
        note = await service.credit_invoice(db, operator, invoice_id, data, today)
        return await _created(db, operator, idempotency_key, await credit_note_out(db, note))

    @get("/credit-notes/{credit_note_id:uuid}", operation_id="getCreditNote", guards=[READ])
    async def get_credit_note(self, db: Db, operator: Actor, credit_note_id: FromPath[uuid.UUID]) -> CreditNoteOut:
        return await credit_note_out(db, await service.get_credit_note(db, operator, credit_note_id))

    @post("/invoices/{invoice_id:uuid}/write-off", operation_id="writeOffInvoice", guards=[WRITE])
    async def write_off(
        self, db: Db, operator: Actor, app_state: State, invoice_id: FromPath[uuid.UUID], data: JSONBody[WriteOffCreate]
    ) -> WriteOffOut:
        today = await _today_at_invoice(db, operator, invoice_id, app_state)
        given_up = await service.write_off(db, operator, invoice_id, data.reason, today)
        return msgspec.convert(given_up, WriteOffOut, from_attributes=True)

    @get("/companies/{company_id:uuid}/balance", operation_id="getCompanyBalance", guards=[READ])
    async def balance(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> Balance:
        company, owed = await service.company_balance(db, operator, company_id)
        return Balance(
            company_id=company.id, currency=company.currency, outstanding=owed.outstanding, credit=owed.credit
        )

    @post(
        "/companies/{company_id:uuid}/apply-credit", operation_id="applyCompanyCredit", status_code=200, guards=[WRITE]
    )
    async def apply_credit(self, db: Db, operator: Actor, app_state: State, company_id: FromPath[uuid.UUID]) -> Balance:
        company, _ = await service.company_balance(db, operator, company_id)
        location = await LocationRepository(db, operator.tenant_id).get(company.home_location_id)
        assert location is not None
        await service.apply_company_credit(db, operator, company_id, local_today(app_state.clock, location.time_zone))
        company, owed = await service.company_balance(db, operator, company_id)
        return Balance(
            company_id=company.id, currency=company.currency, outstanding=owed.outstanding, credit=owed.credit
        )


async def _today_at_invoice(db: Db, operator: Actor, invoice_id: uuid.UUID, app_state: State) -> date:
    """Documents are dated in the invoice's location's time zone."""
    invoice = await service.find_invoice(db, operator, invoice_id)
    location = await LocationRepository(db, operator.tenant_id).get(invoice.location_id)
    assert location is not None
    return local_today(app_state.clock, location.time_zone)
