"""The console's first page, and its sign-in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from app.dependencies import Db, operator_of
from app.kit.pagination import PageRequest
from app.location.service import list_locations
from app.tenant.service import get_tenant
from app.user.repository import UserRepository
from app.user.service import get_user
from portal.shared.session import signed_in
from portal.shared.sign_in import SignInPages


class ConsoleSignIn(SignInPages):
    path = "/console"
    kind = "console"
    people = UserRepository
    title = "Operator console"


class ConsoleDashboard(Controller):
    path = "/console"
    include_in_schema = False

    @get("/", guards=[signed_in("/console/login")])
    async def dashboard(self, request: Request[Any, Any, Any], db: Db) -> Template:
        operator = operator_of(request)
        tenant = await get_tenant(db, operator.tenant_id)
        assert operator.user_id is not None
        user = await get_user(db, operator, operator.user_id)
        locations = await list_locations(db, operator, PageRequest(after=None, limit=200))
        return Template(
            template_name="console/dashboard.html",
            context={
                "tenant": tenant,
                "user": user,
                "locations": locations,
                "area": "console",
            },
        )
