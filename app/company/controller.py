from __future__ import annotations

import uuid

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from app.auth.guards import requires
from app.company import service
from app.company.models import Company
from app.company.schemas import CompanyCreate, CompanyOut, CompanyUpdate
from app.dependencies import Actor, Db
from app.kit.pagination import Cursor, Limit, Page, page_request, paginate

READ, WRITE = requires("companies:read"), requires("companies:write")


def to_out(company: Company) -> CompanyOut:
    return msgspec.convert(company, CompanyOut, from_attributes=True)


class CompanyController(Controller):
    path = "/companies"
    tags = ["Companies"]

    @get("/", operation_id="listCompanies", summary="List companies", guards=[READ])
    async def list_companies(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[CompanyOut]:
        """Billing accounts (companies, or people billed in their own name), oldest first, a page at a time
        (pass `next_cursor` back as `cursor`). A location manager sees those whose home location they manage."""
        page = page_request(cursor, limit)
        return paginate(await service.list_companies(db, operator, page), page, to_out)

    @get("/{company_id:uuid}", operation_id="getCompany", summary="Get a company", guards=[READ])
    async def get_company(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> CompanyOut:
        """One billing account: its billing details, currency, payment terms, tax rate and home location."""
        return to_out(await service.get_company(db, operator, company_id))

    @post("/", operation_id="createCompany", summary="Create a company", guards=[WRITE])
    async def create_company(self, db: Db, operator: Actor, data: JSONBody[CompanyCreate]) -> CompanyOut:
        """A billing account homed at an active location and billed in that location's currency (409
        otherwise); names are unique per operator and kind (409). `payment_terms_days` sets when its invoices
        fall due. If the home location syncs to Xero, the contact is queued for it."""
        return to_out(await service.create_company(db, operator, data))

    @patch("/{company_id:uuid}", operation_id="updateCompany", summary="Update a company", guards=[WRITE])
    async def update_company(
        self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID], data: JSONBody[CompanyUpdate]
    ) -> CompanyOut:
        """Change only the fields sent; the currency is fixed. New billing details apply to documents made from
        now on. Changed contact details are queued for every Xero organisation that has the contact."""
        return to_out(await service.update_company(db, operator, company_id, data))

    @post(
        "/{company_id:uuid}/deactivate",
        operation_id="deactivateCompany",
        summary="Deactivate a company",
        status_code=200,
        guards=[WRITE],
    )
    async def deactivate_company(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> CompanyOut:
        """A deactivated company takes no new memberships, bookings or fees (409). Its invoices and existing
        memberships are not changed."""
        return to_out(await service.set_company_active(db, operator, company_id, active=False))

    @post(
        "/{company_id:uuid}/reactivate",
        operation_id="reactivateCompany",
        summary="Reactivate a company",
        status_code=200,
        guards=[WRITE],
    )
    async def reactivate_company(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> CompanyOut:
        """Make a company billable again. Its home location must be open (409 otherwise): move it with PATCH
        `home_location_id` first."""
        return to_out(await service.set_company_active(db, operator, company_id, active=True))
