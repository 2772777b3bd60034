"""Properties of the one module that rounds money."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

import pytest
from babel import Locale
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from app.kit.money import (
    MAX_AMOUNT,
    TaxComponent,
    as_decimal,
    effective_rate,
    exponent,
    format_amount,
    from_decimal,
    is_currency,
    line_amount,
    line_tax,
    per_hour,
    percent_of,
    plain_decimal,
    prorate,
    round_minor,
    split_tax,
)

amounts = st.integers(min_value=-(10**12), max_value=10**12)
positive = st.integers(min_value=0, max_value=10**12)
percents = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False)


@given(amounts, st.integers(min_value=1, max_value=366))
def test_prorating_a_whole_period_is_the_full_price(amount: int, days: int) -> None:
    assert prorate(amount, days, days) == amount


@given(positive, st.integers(min_value=1, max_value=366), st.data())
def test_the_two_parts_of_a_split_period_add_up_within_a_minor_unit(
    amount: int, period: int, data: st.DataObject
) -> None:
    days = data.draw(st.integers(min_value=0, max_value=period))
    first, second = prorate(amount, days, period), prorate(amount, period - days, period)
    assert isinstance(first, int)
    assert abs(first + second - amount) <= 1
    assert 0 <= first <= amount


def test_prorating_refuses_impossible_periods() -> None:
    with pytest.raises(ValueError, match="cannot prorate"):
        prorate(100, 31, 30)
    with pytest.raises(ValueError, match="cannot prorate -1 of 30 days"):
        prorate(100, -1, 30)
    with pytest.raises(ValueError, match="cannot prorate 0 of 0 days"):
        prorate(100, 0, 0)
    assert prorate(100, 0, 1) == 0
    assert prorate(100, 1, 1) == 100


def test_rounding_is_half_away_from_zero() -> None:
    assert [round_minor(Decimal(x)) for x in ("0.5", "1.5", "2.5", "-0.5", "-2.5", "2.4999")] == [1, 2, 3, -1, -3, 2]


def test_tax_is_rounded_per_line_like_xero() -> None:
    # Three 10.03 lines at 15%: each line's tax is 1.5045 -> 1.50, so 4.50 in all; taxing the
    # 30.09 subtotal would give 4.5135 -> 4.51. We must agree with Xero, which does the former.
    rate = effective_rate([TaxComponent("GST", Decimal(15))])
    lines = [1003, 1003, 1003]
    assert sum(line_tax(amount, rate, inclusive=False) for amount in lines) == 450
    assert line_tax(sum(lines), rate, inclusive=False) == 451


@given(positive, percents)
def test_inclusive_tax_never_exceeds_the_gross_amount(gross: int, percent: Decimal) -> None:
    tax = line_tax(gross, percent / 100, inclusive=True)
    assert isinstance(tax, int)
    assert 0 <= tax <= gross
    # Adding the tax back onto the net gives the gross again, to the minor unit.
    assert abs(line_tax(gross - tax, percent / 100, inclusive=False) - tax) <= 1


def test_compound_components_tax_the_tax_before_them() -> None:
    # Quebec-style: 5% GST, then 9.975% QST charged on the net amount plus GST.
    rate = effective_rate([TaxComponent("GST", Decimal(5)), TaxComponent("QST", Decimal("9.975"), compound=True)])
    assert rate == Decimal("0.15473750")
    simple = effective_rate([TaxComponent("GST", Decimal(5)), TaxComponent("PST", Decimal(7))])
    assert simple == Decimal("0.12")


@given(st.decimals(min_value=0, max_value=10000, places=4), st.integers(min_value=0, max_value=10**9))
def test_line_amount_is_an_int(quantity: Decimal, unit: int) -> None:
    result = line_amount(quantity, unit)
    assert isinstance(result, int)
    assert abs(Decimal(result) - quantity * unit) <= Decimal("0.5")


@given(positive, percents)
def test_a_percentage_discount_is_never_more_than_the_price(amount: int, percent: Decimal) -> None:
    assert 0 <= percent_of(amount, percent) <= amount


def test_amounts_are_shown_with_the_currency_exponent() -> None:
    assert format_amount(123456, "GBP") == "1,234.56"
    assert format_amount(-5, "EUR") == "-0.05"
    assert format_amount(1500, "JPY") == "1,500"
    assert format_amount(1234567, "KWD") == "1,234.567"
    assert format_amount(12345678, "CLF") == "1,234.5678"


def test_zero_and_amounts_under_one_unit_are_never_negative_zero() -> None:
    assert format_amount(0, "GBP") == "0.00"
    assert format_amount(0, "JPY") == "0"
    assert format_amount(7, "GBP") == "0.07"
    assert format_amount(-7, "GBP") == "-0.07"
    assert format_amount(-1, "GBP") == "-0.01"
    assert format_amount(-1500, "JPY") == "-1,500"


LOCALES = ["en_GB", "de_DE", "fr_FR", "en_IN", "sv_SE", "es_ES", "ja_JP", "pt_BR"]


def _babel_text(amount: int, currency: str, locale: str) -> str:
    """babel's own formatting of the amount: the locale's decimal pattern, with exactly as many
    fraction digits as the currency has minor units."""
    found = Locale.parse(locale)
    whole, _, _ = found.decimal_formats[None].pattern.partition(".")
    places = exponent(currency)
    pattern = whole + ("." + "0" * places if places else "")
    return format_decimal(Decimal(amount).scaleb(-places), format=pattern, locale=found)


@given(
    amount=st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
    currency=st.sampled_from(["GBP", "JPY", "KWD", "CLF", "INR", "CHF"]),
    locale=st.sampled_from(LOCALES),
)
def test_amounts_are_written_as_babel_writes_them_in_each_locale(amount: int, currency: str, locale: str) -> None:
    assert format_amount(amount, currency, locale) == _babel_text(amount, currency, locale)


def test_amounts_in_other_locales() -> None:
    assert format_amount(-123456789, "EUR", "de_DE") == "-1.234.567,89"
    assert format_amount(1234567890, "INR", "en_IN") == "1,23,45,678.90"
    assert format_amount(123456, "EUR", "fr_FR") == "1\u202f234,56"
    assert format_amount(99, "EUR", "de_DE") == "0,99"
    assert format_amount(0, "KWD", "de_DE") == "0,000"


def test_every_active_currency_has_its_exponent() -> None:
    assert [exponent(code) for code in ("JPY", "XPF", "GBP", "ZWG", "BHD", "TND", "CLF", "UYW")] == [
        0,
        0,
        2,
        2,
        3,
        3,
        4,
        4,
    ]
    assert is_currency("EUR")
    assert not is_currency("XXX")
    assert not is_currency("gbp")


def test_an_hour_rate_is_charged_by_the_minute_and_half_a_minor_unit_rounds_up() -> None:
    assert per_hour(1200, 60) == 1200
    assert per_hour(1200, 90) == 1800
    assert per_hour(1000, 1) == 17  # 16.67
    assert per_hour(1000, 2) == 33  # 33.33
    assert per_hour(1, 30) == 1  # a tie: 0.5 -> 1
    assert per_hour(3, 10) == 1  # a tie: 0.5 -> 1
    assert per_hour(1001, 30) == 501  # a tie: 500.5 -> 501
    assert per_hour(1, 29) == 0
    assert per_hour(0, 600) == 0
    assert per_hour(1500, 0) == 0


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=60 * 24 * 31))
def test_an_hour_rate_equals_exact_arithmetic_rounded_once(rate: int, minutes: int) -> None:
    assert per_hour(rate, minutes) == _exactly(Fraction(rate * minutes, 60))


def test_major_units_become_minor_units_exactly() -> None:
    assert from_decimal(Decimal("123.45"), "GBP") == 12345
    assert from_decimal(Decimal("-123.45"), "GBP") == -12345
    assert from_decimal(Decimal(0), "GBP") == 0
    assert from_decimal(Decimal("1500"), "JPY") == 1500
    assert from_decimal(Decimal("1.234"), "KWD") == 1234
    assert from_decimal(Decimal("10"), "CLF") == 100000


def test_more_places_than_the_currency_has_round_half_away_from_zero() -> None:
    assert from_decimal(Decimal("1.005"), "GBP") == 101
    assert from_decimal(Decimal("-1.005"), "GBP") == -101
    assert from_decimal(Decimal("1.0049"), "GBP") == 100
    assert from_decimal(Decimal("1234.5"), "JPY") == 1235
    assert from_decimal(Decimal("0.0005"), "KWD") == 1


@given(amounts, st.sampled_from(["JPY", "GBP", "KWD", "CLF"]))
def test_minor_units_survive_the_trip_through_major_units(amount: int, currency: str) -> None:
    major = as_decimal(amount, currency)
    assert major == Fraction(amount, 10 ** exponent(currency))
    assert from_decimal(major, currency) == amount


def test_decimals_are_written_plainly() -> None:
    assert plain_decimal(Decimal("10.00")) == "10"
    assert plain_decimal(Decimal("12.50")) == "12.5"
    assert plain_decimal(Decimal("1E+1")) == "10"
    assert plain_decimal(Decimal("0.0750")) == "0.075"


def _exactly(value: Fraction) -> int:
    """Half away from zero, on an exact fraction: what every rounding here must equal."""
    whole = int(abs(value) + Fraction(1, 2))  # floor of |value| + 1/2
    return whole if value >= 0 else -whole


@given(amounts, percents, st.booleans(), st.integers(min_value=1, max_value=366), st.data())
def test_every_calculation_equals_exact_arithmetic_rounded_once(
    amount: int, percent: Decimal, inclusive: bool, period: int, data: st.DataObject
) -> None:
    """Integers only, whatever the size: no precision limit, no float, one rounding at the end."""
    rate = Fraction(percent) / 100
    days = data.draw(st.integers(min_value=0, max_value=period))
    quantity = data.draw(st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False))
    tax = line_tax(amount, percent / 100, inclusive=inclusive)
    assert tax == _exactly(amount * rate / (1 + rate) if inclusive else amount * rate)
    assert prorate(amount, days, period) == _exactly(Fraction(amount * days, period))
    assert percent_of(amount, percent) == _exactly(amount * rate)
    assert line_amount(quantity, amount) == _exactly(Fraction(quantity) * amount)


def test_the_largest_amount_is_a_hundred_billion_and_sums_of_it_fit_in_a_bigint() -> None:
    """The bound every amount is checked against where it enters (``app.kit.money.MAX_AMOUNT``)."""
    assert 100_000_000_000 * 10 ** exponent("GBP") == MAX_AMOUNT
    assert MAX_AMOUNT * 100_000 < 2**63  # a hundred thousand of them summed


def test_a_tax_component_cannot_be_changed_once_made() -> None:
    """Rates are shared by every line they tax: one line must not be able to change another's."""
    gst = TaxComponent("GST", Decimal(5))
    with pytest.raises(dataclasses.FrozenInstanceError):
        gst.percent = Decimal(10)  # type: ignore[misc]


