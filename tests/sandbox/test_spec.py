"""The stand-in's spec checks: operation matching, and request/response bodies judged against Xero's spec."""

from __future__ import annotations

from decimal import Decimal

from sandbox.xero.spec import MAX_VIOLATIONS, AccountingSpec, Operation, Violation

INVOICE_ID = "ed255415-e141-4150-aab7-89c3bbbb851c"
CONTACT_ID = "430fa14a-f945-44d3-9f97-5df5e28441b8"
CREDIT_NOTE_ID = "7be9db36-3598-4755-ba5c-c2dbc8c4a7a2"
ENVELOPE = {
    "Id": "ccece84a-075c-4fcd-9073-149d4f7a91cf",
    "Status": "OK",
    "ProviderName": "FlexLedger",
    "DateTimeUTC": "/Date(1552327126164)/",
}


def _op(method: str, path: str) -> Operation:
    operation = AccountingSpec.load().operation(method, path)
    assert operation is not None, f"no operation for {method} {path}"
    return operation


def _line(description: str = "Hot desk") -> dict[str, object]:
    return {
        "Description": description,
        "Quantity": Decimal("1"),
        "UnitAmount": Decimal("250.00"),
        "AccountCode": "200",
        "TaxType": "OUTPUT2",
        "Tracking": [{"Name": "Location", "Option": "Leeds"}],
    }


def _invoice(number: int = 1) -> dict[str, object]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": CONTACT_ID},
        "Date": "2024-01-31",
        "DueDate": "2024-02-14",
        "LineAmountTypes": "Exclusive",
        "InvoiceNumber": f"INV-{number:04d}",
        "Reference": "January membership",
        "CurrencyCode": "GBP",
        "Status": "AUTHORISED",
        "LineItems": [_line("Hot desk"), _line("Meeting room"), _line("Locker")],
    }


def _stored_invoice(number: int = 1) -> dict[str, object]:
    """An invoice as Xero answers with it: ids, totals and Microsoft JSON dates."""
    return {
        **_invoice(number),
        "InvoiceID": INVOICE_ID,
        "Contact": {"ContactID": CONTACT_ID, "Name": "Liam Gallagher", "ContactStatus": "ACTIVE"},
        "Date": "/Date(1539993600000+0000)/",
        "DueDate": "/Date(1541203200000+0000)/",
        "SubTotal": Decimal("750.00"),
        "TotalTax": Decimal("150.00"),
        "Total": Decimal("900.00"),
        "AmountDue": Decimal("900.00"),
        "AmountPaid": 0,
        "HasAttachments": False,
        "UpdatedDateUTC": "/Date(1552327126117+0000)/",
    }


def _messages(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(violation.path, violation.message) for violation in violations]


# --- operation matching ----------------------------------------------------------------------------------------------


def test_collection_path_matches_its_operation() -> None:
    operation = _op("PUT", "/Invoices")

    assert (operation.method, operation.template, operation.operation_id) == ("PUT", "/Invoices", "createInvoices")
    assert operation.params == {}


def test_uuid_and_number_both_reach_the_single_invoice_template() -> None:
    by_id = _op("GET", f"/Invoices/{INVOICE_ID}")
    by_number = _op("GET", "/Invoices/INV-001")

    assert by_id.template == by_number.template == "/Invoices/{InvoiceID}"
    assert by_id.params == {"InvoiceID": INVOICE_ID}
    assert by_number.params == {"InvoiceID": "INV-001"}


def test_ambiguous_contact_templates_are_told_apart_by_uuid() -> None:
    assert _op("GET", f"/Contacts/{CONTACT_ID}").template == "/Contacts/{ContactID}"
    assert _op("GET", f"/Contacts/{CONTACT_ID.upper()}").template == "/Contacts/{ContactID}"
    by_number = _op("GET", "/Contacts/CUST-1")
    assert by_number.template == "/Contacts/{ContactNumber}"
    assert by_number.params == {"ContactNumber": "CUST-1"}


