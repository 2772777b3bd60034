"""Which tax a line carries: the customer's override, then the location's policy, then the account's
own rate; an archived rate or none at all is refused, never billed as zero."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from app.catalog.tax import AppliedTax, MissingTaxRate, TaxBook

VAT = AppliedTax(uuid.uuid4(), "VAT 20%", Decimal("0.2"))
REDUCED = AppliedTax(uuid.uuid4(), "Reduced 5%", Decimal("0.05"))
EXEMPT = AppliedTax(uuid.uuid4(), "Exempt", Decimal(0))
OLD = AppliedTax(uuid.uuid4(), "Old VAT 17.5%", Decimal("0.175"))
FEES, PARKING, BOOKINGS = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
HERE, THERE = uuid.uuid4(), uuid.uuid4()


def book(
    policies: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] | None = None,
    defaults: dict[uuid.UUID, uuid.UUID | None] | None = None,
) -> TaxBook:
    return TaxBook(
        rates={rate.tax_rate_id: rate for rate in (VAT, REDUCED, EXEMPT, OLD)},
        archived={OLD.tax_rate_id},
        account_defaults={FEES: VAT.tax_rate_id, PARKING: None, BOOKINGS: VAT.tax_rate_id, **(defaults or {})},
        account_names={FEES: "Membership fees", PARKING: "Parking", BOOKINGS: "Bookings"},
        policies=policies or {},
    )


def test_the_account_rate_applies_when_nothing_overrides_it() -> None:
    assert book().for_line(FEES, HERE, None) == VAT


def test_the_location_policy_comes_before_the_account_rate() -> None:
    taxes = book({(HERE, FEES): REDUCED.tax_rate_id})
    assert taxes.for_line(FEES, HERE, None) == REDUCED
    # Only at that location, and only for that account.
    assert taxes.for_line(FEES, THERE, None) == VAT
    assert taxes.for_line(BOOKINGS, HERE, None) == VAT


def test_the_customer_override_comes_before_everything() -> None:
    assert book().for_line(FEES, HERE, EXEMPT.tax_rate_id) == EXEMPT
    assert book({(HERE, FEES): REDUCED.tax_rate_id}).for_line(FEES, HERE, EXEMPT.tax_rate_id) == EXEMPT
    # An override also gives a rate to an account that has none.
    assert book().for_line(PARKING, HERE, REDUCED.tax_rate_id) == REDUCED


def test_a_policy_gives_a_rate_to_an_account_that_has_none() -> None:
    assert book({(HERE, PARKING): REDUCED.tax_rate_id}).for_line(PARKING, HERE, None) == REDUCED


def test_no_rate_at_all_is_an_error_naming_the_account() -> None:
    with pytest.raises(MissingTaxRate, match="No tax rate for 'Parking' at this location"):
        book().for_line(PARKING, HERE, None)
    unknown = uuid.uuid4()
    with pytest.raises(MissingTaxRate, match=f"No tax rate for '{unknown}'"):
        book().for_line(unknown, HERE, None)


@pytest.mark.parametrize("how", ["account", "policy", "override"])
def test_an_archived_rate_is_refused_wherever_it_comes_from(how: str) -> None:
    old = OLD.tax_rate_id
    taxes = book({(HERE, FEES): old} if how == "policy" else None, {FEES: old} if how == "account" else None)
    with pytest.raises(MissingTaxRate, match=r"The tax rate 'Old VAT 17.5%' used for 'Membership fees' is archived\."):
        taxes.for_line(FEES, HERE, old if how == "override" else None)
