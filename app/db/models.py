"""Every mapped model, imported in one place so the metadata is complete (migrations, mappers)."""

from app.api_key.models import ApiKey
from app.db.base import Base
from app.email.models import Email
from app.location.models import Location
from app.member.models import Member, MemberToken
from app.tenant.models import Tenant
from app.user.models import User, UserLocation

__all__ = [
    "ApiKey",
    "Base",
    "Email",
    "Location",
    "Member",
    "MemberToken",
    "Tenant",
    "User",
    "UserLocation",
]
