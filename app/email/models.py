from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, TenantOwned


class Email(TenantOwned, Base):
    """An e-mail to send: written in the transaction that decides to send it, sent by a job after."""

    __tablename__ = "emails"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status"),
        Index("ix_emails_due", "next_attempt_at", postgresql_where="status = 'queued'"),
    )

    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # Not before: retries back off, and a duplicate doorbell does not send early.
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
