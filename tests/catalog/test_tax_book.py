"""Which tax a line carries: the customer's override, then the location's policy, then the account's
own rate; an archived rate or none at all is refused, never billed as zero."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

import pytest

from app.catalog.tax import AppliedTax, MissingTaxRate, TaxBook, TaxPart, tax_parts, tax_totals
from app.kit.money import TaxComponent, effective_rate

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


GST, PST = TaxComponent("GST", Decimal(5)), TaxComponent("PST", Decimal(7))
QST = TaxComponent("QST", Decimal("9.975"), compound=True)


def test_only_a_rate_of_several_components_shows_a_split() -> None:
    assert not AppliedTax(uuid.uuid4(), "None", Decimal(0)).split
    assert not AppliedTax(uuid.uuid4(), "VAT", Decimal("0.2"), (TaxComponent("VAT", Decimal(20)),)).split
    assert AppliedTax(uuid.uuid4(), "GST + PST", effective_rate([GST, PST]), (GST, PST)).split
    assert AppliedTax(uuid.uuid4(), "Three", effective_rate([GST, PST, QST]), (GST, PST, QST)).split


def test_a_lines_tax_parts_come_only_from_a_rate_of_several_components() -> None:
    assert tax_parts(2000, []) == []
    assert tax_parts(2000, [TaxComponent("VAT", Decimal(20))]) == []
    assert tax_parts(1200, [GST, PST]) == [
        TaxPart("GST", Decimal(5), False, 500),
        TaxPart("PST", Decimal(7), False, 700),
    ]
    three = tax_parts(-1000, [GST, PST, QST])
    assert [part.name for part in three] == ["GST", "PST", "QST"]
    assert sum(part.amount for part in three) == -1000
    assert three[2].compound


def test_a_documents_tax_per_component_adds_up_its_lines_parts() -> None:
    lines = [
        TaxPart("GST", Decimal(5), False, 500),
        TaxPart("PST", Decimal(7), False, 700),
        TaxPart("GST", Decimal(5), False, -125),
        TaxPart("QST", Decimal("9.975"), True, 3),
        TaxPart("PST", Decimal(7), False, 1),
        # Same name at another percentage, or compounding differently: a component of its own.
        TaxPart("GST", Decimal(6), False, 10),
        TaxPart("GST", Decimal(5), True, 20),
    ]
    assert tax_totals(lines) == [
        TaxPart("GST", Decimal(5), False, 375),
        TaxPart("PST", Decimal(7), False, 701),
        TaxPart("QST", Decimal("9.975"), True, 3),
        TaxPart("GST", Decimal(6), False, 10),
        TaxPart("GST", Decimal(5), True, 20),
    ]
    assert tax_totals([]) == []
    assert tax_totals([TaxPart("GST", Decimal(5), False, 7)]) == [TaxPart("GST", Decimal(5), False, 7)]


def test_an_applied_rate_and_its_parts_cannot_be_changed_once_made() -> None:
    """One rate is shared by every line a run taxes with it."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        VAT.rate = Decimal(0)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TaxPart("GST", Decimal(5), False, 500).amount = 0  # type: ignore[misc]