def test_the_tax_is_rounded_once_then_split_so_the_parts_add_up() -> None:
    gst_qst = [TaxComponent("GST", Decimal(5)), TaxComponent("QST", Decimal("9.975"), compound=True)]
    # The compound part is charged on the GST too: 5% + 9.975% x 1.05 = 15.47375%.
    assert effective_rate(gst_qst) == Decimal("0.1547375")
    # 3,868 of 25,000: GST's exact share is 1,249.89, QST's 2,618.11; the missing unit goes to GST.
    assert split_tax(3868, gst_qst) == [1250, 2618]
    assert split_tax(-484, gst_qst) == [-156, -328]
    # Two equal components: 9% + 9% of 10.05 is 1.809 -> 1.81, shared 0.91 and 0.90 (the first
    # gets the odd cent), as Xero shows it.
    nines = [TaxComponent("A", Decimal(9)), TaxComponent("B", Decimal(9))]
    assert split_tax(181, nines) == [91, 90]
    assert split_tax(0, nines) == [0, 0]
    # 5% + 7% of a 10-unit tax: exact shares 4.17 and 5.83; the unit goes to the larger loss.
    assert split_tax(10, [TaxComponent("GST", Decimal(5)), TaxComponent("PST", Decimal(7))]) == [4, 6]
    # A single unit, either way: it goes to the larger share, with the tax's sign.
    gst_pst = [TaxComponent("GST", Decimal(5)), TaxComponent("PST", Decimal(7))]
    assert (split_tax(1, gst_pst), split_tax(-1, gst_pst)) == ([0, 1], [0, -1])
    # Three equal thirds of 2: the earlier components get the units.
    thirds = [TaxComponent(name, Decimal(4)) for name in "ABC"]
    assert split_tax(2, thirds) == [1, 1, 0]
    assert split_tax(-2, thirds) == [-1, -1, 0]
    # No components, nothing to split; a rate of nothing at all takes nothing.
    assert split_tax(25, []) == []
    assert split_tax(0, [TaxComponent("Zero", Decimal(0)), TaxComponent("Nil", Decimal(0))]) == [0, 0]


