from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.db.repository import TenantRepository
from app.integrations.xero.models import XeroConnection, XeroGrant, XeroLocationSettings


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

    async def all(self) -> Sequence[XeroLocationSettings]:
        return (await self.session.scalars(self.select())).all()
