"""Xero over HTTP: the token service, connections and Accounting API calls.

Every failure is a ``XeroError``; callers decide by its kind:

- ``XeroAuthError``: the grant or the access token is not accepted (``invalid_grant``, 401, 403).
  Retrying will not help; the connection needs the operator to reconnect (or a fresh token).
  Other refusals of the token service (``invalid_client``: a wrong secret) are ``XeroUnavailable``,
  since they are ours to fix and say nothing about the grant.
- ``XeroRateLimited``: 429. ``retry_after`` says how many seconds Xero asked us to wait and
  ``problem`` which limit (``minute``, ``day``, ``concurrent``, ``appminute``).
- ``XeroUnavailable``: a 5xx, or no connection could be made. Nothing was done; retry later.
- ``XeroAmbiguous``: the request was sent but no complete answer came back (timeout, dropped
  connection). A write may have happened: look the document up before sending it again.
- ``XeroRejected``: 400; ``body`` is Xero's error document (a ``ValidationException`` and so on).
- ``XeroNotFound``: 404.

The OAuth2 messages are built and read by Authlib's protocol helpers; the transport is httpx and
can be replaced (tests of rare edge cases pass an ``httpx.MockTransport``).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import parameters
from authlib.oauth2.rfc7636 import create_s256_code_challenge

SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.settings",
    "accounting.contacts",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
)


# Amounts are Decimal and go out as JSON numbers written from their digits, never through float.
_ENCODER = msgspec.json.Encoder(decimal_format="number")


class XeroError(Exception):
    """Anything that went wrong talking to Xero. ``status``: Xero's HTTP status, when it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class XeroAuthError(XeroError):
    """401 or 403 from the Accounting API; no status from the token service."""


class XeroRateLimited(XeroError):
    def __init__(self, retry_after: float, problem: str) -> None:
        super().__init__(f"rate limited ({problem}), retry after {retry_after} s", 429)
        self.retry_after, self.problem = retry_after, problem


class XeroUnavailable(XeroError):
    """A 5xx, or no status when no connection could be made."""


class XeroAmbiguous(XeroError):
    pass


class XeroRejected(XeroError):
    def __init__(self, body: Any) -> None:
        super().__init__(str(body)[:500], 400)
        self.body = body


class XeroNotFound(XeroError):
    pass


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    auth_event_id: str | None


@dataclass(frozen=True)
class Connection:
    id: str
    tenant_id: str
    tenant_name: str
    auth_event_id: str


@dataclass(frozen=True)
class Authorization:
    """Where to send the operator to consent, and what to keep until they come back."""

    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class Answer:
    body: Any
    minute_remaining: int | None
    day_remaining: int | None