components = st.lists(
    st.builds(TaxComponent, st.just("T"), st.decimals(min_value=0, max_value=30, places=3), st.booleans()),
    min_size=1,
    max_size=4,
)


def _exact_shares(tax: int, parts: list[TaxComponent]) -> list[Fraction]:
    """Each component's exact share of ``tax``, worked out here from the definition."""
    added: list[Fraction] = []
    for part in parts:
        rate = Fraction(part.percent) / 100
        added.append(rate * (1 + sum(added, Fraction(0))) if part.compound else rate)
    whole = sum(added, Fraction(0))
    return [tax * part / whole if whole else Fraction(0) for part in added]


@given(st.integers(min_value=-(10**12), max_value=10**12), components)
def test_a_split_adds_up_and_gives_the_odd_units_to_the_largest_losses(tax: int, parts: list[TaxComponent]) -> None:
    split = split_tax(tax, parts)
    exact = _exact_shares(tax, parts)
    assert len(split) == len(parts)
    assert all(isinstance(part, int) for part in split)
    if any(share for share in exact) or tax == 0:
        assert sum(split) == tax
    assert all(abs(part - share) < 1 for part, share in zip(split, exact, strict=True))
    assert split_tax(-tax, parts) == [-part for part in split]
    # Every part is its share cut to a whole unit, or one more; those given one more lost the
    # most by the cut (the earlier one when two lost the same).
    size = [abs(share) for share in exact]
    cut = [share.numerator // share.denominator for share in size]
    raised = [index for index, part in enumerate(split) if abs(part) > cut[index]]
    kept = [index for index in range(len(split)) if index not in raised]
    loss = [share - whole for share, whole in zip(size, cut, strict=True)]
    assert all(abs(split[index]) == cut[index] + 1 for index in raised)
    assert all((loss[up], -up) > (loss[down], -down) for up in raised for down in kept)
