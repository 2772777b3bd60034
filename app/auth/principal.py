"""Who is acting: an operator (a console user or an API key) or a member, always within one tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

ROLES = ("owner", "admin", "finance", "location_manager")
Role = Literal["owner", "admin", "finance", "location_manager"]

SCOPES = frozenset(
    {
        "settings:read",
        "settings:write",
        "locations:read",
        "locations:write",
        "users:read",
        "users:write",
        "members:read",
        "members:write",
        "api_keys:read",
        "api_keys:write",
        "catalog:read",
        "catalog:write",
        "companies:read",
        "companies:write",
        "billing:read",
        "billing:write",
        "bookings:read",
        "bookings:write",
        "audit:read",
        "accounting:read",
        "accounting:write",
    }
)

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "owner": SCOPES,
    "admin": SCOPES,
    # Everything but administering the operator: settings, locations, users and API keys.
    "finance": SCOPES - {"settings:write", "locations:write", "users:write", "api_keys:read", "api_keys:write"},
    "location_manager": frozenset(
        {
            "settings:read",
            "locations:read",
            "members:read",
            "members:write",
            "catalog:read",
            "companies:read",
            "bookings:read",
            "bookings:write",
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Operator:
    tenant_id: uuid.UUID
    actor_kind: Literal["user", "api_key"]
    actor_id: uuid.UUID
    scopes: frozenset[str]
    role: str | None = None
    # None: every location of the tenant; otherwise only these (location managers).
    location_ids: frozenset[uuid.UUID] | None = None

    def sees_location(self, location_id: uuid.UUID) -> bool:
        return self.location_ids is None or location_id in self.location_ids

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.actor_id if self.actor_kind == "user" else None


@dataclass(frozen=True, slots=True)
class MemberPrincipal:
    tenant_id: uuid.UUID
    member_id: uuid.UUID
    token_id: uuid.UUID | None = None


Principal = Operator | MemberPrincipal


def actor_label(principal: Principal | None) -> str:
    """How the audit trail names whoever acted."""
    if isinstance(principal, Operator):
        return f"{principal.actor_kind}:{principal.actor_id}"
    if isinstance(principal, MemberPrincipal):
        return f"member:{principal.member_id}"
    return "anonymous"
