"""Contacts: unique active names, unique account numbers, archiving, lookup by ContactNumber."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.xero.resources.common import (
    Answer,
    Call,
    Errors,
    Missing,
    Rejected,
    batch,
    elements,
    ids_filter,
    listing,
    touch,
)
from sandbox.xero.store import Organisation, Record, new_id

_WRITABLE = (
    "ContactNumber",
    "AccountNumber",
    "Name",
    "FirstName",
    "LastName",
    "CompanyNumber",
    "EmailAddress",
    "TaxNumber",
    "AccountsReceivableTaxType",
    "DefaultCurrency",
    "SalesDefaultAccountCode",
    "PaymentTerms",
    "Addresses",
    "Phones",
    "ContactPersons",
    "ContactStatus",
)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def find(org: Organisation, key: str) -> Record | None:
    """By ContactID, or by ContactNumber as ``GET /Contacts/{ContactNumber}`` allows."""
    if (found := org.contacts.get(key.lower())) is not None:
        return found
    return next((c for c in org.contacts.values() if c.get("ContactNumber") == key), None)


def active_by_name(org: Organisation, name: str) -> Record | None:
    return next((c for c in org.contacts.values() if c["ContactStatus"] == "ACTIVE" and _same(c["Name"], name)), None)


def save(call: Call, item: dict[str, Any], existing: Record | None = None, *, create_only: bool = False) -> Record:
    """Create or update one contact. A POST matches on ContactID, then on ContactNumber; a PUT never matches."""
    org = call.org
    if create_only and item.get("ContactID"):
        raise Rejected("A ContactID cannot be given when creating a contact.")
    if existing is None and (key := item.get("ContactID")):
        existing = org.contacts.get(str(key).lower())
        if existing is None:
            raise Rejected("The contact with the specified contact details could not be found.")
    if existing is None and not create_only and (number := item.get("ContactNumber")):
        existing = next((c for c in org.contacts.values() if c.get("ContactNumber") == number), None)
    merged = {**(existing or {}), **{k: item[k] for k in _WRITABLE if k in item}}
    name = str(merged.get("Name") or "").strip()
    status = merged.get("ContactStatus", "ACTIVE")
    problems = _problems(org, merged, name, status, existing["ContactID"] if existing else None)
    if problems:
        raise Rejected(*problems)
    record: Record = (
        existing if existing is not None else {"ContactID": new_id(), "IsCustomer": False, "IsSupplier": False}
    )
    record.update({k: merged[k] for k in _WRITABLE if k in merged})
    record["Name"], record["ContactStatus"] = name, status
    org.contacts[record["ContactID"]] = record
    return touch(record, call.now)


def _problems(org: Organisation, merged: Record, name: str, status: str, own_id: str | None) -> list[str]:
    errors = Errors()
    if not name:
        errors.add("Contact Name cannot be empty.")
    elif len(name) > 255:
        errors.add("Contact Name must not be more than 255 characters long.")
    if status not in {"ACTIVE", "ARCHIVED", "GDPRREQUEST"}:
        errors.add(f"'{status}' is not a valid ContactStatus.")
    clash = active_by_name(org, name) if name and status == "ACTIVE" else None
    if clash is not None and clash["ContactID"] != own_id:
        errors.add(
            f"The contact name {name} is already assigned to another contact. "
            "The contact name must be unique across all active contacts."
        )
    account_number = merged.get("AccountNumber")
    if account_number and any(
        c.get("AccountNumber") == account_number and c["ContactID"] != own_id for c in org.contacts.values()
    ):
        errors.add("The Account Number already exists. Please enter a different Account Number.")
    if (number := merged.get("ContactNumber")) and len(str(number)) > 50:
        errors.add("Contact Number must not be more than 50 characters long.")
    email = merged.get("EmailAddress")
    if email and ("@" not in str(email) or any(ord(ch) > 127 for ch in str(email))):
        errors.add("Email address must be valid.")
    return errors.messages


def render(record: Record) -> dict[str, Any]:
    return record | {"HasAttachments": False}


def materialise(call: Call, contact: Record) -> Record:
    """A contact a document named only by a new name is created once the document is saved."""
    return save(call, {"Name": contact["Name"]}, create_only=True) if contact.get("_new") else contact


def summary(record: Record) -> dict[str, Any]:
    """How a contact appears inside a document."""
    out = {"ContactID": record["ContactID"], "Name": record["Name"], "ContactStatus": record["ContactStatus"]}
    if record.get("ContactNumber"):
        out["ContactNumber"] = record["ContactNumber"]
    return out


def get_list(call: Call) -> Answer:
    records = list(call.org.contacts.values())
    if call.query.get("includeArchived", "").lower() != "true":
        records = [c for c in records if c["ContactStatus"] == "ACTIVE"]
    if (ids := ids_filter(call, "IDs")) is not None:
        records = [c for c in records if c["ContactID"] in ids]
    if term := call.query.get("searchTerm", "").casefold():
        fields = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
        records = [c for c in records if any(term in str(c.get(f) or "").casefold() for f in fields)]
    return listing(call, "Contacts", records, render, paged=True)


def get_one(call: Call) -> Answer:
    key = call.params.get("ContactID") or call.params["ContactNumber"]
    record = find(call.org, key)
    if record is None:
        raise Missing
    return listing(call, "Contacts", [record], render, paged=False)


def put(call: Call) -> Answer:
    return _batch(call, lambda item: save(call, item, create_only=True))


def post(call: Call) -> Answer:
    return _batch(call, lambda item: save(call, item))


def post_one(call: Call) -> Answer:
    existing = find(call.org, call.params.get("ContactID") or call.params.get("ContactNumber") or "")
    if existing is None:
        raise Missing
    return _batch(call, lambda item: save(call, item, existing))


def _batch(call: Call, save_one: Callable[[dict[str, Any]], Record]) -> Answer:
    return batch(
        call,
        "Contacts",
        elements(call, "Contacts", "Contact"),
        save_one,
        render,
        id_key="ContactID",
        error_flag="HasValidationErrors",
    )
