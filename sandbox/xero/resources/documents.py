"""Invoices and credit notes: lines taxed and rounded per line, numbering, statuses and edit locks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sandbox.xero.resources import contacts
from sandbox.xero.resources.common import (
    Answer,
    Call,
    Errors,
    Missing,
    Rejected,
    a_date,
    batch,
    decimal,
    elements,
    ids_filter,
    listing,
    touch,
)
from sandbox.xero.store import Organisation, Record, new_id
from sandbox.xero.wire import ZERO, money

LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
TRANSITIONS = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
}
# Fields whose change alters the document's money or party: refused once anything is allocated.
_FINANCIAL = ("Contact", "LineItems", "Date", "CurrencyCode", "CurrencyRate", "LineAmountTypes", "Type")


@dataclass(frozen=True)
class Kind:
    plural: str
    singular: str
    label: str  # how Xero's messages name it
    id_key: str
    number_key: str
    types: tuple[str, str]  # (sales, purchases)
    prefix: str
    attr: str

    @property
    def sales(self) -> str:
        return self.types[0]

    def books(self, org: Organisation) -> dict[str, Record]:
        books: dict[str, Record] = getattr(org, self.attr)
        return books


INVOICE = Kind("Invoices", "Invoice", "Invoice", "InvoiceID", "InvoiceNumber", ("ACCREC", "ACCPAY"), "INV", "invoices")
CREDIT_NOTE = Kind(
    "CreditNotes",
    "CreditNote",
    "Credit Note",
    "CreditNoteID",
    "CreditNoteNumber",
    ("ACCRECCREDIT", "ACCPAYCREDIT"),
    "CN",
    "credit_notes",
)


def _added(rate: Record) -> list[Decimal]:
    """What each component adds to the combined rate, in percent: a compound component is
    charged on the amount plus the tax of the components before it."""
    added: list[Decimal] = []
    for component in rate["TaxComponents"]:
        percent = Decimal(component["Rate"])
        added.append(percent * (100 + sum(added)) / 100 if component.get("IsCompound") else percent)
    return added


def combined_rate(components: list[dict[str, Any]]) -> Decimal:
    """The effective rate of these components, in percent."""
    return sum(_added({"TaxComponents": components}), ZERO)


def tax_rate_of(org: Organisation, tax_type: str) -> Decimal:
    return sum(_added(org.tax_rates[tax_type]), ZERO)


def _breakdown(rate: Record, amount: Decimal, tax: Decimal) -> list[Record]:
    """A line's tax, rounded once on the combined rate, split between the rate's components in
    proportion to what each adds to it: each share cut to the cent, and the cents still missing
    given one each to the shares that lost the most by the cut (the earlier one on a tie)."""
    added = [Fraction(part) for part in _added(rate)]
    whole = sum(added, Fraction(0))
    cents = int(abs(tax) * 100)
    shares = [cents * part / whole if whole else Fraction(0) for part in added]
    parts = [share.numerator // share.denominator for share in shares]
    for index in sorted(range(len(parts)), key=lambda i: (parts[i] - shares[i], i))[: cents - sum(parts)]:
        parts[index] += 1
    sign = -1 if tax < 0 else 1
    return [
        {
            "Name": component["Name"],
            "TaxPercentage": Decimal(component["Rate"]),
            "TaxAmount": Decimal(sign * part).scaleb(-2),
            "TaxableAmount": amount,
        }
        for component, part in zip(rate["TaxComponents"], parts, strict=True)
    ]


def contact_for(call: Call, value: Any, errors: Errors) -> Record | dict[str, Any] | None:
    """The stored contact, or the new contact to create by name (created only if the element is saved)."""
    if not isinstance(value, dict):
        errors.add("A Contact must be specified for this type of transaction.")
        return None
    org = call.org
    found = None
    if value.get("ContactID"):
        found = org.contacts.get(str(value["ContactID"]).lower())
    elif value.get("ContactNumber"):
        found = next((c for c in org.contacts.values() if c.get("ContactNumber") == value["ContactNumber"]), None)
    elif value.get("Name"):
        found = contacts.active_by_name(org, str(value["Name"]))
        if found is None:
            return {"Name": str(value["Name"]).strip(), "_new": True}
    if found is None:
        errors.add("The contact with the specified contact details could not be found.")
        return None
    if found["ContactStatus"] != "ACTIVE":
        errors.add(
            "The contact with the specified contact details has been archived. The contact must be un-archived "
            "before creating new invoices or credit notes."
        )
    return found


def _account(org: Organisation, line: dict[str, Any], errors: Errors) -> Record | None:
    code, account_id = line.get("AccountCode"), line.get("AccountID")
    if code is None and account_id is None:
        return None
    account = org.accounts.get(str(account_id).lower()) if account_id else org.account_by_code(str(code))
    shown = code or account_id
    if account is None:
        errors.add(f"Account code '{shown}' is not a valid code for this document.")
        return None
    if account["Status"] != "ACTIVE":
        errors.add(
            f"Account code '{shown}' has been archived, or deleted. Each line item must reference a valid account."
        )
        return None
    return account


def _tracking(org: Organisation, line: dict[str, Any], errors: Errors) -> list[dict[str, Any]]:
    picked = line.get("Tracking") or []
    if len(picked) > 2:
        errors.add("A line item can have at most two tracking categories.")
        return []
    out = []
    for item in picked:
        category = next(
            (
                c
                for c in org.tracking.values()
                if c["Status"] == "ACTIVE"
                and (c["TrackingCategoryID"] == item.get("TrackingCategoryID") or c["Name"] == item.get("Name"))
            ),
            None,
        )
        option = (
            next(
                (
                    o
                    for o in category["Options"]
                    if o["Status"] == "ACTIVE"
                    and (o["TrackingOptionID"] == item.get("TrackingOptionID") or o["Name"] == item.get("Option"))
                ),
                None,
            )
            if category
            else None
        )
        if category is None or option is None:
            errors.add(f"The tracking category or option '{item.get('Name')}: {item.get('Option')}' is not valid.")
            continue
        out.append(
            {
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
                "Name": category["Name"],
                "Option": option["Name"],
            }
        )
    return out


def price_line(org: Organisation, sales: bool, amount_types: str, line: dict[str, Any], errors: Errors) -> Record:
    """One line as Xero stores it: amount from quantity and price, tax rounded on the line itself."""
    description = line.get("Description")
    if description is not None and not 1 <= len(str(description)) <= 4000:
        errors.add("Description must be between 1 and 4000 characters long.")
    account = _account(org, line, errors)
    quantity, unit, amount = _line_amount(line, errors)
    tax_type = line.get("TaxType") or (account["TaxType"] if account else None)
    tax = ZERO
    if tax_type is not None and _usable_tax_type(org, sales, str(tax_type), errors) and amount_types != "NoTax":
        percent = tax_rate_of(org, str(tax_type))
        divisor = Decimal(100) if amount_types == "Exclusive" else Decimal(100) + percent
        tax = money(amount * percent / divisor)
    if (override := decimal(line.get("TaxAmount"), "Tax Amount", errors)) is not None and amount_types != "NoTax":
        tax = money(override)
    record: Record = {
        "LineItemID": line.get("LineItemID") or new_id(),
        "Quantity": quantity,
        "UnitAmount": unit,
        "LineAmount": amount,
        "TaxAmount": tax,
    }
    rate = org.tax_rates.get(str(tax_type)) if tax_type is not None else None
    if rate is not None and len(rate["TaxComponents"]) > 1 and amount_types != "NoTax":
        taxable = amount - tax if amount_types == "Inclusive" else amount
        record["TaxBreakdown"] = _breakdown(rate, taxable, tax)
    if description is not None:
        record["Description"] = str(description)
    if account is not None:
        record |= {"AccountCode": account.get("Code"), "AccountID": account["AccountID"]}
    if tax_type is not None:
        record["TaxType"] = str(tax_type)
    if "DiscountRate" in line:
        record["DiscountRate"] = line["DiscountRate"]
    if tracking := _tracking(org, line, errors):
        record["Tracking"] = tracking
    return record


def _line_amount(line: dict[str, Any], errors: Errors) -> tuple[Decimal, Decimal, Decimal]:
    """(Quantity, UnitAmount, LineAmount). Missing quantity means 1; a bare LineAmount is one unit of it."""
    quantity = decimal(line.get("Quantity"), "Quantity", errors)
    unit = decimal(line.get("UnitAmount"), "Unit Price", errors)
    given = decimal(line.get("LineAmount"), "Line Amount", errors)
    discount = decimal(line.get("DiscountRate"), "Discount", errors) or ZERO
    if unit is None:
        if given is None:
            return quantity or ZERO, ZERO, ZERO
        quantity, unit = quantity or Decimal(1), given / (quantity or Decimal(1))
    quantity = Decimal(1) if quantity is None else quantity
    amount = money(quantity * unit * (1 - discount / 100))
    if given is not None and money(given) != amount:
        errors.add("The line amount does not equal the quantity multiplied by the unit amount, less discount.")
    return quantity, unit, amount


def _usable_tax_type(org: Organisation, sales: bool, tax_type: str, errors: Errors) -> bool:
    rate = org.tax_rates.get(tax_type)
    if rate is None or not rate["CanApplyToRevenue" if sales else "CanApplyToExpenses"]:
        errors.add(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
        return False
    if rate["Status"] != "ACTIVE":
        errors.add("Tax rate must be valid. The tax rate has been archived or deleted.")
        return False
    return True


def totals(amount_types: str, lines: list[Record]) -> tuple[Decimal, Decimal, Decimal]:
    """(SubTotal, TotalTax, Total): each line's tax already rounded, then summed."""
    line_sum = sum((line["LineAmount"] for line in lines), ZERO)
    tax = sum((line["TaxAmount"] for line in lines), ZERO)
    if amount_types == "Inclusive":
        return line_sum - tax, tax, line_sum
    return line_sum, tax, line_sum + tax


