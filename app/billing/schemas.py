from __future__ import annotations

import uuid
from datetime import date, datetime

import msgspec

from app.invoice.schemas import InvoiceOut
from app.kit.schema import Day, Input, check_date


class BillingRequest(Input):
    """``period_start``: a billing date of the location; by default the period running today there."""

    period_start: Day | None = None

    def __post_init__(self) -> None:
        check_date(self.period_start, "period_start")


class BillingRunOut(msgspec.Struct):
    id: uuid.UUID
    location_id: uuid.UUID
    period_start: date
    period_end: date
    status: str
    invoices_created: int
    lines_created: int
    started_by: str
    created_at: datetime
    finished_at: datetime | None
    problems: list[str]


class BillingResult(msgspec.Struct):
    """What a run made (or, for a preview, would make): every invoice with its explained lines."""

    preview: bool
    run: BillingRunOut
    invoices: list[InvoiceOut]
    problems: list[str]
