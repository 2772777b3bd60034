"""The audit trail, captured from the ORM itself: after each flush, every created, changed or
deleted row of an audited model gets an event with the acting credential and the changed values.
No service can forget to write one. Secrets (password hashes, key digests) are never recorded."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from app.audit.models import AuditEvent
from app.db.bulk import Rows
from app.kit.ids import new_id

ACTOR_KEY = "audit_actor"
REASON_KEY = "audit_reason"
_SKIPPED = frozenset({"created_at", "updated_at", "password_hash", "digest"})
AUDITED: dict[type, str] = {}


def audited(object_type: str) -> Any:
    """Class decorator: changes to this model are audited under ``object_type``."""

    def register(cls: type) -> type:
        AUDITED[cls] = object_type
        return cls

    return register


def set_actor(session: Session, actor: str, reason: str | None = None) -> None:
    session.info[ACTOR_KEY] = actor
    if reason is not None:
        session.info[REASON_KEY] = reason


def _event(
    info: dict[Any, Any], tenant_id: uuid.UUID, action: str, object_type: str, object_id: uuid.UUID, changes: Any
) -> dict[str, Any]:
    """An audit row; values are stored as they are (the engine's JSON encoder writes ids, amounts
    and dates as text)."""
    return {
        "tenant_id": tenant_id,
        "id": new_id(),
        "actor": info.get(ACTOR_KEY, "system"),
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "changes": changes,
        "reason": info.get(REASON_KEY),
    }


def _changes(obj: Any, action: str) -> dict[str, Any]:
    state = inspect(obj)
    found: dict[str, Any] = {}
    for attribute in state.mapper.column_attrs:
        key = attribute.key
        if key in _SKIPPED:
            continue
        if action == "create":
            found[key] = getattr(obj, key)
            continue
        history = state.attrs[key].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            found[key] = [before, after]
    return found


@event.listens_for(Session, "after_flush")
def _record(session: Session, _: UOWTransaction) -> None:
    rows = []
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            object_type = AUDITED.get(type(obj))
            if object_type is None:
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            tenant_id = obj.tenant_id if hasattr(obj, "tenant_id") else obj.id
            rows.append(_event(session.info, tenant_id, action, object_type, obj.id, changes))
    if rows:
        session.connection().execute(insert(AuditEvent), rows)


async def note(
    session: AsyncSession, tenant_id: uuid.UUID, object_type: str, object_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    """An event for a change the models cannot see on their own (rows replaced as a set)."""
    row = _event(session.info, tenant_id, "update", object_type, object_id, _text_keys(changes))
    await session.execute(insert(AuditEvent).values(**row))


def created_events(info: dict[Any, Any], object_type: str, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events for rows written in bulk, which skip the flush the capture listens to (``info`` is
    the session's, which names the actor)."""
    return [
        _event(
            info,
            row["tenant_id"],
            "create",
            object_type,
            row["id"],
            {key: value for key, value in row.items() if key not in _SKIPPED},
        )
        for row in rows
    ]


def event_rows(events: Sequence[dict[str, Any]]) -> Rows:
    """Events to write in bulk (alone, or with the rows they record)."""
    return Rows(AuditEvent, events, ("tenant_id", "actor", "action", "object_type", "reason"))


def _text_keys(value: Any) -> Any:
    """JSON objects have text keys: ids used as keys become their text."""
    if isinstance(value, dict):
        return {str(key): _text_keys(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_text_keys(item) for item in value]
    return value