def test_attachment_by_id_or_by_file_name() -> None:
    by_id = _op("GET", f"/Invoices/{INVOICE_ID}/Attachments/{CONTACT_ID}")
    by_name = _op("GET", f"/Invoices/{INVOICE_ID}/Attachments/January%20invoice.pdf")

    assert by_id.template == "/Invoices/{InvoiceID}/Attachments/{AttachmentID}"
    assert by_name.template == "/Invoices/{InvoiceID}/Attachments/{FileName}"
    assert by_name.params == {"InvoiceID": INVOICE_ID, "FileName": "January invoice.pdf"}


def test_nested_path_with_parameter() -> None:
    operation = _op("PUT", f"/CreditNotes/{CREDIT_NOTE_ID}/Allocations")

    assert operation.template == "/CreditNotes/{CreditNoteID}/Allocations"
    assert operation.params == {"CreditNoteID": CREDIT_NOTE_ID}


def test_literal_segment_beats_a_parameter() -> None:
    assert _op("GET", "/Reports/BalanceSheet").template == "/Reports/BalanceSheet"
    assert _op("GET", "/Reports/some-report").template == "/Reports/{ReportID}"


def test_unknown_path_or_method_matches_nothing() -> None:
    spec = AccountingSpec.load()

    assert spec.operation("GET", "/Widgets") is None
    assert spec.operation("GET", f"/Invoices/{INVOICE_ID}/Widgets") is None
    assert spec.operation("DELETE", "/Invoices") is None
    assert spec.operation("PATCH", f"/Invoices/{INVOICE_ID}") is None


def test_spec_is_loaded_once() -> None:
    assert AccountingSpec.load() is AccountingSpec.load()


# --- requests --------------------------------------------------------------------------------------------------------


def test_valid_wrapped_invoices_pass() -> None:
    assert _op("PUT", "/Invoices").check_request({"Invoices": [_invoice(1), _invoice(2)]}) == []


def test_bare_invoice_passes_where_the_spec_documents_the_wrapper() -> None:
    assert _op("POST", "/Invoices").check_request(_invoice()) == []


def test_wrapped_payment_passes_where_the_spec_documents_the_element() -> None:
    payment = {"Invoice": {"InvoiceID": INVOICE_ID}, "Account": {"Code": "090"}, "Date": "2024-02-01", "Amount": 900}
    operation = _op("PUT", "/Payments")

    assert _op("POST", "/Payments").check_request(payment) == []
    assert _op("POST", "/Payments").check_request({"Payments": [payment]}) == []
    assert operation.check_request({"Payments": [payment]}) == []
    assert operation.check_request(payment) == []


def test_read_only_fields_are_accepted_in_requests() -> None:
    body = {**_invoice(), "Total": Decimal("900.00"), "HasAttachments": False, "UpdatedDateUTC": "/Date(0)/"}

    assert _op("PUT", "/Invoices").check_request(body) == []


def test_wrong_type_is_flagged_with_its_path() -> None:
    second = {**_invoice(2), "LineItems": [_line(), {**_line(), "Quantity": "2"}]}

    violations = _op("PUT", "/Invoices").check_request({"Invoices": [_invoice(1), second]})

    assert violations == [
        Violation("PUT /Invoices request", "Invoices[1].LineItems[1].Quantity", "expected number, got string")
    ]


def test_unknown_property_is_flagged() -> None:
    invoice = _invoice()
    invoice["Contact"] = {"ContactID": CONTACT_ID, "Nam": "Liam"}

    violations = _op("PUT", "/Invoices").check_request({"Invoices": [invoice]})

    assert _messages(violations) == [("Invoices[0].Contact.Nam", "unknown property 'Nam'")]


def test_unknown_property_on_a_bare_element_is_flagged_at_its_root_path() -> None:
    violations = _op("PUT", "/Invoices").check_request({**_invoice(), "Total_": 5})

    assert _messages(violations) == [("Total_", "unknown property 'Total_'")]


def test_bad_enum_is_flagged() -> None:
    invoice = {**_invoice(), "Type": "ACCRECX"}

    violations = _op("PUT", "/Invoices").check_request({"Invoices": [invoice]})

    assert len(violations) == 1
    assert violations[0].path == "Invoices[0].Type"
    assert violations[0].message.startswith("'ACCRECX' is not one of ['ACCPAY', 'ACCPAYCREDIT'")


