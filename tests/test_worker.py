"""The background path end to end: a real arq worker in burst mode, a real SMTP server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import ROLE_SCOPES, Operator
from app.db.engine import bind_tenant
from app.email.models import Email
from app.email.service import SEND_JOB, queue_email, retry_delay, send_job_id
from app.email.tasks import email_sweep
from app.kit.jobs import JobRequest
from app.location.schemas import LocationCreate
from app.location.service import create_location
from app.main import build_state
from app.member.schemas import MemberCreate
from app.member.service import create_member
from app.settings import Settings
from app.state import AppState
from app.tenant.service import create_tenant
from sandbox.mail import MailSink
from tests.support.worker import run_worker
from tests.support.worlds import new_tenant

pytestmark = pytest.mark.filterwarnings(
    # aiosmtpd's server thread closes its loop's transports late; the mail itself is unaffected.
    "ignore::pytest.PytestUnraisableExceptionWarning",
)


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
async def live(settings: Settings, mail: MailSink) -> AsyncIterator[AppState]:
    """App state on committed data (a worker cannot see a test's open transaction)."""
    state = await build_state(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": mail.port}))
    yield state
    await state.close()


async def _tenant_with_location(session: AsyncSession, state: AppState) -> tuple[Operator, uuid.UUID]:
    slug = f"w{uuid.uuid4().hex[:12]}"
    tenant, owner, _, _ = await create_tenant(
        session,
        state.passwords,
        new_tenant(slug),
        state.clock.now(),
    )
    operator = Operator(tenant.id, "user", owner.id, ROLE_SCOPES["owner"], role="owner")
    location = await create_location(
        session,
        operator,
        LocationCreate(
            name="Main", code="MAIN", time_zone="Europe/London", country="GB", currency="GBP", tax_mode="exclusive"
        ),
    )
    return operator, location.id


async def _email(state: AppState, tenant_id: uuid.UUID, email_id: uuid.UUID) -> Email:
    async with state.sessionmaker() as session:
        await bind_tenant(session, tenant_id)
        return (await session.execute(select(Email).where(Email.id == email_id))).scalar_one()


async def test_welcome_mail_is_sent_once_by_the_worker_after_commit(live: AppState, mail: MailSink) -> None:
    async with live.sessionmaker() as session:
        async with session.begin():
            operator, location_id = await _tenant_with_location(session, live)
            member = await create_member(
                session,
                operator,
                live.passwords,
                live.settings,
                MemberCreate(email="new.member@example.test", name="New Member", location_id=location_id),
            )
            email_id = (await session.execute(select(Email.id))).scalar_one()
        await live.queue.enqueue_deferred(session)

    await run_worker(live)
    messages = mail.mailbox.wait_for(1)
    assert len(messages) == 1
    assert messages[0]["To"] == member.email
    assert messages[0]["Subject"] == "Welcome to your member portal"
    assert messages[0]["Message-ID"] == f"<{email_id}@flexledger>"
    stored = await _email(live, operator.tenant_id, email_id)
    assert (stored.status, stored.attempts) == ("sent", 1)

    # The same job again (a duplicate doorbell): nothing more is sent.
    await live.queue.enqueue(JobRequest(SEND_JOB, (str(operator.tenant_id), str(email_id)), send_job_id(email_id)))
    await run_worker(live)
    assert len(mail.mailbox.wait_for(2, timeout=1)) == 1
    assert (await _email(live, operator.tenant_id, email_id)).attempts == 1


async def test_a_rolled_back_request_enqueues_nothing(live: AppState, mail: MailSink) -> None:
    async with live.sessionmaker() as session:
        await session.begin()
        operator, _ = await _tenant_with_location(session, live)
        await queue_email(session, operator.tenant_id, to="nobody@example.test", subject="never", body="never")
        await session.rollback()
        await live.queue.enqueue_deferred(session)
    assert await live.redis.zcard(live.settings.worker_queue_name) == 0
    await run_worker(live)
    assert mail.mailbox.wait_for(1, timeout=0.5) == []


async def test_the_sweep_rings_again_for_mail_whose_job_was_lost(live: AppState, mail: MailSink) -> None:
    async with live.sessionmaker() as session, session.begin():
        operator, _ = await _tenant_with_location(session, live)
        email = await queue_email(session, operator.tenant_id, to="lost@example.test", subject="lost", body="found")
        # The doorbell is lost: the deferred job is dropped and the row looks a minute old.
        session.info.clear()
        await session.execute(
            update(Email).where(Email.id == email.id).values(updated_at=live.clock.now().replace(year=2020))
        )
    assert await email_sweep({"state": live}) >= 1
    await run_worker(live)
    assert [m["To"] for m in mail.mailbox.wait_for(1)] == ["lost@example.test"]
    assert (await _email(live, operator.tenant_id, email.id)).status == "sent"


async def test_an_unreachable_mail_server_is_a_state_not_a_crash(settings: Settings) -> None:
    state = await build_state(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": 9}))
    try:
        async with state.sessionmaker() as session:
            async with session.begin():
                operator, _ = await _tenant_with_location(session, state)
                email = await queue_email(session, operator.tenant_id, to="x@example.test", subject="s", body="b")
            await state.queue.enqueue_deferred(session)
        await run_worker(state)
        stored = await _email(state, operator.tenant_id, email.id)
        assert (stored.status, stored.attempts) == ("queued", 1)
        assert stored.last_error
    finally:
        await state.close()


async def test_an_address_the_server_refuses_for_good_fails_at_once(live: AppState, mail: MailSink) -> None:
    """A 5xx refusal of the recipient is a permanent failure, not a retry every minute."""
    async with live.sessionmaker() as session:
        async with session.begin():
            operator, _ = await _tenant_with_location(session, live)
            email = await queue_email(session, operator.tenant_id, to="(c)@example.test", subject="s", body="b")
        await live.queue.enqueue_deferred(session)
    await run_worker(live)
    stored = await _email(live, operator.tenant_id, email.id)
    assert (stored.status, stored.attempts) == ("failed", 1)
    assert stored.last_error is not None
    assert stored.last_error.startswith("recipient refused")
    assert await email_sweep({"state": live}) == 0


async def test_failed_sends_back_off_before_the_next_attempt(settings: Settings) -> None:
    state = await build_state(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": 9}))
    try:
        async with state.sessionmaker() as session:
            async with session.begin():
                operator, _ = await _tenant_with_location(session, state)
                email = await queue_email(session, operator.tenant_id, to="x@example.test", subject="s", body="b")
            await state.queue.enqueue_deferred(session)
        await run_worker(state)
        first = await _email(state, operator.tenant_id, email.id)
        assert first.attempts == 1
        assert first.next_attempt_at >= state.clock.now() + retry_delay(1) - timedelta(seconds=5)
        # Not due yet: the sweep leaves it, and a stray doorbell does not send early.
        assert await email_sweep({"state": state}) == 0
        await state.queue.enqueue(JobRequest(SEND_JOB, (str(operator.tenant_id), str(email.id)), send_job_id(email.id)))
        await run_worker(state)
        assert (await _email(state, operator.tenant_id, email.id)).attempts == 1
    finally:
        await state.close()
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 10, 12)] == [1, 2, 4, 360, 360]
