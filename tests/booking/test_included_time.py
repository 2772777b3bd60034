"""Included booking time: plans give hours (per resource kind, or of any resource) and days of
day-bookable resources each period. Bookings use them after the discount and before included
money credit and the fee, in the order they took place; the invoice line says what is used."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import keyed, ok, tax_account
from tests.support.booking import book, room
from tests.support.worlds import World


async def plan(client: httpx.AsyncClient, world: World, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "currency": "GBP", "price": 10000, **fields}
    made: dict[str, Any] = ok(await client.post("/api/v1/plans", json=body, headers=world.headers()), 201)
    return made


async def hold(client: httpx.AsyncClient, world: World, plan: dict[str, Any]) -> None:
    body = {
        "company_id": str(world.company.id),
        "plan_id": plan["id"],
        "location_id": str(world.location.id),
        "start_date": "2026-11-01",
    }
    ok(await client.post("/api/v1/memberships", json=body, headers=world.headers()), 201)


async def bookings_billed(client: httpx.AsyncClient, world: World, period: str, *, preview: bool = False) -> Any:
    url = f"/api/v1/locations/{world.location.id}/billing/{'preview' if preview else 'run'}"
    response = await client.post(url, json={"period_start": period}, headers=keyed(world.headers()))
    result = ok(response, 200 if preview else 201)
    [invoice] = result["invoices"]
    return [line for line in invoice["lines"] if line["explanation"]["kind"] == "booking"]


def shown(lines: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [(line["description"], line["line_amount"], line["tax_amount"]) for line in lines]


async def test_plans_take_included_time_and_refuse_it_malformed_naming_the_field(
    client: httpx.AsyncClient, world_a: World
) -> None:
    made = await plan(
        client,
        world_a,
        "Meeting pack",
        included_time=[
            {"unit": "hours", "quantity": "7.5", "resource_kind": "meeting_room"},
            {"unit": "days", "quantity": "3", "resource_kind": "desk"},
            {"unit": "hours", "quantity": "2"},
        ],
    )
    assert [(t["unit"], float(t["quantity"]), t["resource_kind"]) for t in made["included_time"]] == [
        ("hours", 7.5, "meeting_room"),
        ("days", 3.0, "desk"),
        ("hours", 2.0, None),
    ]
    changed = ok(
        await client.patch(
            f"/api/v1/plans/{made['id']}",
            json={"included_time": [{"unit": "hours", "quantity": "10"}]},
            headers=world_a.headers(),
        )
    )
    assert [(t["unit"], float(t["quantity"])) for t in changed["included_time"]] == [("hours", 10.0)]
    for bad, field in (
        ({"unit": "hours", "quantity": "1.001"}, "included_time[0].quantity"),
        ({"unit": "days", "quantity": "1.5"}, "included_time.quantity"),
        ({"unit": "hours", "quantity": "0"}, "included_time[0].quantity"),
        # The quantity is a decimal string in plain form, as the document says: no number, no exponent.
        ({"unit": "hours", "quantity": 2}, "included_time[0].quantity"),
        ({"unit": "hours", "quantity": "1e1"}, "included_time[0].quantity"),
        ({"unit": "weeks", "quantity": "1"}, "unit"),
        ({"unit": "hours", "quantity": "1", "resource_kind": "spaceship"}, "resource_kind"),
    ):
        body = {"name": "Bad", "currency": "GBP", "price": 100, "included_time": [bad]}
        response = await client.post("/api/v1/plans", json=body, headers=world_a.headers())
        assert response.status_code == 400, (bad, response.text)
        assert field in response.text, (bad, response.text)
    twice = [{"unit": "hours", "quantity": "1"}, {"unit": "hours", "quantity": "2"}]
    body = {"name": "Bad", "currency": "GBP", "price": 100, "included_time": twice}
    response = await client.post("/api/v1/plans", json=body, headers=world_a.headers())
    assert response.status_code == 422, response.text  # uniqueness by a field: beyond JSON Schema
    assert "included_time: hours of any resource appear twice" in response.text


async def test_included_hours_cover_partial_hours_and_run_out_mid_booking(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    pack = await plan(
        client,
        world_a,
        "Meeting pack",
        included_time=[{"unit": "hours", "quantity": "3", "resource_kind": "meeting_room"}],
    )
    await hold(client, world_a, pack)
    boardroom = await room(client, world_a)  # 30.00 an hour
    await book(client, world_a, boardroom, "2026-11-10T10:00:00", "2026-11-10T11:30:00")
    await book(client, world_a, boardroom, "2026-11-12T14:00:00", "2026-11-12T16:00:00")
    await book(client, world_a, boardroom, "2026-11-20T09:00:00", "2026-11-20T10:00:00")

    lines = await bookings_billed(client, world_a, "2026-12-01")
    # 1.5 h are paid in full; the next booking's first 1.5 h (45.00 of 60.00) use the rest.
    assert shown(lines) == [
        ("Boardroom, 12 Nov 2026 14:00-16:00 (2 h): 3 of 3 included meeting-room hours used", 1500, 300),
        ("Boardroom, 20 Nov 2026 09:00-10:00 (1 h)", 3000, 600),
    ]
    [used] = lines[0]["explanation"]["included_time"]
    assert (used["unit"], used["resource_kind"], used["quantity"], used["value"]) == ("hours", "meeting_room", 90, 4500)
    assert lines[0]["explanation"]["fee"] == 1500

    # A booking recorded late for November finds its hours spent by the run before.
    await book(client, world_a, boardroom, "2026-11-25T09:00:00", "2026-11-25T10:00:00")
    assert shown(await bookings_billed(client, world_a, "2027-01-01", preview=True)) == [
        ("Boardroom, 25 Nov 2026 09:00-10:00 (1 h)", 3000, 600)
    ]


async def test_two_plans_give_kind_hours_then_any_hours_then_money_after_the_discount(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    rooms = await plan(
        client, world_a, "Rooms", included_time=[{"unit": "hours", "quantity": "1", "resource_kind": "meeting_room"}]
    )
    flex = await plan(client, world_a, "Flex", included_credit=1000, included_time=[{"unit": "hours", "quantity": "1"}])
    await hold(client, world_a, rooms)
    await hold(client, world_a, flex)
    half = ok(
        await client.post(
            "/api/v1/discounts", json={"name": "Half", "kind": "percent", "percent": "50"}, headers=world_a.headers()
        ),
        201,
    )
    boardroom = await room(client, world_a)
    await book(client, world_a, boardroom, "2026-11-11T10:00:00", "2026-11-11T13:00:00", discount_id=half["id"])

    [line] = await bookings_billed(client, world_a, "2026-12-01")
    # 90.00 less half is 45.00; each included hour pays a third of it (15.00), the money credit
    # 10.00, and 5.00 is left to pay.
    assert shown([line]) == [
        (
            "Boardroom, 11 Nov 2026 10:00-13:00 (3 h): Half -45.00; 1 of 1 included meeting-room hours used; "
            "1 of 1 included hours used; 10.00 paid by included credit",
            500,
            100,
        )
    ]
    assert [(u["resource_kind"], u["quantity"], u["value"]) for u in line["explanation"]["included_time"]] == [
        ("meeting_room", 60, 1500),
        (None, 60, 1500),
    ]


async def test_included_days_cover_whole_days_of_day_bookable_resources(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    flex = await plan(
        client, world_a, "Flex desk", included_time=[{"unit": "days", "quantity": "2", "resource_kind": "desk"}]
    )
    await hold(client, world_a, flex)
    desk = await room(client, world_a, name="Desk 1", kind="desk", hourly_rate=500, daily_rate=2500)
    await book(client, world_a, desk, "2026-11-03T09:00:00", "2026-11-03T17:00:00")
    await book(client, world_a, desk, "2026-11-04T09:00:00", "2026-11-05T17:00:00")
    await book(client, world_a, desk, "2026-11-06T10:00:00", "2026-11-06T12:00:00")

    lines = await bookings_billed(client, world_a, "2026-12-01")
    # 3 Nov is one included day; of 4-5 Nov (two days at the day rate) one is left to cover.
    assert shown(lines) == [
        ("Desk 1, 4 Nov 2026 09:00-5 Nov 2026 17:00 (32 h): 2 of 2 included desk days used", 2500, 500),
        ("Desk 1, 6 Nov 2026 10:00-12:00 (2 h)", 1000, 200),
    ]


async def test_a_part_period_gets_its_share_of_the_hours_and_a_void_gives_them_back(
    client: httpx.AsyncClient, world_a: World
) -> None:
    await tax_account(client, world_a, "booking_fees")
    pack = await plan(client, world_a, "Meeting pack", included_time=[{"unit": "hours", "quantity": "4"}])
    body = {
        "company_id": str(world_a.company.id),
        "plan_id": pack["id"],
        "location_id": str(world_a.location.id),
        "start_date": "2026-11-16",  # 15 of November's 30 days: 2 of the 4 hours
    }
    ok(await client.post("/api/v1/memberships", json=body, headers=world_a.headers()), 201)
    boardroom = await room(client, world_a)  # 30.00 an hour
    booked = await book(client, world_a, boardroom, "2026-11-20T09:00:00", "2026-11-20T12:00:00")
    assert booked["time_credit"] == []

    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    response = await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world_a.headers()))
    [invoice] = ok(response, 201)["invoices"]
    [line] = [line for line in invoice["lines"] if line["explanation"]["kind"] == "booking"]
    assert shown([line]) == [("Boardroom, 20 Nov 2026 09:00-12:00 (3 h): 2 of 2 included hours used", 3000, 600)]
    booking_url = f"/api/v1/bookings/{booked['id']}"
    used = {"unit": "hours", "resource_kind": None, "quantity": 120, "value": 6000}
    assert ok(await client.get(booking_url, headers=world_a.headers()))["time_credit"] == [used]

    # Voided, the invoice gives the booking and its two hours back: the next run bills it as before.
    void = f"/api/v1/invoices/{invoice['id']}/void"
    ok(await client.post(void, json={"reason": "Wrong company"}, headers=world_a.headers()))
    assert ok(await client.get(booking_url, headers=world_a.headers()))["time_credit"] == []
    again = await bookings_billed(client, world_a, "2026-12-01", preview=True)
    assert shown(again) == shown([line])
