"""Fourteen months of one location, billed month by month, against invoices worked out by hand.

One location ("Scenario House", GBP, VAT 20% charged on top of the price, billing day the 1st)
and eight companies holding twenty memberships that start, change and end between November 2027
and December 2028, across the leap day of 29 February 2028. The clock travels: the operator's
diary (``DIARY``) is replayed in date order, and on the 1st of every month the location is billed
by the same service the API calls. Every invoice each run writes must be exactly the one in
``EXPECTED``, which was worked out by hand (with a calculator) from these conventions, and never
with the app's own arithmetic:

* Billing is in advance: the run of the 1st bills every cycle that starts before the next 1st
  and has not been billed yet (a membership entered late is caught up by the next run).
* A membership that starts between billing days first pays a partial cycle up to the next one.
  A partial cycle is priced by actual days: unit = price x days billed / days of the whole cycle
  it belongs to (for the 3-month plan the whole cycle is the quarter ending at that billing day),
  rounded to the penny, halves away from zero. A plan without proration charges its full price
  for a partial cycle.
* A membership that ends mid-cycle (its end known before the cycle is billed) is billed up to and
  including its last day. Once a cycle is billed, its end can only be set from the last billed
  day on: an earlier end is refused (it needs a credit note). An end moved later (or removed)
  after billing stopped inside a cycle bills the rest of that cycle as a partial one, so no day
  goes unbilled and none is billed twice: a plan without proration, whose cycle was already paid
  in full, owes nothing more for it.
* Line amount = quantity x unit. A percent discount is a line of its own, worth the percentage
  of that line amount (halves away from zero); a fixed discount is a fixed sum off each cycle's
  line, prorated like the plan when the cycle is partial, never more than the line.
* VAT is worked out on every line on its own (halves away from zero); the invoice's subtotal and
  VAT are the sums of its lines, and total = subtotal + VAT.
* A plan's new price applies to cycles billed after the change; a price override does not move.

Amounts are in pence. The plans have no deposit and no included credit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pprint import pformat

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import ROLE_SCOPES, Operator
from app.billing.service import run_billing
from app.catalog import service as catalog
from app.catalog.repository import RevenueAccountRepository
from app.catalog.schemas import (
    DiscountCreate,
    PlanCreate,
    PlanUpdate,
    RevenueAccountUpdate,
    TaxComponentIn,
    TaxRateCreate,
)
from app.company.schemas import CompanyCreate
from app.company.service import create_company
from app.invoice.models import Invoice, InvoiceLine
from app.kit.clock import FrozenClock
from app.kit.errors import Conflict
from app.location.models import Location
from app.membership.schemas import MembershipCreate, MembershipUpdate
from app.membership.service import create_membership, update_membership
from app.state import AppState
from app.tenant.service import create_tenant
from tests.support.worlds import new_location, new_tenant

# --- the catalogue ------------------------------------------------------------------------------

# name: (price in pence per cycle, months per cycle, prorated)
PLANS: dict[str, tuple[int, int, bool]] = {
    "Hot desk": (25000, 1, True),
    "Dedicated desk": (40000, 1, True),
    "Private office": (150000, 1, True),
    "Virtual office": (30000, 3, True),
    "Locker": (3500, 1, False),
}
FOUNDERS = DiscountCreate(name="Founders", kind="percent", percent="12.5")
PARTNER = DiscountCreate(name="Partner", kind="percent", percent="7.25")
WELCOME = DiscountCreate(name="Welcome", kind="fixed", amount=5000, currency="GBP")
COMPANIES = (
    "Acme Ltd",
    "Birch & Co",
    "Cobalt LLP",
    "Delta Design",
    "Ember Studio",
    "Fable Media",
    "Granite Partners",
    "Harbour Labs",
)


# --- what the operator does, and when -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Join:
    """A new membership: ``last_day`` is its end when already known."""

    key: str
    company: str
    plan: str
    start: date
    last_day: date | None = None
    quantity: int = 1
    price: int | None = None  # a price override
    discount: str | None = None


@dataclass(frozen=True, slots=True)
class SetEnd:
    key: str
    last_day: date | None  # None: the end is removed


@dataclass(frozen=True, slots=True)
class SetQuantity:
    key: str
    quantity: int


@dataclass(frozen=True, slots=True)
class SetDiscount:
    key: str
    discount: str


@dataclass(frozen=True, slots=True)
class EndRefused:
    """An end inside a cycle already billed: refused, nothing changes."""

    key: str
    last_day: date
    reason: str


@dataclass(frozen=True, slots=True)
class Reprice:
    plan: str
    price: int


Action = Join | SetEnd | SetQuantity | SetDiscount | EndRefused | Reprice

OPENING = date(2027, 10, 20)  # the catalogue and the companies are set up

# Each entry happens at noon on its date, so before the run of any later 1st.
DIARY: list[tuple[date, Action]] = [
    (date(2027, 10, 20), Join("M01", "Acme Ltd", "Hot desk", date(2027, 11, 1), discount="Founders")),
    (date(2027, 10, 20), Join("M02", "Acme Ltd", "Dedicated desk", date(2027, 11, 15), quantity=3)),
    (date(2027, 10, 20), Join("M03", "Birch & Co", "Private office", date(2027, 11, 16), discount="Partner")),
    (date(2027, 10, 20), Join("M18", "Cobalt LLP", "Private office", date(2027, 11, 1), discount="Welcome")),
    (date(2027, 10, 20), Join("M07", "Delta Design", "Dedicated desk", date(2027, 12, 1), date(2028, 2, 28))),
    (date(2027, 10, 20), Join("M08", "Delta Design", "Hot desk", date(2027, 11, 1))),
    (date(2027, 10, 20), Join("M09", "Ember Studio", "Hot desk", date(2027, 11, 1))),
    (
        date(2027, 10, 20),
        Join("M11", "Fable Media", "Private office", date(2027, 11, 1), price=120000, discount="Partner"),
    ),
    # A six-day trial ...
    (date(2027, 10, 20), Join("M12", "Fable Media", "Hot desk", date(2027, 11, 15), date(2027, 11, 20))),
    (date(2027, 10, 20), Join("M13", "Granite Partners", "Virtual office", date(2027, 11, 1), discount="Welcome")),
    (date(2027, 10, 20), Join("M16", "Harbour Labs", "Locker", date(2027, 11, 1), date(2027, 12, 15))),
    (date(2027, 10, 20), Join("M20", "Harbour Labs", "Hot desk", date(2027, 11, 16), price=24997)),
    # ... that the member turns into an open-ended membership, after its 6 days were billed.
    (date(2027, 11, 25), SetEnd("M12", None)),
    (date(2027, 12, 15), Join("M04", "Birch & Co", "Virtual office", date(2028, 1, 10))),
    (
        date(2027, 12, 15),
        Join("M14", "Granite Partners", "Hot desk", date(2028, 1, 3), quantity=4, price=22000, discount="Founders"),
    ),
    (date(2027, 12, 15), SetEnd("M08", date(2028, 1, 10))),
    # Billed up to 10 Jan; then the member stays until the end of February after all.
    (date(2028, 1, 20), SetEnd("M08", date(2028, 2, 29))),
    (date(2028, 1, 20), Join("M05", "Cobalt LLP", "Hot desk", date(2028, 2, 29), quantity=2, discount="Welcome")),
    # Entered late: started on 10 Jan, recorded after the February run.
    (date(2028, 2, 10), Join("M15", "Harbour Labs", "Dedicated desk", date(2028, 1, 10))),
    (date(2028, 2, 10), SetQuantity("M02", 2)),
    (date(2028, 2, 10), Join("M06", "Cobalt LLP", "Locker", date(2028, 3, 20), date(2028, 6, 10))),
    (date(2028, 2, 10), Join("M17", "Granite Partners", "Virtual office", date(2028, 3, 15), date(2028, 8, 20))),
    # Ember Studio moves from a hot desk to a dedicated desk on 15 April: one ends, the other starts.
    (date(2028, 3, 15), SetEnd("M09", date(2028, 4, 14))),
    (date(2028, 3, 15), Join("M10", "Ember Studio", "Dedicated desk", date(2028, 4, 15))),
    (date(2028, 5, 20), SetQuantity("M14", 5)),
    # June is billed: Acme cannot end mid-June without a credit note, but can end on 30 June.
    (date(2028, 6, 10), EndRefused("M02", date(2028, 6, 15), "billed through 30 Jun 2028")),
    (date(2028, 6, 10), SetEnd("M02", date(2028, 6, 30))),
    (date(2028, 6, 10), SetEnd("M18", date(2028, 7, 15))),
    # Cobalt keeps the locker after all (its June, to the 10th, is billed): until 30 September.
    (date(2028, 6, 20), SetEnd("M06", date(2028, 9, 30))),
    (date(2028, 8, 15), Reprice("Hot desk", 26000)),
    (date(2028, 8, 15), Join("M19", "Delta Design", "Dedicated desk", date(2028, 9, 1), quantity=2)),
    (date(2028, 9, 10), SetDiscount("M19", "Founders")),
    # The quarter Aug-Oct is billed: Birch can end at its end, not inside it.
    (date(2028, 9, 10), EndRefused("M04", date(2028, 9, 30), "billed through 31 Oct 2028")),
    (date(2028, 9, 10), SetEnd("M04", date(2028, 10, 31))),
]


# --- the invoices, worked out by hand -----------------------------------------------------------

# (description, quantity, unit amount, line amount, VAT); the invoice's (subtotal, VAT, total).
# Lines are in the engine's order: by plan name, then by membership, then by period; a discount
# follows the line it is taken off. Mxx names the membership in DIARY.
Line = tuple[str, Decimal | int, int, int, int]
Invoiced = tuple[list[Line], tuple[int, int, int]]

EXPECTED: dict[date, dict[str, Invoiced]] = {
    date(2027, 11, 1): {
        "Acme Ltd": (
            [
                # M02: 400.00 x 16/30 = 213.3333 -> 213.33; x 3 = 639.99; VAT 127.998 -> 128.00
                ("Dedicated desk, 15 Nov 2027 to 30 Nov 2027 (16 of 30 days)", 3, 21333, 63999, 12800),
                ("Hot desk, 1 Nov 2027 to 30 Nov 2027", 1, 25000, 25000, 5000),  # M01
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (85874, 17175, 103049),
        ),
        "Birch & Co": (
            [
                # M03: 1,500.00 x 15/30 = 750.00; 7.25% of it = 54.375 -> 54.38; VAT 10.876 -> 10.88
                ("Private office, 16 Nov 2027 to 30 Nov 2027 (15 of 30 days)", 1, 75000, 75000, 15000),
                ("Partner: 7.25% off Private office", 1, -5438, -5438, -1088),
            ],
            (69562, 13912, 83474),
        ),
        "Cobalt LLP": (
            [
                ("Private office, 1 Nov 2027 to 30 Nov 2027", 1, 150000, 150000, 30000),  # M18
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (145000, 29000, 174000),
        ),
        "Delta Design": (
            [("Hot desk, 1 Nov 2027 to 30 Nov 2027", 1, 25000, 25000, 5000)],  # M08
            (25000, 5000, 30000),
        ),
        "Ember Studio": (
            [("Hot desk, 1 Nov 2027 to 30 Nov 2027", 1, 25000, 25000, 5000)],  # M09
            (25000, 5000, 30000),
        ),
        "Fable Media": (
            [
                # M12, the trial: 250.00 x 6/30 = 50.00
                ("Hot desk, 15 Nov 2027 to 20 Nov 2027 (6 of 30 days)", 1, 5000, 5000, 1000),
                # M11: overridden price 1,200.00; 7.25% = 87.00
                ("Private office, 1 Nov 2027 to 30 Nov 2027", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (116300, 23260, 139560),
        ),
        "Granite Partners": (
            [
                ("Virtual office, 1 Nov 2027 to 31 Jan 2028", 1, 30000, 30000, 6000),  # M13, a whole quarter
                ("Welcome: 50.00 off Virtual office", 1, -5000, -5000, -1000),
            ],
            (25000, 5000, 30000),
        ),
        "Harbour Labs": (
            [
                # M20: overridden 249.97 x 15/30 = 124.985 -> 124.99 (half away from zero); VAT 24.998 -> 25.00
                ("Hot desk, 16 Nov 2027 to 30 Nov 2027 (15 of 30 days)", 1, 12499, 12499, 2500),
                ("Locker, 1 Nov 2027 to 30 Nov 2027", 1, 3500, 3500, 700),  # M16
            ],
            (15999, 3200, 19199),
        ),
    },
    date(2027, 12, 1): {
        "Acme Ltd": (
            [
                ("Dedicated desk, 1 Dec 2027 to 31 Dec 2027", 3, 40000, 120000, 24000),
                ("Hot desk, 1 Dec 2027 to 31 Dec 2027", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (141875, 28375, 170250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Dec 2027 to 31 Dec 2027", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Private office, 1 Dec 2027 to 31 Dec 2027", 1, 150000, 150000, 30000),
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (145000, 29000, 174000),
        ),
        "Delta Design": (
            [
                ("Dedicated desk, 1 Dec 2027 to 31 Dec 2027", 1, 40000, 40000, 8000),  # M07
                ("Hot desk, 1 Dec 2027 to 31 Dec 2027", 1, 25000, 25000, 5000),  # M08
            ],
            (65000, 13000, 78000),
        ),
        "Ember Studio": (
            [("Hot desk, 1 Dec 2027 to 31 Dec 2027", 1, 25000, 25000, 5000)],
            (25000, 5000, 30000),
        ),
        "Fable Media": (
            [
                # M12: its end was removed after 15-20 Nov was billed; the rest of November is owed:
                # 250.00 x 10/30 = 83.3333 -> 83.33; VAT 16.666 -> 16.67
                ("Hot desk, 21 Nov 2027 to 30 Nov 2027 (10 of 30 days)", 1, 8333, 8333, 1667),
                ("Hot desk, 1 Dec 2027 to 31 Dec 2027", 1, 25000, 25000, 5000),
                ("Private office, 1 Dec 2027 to 31 Dec 2027", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (144633, 28927, 173560),
        ),
        # Granite Partners: its quarter runs to 31 Jan; nothing this month.
        "Harbour Labs": (
            [
                ("Hot desk, 1 Dec 2027 to 31 Dec 2027", 1, 24997, 24997, 4999),  # VAT 49.994 -> 49.99
                # M16 ends on 15 Dec; the locker is not prorated, so the part-month costs the full 35.00
                ("Locker, 1 Dec 2027 to 15 Dec 2027", 1, 3500, 3500, 700),
            ],
            (28497, 5699, 34196),
        ),
    },
    date(2028, 1, 1): {
        "Acme Ltd": (
            [
                ("Dedicated desk, 1 Jan 2028 to 31 Jan 2028", 3, 40000, 120000, 24000),
                ("Hot desk, 1 Jan 2028 to 31 Jan 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (141875, 28375, 170250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Jan 2028 to 31 Jan 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
                # M04, quarterly from 1 Feb: 10-31 Jan is 22 days of the quarter 1 Nov-31 Jan (30+31+31 = 92)
                # 300.00 x 22/92 = 71.7391 -> 71.74; VAT 14.348 -> 14.35
                ("Virtual office, 10 Jan 2028 to 31 Jan 2028 (22 of 92 days)", 1, 7174, 7174, 1435),
            ],
            (146299, 29260, 175559),
        ),
        "Cobalt LLP": (
            [
                ("Private office, 1 Jan 2028 to 31 Jan 2028", 1, 150000, 150000, 30000),
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (145000, 29000, 174000),
        ),
        "Delta Design": (
            [
                ("Dedicated desk, 1 Jan 2028 to 31 Jan 2028", 1, 40000, 40000, 8000),
                # M08 ends on 10 Jan: 250.00 x 10/31 = 80.6452 -> 80.65; VAT 16.13
                ("Hot desk, 1 Jan 2028 to 10 Jan 2028 (10 of 31 days)", 1, 8065, 8065, 1613),
            ],
            (48065, 9613, 57678),
        ),
        "Ember Studio": (
            [("Hot desk, 1 Jan 2028 to 31 Jan 2028", 1, 25000, 25000, 5000)],
            (25000, 5000, 30000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Jan 2028 to 31 Jan 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 Jan 2028 to 31 Jan 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                # M14: overridden 220.00 x 29/31 = 205.8065 -> 205.81; x 4 = 823.24; VAT 164.648 -> 164.65
                ("Hot desk, 3 Jan 2028 to 31 Jan 2028 (29 of 31 days)", 4, 20581, 82324, 16465),
                # 12.5% of 823.24 = 102.905 -> 102.91 (half away from zero); VAT 20.582 -> 20.58
                ("Founders: 12.5% off Hot desk", 1, -10291, -10291, -2058),
            ],
            (72033, 14407, 86440),
        ),
        "Harbour Labs": (
            [("Hot desk, 1 Jan 2028 to 31 Jan 2028", 1, 24997, 24997, 4999)],
            (24997, 4999, 29996),
        ),
    },
    date(2028, 2, 1): {
        "Acme Ltd": (
            [
                ("Dedicated desk, 1 Feb 2028 to 29 Feb 2028", 3, 40000, 120000, 24000),
                ("Hot desk, 1 Feb 2028 to 29 Feb 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (141875, 28375, 170250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Feb 2028 to 29 Feb 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
                ("Virtual office, 1 Feb 2028 to 30 Apr 2028", 1, 30000, 30000, 6000),  # M04's first quarter
            ],
            (169125, 33825, 202950),
        ),
        "Cobalt LLP": (
            [
                # M05 starts on the leap day: 250.00 x 1/29 = 8.6207 -> 8.62; x 2 = 17.24; VAT 3.448 -> 3.45
                ("Hot desk, 29 Feb 2028 to 29 Feb 2028 (1 of 29 days)", 2, 862, 1724, 345),
                # the fixed 50.00 prorated the same way: 50.00 x 1/29 = 1.7241 -> 1.72; VAT 0.344 -> 0.34
                ("Welcome: 50.00 off Hot desk", 1, -172, -172, -34),
                ("Private office, 1 Feb 2028 to 29 Feb 2028", 1, 150000, 150000, 30000),
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (146552, 29311, 175863),
        ),
        "Delta Design": (
            [
                # M07 ends on 28 Feb: 400.00 x 28/29 = 386.2069 -> 386.21; VAT 77.242 -> 77.24
                ("Dedicated desk, 1 Feb 2028 to 28 Feb 2028 (28 of 29 days)", 1, 38621, 38621, 7724),
                # M08, its end moved from 10 Jan to 29 Feb: the rest of January, 250.00 x 21/31 = 169.3548 -> 169.35
                ("Hot desk, 11 Jan 2028 to 31 Jan 2028 (21 of 31 days)", 1, 16935, 16935, 3387),
                # ... and all of February, its last day being the leap day
                ("Hot desk, 1 Feb 2028 to 29 Feb 2028", 1, 25000, 25000, 5000),
            ],
            (80556, 16111, 96667),
        ),
        "Ember Studio": (
            [("Hot desk, 1 Feb 2028 to 29 Feb 2028", 1, 25000, 25000, 5000)],
            (25000, 5000, 30000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Feb 2028 to 29 Feb 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 Feb 2028 to 29 Feb 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Feb 2028 to 29 Feb 2028", 4, 22000, 88000, 17600),
                ("Founders: 12.5% off Hot desk", 1, -11000, -11000, -2200),
                ("Virtual office, 1 Feb 2028 to 30 Apr 2028", 1, 30000, 30000, 6000),  # M13's second quarter
                ("Welcome: 50.00 off Virtual office", 1, -5000, -5000, -1000),
            ],
            (102000, 20400, 122400),
        ),
        "Harbour Labs": (
            [("Hot desk, 1 Feb 2028 to 29 Feb 2028", 1, 24997, 24997, 4999)],
            (24997, 4999, 29996),
        ),
    },
    date(2028, 3, 1): {
        "Acme Ltd": (
            [
                ("Dedicated desk, 1 Mar 2028 to 31 Mar 2028", 2, 40000, 80000, 16000),  # M02 down to 2 desks
                ("Hot desk, 1 Mar 2028 to 31 Mar 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (101875, 20375, 122250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Mar 2028 to 31 Mar 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Mar 2028 to 31 Mar 2028", 2, 25000, 50000, 10000),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
                # M06 starts on 20 Mar; the locker is not prorated
                ("Locker, 20 Mar 2028 to 31 Mar 2028", 1, 3500, 3500, 700),
                ("Private office, 1 Mar 2028 to 31 Mar 2028", 1, 150000, 150000, 30000),
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (193500, 38700, 232200),
        ),
        # Delta Design: both memberships ended in February.
        "Ember Studio": (
            [("Hot desk, 1 Mar 2028 to 31 Mar 2028", 1, 25000, 25000, 5000)],
            (25000, 5000, 30000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Mar 2028 to 31 Mar 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 Mar 2028 to 31 Mar 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Mar 2028 to 31 Mar 2028", 4, 22000, 88000, 17600),
                ("Founders: 12.5% off Hot desk", 1, -11000, -11000, -2200),
                # M17, quarterly from 1 Apr: 15-31 Mar is 17 days of the quarter 1 Jan-31 Mar (31+29+31 = 91)
                # 300.00 x 17/91 = 56.0440 -> 56.04; VAT 11.208 -> 11.21
                ("Virtual office, 15 Mar 2028 to 31 Mar 2028 (17 of 91 days)", 1, 5604, 5604, 1121),
            ],
            (82604, 16521, 99125),
        ),
        "Harbour Labs": (
            [
                # M15, entered after the February run, is caught up: 400.00 x 22/31 = 283.871 -> 283.87
                ("Dedicated desk, 10 Jan 2028 to 31 Jan 2028 (22 of 31 days)", 1, 28387, 28387, 5677),
                ("Dedicated desk, 1 Feb 2028 to 29 Feb 2028", 1, 40000, 40000, 8000),
                ("Dedicated desk, 1 Mar 2028 to 31 Mar 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Mar 2028 to 31 Mar 2028", 1, 24997, 24997, 4999),
            ],
            (133384, 26676, 160060),
        ),
    },
    date(2028, 4, 1): {
        "Acme Ltd": (
            [
                ("Dedicated desk, 1 Apr 2028 to 30 Apr 2028", 2, 40000, 80000, 16000),
                ("Hot desk, 1 Apr 2028 to 30 Apr 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (101875, 20375, 122250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Apr 2028 to 30 Apr 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Apr 2028 to 30 Apr 2028", 2, 25000, 50000, 10000),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
                ("Locker, 1 Apr 2028 to 30 Apr 2028", 1, 3500, 3500, 700),
                ("Private office, 1 Apr 2028 to 30 Apr 2028", 1, 150000, 150000, 30000),
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (193500, 38700, 232200),
        ),
        "Ember Studio": (
            [
                # The move on 15 Apr. M10: 400.00 x 16/30 = 213.3333 -> 213.33; VAT 42.666 -> 42.67
                ("Dedicated desk, 15 Apr 2028 to 30 Apr 2028 (16 of 30 days)", 1, 21333, 21333, 4267),
                # M09: 250.00 x 14/30 = 116.6667 -> 116.67; VAT 23.334 -> 23.33
                ("Hot desk, 1 Apr 2028 to 14 Apr 2028 (14 of 30 days)", 1, 11667, 11667, 2333),
            ],
            (33000, 6600, 39600),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Apr 2028 to 30 Apr 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 Apr 2028 to 30 Apr 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Apr 2028 to 30 Apr 2028", 4, 22000, 88000, 17600),
                ("Founders: 12.5% off Hot desk", 1, -11000, -11000, -2200),
                ("Virtual office, 1 Apr 2028 to 30 Jun 2028", 1, 30000, 30000, 6000),  # M17
            ],
            (107000, 21400, 128400),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Apr 2028 to 30 Apr 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Apr 2028 to 30 Apr 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 5, 1): {
        "Acme Ltd": (
            [
                ("Dedicated desk, 1 May 2028 to 31 May 2028", 2, 40000, 80000, 16000),
                ("Hot desk, 1 May 2028 to 31 May 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (101875, 20375, 122250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 May 2028 to 31 May 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
                ("Virtual office, 1 May 2028 to 31 Jul 2028", 1, 30000, 30000, 6000),
            ],
            (169125, 33825, 202950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 May 2028 to 31 May 2028", 2, 25000, 50000, 10000),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
                ("Locker, 1 May 2028 to 31 May 2028", 1, 3500, 3500, 700),
                ("Private office, 1 May 2028 to 31 May 2028", 1, 150000, 150000, 30000),
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (193500, 38700, 232200),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 May 2028 to 31 May 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 May 2028 to 31 May 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 May 2028 to 31 May 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 May 2028 to 31 May 2028", 4, 22000, 88000, 17600),
                ("Founders: 12.5% off Hot desk", 1, -11000, -11000, -2200),
                ("Virtual office, 1 May 2028 to 31 Jul 2028", 1, 30000, 30000, 6000),  # M13
                ("Welcome: 50.00 off Virtual office", 1, -5000, -5000, -1000),
            ],
            (102000, 20400, 122400),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 May 2028 to 31 May 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 May 2028 to 31 May 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 6, 1): {
        "Acme Ltd": (
            [
                ("Dedicated desk, 1 Jun 2028 to 30 Jun 2028", 2, 40000, 80000, 16000),
                ("Hot desk, 1 Jun 2028 to 30 Jun 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (101875, 20375, 122250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Jun 2028 to 30 Jun 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Jun 2028 to 30 Jun 2028", 2, 25000, 50000, 10000),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
                ("Locker, 1 Jun 2028 to 10 Jun 2028", 1, 3500, 3500, 700),  # M06's last part-month, not prorated
                ("Private office, 1 Jun 2028 to 30 Jun 2028", 1, 150000, 150000, 30000),
                ("Welcome: 50.00 off Private office", 1, -5000, -5000, -1000),
            ],
            (193500, 38700, 232200),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 Jun 2028 to 30 Jun 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Jun 2028 to 30 Jun 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 Jun 2028 to 30 Jun 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Jun 2028 to 30 Jun 2028", 5, 22000, 110000, 22000),  # M14 up to 5 desks
                ("Founders: 12.5% off Hot desk", 1, -13750, -13750, -2750),
            ],
            (96250, 19250, 115500),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Jun 2028 to 30 Jun 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Jun 2028 to 30 Jun 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 7, 1): {
        "Acme Ltd": (
            [
                # M02 ended on 30 Jun, already billed.
                ("Hot desk, 1 Jul 2028 to 31 Jul 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (21875, 4375, 26250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Jul 2028 to 31 Jul 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Jul 2028 to 31 Jul 2028", 2, 25000, 50000, 10000),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
                # M06, kept on: June already paid the locker's whole (unprorated) 35.00, so nothing more for
                # 11-30 Jun; July as usual.
                ("Locker, 1 Jul 2028 to 31 Jul 2028", 1, 3500, 3500, 700),
                # M18 ends on 15 Jul: 1,500.00 x 15/31 = 725.8065 -> 725.81; VAT 145.162 -> 145.16
                ("Private office, 1 Jul 2028 to 15 Jul 2028 (15 of 31 days)", 1, 72581, 72581, 14516),
                # 50.00 x 15/31 = 24.1935 -> 24.19; VAT 4.838 -> 4.84
                ("Welcome: 50.00 off Private office", 1, -2419, -2419, -484),
            ],
            (118662, 23732, 142394),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 Jul 2028 to 31 Jul 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Jul 2028 to 31 Jul 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 Jul 2028 to 31 Jul 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Jul 2028 to 31 Jul 2028", 5, 22000, 110000, 22000),
                ("Founders: 12.5% off Hot desk", 1, -13750, -13750, -2750),
                # M17 ends on 20 Aug: 31 + 20 = 51 days of the quarter 1 Jul-30 Sep (31+31+30 = 92)
                # 300.00 x 51/92 = 166.3043 -> 166.30; VAT 33.26
                ("Virtual office, 1 Jul 2028 to 20 Aug 2028 (51 of 92 days)", 1, 16630, 16630, 3326),
            ],
            (112880, 22576, 135456),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Jul 2028 to 31 Jul 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Jul 2028 to 31 Jul 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 8, 1): {
        "Acme Ltd": (
            [
                ("Hot desk, 1 Aug 2028 to 31 Aug 2028", 1, 25000, 25000, 5000),
                ("Founders: 12.5% off Hot desk", 1, -3125, -3125, -625),
            ],
            (21875, 4375, 26250),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Aug 2028 to 31 Aug 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
                ("Virtual office, 1 Aug 2028 to 31 Oct 2028", 1, 30000, 30000, 6000),
            ],
            (169125, 33825, 202950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Aug 2028 to 31 Aug 2028", 2, 25000, 50000, 10000),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
                ("Locker, 1 Aug 2028 to 31 Aug 2028", 1, 3500, 3500, 700),
            ],
            (48500, 9700, 58200),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 Aug 2028 to 31 Aug 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Aug 2028 to 31 Aug 2028", 1, 25000, 25000, 5000),
                ("Private office, 1 Aug 2028 to 31 Aug 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (136300, 27260, 163560),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Aug 2028 to 31 Aug 2028", 5, 22000, 110000, 22000),
                ("Founders: 12.5% off Hot desk", 1, -13750, -13750, -2750),
                ("Virtual office, 1 Aug 2028 to 31 Oct 2028", 1, 30000, 30000, 6000),  # M13
                ("Welcome: 50.00 off Virtual office", 1, -5000, -5000, -1000),
            ],
            (121250, 24250, 145500),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Aug 2028 to 31 Aug 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Aug 2028 to 31 Aug 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 9, 1): {
        "Acme Ltd": (
            [
                # The hot desk now costs 260.00; 12.5% of it = 32.50
                ("Hot desk, 1 Sep 2028 to 30 Sep 2028", 1, 26000, 26000, 5200),
                ("Founders: 12.5% off Hot desk", 1, -3250, -3250, -650),
            ],
            (22750, 4550, 27300),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Sep 2028 to 30 Sep 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Sep 2028 to 30 Sep 2028", 2, 26000, 52000, 10400),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
                ("Locker, 1 Sep 2028 to 30 Sep 2028", 1, 3500, 3500, 700),  # M06's last month
            ],
            (50500, 10100, 60600),
        ),
        "Delta Design": (
            [("Dedicated desk, 1 Sep 2028 to 30 Sep 2028", 2, 40000, 80000, 16000)],  # M19
            (80000, 16000, 96000),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 Sep 2028 to 30 Sep 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Sep 2028 to 30 Sep 2028", 1, 26000, 26000, 5200),
                ("Private office, 1 Sep 2028 to 30 Sep 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (137300, 27460, 164760),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Sep 2028 to 30 Sep 2028", 5, 22000, 110000, 22000),  # overridden: still 220.00
                ("Founders: 12.5% off Hot desk", 1, -13750, -13750, -2750),
            ],
            (96250, 19250, 115500),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Sep 2028 to 30 Sep 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Sep 2028 to 30 Sep 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 10, 1): {
        "Acme Ltd": (
            [
                ("Hot desk, 1 Oct 2028 to 31 Oct 2028", 1, 26000, 26000, 5200),
                ("Founders: 12.5% off Hot desk", 1, -3250, -3250, -650),
            ],
            (22750, 4550, 27300),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Oct 2028 to 31 Oct 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Oct 2028 to 31 Oct 2028", 2, 26000, 52000, 10400),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
            ],
            (47000, 9400, 56400),
        ),
        "Delta Design": (
            [
                ("Dedicated desk, 1 Oct 2028 to 31 Oct 2028", 2, 40000, 80000, 16000),
                ("Founders: 12.5% off Dedicated desk", 1, -10000, -10000, -2000),  # from October
            ],
            (70000, 14000, 84000),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 Oct 2028 to 31 Oct 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Oct 2028 to 31 Oct 2028", 1, 26000, 26000, 5200),
                ("Private office, 1 Oct 2028 to 31 Oct 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (137300, 27460, 164760),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Oct 2028 to 31 Oct 2028", 5, 22000, 110000, 22000),
                ("Founders: 12.5% off Hot desk", 1, -13750, -13750, -2750),
            ],
            (96250, 19250, 115500),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Oct 2028 to 31 Oct 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Oct 2028 to 31 Oct 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 11, 1): {
        "Acme Ltd": (
            [
                ("Hot desk, 1 Nov 2028 to 30 Nov 2028", 1, 26000, 26000, 5200),
                ("Founders: 12.5% off Hot desk", 1, -3250, -3250, -650),
            ],
            (22750, 4550, 27300),
        ),
        "Birch & Co": (
            [
                # M04 ended on 31 Oct, the end of its billed quarter.
                ("Private office, 1 Nov 2028 to 30 Nov 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Nov 2028 to 30 Nov 2028", 2, 26000, 52000, 10400),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
            ],
            (47000, 9400, 56400),
        ),
        "Delta Design": (
            [
                ("Dedicated desk, 1 Nov 2028 to 30 Nov 2028", 2, 40000, 80000, 16000),
                ("Founders: 12.5% off Dedicated desk", 1, -10000, -10000, -2000),
            ],
            (70000, 14000, 84000),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 Nov 2028 to 30 Nov 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Nov 2028 to 30 Nov 2028", 1, 26000, 26000, 5200),
                ("Private office, 1 Nov 2028 to 30 Nov 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (137300, 27460, 164760),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Nov 2028 to 30 Nov 2028", 5, 22000, 110000, 22000),
                ("Founders: 12.5% off Hot desk", 1, -13750, -13750, -2750),
                ("Virtual office, 1 Nov 2028 to 31 Jan 2029", 1, 30000, 30000, 6000),  # M13
                ("Welcome: 50.00 off Virtual office", 1, -5000, -5000, -1000),
            ],
            (121250, 24250, 145500),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Nov 2028 to 30 Nov 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Nov 2028 to 30 Nov 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
    date(2028, 12, 1): {
        "Acme Ltd": (
            [
                ("Hot desk, 1 Dec 2028 to 31 Dec 2028", 1, 26000, 26000, 5200),
                ("Founders: 12.5% off Hot desk", 1, -3250, -3250, -650),
            ],
            (22750, 4550, 27300),
        ),
        "Birch & Co": (
            [
                ("Private office, 1 Dec 2028 to 31 Dec 2028", 1, 150000, 150000, 30000),
                ("Partner: 7.25% off Private office", 1, -10875, -10875, -2175),
            ],
            (139125, 27825, 166950),
        ),
        "Cobalt LLP": (
            [
                ("Hot desk, 1 Dec 2028 to 31 Dec 2028", 2, 26000, 52000, 10400),
                ("Welcome: 50.00 off Hot desk", 1, -5000, -5000, -1000),
            ],
            (47000, 9400, 56400),
        ),
        "Delta Design": (
            [
                ("Dedicated desk, 1 Dec 2028 to 31 Dec 2028", 2, 40000, 80000, 16000),
                ("Founders: 12.5% off Dedicated desk", 1, -10000, -10000, -2000),
            ],
            (70000, 14000, 84000),
        ),
        "Ember Studio": (
            [("Dedicated desk, 1 Dec 2028 to 31 Dec 2028", 1, 40000, 40000, 8000)],
            (40000, 8000, 48000),
        ),
        "Fable Media": (
            [
                ("Hot desk, 1 Dec 2028 to 31 Dec 2028", 1, 26000, 26000, 5200),
                ("Private office, 1 Dec 2028 to 31 Dec 2028", 1, 120000, 120000, 24000),
                ("Partner: 7.25% off Private office", 1, -8700, -8700, -1740),
            ],
            (137300, 27460, 164760),
        ),
        "Granite Partners": (
            [
                ("Hot desk, 1 Dec 2028 to 31 Dec 2028", 5, 22000, 110000, 22000),
                ("Founders: 12.5% off Hot desk", 1, -13750, -13750, -2750),
            ],
            (96250, 19250, 115500),
        ),
        "Harbour Labs": (
            [
                ("Dedicated desk, 1 Dec 2028 to 31 Dec 2028", 1, 40000, 40000, 8000),
                ("Hot desk, 1 Dec 2028 to 31 Dec 2028", 1, 24997, 24997, 4999),
            ],
            (64997, 12999, 77996),
        ),
    },
}


# --- replaying it -------------------------------------------------------------------------------


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Book:
    """The scenario's tenant as the operator sees it, with names for what the diary refers to."""

    session: AsyncSession
    operator: Operator
    location: Location
    clock: FrozenClock
    companies: dict[str, uuid.UUID] = field(default_factory=dict)
    plans: dict[str, uuid.UUID] = field(default_factory=dict)
    discounts: dict[str, uuid.UUID] = field(default_factory=dict)
    memberships: dict[str, uuid.UUID] = field(default_factory=dict)

    @classmethod
    async def open(cls, session: AsyncSession, state: AppState, clock: FrozenClock) -> Book:
        tenant, owner, _, _ = await create_tenant(session, state.passwords, new_tenant("scenario"), clock.now())
        operator = Operator(tenant.id, "user", owner.id, ROLE_SCOPES["owner"], role="owner")
        location = new_location(tenant.id, "SCN", name="Scenario House")
        session.add(location)
        await session.flush()
        book = cls(session, operator, location, clock)
        vat = await catalog.create_tax_rate(
            session,
            operator,
            TaxRateCreate(name="VAT 20%", components=[TaxComponentIn(name="VAT", percent="20")]),
        )
        fees = await RevenueAccountRepository(session, tenant.id).builtin("membership_fees")
        await catalog.update_account(session, operator, fees.id, RevenueAccountUpdate(tax_rate_id=vat.id))
        for name, (price, months, prorated) in PLANS.items():
            plan = PlanCreate(name=name, currency="GBP", price=price, interval_months=months, prorate=prorated)
            book.plans[name] = (await catalog.create_plan(session, operator, plan)).id
        for discount in (FOUNDERS, PARTNER, WELCOME):
            book.discounts[discount.name] = (await catalog.create_discount(session, operator, discount)).id
        for name in COMPANIES:
            company = CompanyCreate(
                legal_name=name,
                billing_email=f"accounts@{name.split()[0].lower()}.test",
                country="GB",
                currency="GBP",
                home_location_id=location.id,
            )
            book.companies[name] = (await create_company(session, operator, company)).id
        return book

    async def change(self, key: str, data: MembershipUpdate) -> None:
        await update_membership(self.session, self.operator, self.memberships[key], data, self.clock)

    async def apply(self, action: Action) -> None:
        match action:
            case Join():
                membership = await create_membership(
                    self.session,
                    self.operator,
                    MembershipCreate(
                        company_id=self.companies[action.company],
                        plan_id=self.plans[action.plan],
                        location_id=self.location.id,
                        start_date=action.start,
                        end_date=action.last_day,
                        quantity=action.quantity,
                        price_override=action.price,
                        discount_id=self.discounts[action.discount] if action.discount else None,
                    ),
                )
                self.memberships[action.key] = membership.id
            case SetEnd():
                await self.change(action.key, MembershipUpdate(end_date=action.last_day))
            case SetQuantity():
                await self.change(action.key, MembershipUpdate(quantity=action.quantity))
            case SetDiscount():
                await self.change(action.key, MembershipUpdate(discount_id=self.discounts[action.discount]))
            case EndRefused():
                with pytest.raises(Conflict, match=action.reason):
                    await self.change(action.key, MembershipUpdate(end_date=action.last_day))
            case Reprice():
                await catalog.update_plan(
                    self.session, self.operator, self.plans[action.plan], PlanUpdate(price=action.price)
                )

    async def bill(self, period: date, hour: int) -> uuid.UUID:
        """Bill the period at ``hour`` (UTC) on its own billing date, as the operator would; returns the run."""
        self.clock.at = _at(period, hour)
        outcome = await run_billing(self.session, self.operator, self.location.id, period, self.clock)
        assert outcome.problems == [], outcome.problems
        return outcome.run.id

    async def invoices(self, run_id: uuid.UUID) -> dict[str, Invoiced]:
        """What the run wrote, read back from the database, by company name."""
        names = {company_id: name for name, company_id in self.companies.items()}
        rows = await self.session.execute(
            select(Invoice).where(Invoice.billing_run_id == run_id).execution_options(populate_existing=True)
        )
        found: dict[str, Invoiced] = {}
        for invoice in rows.scalars():
            lines = await self.session.execute(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
                .execution_options(populate_existing=True)
            )
            name = names[invoice.company_id]
            assert name not in found, f"two invoices for {name} in one run"
            found[name] = (
                [
                    (line.description, _whole(line.quantity), line.unit_amount, line.line_amount, line.tax_amount)
                    for line in lines.scalars()
                ],
                (invoice.subtotal, invoice.tax_total, invoice.total),
            )
        return found


