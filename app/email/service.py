"""Outgoing e-mail through an outbox: a row written in the caller's transaction, sent by a job
after commit. A sweep re-rings the doorbell for rows whose job was lost, so nothing is dropped."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.email.models import Email
from app.email.repository import EmailRepository
from app.kit.jobs import defer
from app.settings import Settings

SEND_JOB = "email.send"
MAX_ATTEMPTS = 12
log = structlog.get_logger()


def send_job_id(email_id: uuid.UUID) -> str:
    return f"{SEND_JOB}:{email_id}"


async def queue_email(session: AsyncSession, tenant_id: uuid.UUID, *, to: str, subject: str, body: str) -> Email:
    """Record an e-mail and ask for it to be sent once the current transaction commits."""
    email = EmailRepository(session, tenant_id).add(Email(to_address=to, subject=subject, text_body=body))
    await session.flush()
    defer(session, SEND_JOB, str(tenant_id), str(email.id), job_id=send_job_id(email.id))
    return email


def build_message(settings: Settings, email: Email) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    # Stable across retries, so a receiving server can drop a duplicate of a send that timed out.
    message["Message-ID"] = f"<{email.id}@flexledger>"
    message.set_content(email.text_body)
    return message


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failure, at most 6 hours apart (about a day in all)."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


async def send_email(
    session: AsyncSession, settings: Settings, tenant_id: uuid.UUID, email_id: uuid.UUID, now: datetime
) -> str:
    """Send one queued e-mail that is due. Returns its status afterwards; an e-mail already sent,
    or not due yet, is left alone. Every failure is recorded on the row, never raised."""
    email = await EmailRepository(session, tenant_id).get(email_id, for_update=True)
    if email is None or email.status != "queued" or email.next_attempt_at > now:
        return email.status if email else "missing"
    email.attempts += 1
    try:
        message = build_message(settings, email)
    except (ValueError, TypeError) as exc:
        # The message cannot be built (say, an address the mail library refuses): no retry helps.
        return await _failed(session, email, f"cannot be sent: {exc}", permanent=True)
    try:
        await aiosmtplib.send(
            message,
            recipients=[email.to_address],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_use_tls,
            timeout=30,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        # The receiving side refused the address for good (5xx): retrying cannot help. A 4xx is a
        # "try later", handled like any other failure below.
        if all(refusal.code >= 500 for refusal in exc.recipients):
            return await _failed(session, email, f"recipient refused: {exc}", permanent=True)
        return await _retry_later(session, email, exc, now)
    except Exception as exc:  # noqa: BLE001 - any other failure to hand over the mail is a state to retry
        return await _retry_later(session, email, exc, now)
    email.status = "sent"
    email.sent_at = now
    email.last_error = None
    await session.flush()
    log.info("email.sent", email_id=str(email.id))
    return email.status


async def _retry_later(session: AsyncSession, email: Email, exc: Exception, now: datetime) -> str:
    email.next_attempt_at = now + retry_delay(email.attempts)
    return await _failed(session, email, str(exc) or type(exc).__name__, permanent=email.attempts >= MAX_ATTEMPTS)


async def _failed(session: AsyncSession, email: Email, error: str, *, permanent: bool) -> str:
    email.last_error = error[:2000]
    if permanent:
        email.status = "failed"
    log.warning("email.send.failed", email_id=str(email.id), attempts=email.attempts, error=email.last_error)
    await session.flush()
    return email.status
