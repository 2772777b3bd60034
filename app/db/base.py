"""Declarative base and the column shapes every tenant-owned table shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, ForeignKey, MetaData, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app.kit.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
    }
    # Server-side defaults (timestamps) come back with the INSERT/UPDATE, never as a lazy load.
    __mapper_args__ = {"eager_defaults": True}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), sort_order=100)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now(), sort_order=101)


class TenantOwned(Timestamps):
    """A row of one tenant. The primary key leads with ``tenant_id`` so every foreign key into the
    table is composite and can never point into another tenant; row-level security filters on it."""

    # True where the row's composite key to its parent (an invoice's location, a line's invoice)
    # already proves the tenant exists: a key of its own to tenants would be checked again for
    # every row written, and billing writes these by the thousand.
    tenant_proven_by_parent: ClassVar[bool] = False

    @declared_attr
    @classmethod
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        if cls.tenant_proven_by_parent:
            return mapped_column(primary_key=True, sort_order=-2)
        return mapped_column(ForeignKey("tenants.id"), primary_key=True, sort_order=-2)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id, sort_order=-1)