def _whole(quantity: Decimal) -> Decimal | int:
    return int(quantity) if quantity == quantity.to_integral_value() else quantity


def _differences(period: date, expected: dict[str, Invoiced], got: dict[str, Invoiced]) -> list[str]:
    found = []
    for company in sorted(expected.keys() | got.keys()):
        if company not in got:
            found.append(f"{period}: {company} got no invoice; expected\n{pformat(expected[company], width=120)}")
        elif company not in expected:
            found.append(f"{period}: {company} got an invoice, expected none:\n{pformat(got[company], width=120)}")
        elif got[company] != expected[company]:
            found.append(
                f"{period}: {company}\n  expected {pformat(expected[company], width=120)}\n"
                f"  got      {pformat(got[company], width=120)}"
            )
    return found


def test_the_scenario_is_the_one_described() -> None:
    assert len(EXPECTED) == 14
    assert date(2028, 2, 1) in EXPECTED  # the run of the 29-day February
    assert list(EXPECTED) == sorted(EXPECTED)
    joins = [action for _, action in DIARY if isinstance(action, Join)]
    assert len(joins) == len({join.key for join in joins}) == 20
    assert {join.company for join in joins} == set(COMPANIES)
    assert [day for day, _ in DIARY] == sorted(day for day, _ in DIARY)
    assert DIARY[0][0] >= OPENING
    # Every invoice in the table adds up (a check on the hand arithmetic, not on the engine).
    for invoices in EXPECTED.values():
        for lines, (subtotal, tax, total) in invoices.values():
            assert sum(line[3] for line in lines) == subtotal
            assert sum(line[4] for line in lines) == tax
            assert subtotal + tax == total


async def test_fourteen_months_of_billing_match_the_invoices_worked_out_by_hand(
    db: AsyncSession, state: AppState
) -> None:
    clock = FrozenClock(_at(OPENING, 9))
    book = await Book.open(db, state, clock)
    diary = list(DIARY)
    failures: list[str] = []
    for period, expected in EXPECTED.items():
        while diary and diary[0][0] < period:
            day, action = diary.pop(0)
            clock.at = _at(day, 12)
            await book.apply(action)
        run_id = await book.bill(period, 6)
        failures.extend(_differences(period, expected, await book.invoices(run_id)))
        # The same period again, later that day: nothing new.
        again = await book.bill(period, 18)
        if repeated := await book.invoices(again):
            failures.append(f"{period}: billing the period again wrote {pformat(repeated, width=120)}")
    assert not diary, "the diary runs past the last billing run"
    names = {company_id: name for name, company_id in book.companies.items()}
    invoiced = (await db.execute(select(Invoice.company_id))).scalars().all()
    assert sorted(names[company_id] for company_id in invoiced) == sorted(
        company for invoices in EXPECTED.values() for company in invoices
    )
    assert not failures, "\n\n".join(failures)
