"""Bodies of the ledger's API calls."""

from __future__ import annotations

from typing import Any

from tests.support.worlds import World


def payment(world: World, amount: int, day: str, **extra: Any) -> dict[str, Any]:
    return {
        "company_id": str(world.company.id),
        "amount": amount,
        "currency": "GBP",
        "method": "bank_transfer",
        "paid_on": day,
        **extra,
    }
