"""Outgoing e-mail through an outbox: a row written in the caller's transaction, sent by a job
after commit. A sweep re-rings the doorbell for rows whose job was lost, so nothing is dropped."""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import EmailMessage

import aiosmtplib
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.email.models import Email
from app.email.repository import EmailRepository
from app.kit.jobs import defer
from app.settings import Settings

SEND_JOB = "email.send"
MAX_ATTEMPTS = 8
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


async def send_email(
    session: AsyncSession,
    settings: Settings,
    tenant_id: uuid.UUID,
    email_id: uuid.UUID,
    now: datetime,
) -> str:
    """Send one queued e-mail. Returns its status afterwards; an e-mail already sent is left alone."""
    email = await EmailRepository(session, tenant_id).get(email_id, for_update=True)
    if email is None or email.status != "queued":
        return email.status if email else "missing"
    email.attempts += 1
    try:
        await aiosmtplib.send(
            build_message(settings, email),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_use_tls,
            timeout=30,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        email.last_error = str(exc)[:2000]
        if email.attempts >= MAX_ATTEMPTS:
            email.status = "failed"
        log.warning(
            "email.send.failed",
            email_id=str(email.id),
            attempts=email.attempts,
            error=email.last_error,
        )
        await session.flush()
        return email.status
    email.status = "sent"
    email.sent_at = now
    email.last_error = None
    await session.flush()
    log.info("email.sent", email_id=str(email.id))
    return email.status