def test_long_enum_lists_are_truncated_in_the_message() -> None:
    violations = _op("PUT", "/Invoices").check_request({**_invoice(), "CurrencyCode": "XXX"})

    assert _messages(violations) == [
        ("CurrencyCode", "'XXX' is not one of ['AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', ... (160 more)]")
    ]


def test_missing_required_property_is_flagged_on_the_object() -> None:
    violations = _op("PUT", "/Items").check_request({"Items": [{"Code": "DESK"}, {"Name": "Locker"}]})

    assert _messages(violations) == [("Items[1]", "missing required property 'Code'")]


def test_allocation_requires_amount_invoice_and_date() -> None:
    operation = _op("PUT", f"/CreditNotes/{CREDIT_NOTE_ID}/Allocations")
    good = {"Amount": Decimal("50.00"), "Invoice": {"InvoiceID": INVOICE_ID}, "Date": "2024-02-01"}

    assert operation.check_request({"Allocations": [good]}) == []
    assert _messages(operation.check_request({"Allocations": [{"Amount": 50}]})) == [
        ("Allocations[0]", "missing required property 'Invoice'"),
        ("Allocations[0]", "missing required property 'Date'"),
    ]


def test_null_is_never_allowed() -> None:
    invoice = {**_invoice(), "Reference": None}

    violations = _op("PUT", "/Invoices").check_request({"Invoices": [invoice]})

    assert _messages(violations) == [("Invoices[0].Reference", "null is not allowed")]
    assert _messages(_op("PUT", "/Invoices").check_request(None)) == [("", "null is not allowed")]


def test_bad_uuid_is_flagged() -> None:
    invoice = {**_invoice(), "Contact": {"ContactID": "430fa14a-f945-44d3-9f97"}}

    violations = _op("PUT", "/Invoices").check_request({"Invoices": [invoice]})

    assert _messages(violations) == [("Invoices[0].Contact.ContactID", "not a uuid")]


def test_bool_is_not_a_number() -> None:
    invoice = _invoice()
    invoice["LineItems"] = [{**_line(), "UnitAmount": True}]

    violations = _op("PUT", "/Invoices").check_request(invoice)

    assert _messages(violations) == [("LineItems[0].UnitAmount", "expected number, got boolean")]


def test_numbers_may_be_int_float_or_decimal() -> None:
    lines = [{**_line(), "UnitAmount": amount} for amount in (250, 250.5, Decimal("250.50"))]

    assert _op("PUT", "/Invoices").check_request({**_invoice(), "LineItems": lines}) == []


def test_integral_decimal_is_not_an_integer() -> None:
    body = {"ErrorNumber": Decimal("10"), "Type": "ValidationException", "Message": "A validation exception occurred"}

    violations = _op("GET", "/Invoices").check_response(400, body)

    assert _messages(violations) == [("ErrorNumber", "expected integer, got number")]


def test_max_length_is_checked() -> None:
    violations = _op("PUT", "/Invoices").check_request({**_invoice(), "InvoiceNumber": "N" * 256})

    assert _messages(violations) == [("InvoiceNumber", "longer than 255 characters")]


def test_request_dates_may_be_iso_or_microsoft_but_not_free_text() -> None:
    operation = _op("PUT", "/Invoices")
    accepted = ("2024-01-31", "2024-01-31T00:00:00", "2024-01-31T09:30:00Z", "/Date(1539993600000+0000)/")

    for value in accepted:
        assert operation.check_request({**_invoice(), "Date": value}) == [], value
    for value in ("31/01/2024", "2024-02-30", "20240131", "/Date(yesterday)/"):
        assert _messages(operation.check_request({**_invoice(), "DueDate": value})) == [
            ("DueDate", "not a date (YYYY-MM-DD, ISO date-time or /Date(...)/)")
        ], value


def test_violations_are_all_collected_up_to_a_cap() -> None:
    invoices = [{**_invoice(n), "Type": 1, "Status": "NEW"} for n in range(40)]

    violations = _op("PUT", "/Invoices").check_request({"Invoices": invoices})

    assert len(violations) == MAX_VIOLATIONS
    assert _messages(violations[:2]) == [
        ("Invoices[0].Type", "expected string, got number"),
        ("Invoices[0].Status", "'NEW' is not one of ['DRAFT', 'SUBMITTED', 'DELETED', 'AUTHORISED', 'PAID', 'VOIDED']"),
    ]


