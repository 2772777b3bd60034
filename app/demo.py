"""Demo data for the local run: one operator with two locations, its staff, members and an API key.

Idempotent: a second run finds the operator and only prints the sign-ins again. The demo API key is
derived from the secret key, so it can be printed on every start although only its digest is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_key.models import ApiKey
from app.api_key.repository import ApiKeyRepository
from app.auth.principal import ROLE_SCOPES, SCOPES, Operator
from app.db import system
from app.kit.security import API_KEY_PREFIX, Passwords, token_digest
from app.location.schemas import LocationCreate
from app.location.service import create_location
from app.main import build_state
from app.member.schemas import MemberCreate
from app.member.service import create_member
from app.settings import Settings
from app.tenant.schemas import OwnerCreate, TenantCreate
from app.tenant.service import create_tenant
from app.user.schemas import UserCreate
from app.user.service import create_user

SLUG = "harbour"
STAFF_PASSWORD = "harbour-staff-1"
MEMBER_PASSWORD = "harbour-member-1"
MEMBERS = [
    ("ada@example.test", "Ada Lovelace", "LON"),
    ("grace@example.test", "Grace Hopper", "LON"),
    ("alan@example.test", "Alan Turing", "LON"),
    ("mary@example.test", "Mary Somerville", "DUB"),
]


def demo_api_key(settings: Settings) -> tuple[str, str]:
    def derive(label: str) -> bytes:
        return hmac.new(
            settings.secret_key.get_secret_value().encode(),
            label.encode(),
            hashlib.sha256,
        ).digest()

    prefix = derive("demo-api-key-prefix").hex()[:12]
    secret = base64.urlsafe_b64encode(derive("demo-api-key-secret")).rstrip(b"=").decode()
    return f"{API_KEY_PREFIX}{prefix}_{secret}", prefix


async def seed_demo(settings: Settings) -> None:
    state = await build_state(settings)
    try:
        async with state.sessionmaker() as session:
            async with session.begin():
                if await system.tenant_by_slug(session, SLUG) is None:
                    await _create(session, state.passwords, settings, state.clock.now())
            await state.queue.enqueue_deferred(session)
    finally:
        await state.close()
    key, _ = demo_api_key(settings)
    print(
        f"Demo operator '{SLUG}' (organisation field on the sign-in pages)\n"
        f"  console sign-in:  owner@harbour.test / {STAFF_PASSWORD}   (also finance@…, manager@… for Dublin)\n"
        f"  portal sign-in:   ada@example.test / {MEMBER_PASSWORD}   (also grace@, alan@, mary@example.test)\n"
        f"  operator API key: {key}"
    )


async def _create(session: AsyncSession, passwords: Passwords, settings: Settings, now: datetime) -> None:
    tenant, owner, _, _ = await create_tenant(
        session,
        passwords,
        TenantCreate(
            slug=SLUG,
            name="Harbour Works",
            default_currency="GBP",
            default_country="GB",
            default_time_zone="Europe/London",
            support_email="billing@harbour.test",
            owner=OwnerCreate(email="owner@harbour.test", name="Olive Owner", password=STAFF_PASSWORD),
        ),
        now,
    )
    operator = Operator(
        tenant_id=tenant.id,
        actor_kind="user",
        actor_id=owner.id,
        scopes=ROLE_SCOPES["owner"],
        role="owner",
    )
    london = await create_location(
        session,
        operator,
        LocationCreate(
            name="London Bridge",
            code="LON",
            time_zone="Europe/London",
            country="GB",
            currency="GBP",
            tax_mode="exclusive",
        ),
    )
    dublin = await create_location(
        session,
        operator,
        LocationCreate(
            name="Dublin Docks",
            code="DUB",
            time_zone="Europe/Dublin",
            country="IE",
            currency="EUR",
            tax_mode="inclusive",
        ),
    )
    locations = {"LON": london.id, "DUB": dublin.id}
    await create_user(
        session,
        operator,
        passwords,
        UserCreate(
            email="finance@harbour.test",
            name="Fin Ance",
            role="finance",
            password=STAFF_PASSWORD,
        ),
    )
    await create_user(
        session,
        operator,
        passwords,
        UserCreate(
            email="manager@harbour.test",
            name="Mo Manager",
            role="location_manager",
            password=STAFF_PASSWORD,
            location_ids=[dublin.id],
        ),
    )
    for email, name, code in MEMBERS:
        await create_member(
            session,
            operator,
            passwords,
            settings,
            MemberCreate(
                email=email,
                name=name,
                location_id=locations[code],
                password=MEMBER_PASSWORD,
            ),
        )
    key, prefix = demo_api_key(settings)
    ApiKeyRepository(session, tenant.id).add(
        ApiKey(
            name="Demo key",
            prefix=prefix,
            digest=token_digest(key),
            scopes=sorted(SCOPES),
            created_by_user_id=owner.id,
        )
    )
    await session.flush()
