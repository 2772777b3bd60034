"""Access tokens for calls to one Xero organisation, refreshed once for every worker.

Xero rotates refresh tokens: a refresh returns a new one, and the old one stops working soon
after. Two workers refreshing the same grant at once would each spend it, and the loser's tokens
would be dead. So a refresh happens under a row lock on the grant, in a transaction of its own
that stores the new tokens before anything uses them; a worker that waited on the lock finds the
fresh token and uses it without refreshing again. If the stored tokens were lost after Xero
rotated (a crash before the commit, a lost answer), the old refresh token still works during
Xero's grace period, so the next attempt recovers.

When Xero refuses the grant itself (``invalid_grant``: revoked, idle for 60 days, the app
disconnected in Xero), the grant fails, its connections pause, and the operator is told once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import system
from app.db.session import tenant_transaction
from app.email.service import queue_email
from app.integrations.xero.client import TokenSet, XeroAuthError, XeroClient
from app.integrations.xero.models import XeroConnection, XeroGrant
from app.integrations.xero.repository import ConnectionRepository, GrantRepository
from app.kit.crypto import SecretBox, UnreadableSecret
from app.kit.errors import AppError
from app.state import AppState
from app.tenant.repository import TenantRepository
from app.user.repository import UserRepository

log = structlog.get_logger()
# Refresh this long before Xero's expiry, so no call carries a token that dies on the way.
EARLY = timedelta(minutes=2)


class XeroNotConfigured(AppError):
    status_code = 503
    code = "xero_not_configured"


class XeroNeedsReconnect(AppError):
    status_code = 409
    code = "xero_needs_reconnect"


class XeroUnreachable(AppError):
    status_code = 502
    code = "xero_unavailable"


@dataclass(frozen=True)
class Access:
    """What a call to one organisation needs: a live token and the organisation's Xero id."""

    token: str
    xero_tenant_id: str
    connection_id: uuid.UUID
    grant_id: uuid.UUID


def client_of(state: AppState) -> XeroClient:
    client = state.providers.get(XeroClient)
    if client is None:
        raise XeroNotConfigured("Xero is not set up for this deployment (XERO_CLIENT_ID is missing).")
    return client


def store_tokens(grant: XeroGrant, tokens: TokenSet, box: SecretBox, now: datetime) -> None:
    grant.access_token_sealed = box.seal(tokens.access_token)
    grant.refresh_token_sealed = box.seal(tokens.refresh_token)
    grant.access_expires_at = now + timedelta(seconds=tokens.expires_in)
    grant.refreshed_at = now
    grant.scope = tokens.scope
    grant.status, grant.problem = "active", None


def _usable(grant: XeroGrant, now: datetime) -> bool:
    return (
        grant.access_token_sealed is not None
        and grant.access_expires_at is not None
        and grant.access_expires_at - EARLY > now
    )


def _paused(connection: XeroConnection) -> XeroNeedsReconnect:
    if connection.status == "disconnected":
        return XeroNeedsReconnect(f"The Xero organisation {connection.name} is disconnected.")
    detail = f" ({connection.problem})" if connection.problem else ""
    return XeroNeedsReconnect(f"Xero stopped accepting the connection to {connection.name}; reconnect it.{detail}")


