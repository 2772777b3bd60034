"""Companies: the billing accounts invoices are addressed to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from msgspec import UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.catalog.repository import TaxRateRepository
from app.company.models import Company
from app.company.repository import CompanyRepository
from app.company.schemas import CompanyCreate, CompanyUpdate
from app.db.integrity import flush_unique
from app.integrations.xero import outbox, payloads
from app.kit.errors import Conflict, NotFound
from app.kit.pagination import PageRequest
from app.kit.schema import apply_patch, valid_email
from app.location.models import Location
from app.location.service import usable_location

_UNIQUE = {"uq_companies_tenant_id_legal_name_kind": "Another billing account has this name."}


async def _check_refs(
    session: AsyncSession,
    operator: Operator,
    location_id: uuid.UUID | None,
    tax_rate_id: uuid.UUID | None,
    currency: str,
) -> None:
    if location_id is not None:
        home = await usable_location(session, operator, location_id, for_share=True)
        if home.currency != currency:
            message = (
                f"{home.name} bills in {home.currency}, so a company calling it home is billed in {home.currency}, "
                f"not {currency}."
            )
            raise Conflict(f"currency: {message}", errors=[{"key": "currency", "message": message}])
    if tax_rate_id is not None:
        rate = await TaxRateRepository(session, operator.tenant_id).get(tax_rate_id)
        if rate is None:
            raise NotFound(f"Tax rate {tax_rate_id} does not exist.")
        if rate.status != "active":
            raise Conflict(f"The tax rate '{rate.name}' is archived.")


async def list_companies(session: AsyncSession, operator: Operator, page: PageRequest) -> Sequence[Company]:
    repo = CompanyRepository(session, operator.tenant_id)
    return await repo.page(page, repo.visible(operator.location_ids))


async def get_company(
    session: AsyncSession, operator: Operator, company_id: uuid.UUID, *, for_update: bool = False
) -> Company:
    company = await CompanyRepository(session, operator.tenant_id).visible_one(
        company_id, operator.location_ids, for_update=for_update
    )
    if company is None:
        raise NotFound("No such company.")
    return company


async def create_company(session: AsyncSession, operator: Operator, data: CompanyCreate) -> Company:
    await _check_refs(session, operator, data.home_location_id, data.tax_rate_id, data.currency)
    company = CompanyRepository(session, operator.tenant_id).add(
        Company(
            kind=data.kind,
            legal_name=data.legal_name,
            billing_email=valid_email(data.billing_email),
            address_line1=data.address_line1,
            address_line2=data.address_line2,
            city=data.city,
            region=data.region,
            postal_code=data.postal_code,
            country=data.country,
            tax_number=data.tax_number,
            currency=data.currency,
            payment_terms_days=data.payment_terms_days,
            tax_rate_id=data.tax_rate_id,
            auto_charge=data.auto_charge,
            home_location_id=data.home_location_id,
            active=True,
        )
    )
    await flush_unique(session, _UNIQUE)
    await outbox.company_changed(session, company)
    return company


def _contact_details(company: Company) -> tuple[object, ...]:
    """What the company's Xero contact is made of."""
    return tuple(getattr(company, name) for name in payloads.CONTACT_FIELDS)


async def update_company(
    session: AsyncSession, operator: Operator, company_id: uuid.UUID, data: CompanyUpdate
) -> Company:
    """Billing details apply to documents made from now on; issued invoices keep theirs."""
    company = await get_company(session, operator, company_id, for_update=True)
    await _check_refs(
        session,
        operator,
        None if isinstance(data.home_location_id, UnsetType) else data.home_location_id,
        None if isinstance(data.tax_rate_id, UnsetType) else data.tax_rate_id,
        company.currency,
    )
    before = _contact_details(company)
    apply_patch(company, data)
    if not isinstance(data.billing_email, UnsetType):
        company.billing_email = valid_email(data.billing_email)
    await flush_unique(session, _UNIQUE)
    if _contact_details(company) != before:
        await outbox.company_changed(session, company)
    return company


async def set_company_active(
    session: AsyncSession, operator: Operator, company_id: uuid.UUID, *, active: bool
) -> Company:
    """Deactivate, or reactivate: only at a home location that is open (a location cannot close
    while active companies call it home, so neither may one come back to a closed one)."""
    company = await get_company(session, operator, company_id, for_update=True)
    if active and not company.active:
        try:
            await usable_location(session, operator, company.home_location_id, for_share=True)
        except Conflict:
            raise Conflict(
                f"{company.legal_name}'s home location is deactivated: move the company to an open location "
                "(PATCH home_location_id), then reactivate it."
            ) from None
    company.active = active
    await session.flush()
    return company


async def billable_company(
    session: AsyncSession, operator: Operator, company_id: uuid.UUID, location: Location
) -> Company:
    """A company that can be charged at ``location``: active, and billed in its currency."""
    company = await CompanyRepository(session, operator.tenant_id).get(company_id)
    if company is None:
        raise NotFound(f"Company {company_id} does not exist.")
    if not company.active:
        raise Conflict(f"{company.legal_name} is deactivated.")
    if company.currency != location.currency:
        raise Conflict(
            f"Mismatched currencies: {location.name} bills in {location.currency}, "
            f"{company.legal_name} is billed in {company.currency}."
        )
    return company
