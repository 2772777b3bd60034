"""The organisation and its settings: accounts, tax rates, tracking categories, themes, currencies."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.xero.resources.common import (
    Answer,
    Call,
    Missing,
    Refused,
    Rejected,
    batch,
    elements,
    listing,
    one,
    touch,
    written,
)
from sandbox.xero.resources.documents import combined_rate
from sandbox.xero.store import Record, new_id

ACCOUNT_TYPES = [
    "BANK",
    "CURRENT",
    "CURRLIAB",
    "DEPRECIATN",
    "DIRECTCOSTS",
    "EQUITY",
    "EXPENSE",
    "FIXED",
    "INVENTORY",
    "LIABILITY",
    "NONCURRENT",
    "OTHERINCOME",
    "OVERHEADS",
    "PREPAYMENT",
    "REVENUE",
    "SALES",
    "TERMLIAB",
    "PAYG",
]
STATUSES = ("ACTIVE", "ARCHIVED")


def organisation(call: Call) -> Answer:
    org = call.org
    record = {
        "OrganisationID": org.id,
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": {"GB": "UK", "AU": "AU", "NZ": "NZ", "US": "US"}.get(org.country, "GLOBAL"),
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.base_currency,
        "CountryCode": org.country,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "QUARTERLY1",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": org.created,
        "Timezone": org.timezone,
        "OrganisationEntityType": "COMPANY",
        "ShortCode": org.short_code,
        "Class": "STANDARD",
        "Edition": "BUSINESS",
    }
    if org.period_lock_date is not None:
        record["PeriodLockDate"] = org.period_lock_date
    return listing(call, "Organisations", [record], dict, paged=False, default_order="Name")


# Accounts


def accounts(call: Call) -> Answer:
    return listing(call, "Accounts", call.org.accounts.values(), dict, paged=False, default_order="Code")


def _account(call: Call) -> Record:
    return one(call.org.accounts, call.params["AccountID"])


def account(call: Call) -> Answer:
    return listing(call, "Accounts", [_account(call)], dict, paged=False)


def save_account(call: Call, item: dict[str, Any], existing: Record | None) -> Record:
    org = call.org
    merged = {**(existing or {}), **{k: v for k, v in item.items() if k in _ACCOUNT_FIELDS}}
    problems = []
    if not merged.get("Name"):
        problems.append("Please enter a name for the account.")
    if merged.get("Type") not in ACCOUNT_TYPES:
        problems.append("Please select a valid account type.")
    if merged.get("Status", "ACTIVE") not in STATUSES:
        problems.append("Status must be ACTIVE or ARCHIVED.")
    own = existing["AccountID"] if existing else None
    others = [a for a in org.accounts.values() if a["AccountID"] != own and a["Status"] != "DELETED"]
    if merged.get("Code") and any(a.get("Code") == merged["Code"] for a in others):
        problems.append("Please enter a unique Code.")
    if any(a["Name"].casefold() == str(merged.get("Name", "")).casefold() for a in others):
        problems.append("Please enter a unique Name.")
    if merged.get("TaxType") and merged["TaxType"] not in org.tax_rates:
        problems.append("Tax rate must be valid.")
    if problems:
        raise Rejected(*problems)
    record: Record = (
        existing if existing is not None else {"AccountID": new_id(), "Status": "ACTIVE", "HasAttachments": False}
    )
    record.update(merged)
    record.setdefault("Class", "REVENUE" if record["Type"] in {"REVENUE", "SALES", "OTHERINCOME"} else "EXPENSE")
    record.setdefault("EnablePaymentsToAccount", record["Type"] == "BANK")
    org.accounts[record["AccountID"]] = record
    return touch(record, call.now)


_ACCOUNT_FIELDS = [
    "Code",
    "Name",
    "Type",
    "Status",
    "Description",
    "TaxType",
    "EnablePaymentsToAccount",
    "ShowInExpenseClaims",
    "BankAccountNumber",
    "BankAccountType",
    "CurrencyCode",
    "ReportingCode",
    "AddToWatchlist",
]


def put_account(call: Call) -> Answer:
    return _accounts_batch(call, lambda item: save_account(call, item, None))


def post_account(call: Call) -> Answer:
    existing = _account(call)
    return _accounts_batch(call, lambda item: save_account(call, item, existing))


def delete_account(call: Call) -> Answer:
    record = _account(call)
    org = call.org
    used = any(
        line.get("AccountID") == record["AccountID"]
        for books in (org.invoices, org.credit_notes, org.bank_transactions)
        for doc in books.values()
        for line in doc["LineItems"]
    ) or any(p["_account"] is record for p in org.payments.values())
    if used:
        raise Rejected("An account that has been used cannot be deleted.")
    record["Status"] = "DELETED"
    del org.accounts[record["AccountID"]]
    return written(call, "Accounts", [touch(record, call.now)])


def _accounts_batch(call: Call, save: Callable[[dict[str, Any]], Record]) -> Answer:
    return batch(
        call, "Accounts", elements(call, "Accounts", "Account"), save, dict, id_key="AccountID", error_flag=None
    )


# Tax rates


def tax_rates(call: Call) -> Answer:
    return listing(call, "TaxRates", call.org.tax_rates.values(), dict, paged=False, default_order="Name")


def tax_rate(call: Call) -> Answer:
    record = call.org.tax_rates.get(call.params["TaxType"])
    if record is None:
        raise Missing
    return listing(call, "TaxRates", [record], dict, paged=False)


def save_tax_rate(call: Call, item: dict[str, Any], *, create: bool) -> Record:
    org = call.org
    existing = None
    if not create:
        existing = org.tax_rates.get(str(item.get("TaxType"))) or next(
            (r for r in org.tax_rates.values() if r["Name"] == item.get("Name")), None
        )
        if existing is None:
            raise Rejected("The tax rate could not be found.")
    status = item.get("Status", existing["Status"] if existing else "ACTIVE")
    if status not in ("ACTIVE", "ARCHIVED", "DELETED"):
        raise Rejected("Status must be ACTIVE, ARCHIVED or DELETED.")
    if existing is not None:
        existing["Status"] = status
        if item.get("Name"):
            existing["Name"] = item["Name"]
        return existing
    components = item.get("TaxComponents") or []
    if not item.get("Name") or not components:
        raise Rejected("A tax rate needs a Name and at least one TaxComponent.")
    taken = {int(t[3:]) for t in org.tax_rates if t.startswith("TAX") and t[3:].isdigit()}
    code = f"TAX{max(taken, default=0) + 1:03d}"
    parts = [
        {
            "Name": c.get("Name", item["Name"]),
            "Rate": Decimal(str(c.get("Rate", 0))),
            "IsCompound": bool(c.get("IsCompound", False)),
            "IsNonRecoverable": False,
        }
        for c in components
    ]
    record: Record = {
        "TaxType": code,
        "Name": item["Name"],
        "Status": "ACTIVE",
        "ReportTaxType": item.get("ReportTaxType", "OUTPUT"),
        "TaxComponents": parts,
        "CanApplyToRevenue": True,
        "CanApplyToExpenses": True,
        "CanApplyToAssets": True,
        "CanApplyToLiabilities": True,
        "CanApplyToEquity": True,
        # Shown as the components' sum; charged at the effective rate (a compound one taxes tax).
        "DisplayTaxRate": sum((part["Rate"] for part in parts), Decimal(0)),
        "EffectiveRate": combined_rate(parts).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
    }
    org.tax_rates[code] = record
    return record


def write_tax_rates(call: Call, *, create: bool) -> Answer:
    return batch(
        call,
        "TaxRates",
        elements(call, "TaxRates", "TaxRate"),
        lambda item: save_tax_rate(call, item, create=create),
        dict,
        id_key="TaxType",
        error_flag=None,
        statuses=False,
    )


# Tracking categories: at most two active and four in all.


def _category(call: Call) -> Record:
    return one(call.org.tracking, call.params["TrackingCategoryID"])


def _view(record: Record, *, archived: bool) -> dict[str, Any]:
    options = [o for o in record["Options"] if archived or o["Status"] == "ACTIVE"]
    return record | {"Options": options}


def tracking_categories(call: Call) -> Answer:
    archived = call.query.get("includeArchived", "").lower() == "true"
    records = [r for r in call.org.tracking.values() if archived or r["Status"] == "ACTIVE"]
    return listing(
        call, "TrackingCategories", records, lambda r: _view(r, archived=archived), paged=False, default_order="Name"
    )


def tracking_category(call: Call) -> Answer:
    return listing(call, "TrackingCategories", [_category(call)], lambda r: _view(r, archived=True), paged=False)


def put_tracking_category(call: Call) -> Answer:
    item = call.body if isinstance(call.body, dict) else {}
    org = call.org
    name = str(item.get("Name") or "").strip()
    live = [c for c in org.tracking.values() if c["Status"] != "DELETED"]
    problem = None
    if not name or len(name) > 100:
        problem = "Tracking category name must be between 1 and 100 characters long."
    elif any(c["Name"].casefold() == name.casefold() for c in live):
        problem = "Please enter a unique name for the tracking category."
    elif sum(c["Status"] == "ACTIVE" for c in live) >= 2:
        problem = "You can only have 2 active tracking categories."
    elif len(live) >= 4:
        problem = "You can only have 4 tracking categories in total."
    if problem:
        raise Rejected(problem)
    category_id = new_id()
    org.tracking[category_id] = {"TrackingCategoryID": category_id, "Name": name, "Status": "ACTIVE", "Options": []}
    return written(call, "TrackingCategories", [org.tracking[category_id]])


def post_tracking_category(call: Call) -> Answer:
    record = _category(call)
    item = call.body if isinstance(call.body, dict) else {}
    status = item.get("Status", record["Status"])
    if status not in STATUSES:
        raise Refused(10, "ValidationException", "Status must be ACTIVE or ARCHIVED.")
    active = [c for c in call.org.tracking.values() if c["Status"] == "ACTIVE" and c is not record]
    if status == "ACTIVE" and len(active) >= 2:
        raise Refused(10, "ValidationException", "You can only have 2 active tracking categories.")
    record["Status"] = status
    if item.get("Name"):
        record["Name"] = str(item["Name"])
    return written(call, "TrackingCategories", [record])


def put_option(call: Call) -> Answer:
    record = _category(call)
    item = call.body if isinstance(call.body, dict) else {}
    name = str(item.get("Name") or "").strip()
    if not name or len(name) > 100:
        raise Refused(10, "ValidationException", "Tracking option name must be between 1 and 100 characters long.")
    if any(o["Name"].casefold() == name.casefold() for o in record["Options"]):
        raise Refused(10, "ValidationException", "Please enter a unique name for the tracking option.")
    option = {
        "TrackingOptionID": new_id(),
        "Name": name,
        "Status": "ACTIVE",
        "TrackingCategoryID": record["TrackingCategoryID"],
    }
    record["Options"].append(option)
    return written(call, "Options", [option])


def post_option(call: Call) -> Answer:
    record = _category(call)
    wanted = call.params["TrackingOptionID"].lower()
    option = next((o for o in record["Options"] if o["TrackingOptionID"] == wanted), None)
    if option is None:
        raise Missing
    item = call.body if isinstance(call.body, dict) else {}
    if item.get("Status") in STATUSES:
        option["Status"] = item["Status"]
    if item.get("Name"):
        option["Name"] = str(item["Name"])
    return written(call, "Options", [option])


# Branding themes and currencies (read-only here, except enabling a currency).


def themes(call: Call) -> Answer:
    return listing(call, "BrandingThemes", call.org.themes.values(), dict, paged=False, default_order="SortOrder")


def theme(call: Call) -> Answer:
    record = one(call.org.themes, call.params["BrandingThemeID"])
    return listing(call, "BrandingThemes", [record], dict, paged=False)


_CURRENCY_NAMES = {"GBP": "British Pound", "EUR": "Euro", "USD": "United States Dollar"} | {
    "AUD": "Australian Dollar",
    "NZD": "New Zealand Dollar",
}


def currencies(call: Call) -> Answer:
    records = [{"Code": c, "Description": _CURRENCY_NAMES.get(c, c)} for c in call.org.currencies]
    return listing(call, "Currencies", records, dict, paged=False, default_order="Code")


def put_currency(call: Call) -> Answer:
    item = call.body if isinstance(call.body, dict) else {}
    code = str(item.get("Code") or "").upper()
    if len(code) != 3 or not code.isalpha():
        raise Refused(10, "ValidationException", "Please enter a valid currency code.")
    if code not in call.org.currencies:
        call.org.currencies.append(code)
    return written(call, "Currencies", [{"Code": code, "Description": _CURRENCY_NAMES.get(code, code)}])