async def access(state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> Access:
    """See ``_access_or_refresh``; a token no configured key opens asks for a reconnect."""
    try:
        return await _access_or_refresh(state, tenant_id, connection_id)
    except UnreadableSecret:
        log.error("xero.token.unreadable", connection_id=str(connection_id))
        raise XeroNeedsReconnect(
            "The stored Xero authorisation cannot be read with the configured token keys; "
            "restore the key it was sealed with, or reconnect."
        ) from None


async def _access_or_refresh(state: AppState, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> Access:
    """A token for calls to this connection's organisation, refreshed first if it is (nearly) spent.

    Runs in transactions of its own, so the caller's transaction never holds the grant's lock.
    Raises ``XeroNeedsReconnect`` when the connection is paused or Xero refuses the grant, and
    the client's ``XeroUnavailable`` / ``XeroAmbiguous`` when Xero could not be asked (retry later)."""
    client, box = client_of(state), state.secrets
    async with tenant_transaction(state, tenant_id) as session:
        connection = await ConnectionRepository(session, tenant_id).get(connection_id)
        if connection is None:
            raise XeroNeedsReconnect("No such Xero connection.")
        if connection.status != "active":
            raise _paused(connection)
        grant = await GrantRepository(session, tenant_id).get(connection.grant_id)
        assert grant is not None
        if grant.status == "active" and _usable(grant, state.clock.now()):
            return _access(grant, connection, box)
    refused = False
    # A new session, so the locked read below sees the row as it is now, not as first loaded.
    async with tenant_transaction(state, tenant_id) as session:
        # Whoever holds this lock is refreshing; waiting on it is the single flight.
        grant = await GrantRepository(session, tenant_id).get(connection.grant_id, for_update=True)
        assert grant is not None
        if grant.status != "active" or grant.refresh_token_sealed is None:
            raise _paused(connection)
        now = state.clock.now()
        if _usable(grant, now):
            return _access(grant, connection, box)
        try:
            tokens = await client.refresh(box.open(grant.refresh_token_sealed))
        except XeroAuthError as problem:
            refused = True
            await grant_refused(session, grant, f"Xero refused the stored authorisation ({problem}).", now)
        else:
            store_tokens(grant, tokens, box, now)
            log.info("xero.token.refreshed", grant_id=str(grant.id))
    if refused:  # raised only now, so that the failure and the operator's e-mail are committed
        raise _paused(connection)
    return _access(grant, connection, box)


def _access(grant: XeroGrant, connection: XeroConnection, box: SecretBox) -> Access:
    assert grant.access_token_sealed is not None
    return Access(box.open(grant.access_token_sealed), connection.xero_tenant_id, connection.id, grant.id)


async def refused_by_xero(state: AppState, tenant_id: uuid.UUID, granted: Access, status: int | None) -> AppError:
    """Xero turned down a call made with a token we held as good; returns the error to raise.

    A 401 means the token itself is no longer taken: it is forgotten, so the next call refreshes
    and finds out whether the grant still stands. A 403 means the organisation no longer lets our
    app in (disconnected inside Xero): that connection pauses until the operator reconnects."""
    async with tenant_transaction(state, tenant_id) as session:
        if status == 403:
            connection = await ConnectionRepository(session, tenant_id).get(granted.connection_id, for_update=True)
            if connection is not None and connection.status == "active":
                connection.status = "needs_reconnect"
                connection.problem = "Xero no longer lets FlexLedger into this organisation."
                log.warning("xero.connection.refused", connection_id=str(connection.id))
            name = connection.name if connection else "the organisation"
            return XeroNeedsReconnect(f"Xero no longer lets FlexLedger into {name}; reconnect it.")
        grant = await GrantRepository(session, tenant_id).get(granted.grant_id, for_update=True)
        if grant is not None and grant.access_token_sealed is not None:
            grant.access_expires_at = state.clock.now()
    return XeroUnreachable("Xero did not accept the access token; it will be renewed. Try again.")


async def grant_refused(session: AsyncSession, grant: XeroGrant, reason: str, now: datetime) -> None:
    """Xero will not honour ``grant`` any more: pause every connection on it and tell the
    operator. Only the first report of a failure does anything, so it is safe to repeat."""
    if grant.status != "active":
        return
    grant.status, grant.problem = "failed", reason
    grant.access_token_sealed = grant.refresh_token_sealed = None
    paused = []
    for connection in await ConnectionRepository(session, grant.tenant_id).of_grant(grant.id, for_update=True):
        if connection.status == "active":
            connection.status, connection.problem = "needs_reconnect", reason
            paused.append(connection.name)
    await session.flush()
    log.warning("xero.grant.failed", grant_id=str(grant.id), connections=len(paused), reason=reason)
    if paused:
        await _tell_operator(session, grant, paused, reason, now)


async def _tell_operator(session: AsyncSession, grant: XeroGrant, names: list[str], reason: str, now: datetime) -> None:
    tenant = await TenantRepository(session).get(grant.tenant_id)
    users = UserRepository(session, grant.tenant_id)
    recipients = {user.email for user in await users.administrators()}
    if grant.connected_by is not None and (who := await users.get(grant.connected_by)) is not None and who.active:
        recipients.add(who.email)
    organisations = ", ".join(names)
    body = (
        f"Since {now:%d %B %Y %H:%M} UTC, Xero no longer accepts FlexLedger's connection to {organisations}"
        f"{f' for {tenant.name}' if tenant else ''}.\n\n{reason}\n\n"
        "Nothing is sent to Xero until someone reconnects: sign in to the operator console, open Xero and "
        "choose Reconnect. Everything waiting is sent once the connection is back; nothing is lost.\n"
    )
    for address in sorted(recipients):
        await queue_email(session, grant.tenant_id, to=address, subject=f"Reconnect Xero: {organisations}", body=body)


async def reseal_all(state: AppState) -> tuple[int, int]:
    """Re-encrypt every stored token under the first of the token keys. Returns how many grants
    were re-sealed and how many no configured key opens (a key dropped too early: those grants
    are left as they are, and their connections will need reconnecting once they are used).
    Each grant is locked while it is re-sealed, so a refresh running alongside is not undone."""
    async with state.sessionmaker() as session, session.begin():
        found = await system.sealed_xero_grants(session)
    resealed = unreadable = 0
    for tenant_id, grant_id in found:
        async with tenant_transaction(state, tenant_id) as session:
            grant = await GrantRepository(session, tenant_id).get(grant_id, for_update=True)
            if grant is None:
                continue
            try:
                access_token, refresh_token = [
                    None if sealed is None else state.secrets.reseal(sealed)
                    for sealed in (grant.access_token_sealed, grant.refresh_token_sealed)
                ]
            except UnreadableSecret:
                log.error("xero.token.unreadable", tenant_id=str(tenant_id), grant_id=str(grant_id))
                unreadable += 1
                continue
            grant.access_token_sealed, grant.refresh_token_sealed = access_token, refresh_token
            resealed += 1
    return resealed, unreadable
