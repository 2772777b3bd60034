"""An invoice as an A4 PDF, drawn with fpdf2 from rows already loaded: no database, no network.

The text is set in the PDF standard fonts (Helvetica), which every reader has, so nothing is
embedded or fetched. They carry the Windows-1252 character set: Latin-1 plus "€", dashes and
curly quotes. A character outside it is replaced by its unaccented letter, or "?", rather than
failing the whole document."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, VAlign, XPos, YPos

from app.catalog.tax import PartLike, tax_totals
from app.company.models import Company
from app.invoice.models import Invoice, InvoiceLine
from app.kit.money import format_amount, plain_decimal
from app.location.models import Location
from app.tenant.models import Tenant

__all__ = ["render_invoice_pdf"]

_ENCODING = "windows-1252"
_FONT = "helvetica"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Letters NFKD does not decompose into a base letter plus accents.
_FALLBACK = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "\u0131": "i"})

_MARGIN = 18.0
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_RULE = (206, 212, 218)
_SHADE = (241, 243, 245)
_DRAFT = (120, 120, 120)
_VOID = (200, 30, 45)


def _text(value: str) -> str:
    """``value`` as the standard fonts can show it."""
    try:
        value.encode(_ENCODING)
    except UnicodeEncodeError:
        pass
    else:
        return value
    shown = []
    for char in value.translate(_FALLBACK):
        try:
            char.encode(_ENCODING)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            try:
                base.encode(_ENCODING)
            except UnicodeEncodeError:
                base = "?"
            shown.append(base or "?")
        else:
            shown.append(char)
    return "".join(shown)


def _date(day: date) -> str:
    # Spelled out and locale-free: "5 March 2027" reads the same to every customer.
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _quantity(quantity: Decimal) -> str:
    text = format(quantity.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _money(amount: int, currency: str) -> str:
    return f"{format_amount(amount, currency)} {currency}"


def component_label(part: PartLike) -> str:
    """``GST 5%``; a compound component says it is charged on the tax before it too."""
    return f"{part.name} {plain_decimal(part.percent)}%" + (" (compound)" if part.compound else "")


def _title(status: str) -> tuple[str, tuple[int, int, int]]:
    if status == "void":
        return "VOID", _VOID
    if status == "draft":
        return "DRAFT INVOICE", _DRAFT
    return "INVOICE", _INK


def _period(lines: Sequence[InvoiceLine]) -> str | None:
    starts = [line.period_start for line in lines if line.period_start is not None]
    ends = [line.period_end for line in lines if line.period_end is not None]
    if not starts or not ends:
        return None
    return f"{_date(min(starts))} to {_date(max(ends))}"


def _due(invoice: Invoice, company: Company) -> str:
    if invoice.due_date is not None:
        return _date(invoice.due_date)
    # A draft has no due date yet: it falls due the customer's terms after it is issued.
    days = company.payment_terms_days
    return "On issue" if days == 0 else f"{days} days after issue"


def _terms(invoice: Invoice, company: Company) -> str:
    if invoice.due_date is not None:
        return f"Due by {_date(invoice.due_date)}"
    return f"Due {_due(invoice, company).lower()}"


def _bill_to(company: Company) -> list[str]:
    rows = [company.address_line1, company.address_line2]
    place = " ".join(part for part in (company.postal_code, company.city) if part)
    rows += [place, company.region, company.country]
    found = [row for row in rows if row]
    if company.tax_number:
        found.append(f"Tax number: {company.tax_number}")
    return found


# A large pale word across every page of a draft or a voided invoice: (word, colour).
_STAMPS = {"draft": ("DRAFT", (232, 232, 232)), "void": ("VOID", (250, 205, 208))}


class _InvoiceDocument(FPDF):
    """A4 pages, each with the draft or void stamp behind it and the period and the payment
    terms in its footer."""

    def __init__(self, footer_lines: Sequence[str], stamp: tuple[str, tuple[int, int, int]] | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = _ENCODING
        self.footer_lines = [_text(line) for line in footer_lines]
        self.stamp = stamp
        # Page numbers are written once the page count is known (see number_pages); fpdf2's
        # "{nb}" alias would also rewrite that text inside a customer's own descriptions.
        self.alias_nb_pages(None)  # type: ignore[arg-type]
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 14)

    def header(self) -> None:
        if self.stamp is None:
            return
        word, color = self.stamp
        with self.local_context():
            self.set_font(_FONT, style="B", size=110)
            self.set_text_color(*color)
            width = self.get_string_width(word)
            center_x, center_y = self.w / 2, self.h / 2 + 20
            with self.rotation(angle=35, x=center_x, y=center_y):
                self.text(center_x - width / 2, center_y + 15, word)

    def footer(self) -> None:
        self.set_y(-(_MARGIN + 10))
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, self.y, self.w - self.r_margin, self.y)
        self.ln(2)
        self.set_font(_FONT, size=8)
        self.set_text_color(*_MUTED)
        for line in self.footer_lines:
            self.cell(self.epw - 30, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def number_pages(self) -> None:
        """ "Page n of N" in the footer of every page, now that N is known."""
        last, total = self.page, self.pages_count
        self.set_auto_page_break(auto=False)
        self.set_font(_FONT, size=8)
        self.set_text_color(*_MUTED)
        for number in range(1, total + 1):
            self.page = number
            self.set_xy(self.w - self.r_margin - 30, self.h - _MARGIN - 8)
            self.cell(30, 4, f"Page {number} of {total}", align="R")
        self.page = last


def render_invoice_pdf(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    company: Company,
    location: Location,
    tenant: Tenant,
    tax_names: Mapping[uuid.UUID, str],
    taxes: Mapping[uuid.UUID, Sequence[PartLike]] | None = None,
) -> bytes:
    """The invoice as an A4 PDF document.

    ``lines`` are shown in ``position`` order; ``tax_names`` must name every line's tax rate.
    ``taxes`` holds the tax parts of lines taxed at a rate of several components, by line id:
    each such line shows its parts, and the totals show the tax of each component.
    Drafts are titled "DRAFT INVOICE" and voided invoices "VOID", each with a stamp across the
    page, so neither can be mistaken for a payable invoice. Amounts are printed with
    ``format_amount`` in the invoice's currency."""
    ordered = sorted(lines, key=lambda line: line.position)
    currency = invoice.currency
    footer = [f"Payment terms: {_terms(invoice, company)}"]
    period = _period(ordered)
    if period is not None:
        footer.insert(0, f"Period covered: {period}")
    if invoice.number and invoice.status != "void":
        footer.append(f"Please quote invoice {invoice.number} with your payment.")

    pdf = _InvoiceDocument(footer, _STAMPS.get(invoice.status))
    pdf.set_title(_text(f"Invoice {invoice.number}" if invoice.number else "Draft invoice"))
    pdf.set_author(_text(tenant.name))
    pdf.set_creator("FlexLedger")
    pdf.add_page()
    _header(pdf, invoice, company, location, tenant)
    _parties(pdf, company)
    taxes = taxes or {}
    _lines_table(pdf, ordered, currency, tax_names, taxes)
    _totals(pdf, invoice, tax_totals(part for line in ordered for part in taxes.get(line.id, ())))
    pdf.number_pages()
    return bytes(pdf.output())


