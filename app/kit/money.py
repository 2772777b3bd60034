"""Money: integer minor units beside an ISO 4217 currency, and every rounding the product does.

Amounts are ``int`` minor units everywhere. ``Decimal`` appears only inside the calculations in
this module (tax, proration, percentages, quantities) and each result is rounded back to minor
units here, half away from zero, the way Xero rounds a line's tax. Nothing else rounds money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache

import iso4217
from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol

# ISO 4217's current currencies (funds included) and their minor units, as the iso4217 package
# keeps them; codes without minor units (gold, special drawing rights, testing) are not money here.
CURRENCY_EXPONENTS: dict[str, int] = {
    currency.code: currency.exponent for currency in iso4217.Currency if currency.exponent is not None
}


# The most money one thing may come to: a price, a line, a document's total, a payment. It is 100
# billion in a two-decimal currency, and any sum of such amounts the ledger keeps stays far inside
# PostgreSQL's bigint (about 9.2 * 10**18). Amounts are checked against it where they enter, and a
# billing run checks each customer's invoice before writing it.
MAX_AMOUNT = 10**13


def is_currency(code: str) -> bool:
    return code in CURRENCY_EXPONENTS


def exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS[currency]


def _rounded(numerator: int, denominator: int) -> int:
    """The one rounding: ``numerator / denominator`` to a whole number of minor units, ties away
    from zero. Exact, in integers: no precision limit to run into."""
    whole, rest = divmod(abs(numerator), denominator)
    if 2 * rest >= denominator:
        whole += 1
    return whole if numerator >= 0 else -whole


def round_minor(value: Decimal) -> int:
    """``value`` (in minor units) to whole minor units, ties away from zero."""
    return _rounded(*value.as_integer_ratio())


def line_amount(quantity: Decimal, unit_amount: int) -> int:
    """Quantity times unit price, as Xero computes a line amount."""
    numerator, denominator = quantity.as_integer_ratio()
    return _rounded(numerator * unit_amount, denominator)


def prorate(amount: int, days: int, period_days: int) -> int:
    """``days`` of a ``period_days`` period (the actual-days convention); a whole period is exact."""
    if not 0 <= days <= period_days or period_days <= 0:
        raise ValueError(f"cannot prorate {days} of {period_days} days")
    return _rounded(amount * days, period_days)


def per_hour(rate: int, minutes: int) -> int:
    """What ``minutes`` cost at ``rate`` per hour."""
    return _rounded(rate * minutes, 60)


def percent_of(amount: int, percent: Decimal) -> int:
    """``percent`` % of ``amount`` (fractional percentages allowed, e.g. 12.5)."""
    numerator, denominator = percent.as_integer_ratio()
    return _rounded(amount * numerator, denominator * 100)


@dataclass(frozen=True, slots=True)
class TaxComponent:
    name: str
    percent: Decimal
    compound: bool = False


def _contributions(components: Sequence[TaxComponent]) -> list[Decimal]:
    """What each component adds to the combined rate, as a fraction of the net amount: a simple
    component its own rate; a compound one its rate on the net amount plus the tax before it."""
    added: list[Decimal] = []
    for component in components:
        rate = component.percent / 100
        added.append(rate * (1 + sum(added)) if component.compound else rate)
    return added


def effective_rate(components: Sequence[TaxComponent]) -> Decimal:
    """The combined rate as a fraction: simple components add up on the net amount; a compound
    component is charged on the net amount plus the tax of the components before it."""
    return sum(_contributions(components), Decimal(0))


def split_tax(tax: int, components: Sequence[TaxComponent]) -> list[int]:
    """A line's tax, already rounded once on the combined rate, shared between the rate's
    components in proportion to what each adds to that rate (so a compound component's share
    counts its tax on tax). Each part is its exact share cut to whole minor units; the units
    still missing go one each to the parts that lost the most by the cut (the earlier component
    when two lost the same). The parts always add up to ``tax`` and none is more than one unit
    from its exact share. A negative ``tax`` is split as its size and given back its sign."""
    added = [Fraction(part) for part in _contributions(components)]
    whole = sum(added, Fraction(0))
    if not added:
        return []
    if whole == 0:
        return [0] * len(added)
    size = abs(tax)
    shares = [size * part / whole for part in added]
    parts = [share.numerator // share.denominator for share in shares]
    missing = size - sum(parts)
    by_loss = sorted(range(len(shares)), key=lambda index: (parts[index] - shares[index], index))
    for index in by_loss[:missing]:
        parts[index] += 1
    return parts if tax >= 0 else [-part for part in parts]


def line_tax(amount: int, rate: Decimal, *, inclusive: bool) -> int:
    """Tax of one line, rounded on its own (Xero rounds per line, then sums).

    ``amount`` is the line amount as priced: gross when prices include tax, net when not."""
    numerator, denominator = rate.as_integer_ratio()
    if inclusive:  # the tax part of a gross amount: rate / (1 + rate) of it
        return _rounded(amount * numerator, denominator + numerator)
    return _rounded(amount * numerator, denominator)


# How amounts are written where no one has chosen otherwise.
DEFAULT_LOCALE = "en_GB"


@dataclass(frozen=True, slots=True)
class _Numerals:
    """How a locale writes a number (from CLDR, through babel): its separators and its digit
    grouping (3 and 3 for 1,234,567; 3 and 2 for India's 12,34,567)."""

    group: str
    decimal: str
    first: int
    then: int


@cache
def _numerals(locale: str) -> _Numerals:
    found = Locale.parse(locale)
    first, then = found.decimal_formats[None].grouping
    return _Numerals(get_group_symbol(found), get_decimal_symbol(found), first, then)


def _grouped(digits: str, numerals: _Numerals) -> str:
    if len(digits) <= numerals.first:
        return digits
    head, groups = digits[: -numerals.first], [digits[-numerals.first :]]
    while len(head) > numerals.then:
        head, groups = head[: -numerals.then], [head[-numerals.then :], *groups]
    return numerals.group.join([head, *groups])


def format_amount(amount: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """``123456, "GBP"`` → ``"1,234.56"`` (``"1.234,56"`` in ``de_DE``): every minor unit the
    currency has, in the locale's way of writing numbers. For people, never for calculation.
    (babel's own formatting gives the same text; this is several times faster, and a page lists
    many amounts.)"""
    places = exponent(currency)
    numerals = _numerals(locale)
    units, minor = divmod(abs(amount), 10**places)
    text = _grouped(str(units), numerals) + (f"{numerals.decimal}{minor:0{places}d}" if places else "")
    return "-" + text if amount < 0 else text  # babel writes a hyphen-minus in every locale


def plain_decimal(value: Decimal) -> str:
    """``Decimal("10.00")`` -> ``"10"``, ``Decimal("12.50")`` -> ``"12.5"``: never ``1E+1``."""
    return format(value.normalize(), "f")


def as_decimal(amount: int, currency: str) -> Decimal:
    """``12345, "GBP"`` → ``Decimal("123.45")``: minor units as the currency's major units, exactly
    (for Xero, which speaks in major units)."""
    return Decimal(amount).scaleb(-exponent(currency))


def from_decimal(value: Decimal, currency: str) -> int:
    """``Decimal("123.45"), "GBP"`` → ``12345``. A value with more places than the currency has
    is rounded here, the one place that rounds, ties away from zero."""
    return round_minor(value.scaleb(exponent(currency)))
