"""Xero's call limits and the sandbox's switchable faults, as a client meets them over HTTP."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fixtures.xero import Xero


async def test_the_sixty_first_call_in_a_minute_is_refused_until_the_window_moves(xero: Xero) -> None:
    await xero.connect()
    await xero.control("POST", "clock", {"scale": 60})  # a sandbox minute lasts one second
    remaining = []
    for _ in range(60):
        response = await xero.api("GET", "Organisation")
        assert response.status_code == 200
        remaining.append(int(response.headers["X-MinLimit-Remaining"]))
    assert remaining[0] == 59
    assert remaining[-1] == 0
    assert int(response.headers["X-DayLimit-Remaining"]) == 4940
    refused = await xero.api("GET", "Organisation")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    wait = float(refused.headers["Retry-After"])
    assert 0 < wait <= 1.0
    await asyncio.sleep(wait)
    assert (await xero.api("GET", "Organisation")).status_code == 200


async def test_only_five_calls_per_organisation_are_in_flight_at_once(xero: Xero) -> None:
    first, second = [o["id"] for o in await xero.organisations()]
    await xero.connect([first, second])
    await xero.control("POST", "faults", {"latency_ms": 300})
    answers = await asyncio.gather(*(xero.api("GET", "Organisation") for _ in range(7)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 5 + [429] * 2
    assert {a.headers.get("X-Rate-Limit-Problem") for a in answers if a.status_code == 429} == {"concurrent"}
    # The other organisation's calls are not held back by the first one's.
    others = await asyncio.gather(*(xero.api("GET", "Organisation", tenant=second) for _ in range(5)))
    assert [a.status_code for a in others] == [200] * 5


async def test_the_daily_and_app_wide_limits(xero: Xero) -> None:
    first, second = [o["id"] for o in await xero.organisations()]
    await xero.connect([first, second])
    await xero.control("POST", "limits", {"per_day": 3, "app_per_minute": 5})
    for _ in range(3):
        assert (await xero.api("GET", "Organisation")).status_code == 200
    daily = await xero.api("GET", "Organisation")
    assert (daily.status_code, daily.headers["X-Rate-Limit-Problem"]) == (429, "day")
    assert int(daily.headers["Retry-After"]) > 86000
    for _ in range(2):
        assert (await xero.api("GET", "Organisation", tenant=second)).status_code == 200
    app_wide = await xero.api("GET", "Organisation", tenant=second)
    assert (app_wide.status_code, app_wide.headers["X-Rate-Limit-Problem"]) == (429, "appminute")
    assert app_wide.headers["X-AppMinLimit-Remaining"] == "0"


async def test_queued_faults_hit_the_next_calls_and_offline_hits_one_organisation(xero: Xero) -> None:
    first, second = [o["id"] for o in await xero.organisations()]
    await xero.connect([first, second])
    await xero.control("POST", "faults", {"fail_next": [503, 500]})
    unavailable = await xero.api("GET", "Organisation")
    assert (unavailable.status_code, unavailable.text) == (503, "The Xero API is temporarily unavailable")
    assert (await xero.api("GET", "Organisation")).status_code == 500
    assert (await xero.api("GET", "Organisation")).status_code == 200
    await xero.control("POST", "faults", {"offline": [first]})
    offline = await xero.api("GET", "Organisation")
    assert (offline.status_code, offline.text) == (503, "The Organisation is offline")
    assert (await xero.api("GET", "Organisation", tenant=second)).status_code == 200


async def test_an_error_rate_is_seeded_so_a_storm_repeats_exactly(xero: Xero) -> None:
    await xero.connect()

    async def storm() -> list[int]:
        await xero.control("POST", "faults", {"error_rate": 0.2, "seed": 7})
        return [(await xero.api("GET", "Organisation")).status_code for _ in range(40)]

    first = await storm()
    await xero.control("POST", "limits", {"per_minute": 1000})
    assert first == await storm()
    assert 3 <= first.count(503) <= 15
    assert set(first) == {200, 503}


async def test_a_lost_answer_leaves_the_write_in_place_and_a_keyed_retry_replays_it(xero: Xero) -> None:
    await xero.connect()
    await xero.control("POST", "faults", {"lose_next": 1})
    body = {"Contacts": [{"Name": "Acme Ltd", "ContactNumber": "FL-1"}]}
    with pytest.raises(httpx.RemoteProtocolError):
        await xero.api("PUT", "Contacts", body, Idempotency_Key="contact-FL-1-v1")
    stored = (await xero.ok("GET", "Contacts"))["Contacts"]
    assert [c["ContactNumber"] for c in stored] == ["FL-1"]
    replay = await xero.ok("PUT", "Contacts", body, Idempotency_Key="contact-FL-1-v1")
    assert replay["Contacts"][0]["ContactID"] == stored[0]["ContactID"]
    # Without the key the retry is a new request, and Xero refuses the second active "Acme Ltd".
    unkeyed = await xero.api("PUT", "Contacts", body)
    assert unkeyed.status_code == 400


async def test_reads_are_never_lost_only_writes(xero: Xero) -> None:
    await xero.connect()
    await xero.control("POST", "faults", {"lose_rate": 1.0})
    assert (await xero.api("GET", "Contacts")).status_code == 200


async def test_the_demo_pages_show_each_organisations_books(xero: Xero) -> None:
    [tenant] = await xero.connect()
    await xero.ok("PUT", "Contacts", {"Contacts": [{"Name": "Acme <Ltd>", "ContactNumber": "FL-9"}]})
    home = await xero.http.get("/")
    assert "Demo Coworking Ltd" in home.text
    page = await xero.http.get(f"/organisations/{tenant}")
    assert page.status_code == 200
    assert "Acme &lt;Ltd&gt;" in page.text
    assert "FL-9" in page.text