def test_operation_without_json_body_checks_nothing() -> None:
    assert _op("GET", "/Invoices").check_request(None) == []


# --- responses -------------------------------------------------------------------------------------------------------


def test_response_with_microsoft_dates_passes() -> None:
    body = {**ENVELOPE, "Invoices": [_stored_invoice()]}

    assert _op("GET", f"/Invoices/{INVOICE_ID}").check_response(200, body) == []


def test_iso_date_in_a_response_is_flagged() -> None:
    body = {"Invoices": [{**_stored_invoice(), "Date": "2024-01-31"}]}

    violations = _op("GET", f"/Invoices/{INVOICE_ID}").check_response(200, body)

    assert violations == [
        Violation("GET /Invoices/{InvoiceID} response 200", "Invoices[0].Date", "not a Microsoft JSON date")
    ]


def test_strictness_applies_to_responses() -> None:
    body = {"Invoices": [{**_stored_invoice(), "DateString": "2018-10-20T00:00:00"}]}

    violations = _op("PUT", "/Invoices").check_response(200, body)

    assert _messages(violations) == [("Invoices[0].DateString", "unknown property 'DateString'")]


def test_envelope_is_accepted_only_around_successful_responses() -> None:
    operation = _op("GET", "/Invoices")

    assert operation.check_response(200, {**ENVELOPE, "Invoices": []}) == []
    assert _messages(operation.check_response(200, {**ENVELOPE, "Id": "abc", "Invoices": []})) == [("Id", "not a uuid")]
    assert _messages(operation.check_response(200, {"Invoices": [{**_stored_invoice(), "ProviderName": "x"}]})) == [
        ("Invoices[0].ProviderName", "unknown property 'ProviderName'")
    ]
    assert _messages(_op("PUT", "/Invoices").check_request({**ENVELOPE, "Invoices": []})) == [
        ("Id", "unknown property 'Id'"),
        ("Status", "unknown property 'Status'"),
        ("ProviderName", "unknown property 'ProviderName'"),
        ("DateTimeUTC", "unknown property 'DateTimeUTC'"),
    ]


def test_undocumented_error_statuses_are_not_checked() -> None:
    operation = _op("GET", f"/Invoices/{INVOICE_ID}")

    assert operation.check_response(404, {"Title": "Not Found", "Detail": None}) == []
    assert operation.check_response(503, "Service unavailable") == []
    assert operation.check_response(429, None) == []


def test_validation_exception_passes() -> None:
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [
            {
                "InvoiceID": INVOICE_ID,
                "ValidationErrors": [{"Message": "Account code '999' is not a valid code for this document."}],
            }
        ],
    }

    assert _op("PUT", "/Invoices").check_response(400, body) == []  # a documented 400
    assert _op("GET", f"/Invoices/{INVOICE_ID}").check_response(400, body) == []  # an undocumented one


def test_undocumented_400_is_checked_against_the_error_schema() -> None:
    body = {"ErrorNumber": "10", "Type": "ValidationException", "Elements": [{"Reason": "bad"}]}

    violations = _op("GET", f"/Invoices/{INVOICE_ID}").check_response(400, body)

    assert violations == [
        Violation("GET /Invoices/{InvoiceID} response 400", "ErrorNumber", "expected integer, got string"),
        Violation("GET /Invoices/{InvoiceID} response 400", "Elements[0].Reason", "unknown property 'Reason'"),
    ]
    assert _op("GET", f"/Invoices/{INVOICE_ID}").check_response(400, {"error": "bad request"}) == []


def test_large_batch_round_trip_passes() -> None:
    operation = _op("PUT", "/Invoices")

    assert operation.check_request({"Invoices": [_invoice(n) for n in range(50)]}) == []
    assert operation.check_response(200, {**ENVELOPE, "Invoices": [_stored_invoice(n) for n in range(50)]}) == []
