"""Sign-in and sign-out, the same in both areas: each area's subclass says which."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Template
from msgspec import Meta

from app.auth.service import Credentials, People, sign_in
from app.auth.web_session import SessionKind, WebSessions, sessions_for
from app.dependencies import Db, State, Throttle
from app.kit.errors import TooManyRequests, Unauthenticated
from app.kit.request_context import client_address
from portal.shared.pages import HX_VARY, go, is_htmx


class SignInForm(msgspec.Struct):
    organisation: Annotated[str, Meta(max_length=40)] = ""
    email: Annotated[str, Meta(max_length=320)] = ""
    password: Annotated[str, Meta(max_length=200)] = ""


class SignInPages(Controller):
    """Sign-in and sign-out, shared by both areas; subclasses say which."""

    include_in_schema = False
    kind: ClassVar[SessionKind]
    people: ClassVar[type[People[Any]]]
    title: ClassVar[str]

    def _page(
        self,
        request: Request[Any, Any, Any],
        form: SignInForm,
        error: str | None,
        status: int,
        retry_after: int | None = None,
    ) -> Template:
        context = {"area": self.kind, "title": self.title, "form": form, "error": error}
        block = "form" if is_htmx(request) else None
        headers = {**HX_VARY, **({"Retry-After": str(retry_after)} if retry_after else {})}
        return Template(
            template_name="shared/login.html",
            context={**context, "block": block},
            status_code=status,
            headers=headers,
        )

    @get("/login")
    async def login_page(
        self, request: Request[Any, Any, Any], organisation: FromQuery[str] = ""
    ) -> Response[Any] | Template:
        if request.scope.get("user") is not None:
            return go(request, f"/{self.kind}/")
        return self._page(request, SignInForm(organisation=organisation), None, 200)

    @post("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        app_state: State,
        throttle: Throttle,
        data: URLEncodedBody[SignInForm],
    ) -> Response[Any] | Template:
        client = client_address(request)
        try:
            person = await sign_in(
                db,
                app_state,
                throttle,
                self.people,
                Credentials(data.organisation, data.email, data.password, client),
            )
        except TooManyRequests as exc:
            return self._page(request, SignInForm(data.organisation, data.email), exc.detail, 429, exc.retry_after)
        except Unauthenticated as exc:
            return self._page(request, SignInForm(data.organisation, data.email), exc.detail, 401)
        sessions = sessions_for(app_state)
        await sessions.delete(request.cookies.get(WebSessions.cookie_name(self.kind)))
        session_id = await sessions.create(self.kind, person.tenant_id, person.id)
        response = go(request, f"/{self.kind}/")
        response.set_cookie(
            WebSessions.cookie_name(self.kind),
            session_id,
            path=f"/{self.kind}",
            httponly=True,
            secure=app_state.settings.session_cookie_secure,
            samesite="lax",
            max_age=app_state.settings.session_max_age_seconds,
        )
        return response

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any], app_state: State) -> Response[Any]:
        name = WebSessions.cookie_name(self.kind)
        await sessions_for(app_state).delete(request.cookies.get(name))
        response = go(request, f"/{self.kind}/login")
        response.delete_cookie(name, path=f"/{self.kind}")
        return response
