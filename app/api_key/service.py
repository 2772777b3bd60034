"""API keys of the operator JSON API: shown once at creation, stored as a digest, revocable.

A key never carries more than its creator holds, so a key cannot be used to widen access.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_key.models import ApiKey
from app.api_key.repository import ApiKeyRepository
from app.api_key.schemas import ApiKeyCreate, ApiKeyUpdate
from app.auth.principal import Operator
from app.kit.errors import Forbidden, InvalidInput, NotFound
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch
from app.kit.security import new_api_key, token_digest


async def list_api_keys(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[ApiKey]:
    return await ApiKeyRepository(session, operator.tenant_id).page(page)


async def get_api_key(
    session: AsyncSession,
    operator: Operator,
    key_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> ApiKey:
    key = await ApiKeyRepository(session, operator.tenant_id).get(key_id, for_update=for_update)
    if key is None:
        raise NotFound("No such API key.")
    return key


async def create_api_key(
    session: AsyncSession, operator: Operator, data: ApiKeyCreate, now: datetime
) -> tuple[ApiKey, str]:
    """Create a key; returns it with its secret, which is not stored and cannot be shown again."""
    beyond = sorted(set(data.scopes) - operator.scopes)
    if beyond:
        raise Forbidden(f"A key cannot carry permissions its creator lacks: {beyond}.")
    if operator.location_ids is not None:
        raise Forbidden("A location-scoped user cannot create tenant-wide API keys.")
    if data.expires_at is not None and data.expires_at <= now:
        raise InvalidInput("expires_at must be in the future.")
    secret, prefix = new_api_key()
    key = ApiKeyRepository(session, operator.tenant_id).add(
        ApiKey(
            name=data.name,
            prefix=prefix,
            digest=token_digest(secret),
            scopes=sorted(set(data.scopes)),
            created_by_user_id=operator.user_id,
            expires_at=data.expires_at,
        )
    )
    await session.flush()
    return key, secret


async def update_api_key(session: AsyncSession, operator: Operator, key_id: uuid.UUID, data: ApiKeyUpdate) -> ApiKey:
    key = await get_api_key(session, operator, key_id, for_update=True)
    apply_patch(key, data)
    await session.flush()
    return key


async def revoke_api_key(session: AsyncSession, operator: Operator, key_id: uuid.UUID, now: datetime) -> ApiKey:
    key = await get_api_key(session, operator, key_id, for_update=True)
    if key.revoked_at is None:
        key.revoked_at = now
        await session.flush()
    return key
