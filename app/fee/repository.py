from __future__ import annotations

from app.db.repository import TenantRepository
from app.fee.models import Fee


class FeeRepository(TenantRepository[Fee]):
    model = Fee
