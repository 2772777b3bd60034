"""The Xero throttle against real Redis, on a fake clock: nothing here really waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import uuid4

import pytest
from arq.connections import ArqRedis

from app.integrations.xero.throttle import Limits, Permit, ThrottleTimeout, XeroThrottle
from app.settings import Settings

# A realistic epoch, so the scripts' float handling is tested at the magnitudes production sees.
T0 = 1_750_000_000.0
ORG = "org-a"


class FakeClock:
    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def at(self, offset: float) -> None:
        self.now = T0 + offset

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


MakeThrottle = Callable[..., XeroThrottle]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def prefix(settings: Settings) -> str:
    return f"{settings.redis_key_prefix}{uuid4().hex[:8]}:"


@pytest.fixture
async def make(redis: ArqRedis, prefix: str, clock: FakeClock) -> AsyncIterator[MakeThrottle]:
    """Throttles on this test's own key prefix and the fake clock; ``Limits`` fields as keywords."""

    def build(**limits: Any) -> XeroThrottle:
        return XeroThrottle(redis, prefix, Limits(**limits), clock=clock, sleep=clock.sleep)

    yield build
    async for key in redis.scan_iter(match=f"{prefix}*"):
        await redis.delete(key)


async def permit(throttle: XeroThrottle, org: str = ORG) -> Permit:
    got = await throttle.try_acquire(org)
    assert isinstance(got, Permit), f"expected a permit, was told to wait {got}s"
    return got


async def call(throttle: XeroThrottle, org: str = ORG) -> None:
    """One call that gets its answer at once."""
    await throttle.release(await permit(throttle, org))