def _header(pdf: FPDF, invoice: Invoice, company: Company, location: Location, tenant: Tenant) -> None:
    top = pdf.y
    left_width = pdf.epw * 0.55
    pdf.set_text_color(*_INK)
    pdf.set_font(_FONT, style="B", size=16)
    pdf.multi_cell(left_width, 7, _text(tenant.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=9.5)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(left_width, 4.6, _text(location.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if location.address:
        for row in location.address.splitlines():
            if row.strip():
                pdf.multi_cell(left_width, 4.6, _text(row.strip()), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.y

    title, color = _title(invoice.status)
    right_x = pdf.l_margin + left_width
    right_width = pdf.epw - left_width
    pdf.set_xy(right_x, top)
    pdf.set_font(_FONT, style="B", size=20)
    pdf.set_text_color(*color)
    pdf.cell(right_width, 9, title, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(2)
    facts = [
        ("Invoice number", invoice.number or "Draft"),
        ("Issue date", _date(invoice.issue_date) if invoice.issue_date else "Not issued"),
        ("Due date", _due(invoice, company)),
    ]
    if invoice.status == "void":
        facts.append(("Status", "Void - not payable"))
    for label, value in facts:
        pdf.set_x(right_x)
        pdf.set_font(_FONT, size=9.5)
        pdf.set_text_color(*_MUTED)
        pdf.cell(right_width - 42, 5, label, align="R")
        pdf.set_font(_FONT, style="B", size=9.5)
        pdf.set_text_color(*_INK)
        pdf.multi_cell(42, 5, _text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_bottom, pdf.y) + 8)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, pdf.y, pdf.w - pdf.r_margin, pdf.y)
    pdf.ln(7)


def _parties(pdf: FPDF, company: Company) -> None:
    width = pdf.epw * 0.6
    pdf.set_font(_FONT, style="B", size=8)
    pdf.set_text_color(*_MUTED)
    pdf.cell(width, 5, "BILL TO", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, style="B", size=11)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(width, 5.5, _text(company.legal_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=9.5)
    for row in _bill_to(company):
        pdf.multi_cell(width, 4.8, _text(row), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)


def _lines_table(
    pdf: FPDF,
    lines: Sequence[InvoiceLine],
    currency: str,
    tax_names: Mapping[uuid.UUID, str],
    taxes: Mapping[uuid.UUID, Sequence[PartLike]],
) -> None:
    pdf.set_font(_FONT, size=9.5)
    pdf.set_text_color(*_INK)
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)
    headings = FontFace(emphasis="BOLD", color=_INK, fill_color=_SHADE)
    with pdf.table(
        col_widths=(74, 14, 30, 26, 30),
        text_align=("LEFT", "RIGHT", "RIGHT", "LEFT", "RIGHT"),
        v_align=VAlign.T,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=headings,
        line_height=4.6,
        padding=(2.2, 1.5),
        width=pdf.epw,
    ) as table:
        table.row(("Description", "Qty", f"Unit price ({currency})", "Tax", f"Amount ({currency})"))
        for line in lines:
            description = line.description
            if parts := taxes.get(line.id):
                split = " · ".join(f"{component_label(p)} {format_amount(p.amount, currency)}" for p in parts)
                description += f"\nTax: {split}"
            table.row(
                (
                    _text(description),
                    _quantity(line.quantity),
                    format_amount(line.unit_amount, currency),
                    _text(tax_names[line.tax_rate_id]),
                    format_amount(line.line_amount, currency),
                )
            )
    pdf.ln(4)


def _totals(pdf: FPDF, invoice: Invoice, by_component: Sequence[PartLike]) -> None:
    currency = invoice.currency
    inclusive = invoice.tax_mode == "inclusive"
    label_width, value_width = 50.0, 42.0
    left = pdf.w - pdf.r_margin - label_width - value_width
    # Keep the totals block whole: move it to a new page rather than split it.
    if pdf.y + 34 + 6 * len(by_component) > pdf.page_break_trigger:
        pdf.add_page()
    rows = [
        ("Subtotal excluding tax" if inclusive else "Subtotal", invoice.subtotal),
        ("Tax", invoice.tax_total),
        *((f"   {component_label(part)}", part.amount) for part in by_component),
    ]
    pdf.set_text_color(*_INK)
    for label, amount in rows:
        pdf.set_x(left)
        pdf.set_font(_FONT, size=9.5)
        pdf.cell(label_width, 6, label)
        pdf.cell(value_width, 6, _money(amount, currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*_INK)
    pdf.set_line_width(0.4)
    pdf.line(left, pdf.y + 1, pdf.w - pdf.r_margin, pdf.y + 1)
    pdf.ln(2.5)
    pdf.set_x(left)
    pdf.set_font(_FONT, style="B", size=11.5)
    pdf.cell(label_width, 8, "Total" if invoice.status != "void" else "Total (void)")
    pdf.cell(value_width, 8, _money(invoice.total, currency), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, size=8.5)
    pdf.set_text_color(*_MUTED)
    notes = []
    if inclusive:
        notes.append("Prices include tax.")
    if invoice.status == "void":
        notes.append("This invoice has been voided and is not payable.")
    elif invoice.status == "draft":
        notes.append("This is a draft for review; it is not a request for payment.")
    for note in notes:
        pdf.set_x(left)
        pdf.cell(label_width + value_width, 5, note, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
