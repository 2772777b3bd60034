from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, case, func, or_, select, update

from app.db.repository import TenantRepository
from app.integrations.xero.models import (
    XeroConnection,
    XeroDocument,
    XeroGrant,
    XeroJournalEntry,
    XeroLocationSettings,
)


class GrantRepository(TenantRepository[XeroGrant]):
    model = XeroGrant


class ConnectionRepository(TenantRepository[XeroConnection]):
    model = XeroConnection

    async def listed(self) -> Sequence[XeroConnection]:
        """Every connection of the tenant, live ones first, then by name."""
        statement = self.select().order_by(XeroConnection.status != "active", XeroConnection.name, XeroConnection.id)
        return (await self.session.scalars(statement)).all()

    async def by_xero_tenant(self, xero_tenant_id: str) -> XeroConnection | None:
        statement = self.select().where(XeroConnection.xero_tenant_id == xero_tenant_id)
        return (await self.session.scalars(statement)).one_or_none()

    async def of_grant(self, grant_id: uuid.UUID, *, for_update: bool = False) -> Sequence[XeroConnection]:
        statement = self.select().where(XeroConnection.grant_id == grant_id).order_by(XeroConnection.id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).all()


class LocationSettingsRepository(TenantRepository[XeroLocationSettings]):
    model = XeroLocationSettings

    async def for_location(self, location_id: uuid.UUID, *, for_update: bool = False) -> XeroLocationSettings | None:
        statement = self.select().where(XeroLocationSettings.location_id == location_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).one_or_none()

    async def for_locations(self, location_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, XeroLocationSettings]:
        statement = self.select().where(XeroLocationSettings.location_id.in_(location_ids))
        return {found.location_id: found for found in await self.session.scalars(statement)}

    async def all(self) -> Sequence[XeroLocationSettings]:
        return (await self.session.scalars(self.select())).all()


class DocumentRepository(TenantRepository[XeroDocument]):
    model = XeroDocument

    async def claim(
        self, connection_id: uuid.UUID, kind: str, now: datetime, limit: int, lease_until: datetime
    ) -> list[XeroDocument]:
        """Up to ``limit`` documents of ``kind`` to send now (pending and due, or claimed by a drain
        whose lease ran out), marked as being sent until ``lease_until``, in one statement; any
        another drain holds is skipped. A document whose lease ran out may have reached Xero: it
        is in doubt from now on."""
        picked = (
            select(XeroDocument.id)
            .where(
                XeroDocument.tenant_id == self.tenant_id,
                XeroDocument.connection_id == connection_id,
                XeroDocument.kind == kind,
                or_(
                    (XeroDocument.status == "pending") & (XeroDocument.next_attempt_at <= now),
                    (XeroDocument.status == "sending") & (XeroDocument.lease_until <= now),
                ),
            )
            .order_by(XeroDocument.next_attempt_at, XeroDocument.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            # Picked once: as an IN (...) subquery PostgreSQL may run it again for each row it
            # updates, and each run, skipping rows just claimed, picks another batch.
            .cte("picked")
            .prefix_with("MATERIALIZED")
        )
        statement = (
            update(XeroDocument)
            .where(XeroDocument.tenant_id == self.tenant_id, XeroDocument.id == picked.c.id)
            .values(
                status="sending",
                lease_until=lease_until,
                attempts=XeroDocument.attempts + 1,
                in_doubt=XeroDocument.in_doubt | (XeroDocument.status == "sending"),
            )
            .returning(XeroDocument)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        claimed = (await self.session.scalars(statement)).all()
        return sorted(claimed, key=lambda doc: (doc.next_attempt_at, doc.created_at))

    async def locked(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, XeroDocument]:
        """These documents, locked and read afresh (not from this session's memory)."""
        statement = (
            self.select().where(XeroDocument.id.in_(ids)).with_for_update().execution_options(populate_existing=True)
        )
        return {doc.id: doc for doc in await self.session.scalars(statement)}

    async def next_due(self, connection_id: uuid.UUID) -> datetime | None:
        """When the connection's next pending document (or running lease) falls due."""

        due = func.min(
            case((XeroDocument.status == "pending", XeroDocument.next_attempt_at), else_=XeroDocument.lease_until)
        )
        statement = select(due).where(
            XeroDocument.tenant_id == self.tenant_id,
            XeroDocument.connection_id == connection_id,
            XeroDocument.status.in_(("pending", "sending")),
        )
        found: datetime | None = await self.session.scalar(statement)
        return found

    async def of_objects(
        self, connection_id: uuid.UUID, kind: str, object_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, XeroDocument]:
        statement = self.select().where(
            XeroDocument.connection_id == connection_id,
            XeroDocument.kind == kind,
            XeroDocument.object_id.in_(object_ids),
        )
        return {doc.object_id: doc for doc in await self.session.scalars(statement)}

    async def known_ids(self, connection_id: uuid.UUID, kind: str, xero_ids: Collection[str]) -> set[str]:
        """Which of these Xero ids are already ours (of documents of ``kind``)."""
        statement = select(XeroDocument.xero_id).where(
            XeroDocument.tenant_id == self.tenant_id,
            XeroDocument.connection_id == connection_id,
            XeroDocument.kind == kind,
            XeroDocument.xero_id.in_(xero_ids),
        )
        return {found for found in (await self.session.scalars(statement)).all() if found}

    async def of_object(self, object_id: uuid.UUID, *, for_update: bool = False) -> Sequence[XeroDocument]:
        """Every organisation's document of one object of ours."""
        statement = self.select().where(XeroDocument.object_id == object_id).order_by(XeroDocument.created_at)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).all()

    async def waiting(self, connection_id: uuid.UUID) -> Sequence[XeroDocument]:
        """The connection's documents not in Xero as they are here (not being sent right now), locked."""
        statement = (
            self.select()
            .where(
                XeroDocument.connection_id == connection_id,
                XeroDocument.status.in_(("pending", "invalid", "mismatch")),
            )
            .with_for_update()
        )
        return (await self.session.scalars(statement)).all()

    def listed(
        self, connection_id: uuid.UUID, statuses: Collection[str] | None, kind: str | None
    ) -> Select[XeroDocument]:
        statement = self.select().where(XeroDocument.connection_id == connection_id)
        if statuses is not None:
            statement = statement.where(XeroDocument.status.in_(statuses))
        if kind is not None:
            statement = statement.where(XeroDocument.kind == kind)
        return statement

    async def counts(self, connection_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
        """How many documents stand at each status, for each of these connections (one query)."""
        statement = (
            select(XeroDocument.connection_id, XeroDocument.status, func.count())
            .where(XeroDocument.tenant_id == self.tenant_id, XeroDocument.connection_id.in_(connection_ids))
            .group_by(XeroDocument.connection_id, XeroDocument.status)
        )
        found: dict[uuid.UUID, dict[str, int]] = {connection_id: {} for connection_id in connection_ids}
        for connection_id, status, count in (await self.session.execute(statement)).all():
            found[connection_id][status] = int(count)
        return found


class JournalRepository(TenantRepository[XeroJournalEntry]):
    model = XeroJournalEntry

    def of_connection(self, connection_id: uuid.UUID) -> Select[XeroJournalEntry]:
        return self.select().where(XeroJournalEntry.connection_id == connection_id)

    async def latest(self, connection_id: uuid.UUID, limit: int) -> Sequence[XeroJournalEntry]:
        statement = self.of_connection(connection_id).order_by(XeroJournalEntry.id.desc()).limit(limit)
        return (await self.session.scalars(statement)).all()