def allocated(record: Record) -> bool:
    """Whether money stands against the document now; deleted payments and undone allocations do not count."""
    if "AmountPaid" in record:
        return bool(record["AmountPaid"] or record["AmountCredited"])
    return bool(record["AppliedAmount"])


def save(call: Call, kind: Kind, item: dict[str, Any], existing: Record | None, *, method: str) -> Record:
    """Create or update one document; nothing is changed unless every check passes."""
    existing = _prior(call, kind, item, existing, method)
    if existing is not None:
        _check_change(kind, existing, item)
    errors = Errors()
    draft = _header(call, kind, item, existing or {}, errors)
    raw_lines = item.get("LineItems")
    if raw_lines is not None:
        sales = draft["Type"] == kind.sales
        draft["LineItems"] = [
            price_line(call.org, sales, draft["LineAmountTypes"], given, errors) for given in raw_lines
        ]
    _check_content(call, kind, draft, existing, errors)
    sub_total, total_tax, total = totals(draft["LineAmountTypes"], draft["LineItems"])
    if (claimed := decimal(item.get("Total"), "Total", errors)) is not None and money(claimed) != total:
        errors.add("The document total does not equal the sum of the lines.")
    errors.raise_any()
    draft.update(SubTotal=sub_total, TotalTax=total_tax, Total=total)
    draft.update({key: item[key] for key in ("Reference", "Url", "SentToContact") if key in item})
    return _apply(call, kind, draft, existing)


