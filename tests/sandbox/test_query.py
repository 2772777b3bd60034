"""The sandbox's `where`, `order` and paging, against Xero-shaped records."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sandbox.xero.query import Page, Record, WhereError, compile_order, compile_where, paginate

ACME = "7f1c2b9e-3d4a-4e5f-8a6b-1c2d3e4f5a6b"
BOLT = "0b8e6a42-91c3-4f7d-b2a5-6e9d8c7f1a30"
CEDAR = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"

INVOICES: list[Record] = [
    {
        "Type": "ACCREC",
        "InvoiceID": "1d7e0a5c-6b4f-4c2a-9e8d-3f1b2a4c5d6e",
        "InvoiceNumber": "INV-0001",
        "Reference": 'Desk "A" March',
        "Status": "AUTHORISED",
        "Contact": {"ContactID": ACME, "Name": "Acme Coworking Ltd", "EmailAddress": "Accounts@Acme.example"},
        "Date": date(2024, 1, 15),
        "DueDate": date(2024, 1, 31),
        "SubTotal": Decimal("100.00"),
        "TotalTax": Decimal("15.00"),
        "Total": Decimal("115.00"),
        "AmountDue": Decimal("115.00"),
        "SentToContact": True,
        "UpdatedDateUTC": datetime(2024, 1, 15, 9, 30, tzinfo=UTC),
        "LineItems": [{"Description": "Hot desk", "AccountCode": "200", "LineAmount": Decimal("100.00")}],
    },
    {
        "Type": "ACCREC",
        "InvoiceID": "2e8f1b6d-7c5a-4d3b-8f9e-4a2c3b5d6e7f",
        "InvoiceNumber": "INV-0002",
        "Reference": "Meeting room",
        "Status": "PAID",
        "Contact": {"ContactID": BOLT, "Name": "Bolt Studio", "EmailAddress": "hello@bolt.example"},
        "Date": date(2024, 1, 31),
        "DueDate": date(2024, 2, 14),
        "SubTotal": Decimal("12.50"),
        "TotalTax": Decimal("0.00"),
        "Total": Decimal("12.50"),
        "AmountDue": Decimal("0.00"),
        "SentToContact": False,
        "UpdatedDateUTC": datetime(2024, 1, 31, 13, 5, tzinfo=UTC),
        "LineItems": [],
    },
    {
        "Type": "ACCREC",
        "InvoiceID": "3f9a2c7e-8d6b-4e4c-9a0f-5b3d4c6e7f80",
        "InvoiceNumber": "INV-0003",
        "Status": "DRAFT",
        "Contact": {"ContactID": ACME, "Name": "Acme Coworking Ltd"},
        "Date": date(2024, 2, 1),
        "DueDate": None,
        "SubTotal": Decimal("-3.00"),
        "TotalTax": Decimal("0.00"),
        "Total": Decimal("-3.00"),
        "AmountDue": Decimal("-3.00"),
        "SentToContact": False,
        "UpdatedDateUTC": datetime(2024, 2, 1, 0, 0, tzinfo=UTC),
        "LineItems": [],
    },
    {
        "Type": "ACCPAY",
        "InvoiceID": "4a0b3d8f-9e7c-4f5d-a01b-6c4e5d7f8091",
        "InvoiceNumber": "BILL-17",
        "Reference": "C:\\exports\\march.csv",
        "Status": "AUTHORISED",
        "Contact": {"ContactID": CEDAR, "Name": "cedar cleaning"},
        "Date": date(2024, 3, 1),
        "DueDate": date(2024, 3, 31),
        "SubTotal": Decimal("250"),
        "TotalTax": Decimal("37.50"),
        "Total": Decimal("287.50"),
        "AmountDue": Decimal("287.50"),
        "SentToContact": False,
        "UpdatedDateUTC": datetime(2024, 3, 1, 23, 59, 59, tzinfo=UTC),
        "LineItems": [{"Description": "Cleaning", "AccountCode": "429", "LineAmount": Decimal("250")}],
    },
]

CONTACTS: list[Record] = [
    {"ContactID": ACME, "Name": "Acme Coworking Ltd", "IsCustomer": True, "IsSupplier": False},
    {"ContactID": BOLT, "Name": "Bolt Studio", "IsCustomer": True, "IsSupplier": True},
    {"ContactID": CEDAR, "Name": "cedar cleaning", "IsCustomer": False, "IsSupplier": True},
    {"ContactID": "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70", "Name": "Dormant Pty"},
]

REPEATING: list[Record] = [
    {"RepeatingInvoiceID": "r1", "Schedule": {"Period": 1, "Unit": "MONTHLY", "DueDate": 20}},
    {"RepeatingInvoiceID": "r2", "Schedule": {"Period": 3, "Unit": "MONTHLY", "DueDate": 7}},
    {"RepeatingInvoiceID": "r3", "Schedule": {"Period": 1, "Unit": "WEEKLY", "DueDate": 0}},
]


def numbers(expression: str, records: Sequence[Record] = INVOICES) -> list[str]:
    """The InvoiceNumbers (or other first identifying field) of the records the expression keeps."""
    keep = compile_where(expression)
    key = "InvoiceNumber" if "InvoiceNumber" in records[0] else next(iter(records[0]))
    return [str(record[key]) for record in records if keep(record)]


def names(records: Sequence[Record]) -> list[str]:
    return [str(record["Name"]) for record in records]


# -- where: operators


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('Status=="AUTHORISED"', ["INV-0001", "BILL-17"]),
        ('Status!="AUTHORISED"', ["INV-0002", "INV-0003"]),
        ("Total<12.5", ["INV-0003"]),
        ("Total<=12.5", ["INV-0002", "INV-0003"]),
        ("Total>115", ["BILL-17"]),
        ("Total>=115", ["INV-0001", "BILL-17"]),
        ("Total==115", ["INV-0001"]),
        ("Total!=115", ["INV-0002", "INV-0003", "BILL-17"]),
        ('Status = "PAID"', ["INV-0002"]),
        ('Status <> "PAID"', ["INV-0001", "INV-0003", "BILL-17"]),
    ],
)
def test_each_comparison_operator(expression: str, expected: list[str]) -> None:
    assert numbers(expression) == expected


def test_and_binds_tighter_than_or() -> None:
    assert numbers('Status=="PAID" OR Status=="AUTHORISED" AND Type=="ACCPAY"') == ["INV-0002", "BILL-17"]
    assert numbers('(Status=="PAID" OR Status=="AUTHORISED") AND Type=="ACCPAY"') == ["BILL-17"]
    assert numbers('Type=="ACCPAY" AND Status=="AUTHORISED" OR Status=="PAID"') == ["INV-0002", "BILL-17"]


def test_symbolic_and_lower_case_boolean_operators() -> None:
    assert numbers('Status=="PAID" || Status=="DRAFT" && Total<0') == ["INV-0002", "INV-0003"]
    assert numbers('Type=="ACCREC" and (Status=="PAID" or Status=="DRAFT")') == ["INV-0002", "INV-0003"]


def test_a_chain_of_several_terms() -> None:
    assert numbers('Status=="PAID" OR Status=="DRAFT" OR Type=="ACCPAY" OR Total==0') == [
        "INV-0002",
        "INV-0003",
        "BILL-17",
    ]
    assert numbers('Type=="ACCREC" AND Total>0 AND Total<200 AND SentToContact==false') == ["INV-0002"]


def test_not_negates_a_condition_or_a_group() -> None:
    assert numbers('NOT Status=="AUTHORISED"') == ["INV-0002", "INV-0003"]
    assert numbers('!(Status=="AUTHORISED" OR Total<0)') == ["INV-0002"]
    assert numbers('NOT NOT Status=="PAID"') == ["INV-0002"]
    assert numbers('Type=="ACCREC" AND not (Total>100)') == ["INV-0002", "INV-0003"]


def test_a_long_chain_evaluates_without_deep_recursion() -> None:
    expression = " OR ".join(f'InvoiceNumber=="INV-{n:04}"' for n in range(5000))
    assert numbers(expression) == ["INV-0001", "INV-0002", "INV-0003"]


# -- where: strings, names and paths


def test_string_equality_ignores_case() -> None:
    assert numbers('Status=="authorised"') == ["INV-0001", "BILL-17"]
    assert numbers('Contact.EmailAddress=="ACCOUNTS@acme.EXAMPLE"') == ["INV-0001"]
    assert numbers('Contact.Name=="CEDAR CLEANING"') == ["BILL-17"]
    assert numbers('Contact.Name!="acme coworking ltd"') == ["INV-0002", "BILL-17"]


def test_string_ordering_ignores_case() -> None:
    assert names([c for c in CONTACTS if compile_where('Name < "c"')(c)]) == ["Acme Coworking Ltd", "Bolt Studio"]
    assert names([c for c in CONTACTS if compile_where('Name >= "C"')(c)]) == ["cedar cleaning", "Dormant Pty"]


def test_field_names_ignore_case() -> None:
    assert numbers('status=="PAID"') == ["INV-0002"]
    assert numbers("TOTAL>=287.5") == ["BILL-17"]
    assert numbers('contact.contactid==GUID("' + CEDAR + '")') == ["BILL-17"]


def test_nested_paths() -> None:
    assert numbers(f'Contact.ContactID=="{ACME}"') == ["INV-0001", "INV-0003"]
    assert numbers('Contact.Name=="Bolt Studio"') == ["INV-0002"]
    assert numbers("Schedule.Period==1", REPEATING) == ["r1", "r3"]
    assert numbers('Schedule.Unit=="MONTHLY" AND Schedule.DueDate>=10', REPEATING) == ["r1"]


def test_a_path_through_a_collection_or_a_scalar_is_null() -> None:
    assert numbers("LineItems.AccountCode==null") == ["INV-0001", "INV-0002", "INV-0003", "BILL-17"]
    assert numbers('Status.Length=="10"') == []


def test_escaped_quotes_in_strings() -> None:
    assert numbers('Reference=="Desk \\"A\\" March"') == ["INV-0001"]
    assert numbers('Reference.Contains("\\"a\\"")') == ["INV-0001"]


def test_other_backslashes_are_kept_as_written() -> None:
    assert numbers('Reference=="C:\\exports\\march.csv"') == ["BILL-17"]
    assert numbers('Reference=="C:\\\\exports\\\\march.csv"') == ["BILL-17"]


# -- where: null and missing fields


def test_a_missing_field_is_null() -> None:
    # INV-0003 has no Reference at all.
    assert numbers("Reference==null") == ["INV-0003"]
    assert numbers("Reference!=null") == ["INV-0001", "INV-0002", "BILL-17"]
    assert numbers('Reference=="Meeting room"') == ["INV-0002"]
    assert numbers('Reference!="Meeting room"') == ["INV-0001", "INV-0003", "BILL-17"]
    assert numbers('Reference<"zzz"') == ["INV-0001", "INV-0002", "BILL-17"]


def test_a_none_value_is_null() -> None:
    assert numbers("DueDate==null") == ["INV-0003"]
    assert numbers("DueDate!=NULL") == ["INV-0001", "INV-0002", "BILL-17"]
    assert numbers("DueDate<DateTime(2099, 1, 1)") == ["INV-0001", "INV-0002", "BILL-17"]
    assert numbers("DueDate>=DateTime(1900, 1, 1)") == ["INV-0001", "INV-0002", "BILL-17"]


def test_an_unknown_field_matches_only_null() -> None:
    assert numbers("BrandingThemeID==null") == ["INV-0001", "INV-0002", "INV-0003", "BILL-17"]
    assert numbers('BrandingThemeID=="x"') == []
    assert numbers("BrandingThemeID>0") == []


# -- where: GUIDs


def test_guid_literals_compare_ignoring_case() -> None:
    assert numbers(f'Contact.ContactID==GUID("{ACME.upper()}")') == ["INV-0001", "INV-0003"]
    assert numbers(f'Contact.ContactID==Guid("{BOLT}")') == ["INV-0002"]
    assert numbers(f'Contact.ContactID!=guid("{{{ACME}}}")') == ["INV-0002", "BILL-17"]
    assert numbers(f'Contact.ContactID=="{CEDAR.upper()}"') == ["BILL-17"]


def test_a_guid_literal_must_be_a_guid() -> None:
    with pytest.raises(WhereError, match="not a GUID"):
        compile_where('ContactID==GUID("acme")')
    with pytest.raises(WhereError, match="takes one string"):
        compile_where("ContactID==GUID(12)")


# -- where: dates and times


def test_datetime_against_a_date_field() -> None:
    assert numbers("Date==DateTime(2024, 01, 31)") == ["INV-0002"]
    assert numbers("Date>=DateTime(2024, 01, 31)") == ["INV-0002", "INV-0003", "BILL-17"]
    assert numbers("Date<DateTime(2024,2,1)") == ["INV-0001", "INV-0002"]
    assert numbers("DueDate<=DateTime(2024, 1, 31, 0, 0, 0)") == ["INV-0001"]


def test_a_date_field_is_midnight_for_a_literal_with_a_time() -> None:
    # Xero's calendar dates are DateTimes at 00:00, so a date is before any later time on its own day.
    assert numbers("Date==DateTime(2024, 01, 31, 13, 5, 0)") == []
    assert numbers("Date<DateTime(2024, 01, 31, 13, 5, 0)") == ["INV-0001", "INV-0002"]


def test_datetime_against_a_timestamp_field() -> None:
    assert numbers("UpdatedDateUTC==DateTime(2024, 01, 31, 13, 5, 0)") == ["INV-0002"]
    assert numbers("UpdatedDateUTC>DateTime(2024, 01, 31, 13, 5, 0)") == ["INV-0003", "BILL-17"]
    assert numbers("UpdatedDateUTC>=DateTime(2024, 2, 1)") == ["INV-0003", "BILL-17"]
    assert numbers("UpdatedDateUTC<DateTime(2024, 1, 31)") == ["INV-0001"]


def test_datetime_parse() -> None:
    assert numbers('Date==DateTime.Parse("2024-01-31")') == ["INV-0002"]
    assert numbers('UpdatedDateUTC>=datetime.parse("2024-01-31T13:05:00")') == ["INV-0002", "INV-0003", "BILL-17"]
    # 00:05 in Auckland is 11:05 UTC the previous day.
    assert numbers('UpdatedDateUTC<DateTime.Parse("2024-02-01T00:05:00+13:00")') == ["INV-0001"]
    assert numbers('UpdatedDateUTC==DateTime.Parse("2024-03-01T23:59:59Z")') == ["BILL-17"]


def test_aware_fields_in_other_zones_and_naive_fields_compare_as_utc() -> None:
    auckland = timezone(timedelta(hours=13))
    records: list[Record] = [
        {"InvoiceNumber": "aware", "UpdatedDateUTC": datetime(2024, 2, 1, 2, 5, tzinfo=auckland)},
        {"InvoiceNumber": "naive", "UpdatedDateUTC": datetime(2024, 1, 31, 13, 5)},
    ]
    assert numbers("UpdatedDateUTC==DateTime(2024, 1, 31, 13, 5, 0)", records) == ["aware", "naive"]


@pytest.mark.parametrize(
    "expression",
    [
        "Date==DateTime(2024, 2, 30)",
        "Date==DateTime(2024, 1)",
        "Date==DateTime(2024, 1, 31, 12)",
        "Date==DateTime(2024, 1, 31.5)",
        'Date==DateTime("2024-01-31")',
        'Date==DateTime.Parse("31/01/2024")',
        "Date==DateTime.Parse(2024, 1, 31)",
        'Date==DateTime.Now("2024-01-31")',
    ],
)
def test_bad_datetime_literals(expression: str) -> None:
    with pytest.raises(WhereError):
        compile_where(expression)


def test_dates_do_not_equal_other_types() -> None:
    assert numbers('Date=="2024-01-31"') == []
    assert numbers("Total==DateTime(2024, 1, 31)") == []


# -- where: numbers and booleans


def test_decimal_fields_against_int_and_decimal_literals() -> None:
    assert numbers("Total==12.5") == ["INV-0002"]
    assert numbers("Total==12.50") == ["INV-0002"]
    assert numbers("Total==12.500m") == ["INV-0002"]
    assert numbers("SubTotal==250") == ["BILL-17"]
    assert numbers("Total==-3") == ["INV-0003"]
    assert numbers("AmountDue>0") == ["INV-0001", "BILL-17"]
    assert numbers("AmountDue<-2.99") == ["INV-0003"]


def test_int_fields_against_number_literals() -> None:
    assert numbers("Schedule.DueDate==20.0", REPEATING) == ["r1"]
    assert numbers("Schedule.Period>1", REPEATING) == ["r2"]
    assert numbers("Schedule.DueDate<=7", REPEATING) == ["r2", "r3"]


def test_numbers_do_not_equal_strings() -> None:
    assert numbers("InvoiceNumber==17") == []
    assert numbers("InvoiceNumber>0") == []
    assert numbers('Total=="115.00"') == []


def test_booleans() -> None:
    assert names([c for c in CONTACTS if compile_where("IsCustomer==true")(c)]) == ["Acme Coworking Ltd", "Bolt Studio"]
    assert names([c for c in CONTACTS if compile_where("IsSupplier == False")(c)]) == ["Acme Coworking Ltd"]
    assert names([c for c in CONTACTS if compile_where("IsSupplier!=true")(c)]) == ["Acme Coworking Ltd", "Dormant Pty"]
    assert numbers("SentToContact==true") == ["INV-0001"]


def test_a_bare_field_is_a_boolean_test() -> None:
    assert names([c for c in CONTACTS if compile_where("IsCustomer AND NOT IsSupplier")(c)]) == ["Acme Coworking Ltd"]
    assert names([c for c in CONTACTS if compile_where("!IsCustomer")(c)]) == ["cedar cleaning", "Dormant Pty"]
    assert numbers("Status") == []


def test_booleans_do_not_equal_numbers() -> None:
    assert numbers("SentToContact==1") == []
    assert names([c for c in CONTACTS if compile_where('IsCustomer=="true"')(c)]) == []


# -- where: string methods


def test_contains_startswith_endswith_ignore_case() -> None:
    assert numbers('Contact.Name.Contains("COWORKING")') == ["INV-0001", "INV-0003"]
    assert numbers('Contact.Name.StartsWith("Cedar")') == ["BILL-17"]
    assert numbers('Contact.Name.EndsWith("studio")') == ["INV-0002"]
    assert numbers('InvoiceNumber.startswith("inv-") AND Reference.endswith("ROOM")') == ["INV-0002"]


def test_string_methods_on_missing_or_non_string_fields_are_false() -> None:
    assert numbers('Reference.Contains("e")') == ["INV-0001", "INV-0002", "BILL-17"]
    assert numbers('Total.Contains("1")') == []


def test_string_methods_compared_with_booleans() -> None:
    assert numbers('Contact.Name.Contains("acme")==false') == ["INV-0002", "BILL-17"]
    assert numbers('Contact.Name.Contains("acme") != false') == ["INV-0001", "INV-0003"]
    assert numbers('Contact.Name.Contains("acme")==true') == ["INV-0001", "INV-0003"]


def test_case_conversions_before_a_comparison_or_method() -> None:
    assert numbers('Contact.Name.ToLower()=="acme coworking ltd"') == ["INV-0001", "INV-0003"]
    assert numbers('Contact.Name.ToUpper()=="BOLT STUDIO"') == ["INV-0002"]
    assert numbers('Contact.Name.ToLower().Contains("CLEAN")') == ["BILL-17"]
    assert numbers('Contact.Name.ToUpper().ToLower().StartsWith("bolt")') == ["INV-0002"]
    assert numbers("Reference.ToLower()==null") == ["INV-0003"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('Name.Trim()=="x"', "unknown method 'Trim'"),
        ("Name.Contains(12)", "takes one string"),
        ('Name.Contains("a", "b")', "takes one string"),
        ('Name.ToLower("x")=="y"', "takes no arguments"),
        ('Name.Contains("a").ToLower()', "nothing may follow"),
        ('Name.Contains("a")=="yes"', "only be compared with true or false"),
        ('Name.Contains("a")>false', "only be compared with true or false"),
    ],
)
def test_bad_method_calls(expression: str, message: str) -> None:
    with pytest.raises(WhereError, match=message):
        compile_where(expression)


# -- where: errors


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('Status=="AUTHORISED', "unterminated string starting at column 9"),
        ('Status=="PAID" AND', "expected a condition.*at the end of the expression"),
        ('Status=="PAID" AND OR Total>0', "expected a condition.*found 'OR' at column 20"),
        ('Status=="PAID" &&', "expected a condition"),
        ('ContactID==Uuid("7f1c2b9e-3d4a-4e5f-8a6b-1c2d3e4f5a6b")', "unknown function 'Uuid'"),
        ("Date==Today()", "unknown function 'Today'"),
        ('Status=="PAID" Total>0', "unexpected 'Total' at column 16"),
        ('Status=="PAID")', "unexpected '\\)'"),
        ('(Status=="PAID"', "expected '\\)'"),
        ("", "empty"),
        ("   ", "empty"),
        ("Status==", "expected a value after '=='"),
        ('Status=="PAID" & Total>0', "unexpected character '&'"),
        ("Status=='PAID'", 'unexpected character "\'"'),
        ('"PAID"==Status', "expected a condition starting with a field name, found '\"PAID\"'"),
        ("null==Reference", "expected a condition starting with a field name"),
        ('GUID("7f1c2b9e-3d4a-4e5f-8a6b-1c2d3e4f5a6b")==ContactID', "found the function 'GUID'"),
        ("Total==SubTotal", "a field can only be compared with a literal"),
        ("Total==12.", "expected digits after the decimal point"),
        ("Total==1 + 2", "unexpected character '\\+'"),
        ("Reference<null", "null can only be compared with == or !="),
        ("IsCustomer>=true", "true can only be compared with == or !="),
        ("Contact.==null", "expected a field name after '.'"),
        ("Contact.", "expected a field name after '.'"),
        ("Status==(", "expected a value"),
        ("NOT", "expected a condition"),
        ("()", "expected a condition"),
    ],
)
def test_syntax_errors(expression: str, message: str) -> None:
    with pytest.raises(WhereError, match=message):
        compile_where(expression)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(WhereError, match="nested too deeply"):
        compile_where("(" * 1000 + 'Status=="PAID"' + ")" * 1000)
    with pytest.raises(WhereError, match="nested too deeply"):
        compile_where("NOT " * 1000 + 'Status=="PAID"')
    assert numbers("(" * 20 + 'Status=="PAID"' + ")" * 20) == ["INV-0002"]


def test_where_error_is_a_value_error() -> None:
    assert issubclass(WhereError, ValueError)


def test_a_filter_over_many_records_keeps_exactly_the_matches() -> None:
    records: list[Record] = [
        {
            "InvoiceID": f"{n:08x}-0000-4000-8000-000000000000",
            "Status": ("AUTHORISED", "DRAFT", "PAID")[n % 3],
            "Contact": {"ContactID": (ACME, BOLT, CEDAR)[n % 5 % 3], "Name": "Somebody"},
            "Total": Decimal(n) / 4,
        }
        for n in range(10_000)
    ]
    keep = compile_where(f'Status=="AUTHORISED" AND Contact.ContactID==GUID("{ACME.upper()}")')
    kept = [record for record in records if keep(record)]
    assert len(kept) == sum(1 for n in range(10_000) if n % 3 == 0 and n % 5 % 3 == 0)


# -- order


def test_order_by_one_key() -> None:
    assert names(compile_order("Name")(CONTACTS)) == [
        "Acme Coworking Ltd",
        "Bolt Studio",
        "cedar cleaning",
        "Dormant Pty",
    ]
    assert names(compile_order("Name ASC")(CONTACTS)) == names(compile_order("Name")(CONTACTS))
    assert names(compile_order("name desc")(CONTACTS)) == [
        "Dormant Pty",
        "cedar cleaning",
        "Bolt Studio",
        "Acme Coworking Ltd",
    ]


def test_order_by_several_keys() -> None:
    ordered = compile_order("Date DESC, InvoiceNumber")([*INVOICES, {**INVOICES[0], "InvoiceNumber": "INV-0000"}])
    assert [record["InvoiceNumber"] for record in ordered] == [
        "BILL-17",
        "INV-0003",
        "INV-0002",
        "INV-0000",
        "INV-0001",
    ]
    ordered = compile_order("Contact.Name, Total DESC")(INVOICES)
    assert [record["InvoiceNumber"] for record in ordered] == ["INV-0001", "INV-0003", "INV-0002", "BILL-17"]


def test_order_by_numbers_and_timestamps() -> None:
    assert [r["InvoiceNumber"] for r in compile_order("Total")(INVOICES)] == [
        "INV-0003",
        "INV-0002",
        "INV-0001",
        "BILL-17",
    ]
    assert [r["InvoiceNumber"] for r in compile_order("UpdatedDateUTC DESC")(INVOICES)] == [
        "BILL-17",
        "INV-0003",
        "INV-0002",
        "INV-0001",
    ]


def test_none_sorts_first_ascending_and_last_descending() -> None:
    assert [r["InvoiceNumber"] for r in compile_order("DueDate")(INVOICES)] == [
        "INV-0003",
        "INV-0001",
        "INV-0002",
        "BILL-17",
    ]
    assert [r["InvoiceNumber"] for r in compile_order("Reference DESC")(INVOICES)] == [
        "INV-0002",
        "INV-0001",
        "BILL-17",
        "INV-0003",
    ]


def test_order_is_stable_in_both_directions() -> None:
    assert [r["InvoiceNumber"] for r in compile_order("Status")(INVOICES)] == [
        "INV-0001",
        "BILL-17",
        "INV-0003",
        "INV-0002",
    ]
    assert [r["InvoiceNumber"] for r in compile_order("Type DESC")(INVOICES)] == [
        "INV-0001",
        "INV-0002",
        "INV-0003",
        "BILL-17",
    ]


def test_order_returns_a_new_list() -> None:
    records = list(CONTACTS)
    ordered = compile_order("Name DESC")(records)
    assert records == CONTACTS
    assert ordered is not records


def test_order_over_mixed_types_does_not_raise() -> None:
    records: list[Record] = [
        {"Name": "text", "Value": "b"},
        {"Name": "number", "Value": Decimal(2)},
        {"Name": "date", "Value": date(2024, 1, 1)},
        {"Name": "missing"},
        {"Name": "timestamp", "Value": datetime(2023, 12, 31, 23, 0, tzinfo=UTC)},
        {"Name": "list", "Value": []},
        {"Name": "int", "Value": 1},
        {"Name": "flag", "Value": True},
    ]
    assert names(compile_order("Value")(records)) == [
        "missing",
        "flag",
        "int",
        "number",
        "text",
        "timestamp",
        "date",
        "list",
    ]


@pytest.mark.parametrize(
    "expression",
    ["", "Name ASC DESC", "Name,", ", Name", "Name DOWN", "Name.ToLower()", "Name ASC; Date", '"Name"', "Contact."],
)
def test_bad_order_expressions(expression: str) -> None:
    with pytest.raises(WhereError):
        compile_order(expression)


# -- paginate


RECORDS: list[Record] = [{"InvoiceNumber": f"INV-{n:04}"} for n in range(1, 251)]


def test_pages() -> None:
    first = paginate(RECORDS, 1, None)
    assert (first.page, first.page_size, first.page_count, first.item_count) == (1, 100, 3, 250)
    assert first.records[0]["InvoiceNumber"] == "INV-0001"
    assert len(first.records) == 100
    second = paginate(RECORDS, 2, 100)
    assert [second.records[0]["InvoiceNumber"], second.records[-1]["InvoiceNumber"]] == ["INV-0101", "INV-0200"]


def test_the_last_page_is_partial() -> None:
    last = paginate(RECORDS, 3, 100)
    assert len(last.records) == 50
    assert last.records[-1]["InvoiceNumber"] == "INV-0250"
    assert paginate(RECORDS[:200], 2, 100).page_count == 2


def test_a_page_past_the_end_is_empty() -> None:
    assert paginate(RECORDS, 4, 100) == Page(records=[], page=4, page_size=100, page_count=3, item_count=250)
    assert paginate([], 1, 10) == Page(records=[], page=1, page_size=10, page_count=0, item_count=0)


def test_page_size_is_capped() -> None:
    records: list[Record] = [{"InvoiceNumber": str(n)} for n in range(2500)]
    page = paginate(records, 1, 5000)
    assert (page.page_size, page.page_count, len(page.records)) == (1000, 3, 1000)
    page = paginate(records, 2, 50, default_size=10, max_size=20)
    assert (page.page_size, page.page_count) == (20, 125)
    assert paginate(records, 1, None, default_size=25).page_size == 25


@pytest.mark.parametrize(("page", "page_size"), [(1, 0), (1, -5), (0, 10), (-1, None), (None, 0)])
def test_bad_paging_parameters(page: int | None, page_size: int | None) -> None:
    with pytest.raises(WhereError):
        paginate(RECORDS, page, page_size)


def test_unpaged_returns_everything() -> None:
    everything = paginate(RECORDS, None, None)
    assert everything.page == 0
    assert everything.records == RECORDS
    assert everything.records is not RECORDS
    assert (everything.item_count, everything.page_count) == (250, 1)
    assert paginate(RECORDS, None, 10).records == RECORDS
    assert paginate([], None, None).page_count == 0


def test_a_page_is_immutable() -> None:
    page = paginate(RECORDS, 1, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.page = 2  # type: ignore[misc]
