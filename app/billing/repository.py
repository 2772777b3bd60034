from __future__ import annotations

from app.billing.models import BillingRun
from app.db.repository import TenantRepository


class BillingRunRepository(TenantRepository[BillingRun]):
    model = BillingRun
