from __future__ import annotations

from app.db.repository import TenantRepository
from app.email.models import Email


class EmailRepository(TenantRepository[Email]):
    model = Email