def _prior(call: Call, kind: Kind, item: dict[str, Any], existing: Record | None, method: str) -> Record | None:
    """The stored document an element updates: by path, by id in the body, or a POSTed sales invoice number."""
    books = kind.books(call.org)
    if existing is None and item.get(kind.id_key):
        existing = books.get(str(item[kind.id_key]).lower())
        if existing is None:
            raise Rejected(f"{kind.label} could not be found.")
    number = item.get(kind.number_key)
    if existing is None and kind is INVOICE and item.get("Type") == "ACCREC" and number and method == "POST":
        existing = call.org.numbered("ACCREC", str(number), kind.number_key)
    return existing


def _header(call: Call, kind: Kind, item: dict[str, Any], before: Record, errors: Errors) -> Record:
    """The element's header merged over what is stored; raises at once if type or status cannot work."""
    org = call.org
    doc_type = item.get("Type") or before.get("Type")
    if doc_type not in kind.types:
        raise Rejected(f"{kind.label} Type must be specified and be one of {', '.join(kind.types)}.")
    status = item.get("Status") or before.get("Status") or "DRAFT"
    if not before and status not in {"DRAFT", "SUBMITTED", "AUTHORISED"}:
        raise Rejected(f"{kind.label} not of valid status for creation")
    contact = contact_for(call, item["Contact"], errors) if "Contact" in item else before.get("_contact")
    if contact is None and not errors.messages:
        errors.add("A Contact must be specified for this type of transaction.")
    amount_types = item.get("LineAmountTypes") or before.get("LineAmountTypes") or "Exclusive"
    if amount_types not in LINE_AMOUNT_TYPES:
        errors.add(f"'{amount_types}' is not a valid LineAmountTypes.")
        amount_types = "Exclusive"
    day = a_date(item.get("Date"), "Date", errors) or before.get("Date") or call.today
    if org.is_locked(day) and ("Date" in item or not before):
        errors.add("The document date cannot be on or before the organisation's lock date.")
    currency = item.get("CurrencyCode") or before.get("CurrencyCode") or org.base_currency
    if currency not in org.currencies:
        errors.add(f"The currency {currency} is not enabled for this organisation.")
    theme = item.get("BrandingThemeID") or before.get("BrandingThemeID")
    if theme is not None and str(theme).lower() not in org.themes:
        errors.add("Branding theme could not be found.")
    return {
        "Type": doc_type,
        "Status": status,
        "_contact": contact,
        "LineAmountTypes": amount_types,
        "Date": day,
        "DueDate": a_date(item.get("DueDate"), "Due Date", errors) or before.get("DueDate"),
        "CurrencyCode": currency,
        "CurrencyRate": Decimal(str(item.get("CurrencyRate") or before.get("CurrencyRate") or 1)),
        "BrandingThemeID": theme,
        "LineItems": before.get("LineItems", []),
        kind.number_key: item.get(kind.number_key) or before.get(kind.number_key),
    }


