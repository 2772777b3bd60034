"""The sandbox's Accounting API keeps Xero's rules: what it accepts, what it refuses and in which words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fixtures.xero import Xero


async def contact(xero: Xero, name: str = "Acme Ltd", **extra: Any) -> str:
    body = await xero.ok("PUT", "Contacts", {"Contacts": [{"Name": name} | extra]})
    contact_id: str = body["Contacts"][0]["ContactID"]
    return contact_id


def invoice(contact_id: str, *amounts: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-11-01",
        "DueDate": "2026-11-15",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": f"Line {n}",
                "Quantity": 1,
                "UnitAmount": Decimal(a),
                "AccountCode": "210",
                "TaxType": "OUTPUT2",
            }
            for n, a in enumerate(amounts or ("100.00",))
        ],
    } | extra


async def put_invoice(xero: Xero, body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = (await xero.ok("PUT", "Invoices", {"Invoices": [body]}))["Invoices"][0]
    return found


def messages(response_json: dict[str, Any]) -> list[str]:
    return [e["Message"] for element in response_json["Elements"] for e in element["ValidationErrors"]]


async def test_contact_names_are_unique_among_active_contacts_only(xero: Xero) -> None:
    await xero.connect()
    first = await contact(xero, "Acme Ltd", ContactNumber="C-1", AccountNumber="A-1")
    clash = await xero.api("PUT", "Contacts", {"Contacts": [{"Name": "acme ltd "}]})
    assert clash.status_code == 400
    assert messages(clash.json()) == [
        "The contact name acme ltd is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    ]
    same_account = await xero.api("PUT", "Contacts", {"Contacts": [{"Name": "Other", "AccountNumber": "A-1"}]})
    assert "The Account Number already exists" in messages(same_account.json())[0]
    await xero.ok("POST", f"Contacts/{first}", {"ContactStatus": "ARCHIVED"})
    second = await contact(xero, "Acme Ltd")
    assert second != first
    listed = await xero.ok("GET", "Contacts")
    assert [c["ContactID"] for c in listed["Contacts"]] == [second]
    with_archived = await xero.ok("GET", "Contacts?includeArchived=true")
    assert len(with_archived["Contacts"]) == 2
    by_number = await xero.ok("GET", "Contacts/C-1")
    assert by_number["Contacts"][0]["ContactID"] == first
    archived = await xero.api("PUT", "Invoices", {"Invoices": [invoice(first)]})
    assert "has been archived" in messages(archived.json())[0]


async def test_contacts_are_found_by_where_and_search_term(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero, "Acme Ltd", EmailAddress="Accounts@Acme.test", ContactNumber="FL-1")
    await contact(xero, "Bolt Coworking")
    where = await xero.ok("GET", 'Contacts?where=EmailAddress=="accounts@acme.test"')
    assert [c["ContactID"] for c in where["Contacts"]] == [acme]
    search = await xero.ok("GET", "Contacts?searchTerm=fl-1")
    assert [c["ContactID"] for c in search["Contacts"]] == [acme]
    bad = await xero.api("GET", "Contacts?where=Name==")
    assert (bad.status_code, bad.json()["Type"]) == (400, "QueryParseException")


async def test_tax_is_rounded_on_each_line_then_summed(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    # 3 x 12.34 at 20%: each line's tax 2.468 rounds to 2.47, so 7.41 (taxing the subtotal would give 7.40).
    saved = await put_invoice(xero, invoice(acme, "12.34", "12.34", "12.34"))
    assert (saved["SubTotal"], saved["TotalTax"], saved["Total"]) == (37.02, 7.41, 44.43)
    assert saved["InvoiceNumber"] == "INV-0001"
    assert saved["AmountDue"] == 44.43
    inclusive = await put_invoice(xero, invoice(acme, "10.00", "10.00", "10.00", LineAmountTypes="Inclusive"))
    # Each 10.00 gross line carries 1.67 of VAT (10 x 20/120 = 1.666...).
    assert (inclusive["Total"], inclusive["TotalTax"], inclusive["SubTotal"]) == (30.0, 5.01, 24.99)
    assert inclusive["InvoiceNumber"] == "INV-0002"


async def test_batches_save_good_elements_even_when_others_fail(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    bad = invoice(acme) | {"LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 5, "AccountCode": "999"}]}
    itemised = await xero.ok("PUT", "Invoices?summarizeErrors=false", {"Invoices": [invoice(acme), bad]})
    good, failed = itemised["Invoices"]
    assert (good["StatusAttributeString"], good["HasErrors"]) == ("OK", False)
    assert failed["StatusAttributeString"] == "ERROR"
    assert failed["ValidationErrors"] == [{"Message": "Account code '999' is not a valid code for this document."}]
    summarised = await xero.api("PUT", "Invoices", {"Invoices": [invoice(acme, "7.00"), bad]})
    assert summarised.status_code == 400
    assert summarised.json()["Type"] == "ValidationException"
    # Not transactional: the good element of the failed request was still saved, its id never returned.
    saved = await xero.ok("GET", "Invoices")
    assert sorted(i["Total"] for i in saved["Invoices"]) == [8.4, 120.0]


async def test_invoice_numbers_are_unique_and_a_post_by_number_updates(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    first = await put_invoice(xero, invoice(acme, InvoiceNumber="FL-100"))
    duplicate = await xero.api("PUT", "Invoices", {"Invoices": [invoice(acme, InvoiceNumber="FL-100")]})
    assert messages(duplicate.json()) == ["Invoice # must be unique."]
    updated = await xero.ok("POST", "Invoices", {"Invoices": [invoice(acme, "150.00", InvoiceNumber="FL-100")]})
    assert updated["Invoices"][0]["InvoiceID"] == first["InvoiceID"]
    assert updated["Invoices"][0]["Total"] == 180.0


async def test_status_moves_follow_xeros_table(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    draft = await put_invoice(xero, invoice(acme, Status="DRAFT"))
    path = f"Invoices/{draft['InvoiceID']}"
    assert (await xero.ok("POST", path, {"Status": "AUTHORISED"}))["Invoices"][0]["Status"] == "AUTHORISED"
    back = await xero.api("POST", path, {"Status": "DRAFT"})
    assert messages(back.json()) == ["Invoice not of valid status for modification"]
    assert (await xero.ok("POST", path, {"Status": "VOIDED"}))["Invoices"][0]["Status"] == "VOIDED"
    edit = await xero.api("POST", path, {"Reference": "late", "LineItems": []})
    assert messages(edit.json()) == ["Invoice not of valid status for modification"]
    paid = await xero.api("PUT", "Invoices", {"Invoices": [invoice(acme, Status="PAID")]})
    assert messages(paid.json()) == ["Invoice not of valid status for creation"]


async def test_payments_settle_invoices_and_lock_them(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    saved = await put_invoice(xero, invoice(acme, "100.00"))
    target = {"Invoice": {"InvoiceID": saved["InvoiceID"]}, "Account": {"Code": "090"}, "Date": "2026-11-05"}
    too_much = await xero.api("PUT", "Payments", {"Payments": [target | {"Amount": Decimal("120.01")}]})
    assert messages(too_much.json()) == ["Payment amount exceeds the amount outstanding on this document"]
    part = await xero.ok("PUT", "Payments", {"Payments": [target | {"Amount": Decimal("20.00")}]})
    assert part["Payments"][0]["PaymentType"] == "ACCRECPAYMENT"
    locked = await xero.api("POST", f"Invoices/{saved['InvoiceID']}", {"LineItems": invoice(acme)["LineItems"]})
    assert messages(locked.json()) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."
    ]
    void = await xero.api("POST", f"Invoices/{saved['InvoiceID']}", {"Status": "VOIDED"})
    assert void.status_code == 400
    rest = await xero.ok("PUT", "Payments", {"Payments": [target | {"Amount": Decimal("100.00")}]})
    after = (await xero.ok("GET", f"Invoices/{saved['InvoiceID']}"))["Invoices"][0]
    assert (after["Status"], after["AmountDue"], after["AmountPaid"]) == ("PAID", 0.0, 120.0)
    assert len(after["Payments"]) == 2
    payment = f"Payments/{rest['Payments'][0]['PaymentID']}"
    edit = await xero.api("POST", payment, {"Payments": [{"Status": "AUTHORISED"}]})
    assert messages(edit.json()) == ["Only Status accepted for updates."]
    await xero.ok("POST", payment, {"Payments": [{"Status": "DELETED"}]})
    reopened = (await xero.ok("GET", f"Invoices/{saved['InvoiceID']}"))["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"]) == ("AUTHORISED", 100.0)


async def test_deleting_the_payments_unlocks_the_invoice_again(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    saved = await put_invoice(xero, invoice(acme, "100.00"))
    target = {"Invoice": {"InvoiceID": saved["InvoiceID"]}, "Account": {"Code": "090"}, "Date": "2026-11-05"}
    paid = await xero.ok("PUT", "Payments", {"Payments": [target | {"Amount": Decimal("10.00")}]})
    await xero.ok("POST", f"Payments/{paid['Payments'][0]['PaymentID']}", {"Payments": [{"Status": "DELETED"}]})
    voided = await xero.ok("POST", f"Invoices/{saved['InvoiceID']}", {"Status": "VOIDED"})
    assert voided["Invoices"][0]["Status"] == "VOIDED"


async def test_credit_notes_allocate_to_invoices_of_the_same_contact(xero: Xero) -> None:
    await xero.connect()
    acme, bolt = await contact(xero), await contact(xero, "Bolt Ltd")
    owed = await put_invoice(xero, invoice(acme, "100.00"))
    note_body = invoice(acme, "25.00") | {"Type": "ACCRECCREDIT"}
    del note_body["DueDate"]
    note = (await xero.ok("PUT", "CreditNotes", {"CreditNotes": [note_body]}))["CreditNotes"][0]
    assert (note["CreditNoteNumber"], note["RemainingCredit"]) == ("CN-0001", 30.0)
    path = f"CreditNotes/{note['CreditNoteID']}/Allocations"
    other = await put_invoice(xero, invoice(bolt, "10.00"))
    wrong = await xero.api(
        "PUT",
        path,
        {"Allocations": [{"Invoice": {"InvoiceID": other["InvoiceID"]}, "Amount": 5, "Date": "2026-11-02"}]},
    )
    assert messages(wrong.json()) == ["The invoice and the credit must be for the same contact."]
    allocated = await xero.ok(
        "PUT",
        path,
        {"Allocations": [{"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Amount": 30, "Date": "2026-11-02"}]},
    )
    allocation_id = allocated["Allocations"][0]["AllocationID"]
    invoice_after = (await xero.ok("GET", f"Invoices/{owed['InvoiceID']}"))["Invoices"][0]
    assert (invoice_after["AmountCredited"], invoice_after["AmountDue"]) == (30.0, 90.0)
    assert invoice_after["CreditNotes"][0]["CreditNoteNumber"] == "CN-0001"
    note_after = (await xero.ok("GET", f"CreditNotes/{note['CreditNoteID']}"))["CreditNotes"][0]
    assert (note_after["Status"], note_after["RemainingCredit"]) == ("PAID", 0.0)
    undone = await xero.api("DELETE", f"{path}/{allocation_id}")
    assert undone.json()["IsDeleted"] is True
    assert (await xero.ok("GET", f"Invoices/{owed['InvoiceID']}"))["Invoices"][0]["AmountDue"] == 120.0


async def test_overpayments_come_from_bank_transactions_and_can_be_allocated_or_refunded(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    owed = await put_invoice(xero, invoice(acme, "50.00"))
    received = await xero.ok(
        "PUT",
        "BankTransactions",
        {
            "BankTransactions": [
                {
                    "Type": "RECEIVE-OVERPAYMENT",
                    "Contact": {"ContactID": acme},
                    "BankAccount": {"Code": "090"},
                    "Date": "2026-11-03",
                    "LineAmountTypes": "NoTax",
                    "LineItems": [{"Description": "Paid twice", "LineAmount": 100}],
                }
            ]
        },
    )
    overpayment_id = received["BankTransactions"][0]["OverpaymentID"]
    await xero.ok(
        "PUT",
        f"Overpayments/{overpayment_id}/Allocations",
        {"Allocations": [{"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Amount": 60, "Date": "2026-11-03"}]},
    )
    refund = {
        "Overpayment": {"OverpaymentID": overpayment_id},
        "Account": {"Code": "090"},
        "Amount": 40,
        "Date": "2026-11-04",
    }
    paid_back = await xero.ok("PUT", "Payments", {"Payments": [refund]})
    assert paid_back["Payments"][0]["PaymentType"] == "AROVERPAYMENTPAYMENT"
    over = (await xero.ok("GET", f"Overpayments/{overpayment_id}"))["Overpayments"][0]
    assert (over["Status"], over["RemainingCredit"]) == ("PAID", 0.0)
    assert (await xero.ok("GET", f"Invoices/{owed['InvoiceID']}"))["Invoices"][0]["Status"] == "PAID"


async def test_archived_accounts_and_tax_rates_disabled_currencies_and_lock_dates_are_refused(xero: Xero) -> None:
    [tenant] = await xero.connect()
    acme = await contact(xero)
    line = {"Description": "Desk", "Quantity": 1, "UnitAmount": 10}
    archived = await xero.api(
        "PUT", "Invoices", {"Invoices": [invoice(acme) | {"LineItems": [line | {"AccountCode": "260"}]}]}
    )
    assert "has been archived" in messages(archived.json())[0]
    await xero.control("POST", f"organisations/{tenant}", {"archive_tax_rates": ["RROUTPUT"]})
    retired = await xero.api(
        "PUT",
        "Invoices",
        {"Invoices": [invoice(acme) | {"LineItems": [line | {"AccountCode": "210", "TaxType": "RROUTPUT"}]}]},
    )
    assert messages(retired.json()) == ["Tax rate must be valid. The tax rate has been archived or deleted."]
    dollars = await xero.api("PUT", "Invoices", {"Invoices": [invoice(acme, CurrencyCode="USD")]})
    assert messages(dollars.json()) == ["The currency USD is not enabled for this organisation."]
    await xero.ok("PUT", "Currencies", {"Code": "USD"})
    assert (await xero.api("PUT", "Invoices", {"Invoices": [invoice(acme, CurrencyCode="USD")]})).status_code == 200
    await xero.control("POST", f"organisations/{tenant}", {"period_lock_date": "2026-10-31"})
    locked = await xero.api("PUT", "Invoices", {"Invoices": [invoice(acme, Date="2026-10-31")]})
    assert messages(locked.json()) == ["The document date cannot be on or before the organisation's lock date."]


async def test_lists_page_filter_and_honour_if_modified_since(xero: Xero) -> None:
    await xero.connect()
    acme, bolt = await contact(xero), await contact(xero, "Bolt Ltd")
    await xero.ok(
        "PUT", "Invoices", {"Invoices": [invoice(acme) for _ in range(50)] + [invoice(bolt) for _ in range(70)]}
    )
    first = await xero.ok("GET", "Invoices?page=1")
    assert len(first["Invoices"]) == 100
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 120}
    assert "LineItems" in first["Invoices"][0]
    assert len((await xero.ok("GET", "Invoices?page=2"))["Invoices"]) == 20
    unpaged = await xero.ok("GET", "Invoices")
    assert len(unpaged["Invoices"]) == 120
    assert "pagination" not in unpaged
    assert "LineItems" not in unpaged["Invoices"][0]
    by_contact = await xero.ok("GET", f'Invoices?where=Contact.ContactID==GUID("{acme}")&pageSize=30&page=2')
    assert by_contact["pagination"]["itemCount"] == 50
    assert len(by_contact["Invoices"]) == 20
    clock = await xero.control("GET", "clock")
    await xero.control("POST", "clock", {"advance": 5})
    await xero.ok("PUT", "Invoices", {"Invoices": [invoice(bolt, Reference="late")]})
    changed = await xero.ok("GET", "Invoices", If_Modified_Since=clock["now"])
    assert [i["Reference"] for i in changed["Invoices"]] == ["late"]


async def test_idempotency_keys_replay_the_first_answer_and_refuse_a_different_request(xero: Xero) -> None:
    await xero.connect()
    acme = await contact(xero)
    body = {"Invoices": [invoice(acme)]}
    first = await xero.ok("PUT", "Invoices", body, Idempotency_Key="invoice-1-v1")
    again = await xero.ok("PUT", "Invoices", body, Idempotency_Key="invoice-1-v1")
    assert again["Invoices"][0]["InvoiceID"] == first["Invoices"][0]["InvoiceID"]
    assert len((await xero.ok("GET", "Invoices"))["Invoices"]) == 1
    other = await xero.api("PUT", "Invoices", {"Invoices": [invoice(acme, "5.00")]}, Idempotency_Key="invoice-1-v1")
    assert other.status_code == 400
    assert other.json()["Message"] == "Idempotency Key invoice-1-v1 is used with a different request"
    await xero.control("POST", "clock", {"advance": 361})
    later = await xero.ok("PUT", "Invoices", body, Idempotency_Key="invoice-1-v1")
    assert later["Invoices"][0]["InvoiceID"] != first["Invoices"][0]["InvoiceID"]


async def test_settings_are_readable_and_tracking_is_limited_to_two_active_categories(xero: Xero) -> None:
    await xero.connect()
    org = (await xero.ok("GET", "Organisation"))["Organisations"][0]
    assert (org["ShortCode"], org["BaseCurrency"], org["CountryCode"]) == ("!DemoG", "GBP", "GB")
    revenue = await xero.ok("GET", 'Accounts?where=Type=="REVENUE" AND Status=="ACTIVE"')
    assert sorted(a["Code"] for a in revenue["Accounts"]) == ["210", "220"]
    rates = await xero.ok("GET", "TaxRates")
    assert {"OUTPUT2", "ZERORATEDOUTPUT"} <= {r["TaxType"] for r in rates["TaxRates"]}
    themes = await xero.ok("GET", "BrandingThemes")
    assert [t["Name"] for t in themes["BrandingThemes"]] == ["Standard", "Members"]
    created = await xero.ok("PUT", "TrackingCategories", {"Name": "Location"})
    category = created["TrackingCategories"][0]["TrackingCategoryID"]
    option = await xero.ok("PUT", f"TrackingCategories/{category}/Options", {"Name": "Shoreditch"})
    assert option["Options"][0]["Name"] == "Shoreditch"
    third = await xero.api("PUT", "TrackingCategories", {"Name": "Team"})
    assert messages(third.json()) == ["You can only have 2 active tracking categories."]
    acme = await contact(xero)
    tracked = invoice(acme)
    tracked["LineItems"][0]["Tracking"] = [{"Name": "Location", "Option": "Shoreditch"}]
    saved = await put_invoice(xero, tracked)
    assert saved["LineItems"][0]["Tracking"][0]["Option"] == "Shoreditch"
    tracked["LineItems"][0]["Tracking"] = [{"Name": "Location", "Option": "Nowhere"}]
    unknown = await xero.api("PUT", "Invoices", {"Invoices": [tracked]})
    assert unknown.status_code == 400


async def test_a_body_that_breaks_the_spec_is_refused_and_recorded(xero: Xero) -> None:
    await xero.connect()
    typo = await xero.api("PUT", "Contacts", {"Contacts": [{"Nam": "Acme"}]})
    assert typo.status_code == 400
    recorded = await xero.control("GET", "violations")
    assert [(v["where"], v["path"]) for v in recorded] == [("PUT /Contacts request", "Contacts[0].Nam")]
    await xero.control("DELETE", "violations")


async def test_unknown_documents_and_unimplemented_methods_answer_as_xero_does(xero: Xero) -> None:
    await xero.connect()
    missing = await xero.api("GET", "Invoices/00000000-0000-4000-8000-000000000000")
    assert (missing.status_code, missing.text) == (404, "The resource you're looking for cannot be found")
    quotes = await xero.api("GET", "Quotes")
    assert (quotes.status_code, quotes.json()["Type"]) == (501, "ApiMethodNotImplementedException")
    empty = await xero.api("PUT", "Contacts", {"Contacts": []})
    assert empty.json()["Type"] == "NoDataProcessedException"
