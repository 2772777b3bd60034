"""Properties of the one module that rounds money."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.kit.money import (
    TaxComponent,
    effective_rate,
    format_amount,
    line_amount,
    line_tax,
    percent_of,
    prorate,
    round_minor,
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
