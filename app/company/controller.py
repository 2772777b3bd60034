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

    @get("/", operation_id="listCompanies", guards=[READ])
    async def list_companies(
        self, db: Db, operator: Actor, cursor: Cursor = None, limit: Limit = None
    ) -> Page[CompanyOut]:
        page = page_request(cursor, limit)
        return paginate(await service.list_companies(db, operator, page), page, to_out)

    @get("/{company_id:uuid}", operation_id="getCompany", guards=[READ])
    async def get_company(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> CompanyOut:
        return to_out(await service.get_company(db, operator, company_id))

    @post("/", operation_id="createCompany", guards=[WRITE])
    async def create_company(self, db: Db, operator: Actor, data: JSONBody[CompanyCreate]) -> CompanyOut:
        return to_out(await service.create_company(db, operator, data))

    @patch("/{company_id:uuid}", operation_id="updateCompany", guards=[WRITE])
    async def update_company(
        self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID], data: JSONBody[CompanyUpdate]
    ) -> CompanyOut:
        return to_out(await service.update_company(db, operator, company_id, data))

    @post("/{company_id:uuid}/deactivate", operation_id="deactivateCompany", status_code=200, guards=[WRITE])
    async def deactivate_company(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> CompanyOut:
        return to_out(await service.set_company_active(db, operator, company_id, active=False))

    @post("/{company_id:uuid}/reactivate", operation_id="reactivateCompany", status_code=200, guards=[WRITE])
    async def reactivate_company(self, db: Db, operator: Actor, company_id: FromPath[uuid.UUID]) -> CompanyOut:
        return to_out(await service.set_company_active(db, operator, company_id, active=True))
