"""Connecting a tenant to Xero organisations: consent, reconnection and disconnection.

The consent starts in the console: we keep its state and PKCE verifier in Redis (single use,
15 minutes) bound to the operator who started it, and send the browser to Xero. Xero sends the
browser back with a code; we trade it for tokens, ask which organisations this consent reached,
and make each one a connection of the tenant. Consenting again to an organisation the tenant
already has reconnects it: the connection moves to the new grant and its sync resumes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Operator
from app.integrations.xero import outbox
from app.integrations.xero.client import Connection, TokenSet, XeroAuthError, XeroError
from app.integrations.xero.models import XeroConnection, XeroGrant
from app.integrations.xero.repository import ConnectionRepository, GrantRepository
from app.integrations.xero.tokens import XeroUnreachable, access, client_of, store_tokens
from app.kit.errors import AppError, Forbidden, InvalidInput, NotFound
from app.state import AppState

log = structlog.get_logger()
CONSENT_SECONDS = 15 * 60
_CONSENT_GONE = "This Xero consent has expired or was already used. Start again from Connect."


@dataclass(frozen=True)
class PendingConsent:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    code_verifier: str


@dataclass(frozen=True)
class Organisation:
    """A Xero organisation a consent reached, with what we keep of its settings."""

    connection: Connection
    name: str
    short_code: str | None
    base_currency: str | None
    country: str | None


def _consent_key(state: AppState, consent_state: str) -> str:
    return f"{state.settings.redis_key_prefix}xero:consent:{consent_state}"


async def begin_consent(state: AppState, operator: Operator) -> str:
    """The URL of Xero's consent screen for this operator; remembers the flow until it returns."""
    if operator.actor_kind != "user":
        raise Forbidden("Connecting Xero needs a person signed in to the console, not an API key.")
    authorization = client_of(state).authorization(state.settings.xero_redirect_uri)
    pending = {"tenant_id": str(operator.tenant_id), "user_id": str(operator.actor_id)}
    await state.redis.set(
        _consent_key(state, authorization.state),
        json.dumps(pending | {"code_verifier": authorization.code_verifier}),
        ex=CONSENT_SECONDS,
    )
    return authorization.url


async def take_consent(state: AppState, operator: Operator, consent_state: str) -> PendingConsent:
    """The consent this callback finishes. Single use; only its own operator may finish it."""
    key = _consent_key(state, consent_state[:200])
    raw = await state.redis.get(key) if consent_state else None
    if raw is None:
        raise InvalidInput(_CONSENT_GONE)
    found = json.loads(raw)
    pending = PendingConsent(uuid.UUID(found["tenant_id"]), uuid.UUID(found["user_id"]), found["code_verifier"])
    if (pending.tenant_id, pending.user_id) != (operator.tenant_id, operator.actor_id):
        # Left in place: someone else's stray callback must not cancel the operator's consent.
        raise Forbidden("This Xero consent was started by someone else.")
    if await state.redis.delete(key) == 0:  # a second callback racing this one got it first
        raise InvalidInput(_CONSENT_GONE)
    return pending


async def finish_consent(
    state: AppState, pending: PendingConsent, callback_url: str, consent_state: str
) -> tuple[TokenSet, list[Organisation]]:
    """Trade the code in Xero's redirect for tokens and find the organisations it reached."""
    client = client_of(state)
    try:
        code = client.code_from_callback(callback_url, consent_state)
        tokens = await client.exchange_code(code, state.settings.xero_redirect_uri, pending.code_verifier)
        reached = await client.connections(tokens.access_token, tokens.auth_event_id)
        organisations = [await _organisation(state, tokens.access_token, found) for found in reached]
    except XeroAuthError as problem:
        raise InvalidInput(f"Xero did not accept the consent: {problem}") from problem
    except XeroError as problem:
        raise XeroUnreachable(f"Xero could not be reached to finish connecting; try again. ({problem})") from problem
    if not organisations:
        raise InvalidInput("The consent reached no Xero organisation. Choose at least one on Xero's screen.")
    return tokens, organisations


async def _organisation(state: AppState, token: str, found: Connection) -> Organisation:
    answer = await client_of(state).call(token, found.tenant_id, "GET", "Organisation")
    details = (answer.body.get("Organisations") or [{}])[0]
    return Organisation(
        connection=found,
        name=details.get("Name") or found.tenant_name,
        short_code=details.get("ShortCode"),
        base_currency=details.get("BaseCurrency"),
        country=details.get("CountryCode"),
    )