def _check_content(call: Call, kind: Kind, draft: Record, existing: Record | None, errors: Errors) -> None:
    if not draft["LineItems"]:
        errors.add(f"{kind.label}s must contain at least one line item.")
    if draft["Status"] in {"AUTHORISED", "SUBMITTED"}:
        # A line whose account was refused already says so; this is for lines that name none.
        if any("AccountID" not in line for line in draft["LineItems"]) and not errors.messages:
            errors.add("Each line item must have an account code when the document is approved.")
        if kind is INVOICE and draft["DueDate"] is None:
            errors.add("Due Date is required.")
    number, doc_type = draft[kind.number_key], draft["Type"]
    if number and doc_type == kind.sales:
        if len(str(number)) > 255:
            errors.add("Number must not be more than 255 characters long.")
        elif (
            holder := call.org.numbered(doc_type, str(number), kind.number_key)
        ) is not None and holder is not existing:
            errors.add(f"{'Invoice' if kind is INVOICE else 'Credit Note'} # must be unique.")


def _apply(call: Call, kind: Kind, draft: Record, existing: Record | None) -> Record:
    org = call.org
    draft["_contact"] = contacts.materialise(call, draft["_contact"])
    if existing is None:
        existing = {kind.id_key: new_id(), "_payments": [], "_credits": [], "_allocations": []}
        existing |= {"AmountPaid": ZERO, "AmountCredited": ZERO} if kind is INVOICE else {"AppliedAmount": ZERO}
    sales = draft["Type"] == kind.sales
    if not draft[kind.number_key]:
        draft[kind.number_key] = org.next_number(draft["Type"], kind.prefix) if sales else ""
    existing.update({k: v for k, v in draft.items() if v is not None})
    # Xero marks a contact a customer (or supplier) once it has a sales (or purchase) document.
    draft["_contact"]["IsCustomer" if sales else "IsSupplier"] = True
    restate(existing)
    kind.books(org)[existing[kind.id_key]] = existing
    if existing[kind.number_key]:
        org.numbers[(existing["Type"], existing[kind.number_key])] = existing
    return touch(existing, call.now)


def restate(record: Record) -> None:
    """What a document still owes (an invoice) or still offers (a credit), from its running totals."""
    if "AmountPaid" in record:
        record["AmountDue"] = record["Total"] - record["AmountPaid"] - record["AmountCredited"]
    else:
        record["RemainingCredit"] = record["Total"] - record["AppliedAmount"]


def _check_change(kind: Kind, existing: Record, item: dict[str, Any]) -> None:
    current, wanted = existing["Status"], item.get("Status", existing["Status"])
    changes_something = any(k in item for k in _FINANCIAL) or wanted != current
    if current not in TRANSITIONS:
        if changes_something:
            raise Rejected(f"{kind.label} not of valid status for modification")
        return
    if wanted not in TRANSITIONS[current]:
        raise Rejected(f"{kind.label} not of valid status for modification")
    if allocated(existing) and changes_something:
        raise Rejected("This document cannot be edited as it has a payment or credit note allocated to it.")


