"""Members: the people who use the space. Location managers see only their locations' members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from msgspec import UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import MemberPrincipal, Operator
from app.db.integrity import flush_unique
from app.email.service import queue_email
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch, valid_email
from app.kit.security import Passwords
from app.location.repository import LocationRepository
from app.member.models import Member
from app.member.repository import MemberRepository, MemberTokenRepository
from app.member.schemas import MemberCreate, MemberSelfUpdate, MemberUpdate
from app.settings import Settings

_UNIQUE = {"uq_members_tenant_id_email": "A member with this e-mail address already exists."}


async def _check_location(session: AsyncSession, operator: Operator, location_id: uuid.UUID) -> None:
    location = await LocationRepository(session, operator.tenant_id).get(location_id)
    if location is None or not operator.sees_location(location_id):
        raise NotFound(f"Location {location_id} does not exist.")
    if not location.active:
        raise Conflict(f"Location {location.name} is deactivated.")


async def usable_member(
    session: AsyncSession, operator: Operator, member_id: uuid.UUID | None, *, company_id: uuid.UUID | None = None
) -> None:
    """A member a membership or a booking may name (none is fine): one of the tenant's, and, given
    ``company_id``, one of that company's or of none."""
    if member_id is None:
        return
    member = await MemberRepository(session, operator.tenant_id).get(member_id)
    if member is None:
        raise NotFound(f"Member {member_id} does not exist.")
    if company_id is not None and member.company_id is not None and member.company_id != company_id:
        raise Conflict(f"Member {member_id} belongs to another company.")


async def list_members(
    session: AsyncSession,
    operator: Operator,
    page: PageRequest,
    *,
    location_id: uuid.UUID | None = None,
) -> Sequence[Member]:
    repo = MemberRepository(session, operator.tenant_id)
    return await repo.page(page, repo.visible(operator.location_ids, location_id=location_id))


async def get_member(
    session: AsyncSession,
    operator: Operator,
    member_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Member:
    member = await MemberRepository(session, operator.tenant_id).visible_one(
        member_id, operator.location_ids, for_update=for_update
    )
    if member is None:
        raise NotFound("No such member.")
    return member


async def create_member(
    session: AsyncSession,
    operator: Operator,
    passwords: Passwords,
    settings: Settings,
    data: MemberCreate,
) -> Member:
    await _check_location(session, operator, data.location_id)
    member = MemberRepository(session, operator.tenant_id).add(
        Member(
            email=valid_email(data.email),
            name=data.name,
            phone=data.phone,
            location_id=data.location_id,
            password_hash=await passwords.hash(data.password) if data.password else None,
            active=True,
        )
    )
    await flush_unique(session, _UNIQUE)
    if data.send_welcome:
        await queue_email(
            session,
            operator.tenant_id,
            to=member.email,
            subject="Welcome to your member portal",
            body=(
                f"Hello {member.name},\n\nYour member account is ready. Sign in at "
                f"{settings.public_url}/portal/login to see your invoices and keep your details current.\n"
            ),
        )
    return member


async def update_member(
    session: AsyncSession,
    operator: Operator,
    passwords: Passwords,
    member_id: uuid.UUID,
    data: MemberUpdate,
) -> Member:
    member = await get_member(session, operator, member_id, for_update=True)
    if not isinstance(data.location_id, UnsetType):
        await _check_location(session, operator, data.location_id)
        member.location_id = data.location_id
    if not isinstance(data.email, UnsetType):
        member.email = valid_email(data.email)
    if not isinstance(data.name, UnsetType):
        member.name = data.name
    if not isinstance(data.phone, UnsetType):
        member.phone = data.phone
    if not isinstance(data.password, UnsetType):
        member.password_hash = await passwords.hash(data.password)
        # A new password ends every sign-in made with the old one (the caller ends web sessions).
        await MemberTokenRepository(session, operator.tenant_id).revoke_all(member.id)
    await flush_unique(session, _UNIQUE)
    return member


async def set_member_active(session: AsyncSession, operator: Operator, member_id: uuid.UUID, *, active: bool) -> Member:
    member = await get_member(session, operator, member_id, for_update=True)
    member.active = active
    if not active:
        # Reactivating later must not revive old tokens.
        await MemberTokenRepository(session, operator.tenant_id).revoke_all(member.id)
    await session.flush()
    return member


async def get_self(session: AsyncSession, principal: MemberPrincipal) -> Member:
    member = await MemberRepository(session, principal.tenant_id).get(principal.member_id)
    if member is None or not member.active:
        raise NotFound("No such member.")
    return member


async def update_self(session: AsyncSession, principal: MemberPrincipal, data: MemberSelfUpdate) -> Member:
    member = await get_self(session, principal)
    apply_patch(member, data)
    await session.flush()
    return member
