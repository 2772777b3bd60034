from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec


class AuditEventOut(msgspec.Struct):
    id: uuid.UUID
    created_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: uuid.UUID
    changes: dict[str, Any]
    reason: str | None
