"""Looking up what may already be in Xero before anything is sent (so nothing is made twice):
what a send in doubt may have made, and the contacts Xero already has for our billing accounts."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from app.db.session import tenant_transaction
from app.integrations.xero.kinds import Kind, Work
from app.integrations.xero.repository import DocumentRepository
from app.integrations.xero.tokens import Access
from app.state import AppState


class Caller(Protocol):
    """One batch's way to call Xero (inside the limits, journalled), and whom it calls for."""

    state: AppState
    tenant_id: uuid.UUID
    granted: Access

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        items: int = 0,
    ) -> Any: ...


# A batch with this many new contacts or more reads the organisation's contact book in pages of
# ``BOOK_PAGE`` (one call for most) rather than looking them up: 10 a call by our id, then 5 a
# call by name or e-mail.
BOOK_FROM = 4
BOOK_PAGE = 1000


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _any_of(field_name: str, values: Sequence[str]) -> str:
    return " OR ".join(f"{field_name}=={_quoted(value)}" for value in values)


def _chunks(items: Sequence[Any], size: int = 10) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def xero_date(value: Any) -> date | None:
    """A date as Xero writes it (``/Date(1539993600000+0000)/``, or ISO), or None."""
    text = str(value or "")
    if text.startswith("/Date("):
        millis = int(text[6:].split(")", maxsplit=1)[0].split("+", maxsplit=1)[0].split("-", maxsplit=1)[0])
        return datetime.fromtimestamp(millis / 1000, UTC).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


async def _known(call: Caller, kind: str, xero_ids: set[str]) -> set[str]:
    """Which of these Xero ids are already another document of ours."""
    if not xero_ids:
        return set()
    async with tenant_transaction(call.state, call.tenant_id) as session:
        return await DocumentRepository(session, call.tenant_id).known_ids(call.granted.connection_id, kind, xero_ids)


async def look_up(call: Caller, kind: Kind, works: Sequence[Work]) -> None:
    """Find in Xero what a send in doubt may have made, and the contacts Xero already has, so that
    nothing is made twice."""
    if kind.name == "contact":
        await _match_contacts(call, [w for w in works if w.xero_id is None])
        return
    doubtful = [w for w in works if w.in_doubt and w.xero_id is None]
    if not doubtful:
        return
    if kind.name in ("invoice", "credit_note"):
        await _find_documents(call, kind, doubtful)
    else:
        await _find_movements(call, kind, doubtful)


async def _match_contacts(call: Caller, works: Sequence[Work]) -> None:
    """Our id in ``ContactNumber`` first (archived contacts too); then an active contact of the
    same name, or the one active contact with the same e-mail, that carries no other id of ours.
    Many new contacts at once (a first sync) are matched against the organisation's contact book,
    read whole when that takes fewer calls than looking each one up."""
    if not works:
        return
    book = await _contact_book(call, len(works)) if len(works) >= BOOK_FROM else None
    numbered = book if book is not None else await _by_numbers(call, [w.key["number"] for w in works])
    by_number = {c.get("ContactNumber"): c for c in numbered if c.get("ContactNumber")}
    rest = []
    for work in works:
        if (match := by_number.get(work.key["number"])) is not None:
            work.xero_id = match["ContactID"]
        else:
            rest.append(work)
    candidates = book if book is not None else await _by_names_or_emails(call, rest)
    unique = {c["ContactID"]: c for c in candidates}.values()  # one look-up may find a contact twice
    free = [c for c in unique if c.get("ContactStatus", "ACTIVE") == "ACTIVE" and not c.get("ContactNumber")]
    taken = await _known(call, "contact", {c["ContactID"] for c in free})
    for work in rest:
        named = [
            c
            for c in free
            if c["ContactID"] not in taken and c.get("Name", "").casefold() == work.key["name"].casefold()
        ]
        mailed = [
            c
            for c in free
            if c["ContactID"] not in taken and (c.get("EmailAddress") or "").casefold() == work.key["email"].casefold()
        ]
        match = named[0] if named else mailed[0] if len(mailed) == 1 else None
        if match is not None:
            work.xero_id = match["ContactID"]
            taken.add(match["ContactID"])


async def _by_numbers(call: Caller, numbers: Sequence[str]) -> list[dict[str, Any]]:
    """The contacts (archived too) whose ``ContactNumber`` is one of these, 10 numbers a call."""
    found: list[dict[str, Any]] = []
    for chunk in _chunks(numbers):
        params = {"where": _any_of("ContactNumber", chunk), "includeArchived": "true"}
        found += (await call("GET", "Contacts", params=params)).get("Contacts") or []
    return found