class XeroClient:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        login_url: str = "https://login.xero.com",
        identity_url: str = "https://identity.xero.com",
        api_url: str = "https://api.xero.com",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._client_id, self._client_secret = client_id, client_secret
        self._login_url, self._identity_url = login_url.rstrip("/"), identity_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=api_url, transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    # OAuth2 -----------------------------------------------------------------------------------

    def authorization(self, redirect_uri: str, scopes: tuple[str, ...] = SCOPES) -> Authorization:
        """The consent URL, with a fresh state and a PKCE verifier alongside the client secret."""
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        url = parameters.prepare_grant_uri(
            f"{self._login_url}/identity/connect/authorize",
            self._client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=" ".join(scopes),
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return Authorization(url=url, state=state, code_verifier=verifier)

    @staticmethod
    def code_from_callback(callback_url: str, expected_state: str) -> str:
        """The code in the redirect back to us. Raises XeroAuthError on a refusal or a state mismatch."""
        try:
            found = parameters.parse_authorization_code_response(callback_url, state=expected_state)
        except OAuth2Error as problem:
            raise XeroAuthError(f"the consent did not come back usable: {problem}") from problem
        code: str = found["code"]
        return code

    async def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        form = {"code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier}
        return await self._token("authorization_code", form)

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token("refresh_token", {"refresh_token": refresh_token})

    async def revoke(self, refresh_token: str) -> None:
        response = await self._send(
            "POST", f"{self._identity_url}/connect/revocation", data={"token": refresh_token}, auth=self._basic()
        )
        if response.status_code >= 400:
            raise _failure(response)

    def _basic(self) -> tuple[str, str]:
        return self._client_id, self._client_secret

    async def _token(self, grant_type: str, form: dict[str, str]) -> TokenSet:
        body = parameters.prepare_token_request(grant_type, **form)
        response = await self._send(
            "POST",
            f"{self._identity_url}/connect/token",
            content=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            auth=self._basic(),
        )
        if response.status_code in (400, 401):
            error = _oauth_error(response)
            if error == "invalid_grant":  # this grant (or code) is dead: only a new consent helps
                raise XeroAuthError(error)
            # invalid_client and the like: our configuration, not the operator's grant, is at
            # fault, so nothing stored may be given up over it.
            raise XeroUnavailable(f"Xero's token service refused the request: {error}")
        if response.status_code >= 400:
            raise _failure(response)
        data = response.json()
        if "refresh_token" not in data:
            raise XeroAuthError("Xero gave no refresh token: offline_access was not granted")
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_in=int(data["expires_in"]),
            scope=data.get("scope", ""),
            auth_event_id=_claim(data["access_token"], "authentication_event_id"),
        )

    # Connections and the Accounting API ----------------------------------------------------------

    async def connections(self, access_token: str, auth_event_id: str | None = None) -> list[Connection]:
        params = {"authEventId": auth_event_id} if auth_event_id else None
        response = await self._send("GET", "/connections", params=params, headers=_bearer(access_token))
        if response.status_code >= 400:
            raise _failure(response)
        return [
            Connection(c["id"], c["tenantId"], c.get("tenantName") or "", c.get("authEventId") or "")
            for c in response.json()
            if c.get("tenantType", "ORGANISATION") == "ORGANISATION"
        ]

    async def disconnect(self, access_token: str, connection_id: str) -> None:
        response = await self._send("DELETE", f"/connections/{connection_id}", headers=_bearer(access_token))
        if response.status_code >= 400 and response.status_code != 404:
            raise _failure(response)

    async def call(
        self,
        access_token: str,
        tenant_id: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        if_modified_since: str | None = None,
    ) -> Answer:
        """One Accounting API call (``path`` below ``/api.xro/2.0``). Amounts may be ``Decimal``."""
        headers = _bearer(access_token) | {"xero-tenant-id": tenant_id, "Accept": "application/json"}
        content = None
        if body is not None:
            content = _ENCODER.encode(body)
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if if_modified_since:
            headers["If-Modified-Since"] = if_modified_since
        response = await self._send(
            method, f"/api.xro/2.0/{path.lstrip('/')}", content=content, params=params, headers=headers
        )
        if response.status_code >= 400:
            raise _failure(response)
        return Answer(
            body=response.json(parse_float=Decimal),
            minute_remaining=_int(response.headers.get("X-MinLimit-Remaining")),
            day_remaining=_int(response.headers.get("X-DayLimit-Remaining")),
        )

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as problem:
            raise XeroUnavailable(f"could not reach Xero: {problem!r}") from problem
        except httpx.TransportError as problem:
            # Sent, but the answer never arrived whole: the call may have taken effect.
            raise XeroAmbiguous(f"no complete answer from Xero: {problem!r}") from problem


def deep_link(go_url: str, short_code: str, page: str = "/Dashboard/") -> str:
    """A link that opens ``page`` in the organisation with this short code (not whichever
    organisation the user last had open)."""
    query = urlencode({"shortcode": short_code, "redirecturl": page})
    return f"{go_url.rstrip('/')}/organisationlogin/default.aspx?{query}"


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _claim(jwt: str, name: str) -> str | None:
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    value = claims.get(name)
    return str(value) if value else None


def _oauth_error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.status_code))
    except ValueError:
        return str(response.status_code)


def _failure(response: httpx.Response) -> XeroError:
    status, text = response.status_code, response.text
    retry_after = float(response.headers.get("Retry-After") or 60)
    if status == 429:
        return XeroRateLimited(retry_after, (response.headers.get("X-Rate-Limit-Problem") or "unknown").lower())
    # The 503 of an old-style rate limit says so in its body; any other 5xx is an outage.
    if status == 503 and "rate limit" in text.lower():
        return XeroRateLimited(retry_after, "minute")
    if status == 400:
        try:
            return XeroRejected(response.json(parse_float=Decimal))
        except ValueError:
            return XeroRejected(text[:500])
    said = f"{status}: {text[:200]}"
    if status in (401, 403):
        return XeroAuthError(said, status)
    return XeroNotFound(said, status) if status == 404 else XeroUnavailable(said, status)
