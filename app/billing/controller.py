from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import requires
from app.billing import service
from app.billing.engine import RunOutcome
from app.billing.models import BillingRun
from app.billing.schemas import BillingRequest, BillingResult, BillingRunOut
from app.dependencies import Actor, Db, State
from app.idempotency.http import IdempotencyKey, require_key, respond_once
from app.invoice.controller import to_out as invoice_out
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate

READ, WRITE = requires("billing:read"), requires("billing:write")


def run_out(run: BillingRun) -> BillingRunOut:
    return BillingRunOut(
        id=run.id,
        location_id=run.location_id,
        period_start=run.period_start,
        period_end=run.period_end,
        status=run.status,
        invoices_created=run.invoices_created,
        lines_created=run.lines_created,
        started_by=run.started_by,
        created_at=run.created_at,
        finished_at=run.finished_at,
        problems=run.error.split("\n") if run.error else [],
    )


def result(outcome: RunOutcome, *, preview: bool) -> BillingResult:
    return BillingResult(
        preview=preview,
        run=run_out(outcome.run),
        invoices=[invoice_out(invoice, outcome.lines[invoice.id], taxes=outcome.taxes) for invoice in outcome.invoices],
        problems=outcome.problems,
    )


class BillingController(Controller):
    path = "/locations/{location_id:uuid}/billing"
    tags = ["Billing"]

    @post("/preview", operation_id="previewBilling", summary="Preview a billing run", status_code=200, guards=[READ])
    async def preview(
        self,
        db: Db,
        operator: Actor,
        app_state: State,
        location_id: FromPath[uuid.UUID],
        data: JSONBody[BillingRequest],
    ) -> BillingResult:
        """What a run of the location would invoice for a period, every line explained, without writing
        anything. `period_start` must be a billing date of the location (its billing day of a month); by
        default the period running today there."""
        return await service.preview_billing(
            db, operator, location_id, data.period_start, app_state.clock, lambda outcome: result(outcome, preview=True)
        )

    @post("/run", operation_id="runBilling", summary="Run billing for a location", guards=[WRITE, require_key])
    async def run(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        operator: Actor,
        app_state: State,
        location_id: FromPath[uuid.UUID],
        data: JSONBody[BillingRequest],
        idempotency_key: IdempotencyKey,
    ) -> Response[Any]:
        """Invoice the location's memberships (in advance), one-off fees and bookings (in arrears) for the
        period opening on `period_start`: by default the current one, at most one ahead. Requires an
        `Idempotency-Key`. Nothing is billed twice, so a second run bills only what is new. Invoices stay
        drafts unless the operator issues on run; issued ones are numbered, paid from credit the company holds
        and queued for Xero."""

        async def billed() -> BillingResult:
            outcome = await service.run_billing(db, operator, location_id, data.period_start, app_state.clock)
            return result(outcome, preview=False)

        return await respond_once(request, db, operator.tenant_id, idempotency_key, data, billed)


class BillingRunController(Controller):
    path = "/billing-runs"
    tags = ["Billing"]

    @get("/", operation_id="listBillingRuns", summary="List billing runs", guards=[READ])
    async def list_runs(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[BillingRunOut]:
        """Billing runs, scheduled and manual, oldest first, a page at a time (pass `next_cursor` back as
        `cursor`), each with the invoices and lines it made and the problems it reported."""
        page = page_request(cursor, limit)
        return paginate(await service.list_runs(db, operator, page), page, run_out)

    @get("/{billing_run_id:uuid}", operation_id="getBillingRun", summary="Get a billing run", guards=[READ])
    async def get_run(self, db: Db, operator: Actor, billing_run_id: FromPath[uuid.UUID]) -> BillingRunOut:
        """One run: its location and period, who started it (`system:scheduler` for the schedule), its `status`
        (`completed`, or `failed` for a scheduled run that could not finish), what it made and the problems it
        reported."""
        return run_out(await service.get_run(db, operator, billing_run_id))
