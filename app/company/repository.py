from __future__ import annotations

from app.company.models import Company
from app.db.repository import TenantRepository


class CompanyRepository(TenantRepository[Company]):
    model = Company
    location_column = "home_location_id"  # a company belongs to its home location