async def _by_names_or_emails(call: Caller, works: Sequence[Work]) -> list[dict[str, Any]]:
    """The active contacts named as, or with the e-mail of, one of these, 5 contacts of ours a call."""
    found: list[dict[str, Any]] = []
    for chunk in _chunks(works, 5):
        where = " OR ".join(f"Name=={_quoted(w.key['name'])} OR EmailAddress=={_quoted(w.key['email'])}" for w in chunk)
        found += (await call("GET", "Contacts", params={"where": where})).get("Contacts") or []
    return found


async def _contact_book(call: Caller, new: int) -> list[dict[str, Any]] | None:
    """Every contact of the organisation (archived too), or None when reading them all would take
    more calls than looking ``new`` contacts up one chunk at a time (a large contact book)."""
    look_ups = math.ceil(new / 10) + math.ceil(new / 5)
    params = {"includeArchived": "true", "pageSize": str(BOOK_PAGE), "order": "ContactID"}
    book: list[dict[str, Any]] = []
    page = 0
    while True:
        page += 1
        answer = await call("GET", "Contacts", params=params | {"page": str(page)})
        found = answer.get("Contacts") or []
        book += found
        if len(found) < BOOK_PAGE:  # the last page
            return book
        pages = (answer.get("pagination") or {}).get("pageCount")
        if int(pages or page + 1) > look_ups:
            return None


async def _find_documents(call: Caller, kind: Kind, works: Sequence[Work]) -> None:
    assert kind.number_key is not None
    found: list[dict[str, Any]] = []
    by_number = [w.key["number"] for w in works if not w.key["by_reference"]]
    by_reference = [w.key["number"] for w in works if w.key["by_reference"]]
    for chunk in _chunks(by_number):
        if kind.name == "invoice":
            params = {"InvoiceNumbers": ",".join(chunk)}
        else:
            params = {"where": _any_of(kind.number_key, chunk)}
        found += (await call("GET", kind.plural, params=params)).get(kind.plural) or []
    for chunk in _chunks(by_reference):
        found += (await call("GET", kind.plural, params={"where": _any_of("Reference", chunk)})).get(kind.plural) or []
    live = [d for d in found if d.get("Status") != "DELETED"]
    for work in works:
        field_name = "Reference" if work.key["by_reference"] else kind.number_key
        match = next((d for d in live if d.get(field_name) == work.key["number"]), None)
        if match is not None:
            work.xero_id, work.found = match[kind.id_key], match


async def _find_movements(call: Caller, kind: Kind, works: Sequence[Work]) -> None:
    """Payments, allocations, refunds and overpayments carry no number: a candidate is one with the
    same amount, date (and reference) on the same document that is not already ours."""
    listed: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for work in works:
        path, xero_id = where = work.key["on"]
        if where in listed:
            continue
        if path == "Contact":  # an overpayment: the contact's overpayments
            params = {"where": f'Contact.ContactID==GUID("{xero_id}")'}
            listed[where] = (await call("GET", "Overpayments", params=params)).get("Overpayments") or []
        else:
            document = ((await call("GET", f"{path}/{xero_id}")).get(path) or [{}])[0]
            listed[where] = document.get("Allocations" if kind.name == "allocation" else "Payments") or []
    id_key = kind.id_key
    taken = await _known(call, kind.name, {c[id_key] for found in listed.values() for c in found if c.get(id_key)})
    for work in works:
        for candidate in listed[work.key["on"]]:
            if candidate.get(id_key) in taken or not _same_movement(kind, work, candidate):
                continue
            work.xero_id, work.found = candidate[id_key], candidate
            taken.add(candidate[id_key])
            break


def _same_movement(kind: Kind, work: Work, candidate: dict[str, Any]) -> bool:
    amount = candidate.get("Total" if kind.name == "overpayment" else "Amount")
    if (
        amount is None
        or Decimal(str(amount)) != work.key["amount"]
        or xero_date(candidate.get("Date")) != work.key["date"]
    ):
        return False
    if kind.name == "allocation":
        return bool((candidate.get("Invoice") or {}).get("InvoiceID") == work.key["invoice"])
    return (candidate.get("Reference") or "") == work.key.get("ref", "") or "Reference" not in candidate
