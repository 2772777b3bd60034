"""Reading the audit trail (it is written by app.audit.capture, never by hand)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.audit.repository import AuditEventRepository
from app.auth.principal import Operator
from app.kit.pagination import PageRequest


async def list_events(
    session: AsyncSession,
    operator: Operator,
    page: PageRequest,
    *,
    object_type: str | None = None,
    object_id: uuid.UUID | None = None,
) -> Sequence[AuditEvent]:
    repo = AuditEventRepository(session, operator.tenant_id)
    statement = repo.select()
    if object_type is not None:
        statement = statement.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        statement = statement.where(AuditEvent.object_id == object_id)
    return await repo.page(page, statement)
