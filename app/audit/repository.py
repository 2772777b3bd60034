from __future__ import annotations

from app.audit.models import AuditEvent
from app.db.repository import TenantRepository


class AuditEventRepository(TenantRepository[AuditEvent]):
    model = AuditEvent
