from __future__ import annotations

from app.api_key.models import ApiKey
from app.db.repository import TenantRepository


class ApiKeyRepository(TenantRepository[ApiKey]):
    model = ApiKey