async def record_consent(
    session: AsyncSession,
    state: AppState,
    operator: Operator,
    tokens: TokenSet,
    organisations: Sequence[Organisation],
    now: datetime,
) -> list[XeroConnection]:
    """Keep the grant and make each organisation a live connection of the tenant."""
    grants = GrantRepository(session, operator.tenant_id)
    grant = grants.add(
        XeroGrant(auth_event_id=tokens.auth_event_id, connected_by=operator.actor_id, scope=tokens.scope)
    )
    store_tokens(grant, tokens, state.secrets, now)
    await session.flush()
    connections = ConnectionRepository(session, operator.tenant_id)
    # Locks go grant first, then its connections, everywhere (a refused refresh does the same).
    existing = [await connections.by_xero_tenant(o.connection.tenant_id) for o in organisations]
    previous = sorted({c.grant_id for c in existing if c is not None})
    for grant_id in previous:
        await grants.get(grant_id, for_update=True)
    recorded = []
    for organisation, found in zip(organisations, existing, strict=True):
        connection = found or connections.add(
            XeroConnection(xero_tenant_id=organisation.connection.tenant_id, connected_at=now)
        )
        connection.grant_id = grant.id
        connection.xero_connection_id = organisation.connection.id
        connection.name = organisation.name[:255]
        connection.short_code = organisation.short_code
        connection.base_currency = organisation.base_currency
        connection.country = organisation.country
        connection.status, connection.problem = "active", None
        recorded.append(connection)
    await session.flush()
    for connection in recorded:
        await outbox.resume(session, operator.tenant_id, connection.id)
    for grant_id in previous:
        await _close_if_unused(session, operator.tenant_id, grant_id)
    log.info("xero.connected", organisations=len(recorded), grants_replaced=len(previous))
    return recorded


async def _close_if_unused(session: AsyncSession, tenant_id: uuid.UUID, grant_id: uuid.UUID) -> None:
    """A grant nothing live uses any more keeps no tokens. It is not revoked at Xero: revoking
    ends every connection of that Xero user to our app, including other consents."""
    grant = await GrantRepository(session, tenant_id).get(grant_id, for_update=True)
    if grant is None or grant.status == "closed":
        return
    users = await ConnectionRepository(session, tenant_id).of_grant(grant_id)
    if any(connection.status != "disconnected" for connection in users):
        return
    grant.status = "closed"
    grant.access_token_sealed = grant.refresh_token_sealed = None
    await session.flush()


async def list_connections(session: AsyncSession, operator: Operator) -> Sequence[XeroConnection]:
    return await ConnectionRepository(session, operator.tenant_id).listed()


async def get_connection(
    session: AsyncSession, operator: Operator, connection_id: uuid.UUID, *, for_update: bool = False
) -> XeroConnection:
    connection = await ConnectionRepository(session, operator.tenant_id).get(connection_id, for_update=for_update)
    if connection is None:
        raise NotFound("No such Xero connection.")
    return connection


async def disconnect(
    session: AsyncSession, state: AppState, operator: Operator, connection_id: uuid.UUID
) -> XeroConnection:
    """Stop syncing to this organisation and remove our app from it in Xero. Our documents, their
    Xero ids and the location mappings stay, so reconnecting later picks up where it stopped.
    Disconnecting twice is harmless; if Xero cannot be told, we still stop (and say so)."""
    connection = await get_connection(session, operator, connection_id)
    if connection.status == "disconnected":
        return connection
    try:
        granted = await access(state, operator.tenant_id, connection.id)
        await client_of(state).disconnect(granted.token, connection.xero_connection_id)
    except (AppError, XeroError) as problem:
        log.warning("xero.disconnect.remote_failed", connection_id=str(connection.id), error=str(problem))
    # Grant first, then the connection: the order every path that locks both keeps. The refresh
    # re-reads the row under the lock (a plain second get would return this session's stale copy).
    await GrantRepository(session, operator.tenant_id).get(connection.grant_id, for_update=True)
    await session.refresh(connection, with_for_update=True)
    connection.status, connection.problem = "disconnected", None
    await session.flush()
    await _close_if_unused(session, operator.tenant_id, connection.grant_id)
    log.info("xero.disconnected", connection_id=str(connection.id))
    return connection