async def test_sixty_a_minute_then_wait_for_the_oldest_to_leave(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make()
    for i in range(60):
        clock.at(i * 0.5)
        await call(throttle)
    clock.at(30)
    assert await throttle.try_acquire(ORG) == pytest.approx(31.0)  # the t=0 call leaves at 60, + 1 s margin
    clock.at(60.9)
    assert await throttle.try_acquire(ORG) == pytest.approx(0.1)
    clock.at(61)
    await call(throttle)
    # Only the t=0 call left: the next waits for the t=0.5 one.
    assert await throttle.try_acquire(ORG) == pytest.approx(0.5)
    assert (await throttle.usage(ORG))["minute"] == 60


async def test_past_the_window_a_full_minute_passes_again(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make()
    for _ in range(60):
        await call(throttle)
    assert isinstance(await throttle.try_acquire(ORG), float)
    clock.at(200)
    for _ in range(60):
        await call(throttle)
    assert await throttle.usage(ORG) == {"minute": 60, "day": 120, "in_flight": 0, "app_minute": 60}


async def test_release_restamps_the_call_at_completion(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make(per_minute=1)
    held = await permit(throttle)
    clock.at(10)
    await throttle.release(held)
    clock.at(30)
    assert await throttle.try_acquire(ORG) == pytest.approx(41.0)  # counted from 10, not 0
    clock.at(70.5)
    assert await throttle.try_acquire(ORG) == pytest.approx(0.5)
    clock.at(71)
    await call(throttle)


async def test_sixth_concurrent_call_waits_until_one_is_released(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make()
    holders = [await permit(throttle) for _ in range(5)]
    assert await throttle.try_acquire(ORG) == pytest.approx(0.05)  # a short poll, not the 120 s lease
    assert (await throttle.usage(ORG))["in_flight"] == 5
    clock.at(0.05)
    await throttle.release(holders[2])
    sixth = await permit(throttle)
    assert (await throttle.usage(ORG))["in_flight"] == 5
    assert sixth.call_id not in {h.call_id for h in holders}


async def test_poll_is_scaled_with_the_minute(make: MakeThrottle) -> None:
    throttle = make(minute_seconds=6.0)
    for _ in range(5):
        await permit(throttle)
    assert await throttle.try_acquire(ORG) == pytest.approx(0.005)


async def test_lease_of_a_crashed_holder_expires(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make()
    crashed = [await permit(throttle) for _ in range(5)]
    clock.at(119.99)
    # Never past the lease's end, even when that is sooner than the poll.
    assert await throttle.try_acquire(ORG) == pytest.approx(0.01)
    clock.at(120)
    fresh = await permit(throttle)
    # The crashed worker comes back and releases late: it must not free the live slot.
    await throttle.release(crashed[0])
    assert (await throttle.usage(ORG))["in_flight"] == 1
    await throttle.release(fresh)
    assert (await throttle.usage(ORG))["in_flight"] == 0


async def test_day_cap(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make(per_day=3)
    for offset in (0, 100, 200):
        clock.at(offset)
        await call(throttle)
    clock.at(300)
    assert await throttle.try_acquire(ORG) == pytest.approx(86_400 + 1 - 300)
    assert (await throttle.usage(ORG))["day"] == 3
    clock.at(86_401)
    await call(throttle)
    assert await throttle.try_acquire(ORG) == pytest.approx(100)  # the t=100 call is next to leave


async def test_app_wide_cap_across_orgs(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make(app_per_minute=4)
    for org in ("a", "b", "c", "d"):
        await call(throttle, org)
    clock.at(20)
    assert await throttle.try_acquire("e") == pytest.approx(41)
    assert await throttle.try_acquire("a") == pytest.approx(41)
    assert await throttle.usage("e") == {"minute": 0, "day": 0, "in_flight": 0, "app_minute": 4}
    clock.at(61)
    await call(throttle, "e")


async def test_two_orgs_do_not_share_minute_budgets(make: MakeThrottle) -> None:
    throttle = make(per_minute=3)
    for _ in range(3):
        await call(throttle, "a")
    assert isinstance(await throttle.try_acquire("a"), float)
    for _ in range(3):
        await call(throttle, "b")
    assert (await throttle.usage("b"))["minute"] == 3
    assert (await throttle.usage("a"))["minute"] == 3


async def test_hold_off_one_org_never_shortened(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make()
    await throttle.hold_off("a", 30, "minute")
    assert await throttle.try_acquire("a") == pytest.approx(31)  # Retry-After + margin
    await call(throttle, "b")
    clock.at(10)
    await throttle.hold_off("a", 5, "concurrent")
    assert await throttle.try_acquire("a") == pytest.approx(21)
    await throttle.hold_off("a", 40, "day")
    assert await throttle.try_acquire("a") == pytest.approx(41)
    clock.at(51)
    await call(throttle, "a")


@pytest.mark.parametrize(("org", "problem"), [(None, "minute"), ("a", "appminute")])
async def test_hold_off_every_org(make: MakeThrottle, clock: FakeClock, org: str | None, problem: str) -> None:
    throttle = make()
    await throttle.hold_off(org, 10, problem)
    assert await throttle.try_acquire("a") == pytest.approx(11)
    assert await throttle.try_acquire("b") == pytest.approx(11)
    await throttle.hold_off(None, 2, "appminute")
    assert await throttle.try_acquire("b") == pytest.approx(11)
    clock.at(11)
    await call(throttle, "b")
    assert (await throttle.usage("a"))["minute"] == 0  # the refused attempts counted nothing


async def test_slot_waits_with_the_injected_sleep(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make(per_minute=2)
    for _ in range(2):
        await call(throttle)
    clock.at(1)
    async with throttle.slot(ORG, max_wait=120) as got:
        assert clock.slept == [pytest.approx(60)]
        assert clock() == pytest.approx(T0 + 61)
        assert (await throttle.usage(ORG))["in_flight"] == 1
    assert got.org == ORG
    assert (await throttle.usage(ORG))["in_flight"] == 0


async def test_slot_releases_when_the_call_fails(make: MakeThrottle) -> None:
    throttle = make()
    with pytest.raises(RuntimeError, match="boom"):
        async with throttle.slot(ORG, max_wait=0):
            raise RuntimeError("boom")
    assert (await throttle.usage(ORG))["in_flight"] == 0


async def test_slot_times_out_past_max_wait(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make(per_minute=1)
    await call(throttle)
    with pytest.raises(ThrottleTimeout) as raised:
        async with throttle.slot(ORG, max_wait=30):
            pytest.fail("the slot should not have come")
    assert raised.value.retry_in == pytest.approx(61)
    assert clock.slept == []  # gave up without waiting for a slot it could not get


async def test_racing_tasks_take_exactly_the_minute_budget(make: MakeThrottle) -> None:
    throttle = make(per_minute=10, in_flight=100)
    results = await asyncio.gather(*(throttle.try_acquire(ORG) for _ in range(40)))
    permits = [r for r in results if isinstance(r, Permit)]
    assert len(permits) == 10
    assert len({p.call_id for p in permits}) == 10
    assert all(r == pytest.approx(61) for r in results if not isinstance(r, Permit))
    assert (await throttle.usage(ORG))["minute"] == 10


async def test_racing_tasks_take_exactly_the_in_flight_slots(make: MakeThrottle) -> None:
    throttle = make()
    results = await asyncio.gather(*(throttle.try_acquire(ORG) for _ in range(40)))
    assert sum(isinstance(r, Permit) for r in results) == 5
    assert (await throttle.usage(ORG))["in_flight"] == 5


async def test_releasing_twice_is_harmless(make: MakeThrottle, clock: FakeClock) -> None:
    throttle = make(per_minute=2)
    first, second = await permit(throttle), await permit(throttle)
    clock.at(5)
    await throttle.release(first)
    clock.at(9)
    await throttle.release(first)
    assert await throttle.usage(ORG) == {"minute": 2, "day": 2, "in_flight": 1, "app_minute": 2}
    await throttle.release(second)
    clock.at(20)
    # The repeat could only move the stamp later (to 9), never free a slot or add an entry.
    assert await throttle.try_acquire(ORG) == pytest.approx(9 + 61 - 20)


async def test_keys_are_prefixed_and_expire(make: MakeThrottle, redis: ArqRedis, prefix: str) -> None:
    throttle = make()
    await permit(throttle, "a")
    await throttle.hold_off("b", 30, "minute")
    await throttle.hold_off(None, 30, "appminute")
    keys = sorted([key.decode() async for key in redis.scan_iter(match=f"{prefix}*")])
    assert keys == sorted(
        f"{prefix}xero:throttle:{name}"
        for name in ("org:a:minute", "org:a:day", "org:a:in_flight", "org:b:hold", "app:minute", "app:hold")
    )
    for key in keys:
        assert await redis.pttl(key) > 0, key
