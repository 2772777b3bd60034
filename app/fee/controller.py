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

    @get("/", operation_id="listFees", guards=[READ])
    async def list_fees(self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None) -> Page[FeeOut]:
        page = page_request(cursor, limit)
        return paginate(await service.list_fees(db, operator, page), page, to_out)

    @get("/{fee_id:uuid}", operation_id="getFee", guards=[READ])
    async def get_fee(self, db: Db, operator: Actor, fee_id: FromPath[uuid.UUID]) -> FeeOut:
        return to_out(await service.get_fee(db, operator, fee_id))

    @post("/", operation_id="recordFee", guards=[WRITE])
    async def record_fee(self, db: Db, operator: Actor, data: JSONBody[FeeCreate]) -> FeeOut:
        return to_out(await service.record_fee(db, operator, data))

    @post("/{fee_id:uuid}/waive", operation_id="waiveFee", status_code=200, guards=[WRITE])
    async def waive_fee(self, db: Db, operator: Actor, fee_id: FromPath[uuid.UUID], data: JSONBody[FeeWaive]) -> FeeOut:
        return to_out(await service.waive_fee(db, operator, fee_id, data.reason))
