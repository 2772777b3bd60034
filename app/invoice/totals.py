"""An invoice's totals are the sums of its lines; nothing else decides them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: int  # net of tax
    tax_total: int
    total: int


def totals(lines: Iterable[tuple[int, int]], *, inclusive: bool) -> Totals:
    """``lines`` are (line_amount, tax_amount) pairs; line amounts are gross when ``inclusive``."""
    amount = tax = 0
    for line_amount, tax_amount in lines:
        amount += line_amount
        tax += tax_amount
    subtotal = amount - tax if inclusive else amount
    return Totals(subtotal=subtotal, tax_total=tax, total=subtotal + tax)