def render(call: Call, kind: Kind, record: Record, *, lines: bool = True) -> dict[str, Any]:
    org = call.org
    out = {k: v for k, v in record.items() if lines or k != "LineItems"}
    out["Contact"] = contacts.summary(record["_contact"])
    out["HasAttachments"] = False
    if lines and call.unit_dp == 2:
        out["LineItems"] = [line | {"UnitAmount": money(line["UnitAmount"])} for line in record["LineItems"]]
    payments = [org.payments[p] for p in record["_payments"] if org.payments[p]["Status"] == "AUTHORISED"]
    out["Payments"] = [
        {"PaymentID": p["PaymentID"], "Date": p["Date"], "Amount": p["Amount"], "Reference": p.get("Reference", "")}
        | {"CurrencyRate": p["CurrencyRate"], "HasAccount": True, "HasValidationErrors": False}
        for p in payments
    ]
    if kind is INVOICE:
        out["IsDiscounted"] = any(line.get("DiscountRate") for line in record["LineItems"])
        out["CreditNotes"] = [_credit_summary(org, c) for c in record["_credits"] if c["kind"] == "CreditNote"]
        out["Overpayments"] = [_credit_summary(org, c) for c in record["_credits"] if c["kind"] == "Overpayment"]
        out["Prepayments"] = []
    else:
        out["Allocations"] = [allocation_view(org, a) for a in record["_allocations"] if not a["IsDeleted"]]
    return out


def _credit_summary(org: Organisation, credit: dict[str, Any]) -> dict[str, Any]:
    if credit["kind"] == "CreditNote":
        note = org.credit_notes[credit["id"]]
        return {
            "CreditNoteID": note["CreditNoteID"],
            "CreditNoteNumber": note["CreditNoteNumber"],
            "Total": note["Total"],
            "AppliedAmount": credit["amount"],
            "Date": credit["date"],
        }
    over = org.overpayments[credit["id"]]
    return {"OverpaymentID": over["OverpaymentID"], "Total": over["Total"], "AppliedAmount": credit["amount"]}


def allocation_view(org: Organisation, allocation: dict[str, Any]) -> dict[str, Any]:
    invoice = org.invoices[allocation["invoice_id"]]
    return {
        "AllocationID": allocation["AllocationID"],
        "Amount": allocation["Amount"],
        "Date": allocation["Date"],
        "IsDeleted": allocation["IsDeleted"],
        "Invoice": {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"]},
    }


def get_list(call: Call, kind: Kind) -> Answer:
    records = list(kind.books(call.org).values())
    if (ids := ids_filter(call, "IDs")) is not None:
        records = [r for r in records if r[kind.id_key] in ids]
    if numbers := call.query.get("InvoiceNumbers" if kind is INVOICE else "CreditNoteNumbers"):
        wanted = {n.strip() for n in numbers.split(",")}
        records = [r for r in records if r[kind.number_key] in wanted]
    if (contact_ids := ids_filter(call, "ContactIDs")) is not None:
        records = [r for r in records if r["_contact"]["ContactID"] in contact_ids]
    if statuses := call.query.get("Statuses"):
        records = [r for r in records if r["Status"] in {s.strip().upper() for s in statuses.split(",")}]
    if term := call.query.get("searchTerm", "").casefold():
        records = [r for r in records if term in f"{r[kind.number_key]} {r.get('Reference', '')}".casefold()]
    # Filters look at the contact as it is now, as renders do.
    records = [r | {"Contact": contacts.summary(r["_contact"])} for r in records]
    paged = "page" in call.query or "pageSize" in call.query
    return listing(call, kind.plural, records, lambda r: render(call, kind, r, lines=paged), paged=True)


def get_one(call: Call, kind: Kind) -> Answer:
    record = find(call.org, kind, call.params[kind.id_key])
    return listing(call, kind.plural, [record], lambda r: render(call, kind, r), paged=False)


def find(org: Organisation, kind: Kind, key: str) -> Record:
    """By id, or (as Xero allows in the path) by a sales document's number."""
    record = kind.books(org).get(key.lower()) or org.numbered(kind.sales, key, kind.number_key)
    if record is None:
        raise Missing
    return record


def write(call: Call, kind: Kind, method: str) -> Answer:
    existing = find(call.org, kind, call.params[kind.id_key]) if kind.id_key in call.params else None

    def save_one(item: dict[str, Any]) -> Record:
        if method == "PUT" and item.get(kind.id_key):
            raise Rejected(f"A {kind.label} ID cannot be given when creating a {kind.label.lower()}.")
        return save(call, kind, item, existing, method=method)

    return batch(
        call,
        kind.plural,
        elements(call, kind.plural, kind.singular),
        save_one,
        lambda r: render(call, kind, r),
        id_key=kind.id_key,
        error_flag="HasErrors",
    )
