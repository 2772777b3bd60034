"""What every Accounting API resource shares: the call, the answer, element errors and batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.xero import query, wire
from sandbox.xero.store import Organisation, Record


@dataclass
class Call:
    org: Organisation
    now: datetime
    params: dict[str, str]
    query: Mapping[str, str]
    body: Any = None
    if_modified_since: datetime | None = None

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def summarize_errors(self) -> bool:
        return self.query.get("summarizeErrors", "true").lower() != "false"

    @property
    def unit_dp(self) -> int:
        return 4 if self.query.get("unitdp") == "4" else 2


@dataclass
class Answer:
    status: int
    body: Any
    wrote: bool = False  # whether the call changed the books (a lost answer is only simulated for writes)


class Rejected(Exception):
    """An element failed Xero's validation; nothing of it was saved."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class Refused(Exception):
    """The whole request is refused with a 400 that is not about one element."""

    def __init__(self, number: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.body = {"ErrorNumber": number, "Type": kind, "Message": message}


class Missing(Exception):
    """404: Xero answers it in plain text."""


@dataclass
class Errors:
    """Collects an element's validation messages so that all of them are reported at once."""

    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_any(self) -> None:
        if self.messages:
            raise Rejected(*self.messages)


def elements(call: Call, plural: str, singular: str) -> list[dict[str, Any]]:
    body = call.body
    found: list[Any]
    if isinstance(body, dict) and isinstance(body.get(plural), list):
        found = body[plural]
    elif isinstance(body, dict) and body and plural not in body:
        found = [body]
    else:
        found = []
    if not found or not all(isinstance(item, dict) for item in found):
        raise Refused(
            17,
            "NoDataProcessedException",
            f"No data has been processed for this endpoint. This endpoint is expecting {singular} data "
            "to be specifed in the request body.",
        )
    return found


def decimal(value: Any, what: str, errors: Errors) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        errors.add(f"{what} must be a number.")
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        errors.add(f"{what} must be a number.")
        return None


def a_date(value: Any, what: str, errors: Errors) -> date | None:
    if value is None:
        return None
    try:
        return wire.parse_date(str(value))
    except ValueError:
        errors.add(f"{what} is not a valid date.")
        return None


def batch(
    call: Call,
    plural: str,
    items: list[dict[str, Any]],
    save: Callable[[dict[str, Any]], Record],
    render: Callable[[Record], dict[str, Any]],
    *,
    id_key: str,
    error_flag: str | None,
    statuses: bool = True,
) -> Answer:
    """Apply each element on its own, as Xero does: good ones are saved even when others fail.

    With ``summarizeErrors=false`` every element comes back with its own status; otherwise any
    failure turns the whole answer into a 400 listing the failed elements only. Without
    ``statuses`` (tax rates, whose schema has no such field) a saved element has none.
    """
    answered: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    wrote = False
    for item in items:
        try:
            record = save(item)
        except Rejected as rejected:
            problems = [{"Message": message} for message in rejected.messages]
            echo = _echo(item, problems, error_flag)
            answered.append(echo)
            failed.append({"ValidationErrors": problems} | ({id_key: item[id_key]} if id_key in item else {}))
        else:
            wrote = True
            status = {"StatusAttributeString": "OK"} if statuses else {}
            answered.append(render(record) | status | _flags(error_flag, False))
    if failed and call.summarize_errors:
        return Answer(400, wire.validation_error(failed), wrote=wrote)
    return Answer(200, wire.envelope(plural, answered, call.now), wrote=wrote)


def _flags(error_flag: str | None, value: bool) -> dict[str, Any]:
    return {error_flag: value} if error_flag else {}


def _echo(item: dict[str, Any], problems: list[dict[str, str]], error_flag: str | None) -> dict[str, Any]:
    # Dates go back the way Xero writes them; anything unreadable is left out rather than echoed raw.
    echo: dict[str, Any] = {}
    for key, value in item.items():
        if key in {"Date", "DueDate"}:
            try:
                echo[key] = wire.parse_date(str(value))
            except ValueError:
                continue
        elif key not in {"ValidationErrors", "StatusAttributeString", "HasErrors", "HasValidationErrors"}:
            echo[key] = value
    return echo | {"StatusAttributeString": "ERROR", "ValidationErrors": problems} | _flags(error_flag, True)


def listing(
    call: Call,
    plural: str,
    records: Iterable[Record],
    render: Callable[[Record], dict[str, Any]],
    *,
    paged: bool,
    default_order: str = "UpdatedDateUTC ASC",
) -> Answer:
    """A GET on a collection: If-Modified-Since, ``where``, ``order``, then paging."""
    chosen: list[Any] = list(records)
    if call.if_modified_since is not None:
        since = call.if_modified_since
        chosen = [r for r in chosen if r.get("UpdatedDateUTC") is None or r["UpdatedDateUTC"] > since]
    try:
        if where := call.query.get("where"):
            test = query.compile_where(where)
            chosen = [r for r in chosen if test(r)]
        chosen = query.compile_order(call.query.get("order") or default_order)(chosen)
        page_number = int(call.query["page"]) if paged and "page" in call.query else None
        page_size = int(call.query["pageSize"]) if paged and "pageSize" in call.query else None
        if page_size is not None and page_number is None:
            page_number = 1
        page = query.paginate(chosen, page_number, page_size)
    except (query.WhereError, ValueError) as problem:
        raise Refused(16, "QueryParseException", str(problem)) from problem
    extra: dict[str, Any] = {}
    if page.page:
        extra["pagination"] = {
            "page": page.page,
            "pageSize": page.page_size,
            "pageCount": page.page_count,
            "itemCount": page.item_count,
        }
    shown: list[Any] = page.records
    return Answer(200, wire.envelope(plural, [render(r) for r in shown], call.now, **extra))


def one(books: Mapping[str, Record], key: str) -> Record:
    """A record by its id (ids are stored lower-case); 404 if there is none."""
    record = books.get(key.lower())
    if record is None:
        raise Missing
    return record


def written(call: Call, plural: str, records: list[Record]) -> Answer:
    """The answer to a write of a single object: the saved records in Xero's envelope."""
    return Answer(200, wire.envelope(plural, records, call.now), wrote=True)


def ids_filter(call: Call, name: str) -> set[str] | None:
    raw = call.query.get(name)
    return {part.strip().lower() for part in raw.split(",") if part.strip()} if raw else None


def touch(record: Record, now: datetime) -> Record:
    record["UpdatedDateUTC"] = now
    return record
