"""Resources and bookings over the API: local times, prices, no double booking, bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.booking.models import Booking
from app.db.engine import bind_tenant
from tests.support.api import keyed, ok, revenue_account, tax_account
from tests.support.booking import book, booking_body, room
from tests.support.worlds import World


async def test_a_resource_books_fees_to_the_booking_account_by_default(
    client: httpx.AsyncClient, world_a: World
) -> None:
    made = await room(client, world_a, daily_rate=20000, capacity=12)
    booking_fees = await revenue_account(client, world_a, "booking_fees")
    assert made["revenue_account_id"] == booking_fees["id"]
    assert (made["hourly_rate"], made["daily_rate"], made["capacity"], made["kind"]) == (
        3000,
        20000,
        12,
        "meeting_room",
    )
    listed = ok(await client.get("/api/v1/resources", headers=world_a.headers()))["data"]
    assert [resource["id"] for resource in listed] == [made["id"]]


async def test_prices_by_the_hour_with_the_day_rate_as_a_cap(client: httpx.AsyncClient, world_a: World) -> None:
    resource = await room(client, world_a, daily_rate=20000)
    short = await book(client, world_a, resource, "2026-12-02T10:00:00", "2026-12-02T12:30:00")
    assert (short["minutes"], short["price"], short["currency"]) == (150, 7500, "GBP")
    long = await book(client, world_a, resource, "2026-12-03T08:00:00", "2026-12-03T17:00:00")
    assert long["price"] == 20000  # 9 h would be 270.00; the day rate caps it
    assert long["pricing"]["days"] == [
        {"day": "2026-12-03", "minutes": 540, "by_the_hour": 27000, "amount": 20000, "day_rate": True}
    ]
    # Over midnight: each local day is priced on its own.
    night = await book(client, world_a, resource, "2026-12-04T20:00:00", "2026-12-05T10:00:00")
    assert [day["amount"] for day in night["pricing"]["days"]] == [12000, 20000]
    assert night["price"] == 32000
    third = await book(client, world_a, resource, "2026-12-06T09:00:00", "2026-12-06T09:20:00")
    assert third["price"] == 1000  # 20 minutes at 30.00 an hour


async def test_local_times_follow_the_location_time_zone(client: httpx.AsyncClient, world_a: World) -> None:
    resource = await room(client, world_a)
    summer = await book(client, world_a, resource, "2027-07-01T10:00:00", "2027-07-01T11:00:00")
    assert summer["starts_at"].startswith("2027-07-01T09:00:00")  # London is on summer time
    assert summer["local_starts_at"] == "2027-07-01T10:00+01:00"
    with_offset = await book(client, world_a, resource, "2027-07-02T10:00:00-04:00", "2027-07-02T12:00:00-04:00")
    assert with_offset["local_starts_at"] == "2027-07-02T15:00+01:00"
    # The night the clocks go back has a 25-hour day: the hours are really billed.
    autumn = await book(client, world_a, resource, "2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00")
    assert autumn["minutes"] == 25 * 60
    assert autumn["price"] == 25 * 3000


async def test_times_that_do_not_exist_or_happen_twice_are_refused(
    client: httpx.AsyncClient, world_a: World, db: AsyncSession
) -> None:
    resource = await room(client, world_a)
    cases = [
        ("2027-03-28T01:30:00", "2027-03-28T03:00:00", "does not exist in Europe/London"),
        ("2027-10-31T01:30:00", "2027-10-31T03:00:00", "happens twice in Europe/London"),
        ("2026-12-02T12:00:00", "2026-12-02T11:00:00", "is not after starts_at"),
        ("2026-12-02T12:00:00", "2026-12-02T12:00:00", "is not after starts_at"),
        ("2026-12-02T12:00:30", "2026-12-02T13:00:00", "whole minute"),
        ("2026-12-02T12:00:00", "2027-01-05T12:00:00", "at most 31 days"),
    ]
    for starts, ends, message in cases:
        response = await client.post(
            "/api/v1/bookings", json=booking_body(world_a, resource, starts, ends), headers=world_a.headers()
        )
        assert response.status_code == 422, response.text
        assert message in response.json()["detail"], response.text
    await bind_tenant(db, world_a.tenant_id)
    assert (await db.execute(select(func.count()).select_from(Booking))).scalar_one() == 0


async def test_bad_resources_and_bookings_are_refused(client: httpx.AsyncClient, world_a: World) -> None:
    headers = world_a.headers()
    no_rate = {"location_id": str(world_a.location.id), "name": "Desk 1"}
    assert (await client.post("/api/v1/resources", json=no_rate, headers=headers)).status_code == 400
    negative = {**no_rate, "hourly_rate": -5}
    assert (await client.post("/api/v1/resources", json=negative, headers=headers)).status_code == 400
    resource = await room(client, world_a)
    again = await client.post(
        "/api/v1/resources", json={**no_rate, "name": "Boardroom", "hourly_rate": 1}, headers=headers
    )
    assert again.status_code == 409
    # A company billed in USD (at home in New York) booking a room of the London location.
    new_york = {
        "name": "New York",
        "code": "NYC",
        "time_zone": "America/New_York",
        "country": "US",
        "currency": "USD",
        "tax_mode": "exclusive",
        "billing_day": 1,
    }
    home = ok(await client.post("/api/v1/locations", json=new_york, headers=headers), 201)
    usd = ok(
        await client.post(
            "/api/v1/companies",
            json={
                "legal_name": "Yankee Inc",
                "billing_email": "ap@yankee.test",
                "country": "US",
                "currency": "USD",
                "home_location_id": home["id"],
            },
            headers=headers,
        ),
        201,
    )
    body = booking_body(world_a, resource, "2026-12-02T10:00:00", "2026-12-02T11:00:00", company_id=usd["id"])
    response = await client.post("/api/v1/bookings", json=body, headers=headers)
    assert response.status_code == 409
    assert "Mismatched currencies" in response.json()["detail"]
    body = booking_body(world_a, resource, "2026-12-02T10:00:00", "2026-12-02T11:00:00", surprise=1)
    assert (await client.post("/api/v1/bookings", json=body, headers=headers)).status_code == 400


async def test_a_resource_is_never_booked_twice_at_once(
    client: httpx.AsyncClient, world_a: World, db: AsyncSession
) -> None:
    resource = await room(client, world_a)
    first = await book(client, world_a, resource, "2026-12-02T10:00:00", "2026-12-02T12:00:00")
    clash = booking_body(world_a, resource, "2026-12-02T11:30:00", "2026-12-02T13:00:00")
    response = await client.post("/api/v1/bookings", json=clash, headers=world_a.headers())
    assert response.status_code == 409
    assert "already booked from 2026-12-02T10:00+00:00 to 2026-12-02T12:00+00:00" in response.json()["detail"]
    # Back to back is fine; a cancelled booking frees its time.
    await book(client, world_a, resource, "2026-12-02T12:00:00", "2026-12-02T13:00:00")
    cancelled = ok(
        await client.post(f"/api/v1/bookings/{first['id']}/cancel", json={"reason": "moved"}, headers=world_a.headers())
    )
    assert (cancelled["status"], cancelled["cancelled_reason"]) == ("cancelled", "moved")
    await book(client, world_a, resource, "2026-12-02T10:30:00", "2026-12-02T11:30:00")


async def test_the_database_refuses_an_overlap_that_skips_the_service(
    client: httpx.AsyncClient, world_a: World, db: AsyncSession
) -> None:
    resource = await room(client, world_a)
    made = await book(client, world_a, resource, "2026-12-02T10:00:00", "2026-12-02T12:00:00")
    await bind_tenant(db, world_a.tenant_id)
    original = (await db.execute(select(Booking).where(Booking.id == uuid.UUID(made["id"])))).scalar_one()
    columns = {column.key for column in Booking.__table__.columns} - {"id", "created_at", "updated_at"}
    copy = Booking(**{column: getattr(original, column) for column in columns})
    copy.starts_at = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    db.add(copy)
    with pytest.raises(DBAPIError, match="already booked"):
        async with db.begin_nested():
            await db.flush()


async def test_a_billed_booking_cannot_be_cancelled(client: httpx.AsyncClient, world_a: World) -> None:
    resource = await room(client, world_a)
    made = await book(client, world_a, resource, "2026-11-10T10:00:00", "2026-11-10T11:00:00")
    await tax_account(client, world_a, "booking_fees")
    url = f"/api/v1/locations/{world_a.location.id}/billing/run"
    ok(await client.post(url, json={"period_start": "2026-12-01"}, headers=keyed(world_a.headers())), 201)
    billed = ok(await client.get(f"/api/v1/bookings/{made['id']}", headers=world_a.headers()))
    assert billed["status"] == "billed"
    assert billed["invoice_line_id"] is not None
    response = await client.post(f"/api/v1/bookings/{made['id']}/cancel", headers=world_a.headers())
    assert response.status_code == 409
    assert "credit its invoice line" in response.json()["detail"]
