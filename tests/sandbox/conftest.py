"""The Xero sandbox on a real port, reset for each test; any spec violation fails the test that caused it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from sandbox.xero import wire
from sandbox.xero.server import SandboxServer

CLIENT_ID = "flexledger-test"
CLIENT_SECRET = "test-secret"
REDIRECT_URI = "http://127.0.0.1:9/xero/callback"
SCOPES = (
    "openid profile email offline_access accounting.settings accounting.contacts "
    "accounting.invoices accounting.payments accounting.banktransactions"
)


@pytest.fixture(scope="session")
def xero_server() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    yield server
    server.stop()


class Xero:
    """A test's handle on the sandbox: the control API plus a connected app's calls."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.access_token = ""
        self.refresh_token = ""
        self.tenants: list[str] = []

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.http.request(method, f"/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def organisations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.control("GET", "organisations")
        return found

    async def consent(self, tenant_ids: list[str], *, scope: str = SCOPES, challenge: str | None = None) -> str:
        """Walk the consent screen as a user would; returns the authorization code."""
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": "s1",
        } | ({"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {})
        page = await self.http.get("/identity/connect/authorize", params=params)
        assert page.status_code == 200, page.text
        for tenant_id in tenant_ids:
            assert tenant_id in page.text
        form = [(k, v) for k, v in params.items() if k != "response_type"] + [("tenant", t) for t in tenant_ids]
        answer = await self.http.post(
            "/identity/connect/authorize",
            content=urlencode([*form, ("decision", "allow")]).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 302, answer.text
        location = urlsplit(answer.headers["location"])
        query = parse_qs(location.query)
        assert query["state"] == ["s1"]
        return query["code"][0]

    async def token(self, **form: str) -> httpx.Response:
        return await self.http.post("/connect/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))

    async def connect(self, tenant_ids: list[str] | None = None) -> list[str]:
        tenant_ids = tenant_ids or [o["id"] for o in await self.organisations()][:1]
        code = await self.consent(tenant_ids)
        response = await self.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
        assert response.status_code == 200, response.text
        tokens = response.json()
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.tenants = tenant_ids
        return tenant_ids

    async def api(
        self, method: str, path: str, body: Any = None, *, tenant: str | None = None, **headers: str
    ) -> httpx.Response:
        sent = {
            "Authorization": f"Bearer {self.access_token}",
            "xero-tenant-id": tenant or self.tenants[0],
            "Accept": "application/json",
        } | {k.replace("_", "-"): v for k, v in headers.items()}
        # Amounts go out as JSON numbers written from Decimal, as a careful client sends them.
        content = wire.encode(body) if body is not None else None
        sent |= {"Content-Type": "application/json"} if content else {}
        return await self.http.request(method, f"/api.xro/2.0/{path}", content=content, headers=sent)

    async def ok(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        response = await self.api(method, path, body, **headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
async def xero(xero_server: SandboxServer) -> AsyncIterator[Xero]:
    async with httpx.AsyncClient(base_url=xero_server.url, timeout=10) as http:
        handle = Xero(http)
        await handle.control("POST", "reset")
        await handle.control("POST", "clock", {"scale": 1})
        await handle.control(
            "POST",
            "apps",
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [REDIRECT_URI]},
        )
        yield handle
        violations = await handle.control("GET", "violations")
        assert not violations, f"the sandbox saw traffic that breaks Xero's spec: {violations}"
