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

# Active ISO 4217 currencies and their minor-unit exponents.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD "
    "CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD "
    "HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD "
    "MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON "
    "RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD "
    "TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG"
)

CURRENCY_EXPONENTS: dict[str, int] = {
    code: exponent
    for exponent, codes in (
        (0, _EXPONENT_0),
        (2, _EXPONENT_2),
        (3, _EXPONENT_3),
        (4, _EXPONENT_4),
    )
    for code in codes.split()
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


def format_amount(amount: int, currency: str) -> str:
    """``123456, "GBP"`` → ``"1,234.56"``: for people, never for calculation."""
    places = exponent(currency)
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**places) if places else (abs(amount), 0)
    return f"{sign}{units:,}" + (f".{minor:0{places}d}" if places else "")


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
