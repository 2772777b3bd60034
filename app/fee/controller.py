from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import requires
from app.dependencies import Actor, Db
from app.fee import service
from app.fee.models import Fee
from app.fee.schemas import FeeCreate, FeeOut, FeeWaive
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate

READ, WRITE = requires("billing:read"), requires("billing:write")


def to_out(fee: Fee) -> FeeOut:
    return msgspec.convert(fee, FeeOut, from_attributes=True)


class FeeController(Controller):
    path = "/fees"
    tags = ["Billing"]

    @get("/", operation_id="listFees", summary="List one-off fees", guards=[READ])
    async def list_fees(self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None) -> Page[FeeOut]:
        """One-off charges, oldest first, a page at a time (pass `next_cursor` back as `cursor`). `status` is
        `pending` (waits for the next billing run), `billed` or `waived`."""
        page = page_request(cursor, limit)
        return paginate(await service.list_fees(db, operator, page), page, to_out)

    @get("/{fee_id:uuid}", operation_id="getFee", summary="Get a one-off fee", guards=[READ])
    async def get_fee(self, db: Db, operator: Actor, fee_id: FromPath[uuid.UUID]) -> FeeOut:
        """One fee: its company, location, unit amount in minor units, quantity, charge date, status and the
        invoice line that billed it."""
        return to_out(await service.get_fee(db, operator, fee_id))

    @post("/", operation_id="recordFee", summary="Record a one-off fee", guards=[WRITE])
    async def record_fee(self, db: Db, operator: Actor, data: JSONBody[FeeCreate]) -> FeeOut:
        """Charge an active company at an active location, in the location's currency, `quantity` times
        `unit_amount` minor units. The next billing run puts it on an invoice. Without `revenue_account_id` it
        books to the built-in one-off fees account."""
        return to_out(await service.record_fee(db, operator, data))

    @post(
        "/{fee_id:uuid}/waive", operation_id="waiveFee", summary="Waive a one-off fee", status_code=200, guards=[WRITE]
    )
    async def waive_fee(self, db: Db, operator: Actor, fee_id: FromPath[uuid.UUID], data: JSONBody[FeeWaive]) -> FeeOut:
        """Drop a pending fee so that it is never billed, keeping the reason. A fee already billed is refused
        (409): credit its invoice instead."""
        return to_out(await service.waive_fee(db, operator, fee_id, data.reason))
