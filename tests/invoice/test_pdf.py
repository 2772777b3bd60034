"""The invoice PDF, rendered from models built in memory and read back with pypdf (pure Python, so
the tests need no poppler on the machine)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from fpdf import FPDF
from pypdf import PdfReader

from app.company.models import Company
from app.invoice.models import Invoice, InvoiceLine
from app.invoice.pdf import render_invoice_pdf
from app.location.models import Location
from app.tenant.models import Tenant

MM = 72 / 25.4  # PDF points per millimetre
A4_POINTS = (595.28, 841.89)
# The description column: the page margin plus its width, in millimetres (see app/invoice/pdf.py).
DESCRIPTION_RIGHT_EDGE = (18 + 74) * MM

VAT = uuid.uuid4()
ZERO = uuid.uuid4()
TAX_NAMES = {VAT: "VAT 20%", ZERO: "Zero rated"}


@dataclass
class Scenario:
    status: str = "issued"
    currency: str = "GBP"
    tax_mode: str = "exclusive"
    tenant_name: str = "Hive Workspaces Ltd"
    company_name: str = "Acme Analytics Ltd"
    lines: list[InvoiceLine] = field(default_factory=list)
    tax_names: dict[uuid.UUID, str] = field(default_factory=lambda: dict(TAX_NAMES))


def line(
    position: int,
    description: str,
    quantity: str,
    unit_amount: int,
    line_amount: int,
    tax_amount: int,
    *,
    tax_rate_id: uuid.UUID = VAT,
    period: tuple[date, date] | None = None,
) -> InvoiceLine:
    return InvoiceLine(
        id=uuid.uuid4(),
        position=position,
        description=description,
        quantity=Decimal(quantity),
        unit_amount=unit_amount,
        line_amount=line_amount,
        tax_rate_id=tax_rate_id,
        tax_amount=tax_amount,
        revenue_account_id=uuid.uuid4(),
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
    )


def standard_lines() -> list[InvoiceLine]:
    return [
        line(
            1, "Dedicated desk, March 2027", "2.0000", 35000, 70000, 14000, period=(date(2027, 3, 1), date(2027, 3, 31))
        ),
        line(2, "Meeting room hours", "2.5000", 4000, 10000, 2000),
        line(3, "Mail handling", "1.0000", 2000, 968, 0, tax_rate_id=ZERO),
    ]


def render(scenario: Scenario) -> bytes:
    tenant_id = uuid.uuid4()
    tenant = Tenant(
        id=tenant_id,
        slug="hive",
        name=scenario.tenant_name,
        default_currency=scenario.currency,
        default_country="GB",
        default_time_zone="Europe/London",
    )
    location = Location(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        name="Hive Shoreditch",
        code="SHO",
        time_zone="Europe/London",
        country="GB",
        currency=scenario.currency,
        tax_mode=scenario.tax_mode,
        address="12 Curtain Road\nLondon EC2A 3NQ",
        invoice_number_template="SHO-{number:06}",
    )
    company = Company(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        kind="company",
        legal_name=scenario.company_name,
        billing_email="accounts@example.com",
        address_line1="1 High Street",
        address_line2="Floor 3",
        city="Manchester",
        postal_code="M1 1AA",
        country="GB",
        tax_number="GB123456789",
        currency=scenario.currency,
        payment_terms_days=14,
        home_location_id=location.id,
    )
    lines = scenario.lines or standard_lines()
    amount = sum(item.line_amount for item in lines)
    tax = sum(item.tax_amount for item in lines)
    subtotal = amount - tax if scenario.tax_mode == "inclusive" else amount
    draft = scenario.status == "draft"
    invoice = Invoice(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        location_id=location.id,
        company_id=company.id,
        status=scenario.status,
        number=None if draft else "SHO-000042",
        currency=scenario.currency,
        tax_mode=scenario.tax_mode,
        issue_date=None if draft else date(2027, 4, 1),
        due_date=None if draft else date(2027, 4, 15),
        subtotal=subtotal,
        tax_total=tax,
        total=subtotal + tax,
    )
    return render_invoice_pdf(invoice, lines, company, location, tenant, scenario.tax_names)


def read(document: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(document), strict=True)


def text_of(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(document).pages)


def squashed(text: str) -> str:
    """Without any whitespace, so wrapped text compares equal to the original."""
    return "".join(text.split())


def test_an_issued_invoice_is_a_valid_a4_pdf_with_every_detail() -> None:
    document = render(Scenario())

    assert document.startswith(b"%PDF-")
    assert document.rstrip().endswith(b"%%EOF")
    reader = read(document)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4_POINTS
    text = text_of(document)
    for expected in (
        "Hive Workspaces Ltd",
        "Hive Shoreditch",
        "12 Curtain Road",
        "INVOICE",
        "SHO-000042",
        "1 April 2027",
        "15 April 2027",
        "Acme Analytics Ltd",
        "1 High Street",
        "Floor 3",
        "M1 1AA Manchester",
        "Tax number: GB123456789",
        "Dedicated desk, March 2027",
        "Meeting room hours",
        "Mail handling",
        "VAT 20%",
        "Zero rated",
        "350.00",
        "700.00",
        "Mail handling 1 20.00 Zero rated 9.68",  # 9.68 on the Mail handling row itself, not only within 809.68
        "809.68 GBP",  # subtotal
        "160.00 GBP",  # tax
        "969.68 GBP",  # total
        "Period covered: 1 March 2027 to 31 March 2027",
        "Due by 15 April 2027",
    ):
        assert expected in text, expected
    for absent in ("DRAFT", "VOID", "Prices include tax"):
        assert absent not in text


def test_quantities_drop_trailing_zeros() -> None:
    text = text_of(render(Scenario()))

    rows = {row.split(" ")[0]: row for row in text.splitlines() if row.startswith(("Dedicated", "Meeting", "Mail"))}
    assert " 2 350.00 " in rows["Dedicated"]
    assert " 2.5 40.00 " in rows["Meeting"]
    assert " 1 20.00 " in rows["Mail"]
    assert "2.5000" not in text
    assert "1.0000" not in text


def test_lines_are_listed_in_position_order() -> None:
    text = text_of(render(Scenario(lines=list(reversed(standard_lines())))))

    positions = [text.index(name) for name in ("Dedicated desk", "Meeting room hours", "Mail handling")]
    assert positions == sorted(positions)


def test_a_draft_is_titled_draft_and_has_no_number_yet() -> None:
    text = text_of(render(Scenario(status="draft")))

    assert "DRAFT INVOICE" in text
    assert "Draft" in text
    assert "Not issued" in text
    assert "14 days after issue" in text
    assert "VOID" not in text
    assert "969.68 GBP" in text


def test_a_voided_invoice_is_marked_void() -> None:
    text = text_of(render(Scenario(status="void")))

    assert "VOID" in text
    assert "SHO-000042" in text
    assert "voided and is not payable" in text
    assert "DRAFT" not in text


def test_tax_inclusive_prices_are_stated() -> None:
    lines = [line(1, "Hot desk pass", "1", 12000, 12000, 2000)]
    text = text_of(render(Scenario(tax_mode="inclusive", lines=lines)))

    assert "Prices include tax" in text
    assert "100.00 GBP" in text  # subtotal, net of tax
    assert "Tax 20.00 GBP" in text
    assert "120.00 GBP" in text


def test_a_long_description_wraps_inside_its_column() -> None:
    description = (
        "Private office for six people on the third floor, including furniture, lockers, "
        "24/7 access, cleaning, utilities and business-grade internet, prorated from the "
        "seventeenth of the month to its end as agreed in the membership terms; reference "
        + "X" * 90
        + " and the rest of a sentence that keeps going well past a single line of the table"
    )
    document = render(Scenario(lines=[line(1, description, "1", 250000, 250000, 50000)]))

    assert squashed(description) in squashed(text_of(document))
    measure = FPDF(unit="pt")
    measure.core_fonts_encoding = "windows-1252"
    measure.set_font("helvetica", size=9.5)
    rows: list[tuple[float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip() and squashed(text) in squashed(description):
            rows.append((tm[4], tm[5], text.strip()))

    read(document).pages[0].extract_text(visitor_text=visit)
    assert len({y for _, y, _ in rows}) >= 5  # wrapped over several lines
    for x, _, shown in rows:
        assert x + measure.get_string_width(shown) <= DESCRIPTION_RIGHT_EDGE, shown


def test_many_lines_flow_onto_further_pages() -> None:
    lines = [line(n, f"Meeting room booking number {n}", "1", 1000, 1000, 200) for n in range(1, 61)]
    document = render(Scenario(lines=lines))

    reader = read(document)
    assert len(reader.pages) == 3
    text = text_of(document)
    for n in range(1, 61):
        assert f"Meeting room booking number {n}\n" in text or f"Meeting room booking number {n} " in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "720.00 GBP" in reader.pages[-1].extract_text()  # the total, after the last line


# An en dash and curly quotes: beyond Latin-1, but in the standard fonts' Windows-1252 set.
CAFE_DESK = "Café Ærø desk: £ and € \u2013 \u201cPremium\u201d"


def test_latin_1_names_and_currency_signs_render() -> None:
    lines = [
        line(1, CAFE_DESK, "1", 5000, 5000, 1000),
        line(2, "Straße fee ½ month", "0.5", 2000, 1000, 200, tax_rate_id=ZERO),
    ]
    scenario = Scenario(
        currency="EUR",
        tenant_name="Espaço Coração Lda",
        company_name="Zoë Müller",
        lines=lines,
        tax_names={VAT: "MwSt 19 %", ZERO: "Befreit §4"},
    )
    text = text_of(render(scenario))

    for expected in (
        "Espaço Coração Lda",
        "Zoë Müller",
        CAFE_DESK,
        "Straße fee ½ month",
        "MwSt 19 %",
        "Befreit §4",
        "60.00 EUR",
    ):
        assert expected in text, expected


def test_characters_beyond_the_standard_fonts_fall_back_instead_of_failing() -> None:
    text = text_of(render(Scenario(company_name="Łódź Spółka 東京")))

    assert "Lódz Spólka ??" in text


def test_a_zero_decimal_currency() -> None:
    lines = [line(1, "Monthly membership", "3", 50000, 150000, 15000)]
    text = text_of(render(Scenario(currency="JPY", lines=lines)))

    assert "Monthly membership 3 50,000 VAT 20% 150,000" in text
    assert "150,000 JPY" in text  # subtotal
    assert "15,000 JPY" in text  # tax
    assert "165,000 JPY" in text  # total
    assert "150,000.00" not in text
    assert "Amount (JPY)" in text


def test_a_three_decimal_currency() -> None:
    lines = [line(1, "Monthly membership", "1", 1234567, 1234567, 61728)]
    text = text_of(render(Scenario(currency="KWD", lines=lines)))

    assert "1,234.567 KWD" in text
    assert "61.728 KWD" in text
    assert "1,296.295 KWD" in text


def test_text_is_printed_as_written_even_where_it_looks_like_a_placeholder() -> None:
    lines = [line(1, "Room {nb} booking, 100% of {total}", "1", 1000, 1000, 200)]
    text = text_of(render(Scenario(lines=lines)))

    assert "Room {nb} booking, 100% of {total}" in text
    assert "Page 1 of 1" in text
