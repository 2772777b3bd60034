"""Xero identity: consent, authorization codes, tokens with rotation, revocation and connections.

Lifetimes follow Xero: access tokens 30 minutes; a refresh token dies after 60 days unused; each
refresh rotates it, and the previous token still works for 30 minutes unless its successor has
already been used. Access tokens are signed JWTs whose claims name the grant they came from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.xero.store import AuthCode, Connection, Grant, Store, new_id

ACCESS_TOKEN_SECONDS = 1800
REFRESH_GRACE_SECONDS = 1800
REFRESH_IDLE_SECONDS = 60 * 86400
CODE_SECONDS = 300

# Which scopes open which group of endpoints: the broad scopes and the granular ones of 2026.
SCOPE_GROUPS: dict[str, tuple[str, ...]] = {
    "settings": ("accounting.settings",),
    "contacts": ("accounting.contacts",),
    "invoices": ("accounting.transactions", "accounting.invoices"),
    "payments": ("accounting.transactions", "accounting.payments"),
    "banktransactions": ("accounting.transactions", "accounting.banktransactions"),
}
_OTHER_SCOPES = {
    "openid",
    "profile",
    "email",
    "offline_access",
    "paymentservices",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.reports.read",
    "accounting.journals.read",
    "accounting.budgets.read",
    "accounting.manualjournals",
    "accounting.manualjournals.read",
}
KNOWN_SCOPES = _OTHER_SCOPES | {
    name + suffix for names in SCOPE_GROUPS.values() for name in names for suffix in ("", ".read")
}


class OAuthError(Exception):
    def __init__(self, error: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.description = error, status, description

    def body(self) -> dict[str, str]:
        return {"error": self.error} | ({"error_description": self.description} if self.description else {})


@dataclass(frozen=True)
class AccessClaims:
    grant_id: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    auth_event_id: str
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(store: Store, claims: dict[str, Any]) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(store.signing_key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def read_access_token(store: Store, token: str) -> AccessClaims | None:
    """The claims of a token this sandbox signed, or None for anything else. Expiry is the caller's to check."""
    try:
        head, body, mac = token.split(".")
        expected = hmac.new(store.signing_key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        claims = json.loads(_unb64(body))
    except ValueError:
        return None
    return AccessClaims(
        grant_id=claims["global_session_id"],
        client_id=claims["client_id"],
        user_id=claims["xero_userid"],
        scopes=tuple(claims["scope"]),
        auth_event_id=claims["authentication_event_id"],
        expires_at=float(claims["exp"]),
    )


def check_scopes(requested: str) -> list[str]:
    scopes = requested.split()
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown or not scopes:
        raise OAuthError("invalid_scope", description=f"Invalid scope for client: {' '.join(unknown)}")
    return scopes


def consent(
    store: Store,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: list[str],
    tenant_ids: list[str],
    code_challenge: str | None,
    now: float,
) -> str:
    """The user allowed access to ``tenant_ids``: connect them and hand out a code."""
    auth_event_id = new_id()
    moment = datetime.fromtimestamp(now, UTC)
    for tenant_id in tenant_ids:
        existing = next(
            (c for c in store.connections_of(client_id, store.user_id) if c.tenant_id == tenant_id),
            None,
        )
        if existing:
            existing.auth_event_id, existing.updated = auth_event_id, moment
        else:
            connection = Connection(new_id(), client_id, store.user_id, tenant_id, auth_event_id, moment, moment)
            store.connections[connection.id] = connection
    code = secrets.token_urlsafe(24)
    store.codes[code] = AuthCode(
        code, client_id, redirect_uri, scopes, auth_event_id, now + CODE_SECONDS, code_challenge
    )
    return code


def authenticate_client(store: Store, client_id: str | None, client_secret: str | None) -> str:
    app = store.apps.get(client_id or "")
    if app is None or not hmac.compare_digest(app.client_secret, client_secret or ""):
        raise OAuthError("invalid_client", status=401)
    return app.client_id


def exchange_code(
    store: Store, client_id: str, code: str, redirect_uri: str, verifier: str | None, now: float
) -> dict[str, Any]:
    issued = store.codes.get(code)
    if issued is None or issued.client_id != client_id or issued.used or issued.expires_at < now:
        raise OAuthError("invalid_grant")
    if issued.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", description="redirect_uri does not match the authorization request")
    if issued.code_challenge is not None:
        digest = _b64(hashlib.sha256((verifier or "").encode()).digest())
        if not hmac.compare_digest(digest, issued.code_challenge):
            raise OAuthError("invalid_grant", description="code_verifier does not match")
    issued.used = True
    grant = Grant(
        grant_id=new_id(),
        client_id=client_id,
        user_id=store.user_id,
        scopes=issued.scopes,
        auth_event_id=issued.auth_event_id,
        refresh_token=secrets.token_urlsafe(32),
        refreshed_at=now,
    )
    store.grants[grant.grant_id] = grant
    return _token_response(store, grant, now)


def refresh(store: Store, client_id: str, token: str, now: float) -> dict[str, Any]:
    found = store.grant_by_refresh_token(token)
    if found is None:
        raise OAuthError("invalid_grant")
    grant, current = found
    if grant.revoked or grant.client_id != client_id or now - grant.refreshed_at > REFRESH_IDLE_SECONDS:
        raise OAuthError("invalid_grant")
    if not current:
        # A retry with the token just replaced (its answer was lost): answer again while the grace
        # lasts. Once the successor has been spent, this token is forgotten and lands above.
        if now > grant.previous_valid_until:
            raise OAuthError("invalid_grant")
        return _token_response(store, grant, now)
    grant.previous_refresh_token, grant.previous_valid_until = token, now + REFRESH_GRACE_SECONDS
    grant.refresh_token, grant.refreshed_at = secrets.token_urlsafe(32), now
    return _token_response(store, grant, now)


def revoke(store: Store, client_id: str, token: str) -> None:
    """Revoking a refresh token ends the whole grant and every connection of that user to the app."""
    found = store.grant_by_refresh_token(token)
    if found is None or found[0].client_id != client_id:
        return
    end_access(store, client_id, found[0].user_id)


def end_access(store: Store, client_id: str, user_id: str) -> None:
    """The app loses a user: every grant is revoked and every connection removed."""
    for grant in store.grants.values():
        if grant.client_id == client_id and grant.user_id == user_id:
            grant.revoked = True
    for connection in store.connections_of(client_id, user_id):
        del store.connections[connection.id]


def _token_response(store: Store, grant: Grant, now: float) -> dict[str, Any]:
    claims = {
        "nbf": int(now),
        "exp": int(now) + ACCESS_TOKEN_SECONDS,
        "iss": "https://identity.xero.com",
        "aud": "https://identity.xero.com/resources",
        "client_id": grant.client_id,
        "sub": grant.user_id,
        "auth_time": int(now),
        "xero_userid": grant.user_id,
        "global_session_id": grant.grant_id,
        "authentication_event_id": grant.auth_event_id,
        "jti": secrets.token_hex(16),
        "scope": grant.scopes,
    }
    body: dict[str, Any] = {
        "access_token": _sign(store, claims),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": " ".join(grant.scopes),
    }
    if "offline_access" in grant.scopes:
        body["refresh_token"] = grant.refresh_token
    if "openid" in grant.scopes:
        body["id_token"] = _sign(store, {"sub": grant.user_id, "exp": int(now) + 300, "aud": grant.client_id})
    return body
