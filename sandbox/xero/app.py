"""The sandbox's HTTP face: identity, connections, the Accounting API, a control API and pages.

Every Accounting API call passes the same gate, in Xero's order: token, tenant, scope, limits,
faults, the request body against the spec, ``Idempotency-Key`` replay, then the resource. Every
answer is checked against the spec too; mismatches are kept in ``violations`` for tests to fail on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from litestar import Litestar, Request, Response, delete, get, post, route
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.xero import identity, wire
from sandbox.xero.clock import SandboxClock
from sandbox.xero.faults import Faults, FaultSettings
from sandbox.xero.limits import Limiter, LimitSettings, retry_after_header
from sandbox.xero.resources import ROUTES, Handler, banking, contacts, documents, payments
from sandbox.xero.resources.common import Answer, Call, Missing, Refused, Rejected
from sandbox.xero.resources.documents import CREDIT_NOTE, INVOICE
from sandbox.xero.spec import AccountingSpec, Operation, Violation
from sandbox.xero.store import ClientApp, Organisation, Replay, Store, new_organisation, seeded_store

log = logging.getLogger("sandbox.xero")
API_PREFIX = "/api.xro/2.0"
LOSE_HEADER = "x-sandbox-lose-response"
IDEMPOTENCY_SECONDS = 360.0


@dataclass
class Sandbox:
    """All the sandbox's state; one per server."""

    clock: SandboxClock = field(default_factory=SandboxClock)
    limiter: Limiter = field(default_factory=Limiter)
    faults: Faults = field(default_factory=Faults)
    violations: list[Violation] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    # Tokens issued, by grant type: tests count refreshes to prove they were not spent twice.
    tokens: dict[str, int] = field(default_factory=dict)
    store: Store = field(init=False)

    def __post_init__(self) -> None:
        self.store = seeded_store(self.clock.now())

    def reset(self) -> None:
        """Back to a fresh start at the real time, keeping registered apps and the time scale."""
        apps = self.store.apps
        self.clock = SandboxClock(self.clock.scale)
        self.store = seeded_store(self.clock.now())
        self.store.apps = apps
        self.limiter = Limiter()
        self.faults.configure(FaultSettings())
        self.violations.clear()
        self.calls.clear()
        self.tokens.clear()


def _sandbox(request: Request[Any, Any, State]) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(
        wire.encode(body), status_code=status, media_type="application/json; charset=utf-8", headers=headers
    )


def _text(text: str, status: int, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(text.encode(), status_code=status, media_type="text/html; charset=utf-8", headers=headers)


def _page(title: str, body: str, status: int = 200) -> Response[bytes]:
    document = (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui;margin:2rem;max-width:70rem}table{border-collapse:collapse}"
        "td,th{border-top:1px solid #ddd;padding:.3rem .6rem;text-align:left}.num{text-align:right}</style>"
        f"<h1>{html.escape(title)}</h1>{body}"
    )
    return Response(document.encode(), status_code=status, media_type="text/html; charset=utf-8")


# Identity -------------------------------------------------------------------------------------


@get("/identity/connect/authorize", sync_to_thread=False)
def authorize_page(request: Request[Any, Any, State]) -> Response[bytes]:
    sandbox, params = _sandbox(request), request.query_params
    app = sandbox.store.apps.get(params.get("client_id", ""))
    redirect_uri = params.get("redirect_uri", "")
    if app is None or redirect_uri not in app.redirect_uris:
        return _page("Sign in to Xero", "<p>Unknown app or redirect URI.</p>", 400)
    if params.get("response_type") != "code":
        return _redirect_error(redirect_uri, "unsupported_response_type", params.get("state"))
    try:
        identity.check_scopes(params.get("scope", ""))
    except identity.OAuthError as problem:
        return _redirect_error(redirect_uri, problem.error, params.get("state"))
    hidden = "".join(
        f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k in {"client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"}
    )
    choices = "".join(
        f'<p><label><input type=checkbox name=tenant value="{org.id}"> {html.escape(org.name)}</label></p>'
        for org in sandbox.store.organisations.values()
    )
    body = (
        f"<p><b>{html.escape(app.name)}</b> wants to access your organisations.</p>"
        f"<p>Scopes: {html.escape(params.get('scope', ''))}</p>"
        f'<form method=post action="/identity/connect/authorize">{hidden}{choices}'
        "<button name=decision value=allow>Allow access</button> "
        "<button name=decision value=deny>Cancel</button></form>"
    )
    return _page("Connect to Xero (sandbox)", body)


def _redirect_error(redirect_uri: str, error: str, state: str | None) -> Response[bytes]:
    query = urlencode({"error": error} | ({"state": state} if state else {}))
    return Response(b"", status_code=302, headers={"Location": f"{redirect_uri}?{query}"})


@post("/identity/connect/authorize", status_code=302)
async def authorize_decision(request: Request[Any, Any, State]) -> Response[bytes]:
    sandbox = _sandbox(request)
    form = await request.form()
    app = sandbox.store.apps.get(str(form.get("client_id", "")))
    redirect_uri, state = str(form.get("redirect_uri", "")), form.get("state")
    if app is None or redirect_uri not in app.redirect_uris:
        return _page("Sign in to Xero", "<p>Unknown app or redirect URI.</p>", 400)
    tenants = [str(t) for t in form.getall("tenant")] if "tenant" in form else []
    if form.get("decision") != "allow" or not tenants:
        return _redirect_error(redirect_uri, "access_denied", str(state) if state else None)
    unknown = [t for t in tenants if t not in sandbox.store.organisations]
    if unknown:
        return _page("Sign in to Xero", "<p>Unknown organisation.</p>", 400)
    code = identity.consent(
        sandbox.store,
        client_id=app.client_id,
        redirect_uri=redirect_uri,
        scopes=identity.check_scopes(str(form.get("scope", ""))),
        tenant_ids=tenants,
        code_challenge=str(form["code_challenge"]) if form.get("code_challenge") else None,
        now=sandbox.clock.timestamp(),
    )
    query = urlencode({"code": code} | ({"state": str(state)} if state else {}))
    return Response(b"", status_code=302, headers={"Location": f"{redirect_uri}?{query}"})


def _client_credentials(request: Request[Any, Any, State], form: Any) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None, None
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


@post("/connect/token", status_code=200)
async def token(request: Request[Any, Any, State]) -> Response[bytes]:
    sandbox = _sandbox(request)
    form = await request.form()
    now = sandbox.clock.timestamp()
    try:
        client_id = identity.authenticate_client(sandbox.store, *_client_credentials(request, form))
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            body = identity.exchange_code(
                sandbox.store,
                client_id,
                str(form.get("code", "")),
                str(form.get("redirect_uri", "")),
                str(form["code_verifier"]) if form.get("code_verifier") else None,
                now,
            )
        elif grant_type == "refresh_token":
            body = identity.refresh(sandbox.store, client_id, str(form.get("refresh_token", "")), now)
        else:
            raise identity.OAuthError("unsupported_grant_type")
    except identity.OAuthError as problem:
        return _json(problem.body(), problem.status)
    sandbox.tokens[str(grant_type)] = sandbox.tokens.get(str(grant_type), 0) + 1
    # A lifetime in the client's seconds, as Retry-After is: a time-scaled sandbox shortens it.
    body["expires_in"] = max(1, int(body["expires_in"] / sandbox.clock.scale))
    return _json(body, headers={"Cache-Control": "no-store"})


@post("/connect/revocation", status_code=200)
async def revocation(request: Request[Any, Any, State]) -> Response[bytes]:
    sandbox = _sandbox(request)
    form = await request.form()
    try:
        client_id = identity.authenticate_client(sandbox.store, *_client_credentials(request, form))
    except identity.OAuthError as problem:
        return _json(problem.body(), problem.status)
    identity.revoke(sandbox.store, client_id, str(form.get("token", "")))
    return Response(b"", status_code=200)


class Answered(Exception):
    """The gate answers before the resource does (401, 403, 404, 429, a fault ...)."""

    def __init__(self, response: Response[bytes]) -> None:
        super().__init__(response.status_code)
        self.response = response


def _bearer(sandbox: Sandbox, request: Request[Any, Any, State]) -> identity.AccessClaims:
    header = request.headers.get("authorization", "")
    claims = identity.read_access_token(sandbox.store, header[7:]) if header.lower().startswith("bearer ") else None
    grant = sandbox.store.grants.get(claims.grant_id) if claims else None
    if claims is None or grant is None or grant.revoked:
        raise Answered(_json(wire.problem(401, "Unauthorized", "AuthenticationUnsuccessful"), 401))
    if claims.expires_at <= sandbox.clock.timestamp():
        expired = datetime.fromtimestamp(claims.expires_at, UTC).strftime("%m/%d/%Y %H:%M:%S")
        raise Answered(_json(wire.problem(401, "Unauthorized", f"TokenExpired: token expired at {expired}"), 401))
    return claims


def _xero_time(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds")[:-1]


@get("/connections", sync_to_thread=False)
def connections(request: Request[Any, Any, State]) -> Response[bytes]:
    sandbox = _sandbox(request)
    try:
        claims = _bearer(sandbox, request)
    except Answered as early:
        return early.response
    found = sandbox.store.connections_of(claims.client_id, claims.user_id)
    if event := request.query_params.get("authEventId"):
        found = [c for c in found if c.auth_event_id == event]
    return _json(
        [
            {
                "id": c.id,
                "authEventId": c.auth_event_id,
                "tenantId": c.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": sandbox.store.organisations[c.tenant_id].name,
                "createdDateUtc": _xero_time(c.created),
                "updatedDateUtc": _xero_time(c.updated),
            }
            for c in found
        ]
    )


@delete("/connections/{connection_id:str}", status_code=200, sync_to_thread=False)
def disconnect(request: Request[Any, Any, State], connection_id: FromPath[str]) -> Response[bytes]:
    sandbox = _sandbox(request)
    try:
        claims = _bearer(sandbox, request)
    except Answered as early:
        return early.response
    connection = sandbox.store.connections.get(connection_id)
    if connection is None or (connection.client_id, connection.user_id) != (claims.client_id, claims.user_id):
        return _text(wire.NOT_FOUND_TEXT, 404)
    del sandbox.store.connections[connection_id]
    return Response(b"", status_code=204)


# Accounting API -------------------------------------------------------------------------------


def _decode(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal) if raw.strip() else None


@route(f"{API_PREFIX}/{{path:path}}", http_method=["GET", "PUT", "POST", "DELETE"], status_code=200)
async def accounting(request: Request[Any, Any, State], path: FromPath[str]) -> Response[bytes]:
    sandbox = _sandbox(request)
    try:
        org, operation, handler = _route(sandbox, request, path)
        tenant_id = org.id
        refusal = sandbox.limiter.admit(tenant_id, sandbox.clock.timestamp())
        if refusal is not None:
            headers = sandbox.limiter.headers(tenant_id) | {
                "Retry-After": retry_after_header(refusal.retry_after, sandbox.clock.scale),
                "X-Rate-Limit-Problem": refusal.problem,
            }
            return _text("Rate limit exceeded", 429, headers)
    except Answered as early:
        return early.response
    sandbox.calls[tenant_id] = sandbox.calls.get(tenant_id, 0) + 1
    try:
        if latency := sandbox.faults.settings.latency_ms:
            await asyncio.sleep(latency / 1000)  # wall-clock time: it is the client's wait
        try:
            response = await _answer(sandbox, request, operation, handler, org, path)
        except Answered as early:
            response = early.response
        response.headers.update(sandbox.limiter.headers(tenant_id))
        return response
    finally:
        sandbox.limiter.release(tenant_id)


def _route(sandbox: Sandbox, request: Request[Any, Any, State], path: str) -> tuple[Organisation, Operation, Handler]:
    """Token, tenant, Accept, operation and scope, in the order Xero checks them."""
    claims = _bearer(sandbox, request)
    tenant_id = request.headers.get("xero-tenant-id", "").lower()
    reachable = {c.tenant_id for c in sandbox.store.connections_of(claims.client_id, claims.user_id)}
    org = sandbox.store.organisations.get(tenant_id)
    if org is None or tenant_id not in reachable:
        raise Answered(_json(wire.problem(403, "Forbidden", "AuthenticationUnsuccessful"), 403))
    if "application/json" not in request.headers.get("accept", ""):
        raise Answered(_text("This sandbox answers only Accept: application/json (Xero would send XML).", 406))
    method = request.method.upper()
    operation = AccountingSpec.load().operation(method, path)
    if operation is None:
        raise Answered(_text(wire.NOT_FOUND_TEXT, 404))
    found = ROUTES.get((method, operation.template))
    if found is None:
        body = {"ErrorNumber": 20, "Type": "ApiMethodNotImplementedException"}
        raise Answered(_json(body | {"Message": "The Api Method called is not implemented"}, 501))
    group, handler = found
    allowed = identity.SCOPE_GROUPS[group]
    if not any(s in claims.scopes or (method == "GET" and f"{s}.read" in claims.scopes) for s in allowed):
        raise Answered(_json(wire.problem(401, "Unauthorized", "AuthorizationUnsuccessful"), 401))
    return org, operation, handler


def _refused(number: int, kind: str, message: str) -> Answered:
    return Answered(_json(Refused(number, kind, message).body, 400))


def _request_body(sandbox: Sandbox, operation: Operation, raw: bytes) -> Any:
    try:
        body = _decode(raw)
    except ValueError:
        raise _refused(14, "PostDataInvalidException", "The JSON is not valid.") from None
    if body is not None and (problems := operation.check_request(body)):
        _record(sandbox, problems)
        raise Answered(_json(wire.rejection([f"{p.path}: {p.message}" for p in problems]), 400))
    return body


def _replayed(org: Organisation, key: str | None, fingerprint: tuple[str, str, bytes], now: float) -> Replay | None:
    if key is None:
        return None
    if len(key) > 128:
        raise _refused(10, "ValidationException", "Idempotency-Key must be at most 128 characters.")
    replay = org.replays.get(key)
    if replay is None or replay.expires_at <= now:
        return None
    if replay.fingerprint != fingerprint:
        raise _refused(10, "ValidationException", f"Idempotency Key {key} is used with a different request")
    return replay


async def _answer(
    sandbox: Sandbox,
    request: Request[Any, Any, State],
    operation: Operation,
    handler: Handler,
    org: Organisation,
    path: str,
) -> Response[bytes]:
    if (fault := sandbox.faults.before(org.id)) is not None:
        return _text(fault[1], fault[0])
    raw = await request.body()
    body = _request_body(sandbox, operation, raw)
    key = request.headers.get("idempotency-key")
    fingerprint = (request.method, f"{path}?{request.url.query}", hashlib.sha256(raw).digest())
    now = sandbox.clock.timestamp()
    if (replay := _replayed(org, key, fingerprint, now)) is not None:
        return Response(replay.body, status_code=replay.status, media_type=replay.content_type)
    since = request.headers.get("if-modified-since")
    call = Call(
        org=org,
        now=sandbox.clock.now(),
        params=operation.params,
        query=dict(request.query_params),
        body=body,
        if_modified_since=wire.parse_timestamp(since) if since else None,
    )
    try:
        answer = handler(call)
    except Missing:
        return _text(wire.NOT_FOUND_TEXT, 404)
    except Refused as refused:
        answer = Answer(400, refused.body)
    except Rejected as rejected:
        answer = Answer(400, wire.rejection(rejected.messages))
    out = wire.to_wire(answer.body)
    _record(sandbox, operation.check_response(answer.status, out))
    encoded, media = wire.encode(out), "application/json; charset=utf-8"
    if key is not None:
        org.replays[key] = Replay(fingerprint, answer.status, encoded, media, now + IDEMPOTENCY_SECONDS)
    headers = {"Xero-Correlation-Id": str(out.get("Id", "")) if isinstance(out, dict) else ""}
    if answer.wrote and sandbox.faults.lose_answer():
        headers[LOSE_HEADER] = "1"
    return Response(encoded, status_code=answer.status, media_type=media, headers=headers)


def _record(sandbox: Sandbox, problems: list[Violation]) -> None:
    for problem in problems:
        log.error("xero.spec.violation %s %s: %s", problem.where, problem.path, problem.message)
    sandbox.violations.extend(problems)


# Control API: for tests, the benchmark and the demo ----------------------------------------------


@post("/_sandbox/reset", status_code=200, sync_to_thread=False)
def reset(request: Request[Any, Any, State]) -> dict[str, Any]:
    _sandbox(request).reset()
    return {"reset": True}


@post("/_sandbox/apps", status_code=201, sync_to_thread=False)
def register_app(request: Request[Any, Any, State], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    app = ClientApp(
        client_id=str(data["client_id"]),
        client_secret=str(data["client_secret"]),
        redirect_uris=[str(u) for u in data.get("redirect_uris", [])],
        name=str(data.get("name", "FlexLedger")),
    )
    _sandbox(request).store.apps[app.client_id] = app
    return asdict(app) | {"client_secret": "***"}


@get("/_sandbox/clock", sync_to_thread=False)
def clock_now(request: Request[Any, Any, State]) -> dict[str, Any]:
    clock = _sandbox(request).clock
    return {"now": clock.now().isoformat(), "scale": clock.scale}


@post("/_sandbox/clock", status_code=200, sync_to_thread=False)
def clock_change(request: Request[Any, Any, State], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    clock = _sandbox(request).clock
    if "scale" in data:
        clock.set_scale(float(data["scale"]))
    if "advance" in data:
        clock.advance(float(data["advance"]))
    return {"now": clock.now().isoformat(), "scale": clock.scale}


@post("/_sandbox/faults", status_code=200, sync_to_thread=False)
def set_faults(request: Request[Any, Any, State], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    settings = FaultSettings(**data)
    _sandbox(request).faults.configure(settings)
    return asdict(settings)


@post("/_sandbox/limits", status_code=200, sync_to_thread=False)
def set_limits(request: Request[Any, Any, State], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    settings = LimitSettings(**data)
    _sandbox(request).limiter.settings = settings
    return asdict(settings)


@delete("/_sandbox/usage", status_code=204, sync_to_thread=False)
def forget_usage(request: Request[Any, Any, State]) -> None:
    """Forget every call counted so far against the limits (a benchmark's set-up is not its run)."""
    sandbox = _sandbox(request)
    sandbox.limiter = Limiter(sandbox.limiter.settings)


@get("/_sandbox/violations", sync_to_thread=False)
def violations(request: Request[Any, Any, State]) -> list[dict[str, str]]:
    return [asdict(v) for v in _sandbox(request).violations]


@delete("/_sandbox/violations", status_code=204, sync_to_thread=False)
def clear_violations(request: Request[Any, Any, State]) -> None:
    _sandbox(request).violations.clear()


@get("/_sandbox/stats", sync_to_thread=False)
def stats(request: Request[Any, Any, State]) -> dict[str, Any]:
    sandbox = _sandbox(request)
    held = {
        org.id: {
            "contacts": len(org.contacts),
            "invoices": len(org.invoices),
            "invoice_numbers": len({r.get("InvoiceNumber") for r in org.invoices.values()}),
        }
        for org in sandbox.store.organisations.values()
    }
    return {"calls": sandbox.calls, "refusals": sandbox.limiter.refusals, "tokens": sandbox.tokens, "held": held}


@post("/_sandbox/organisations", status_code=201, sync_to_thread=False)
def add_organisation(request: Request[Any, Any, State], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    sandbox = _sandbox(request)
    org = new_organisation(str(data["name"]), str(data.get("country", "GB")), sandbox.clock.now())
    sandbox.store.organisations[org.id] = org
    return {"id": org.id, "name": org.name, "short_code": org.short_code}


@get("/_sandbox/organisations", sync_to_thread=False)
def list_organisations(request: Request[Any, Any, State]) -> list[dict[str, Any]]:
    return [
        {"id": o.id, "name": o.name, "short_code": o.short_code} for o in _sandbox(request).store.organisations.values()
    ]


@post("/_sandbox/organisations/{tenant_id:str}", status_code=200, sync_to_thread=False)
def change_organisation(
    request: Request[Any, Any, State], tenant_id: FromPath[str], data: JSONBody[dict[str, Any]]
) -> dict[str, Any]:
    """Edits a user could make in Xero itself: the lock date, and archiving an account or tax rate."""
    org = _sandbox(request).store.organisations[tenant_id]
    if "period_lock_date" in data:
        org.period_lock_date = wire.parse_date(data["period_lock_date"]) if data["period_lock_date"] else None
    for code in data.get("archive_accounts", []):
        if (account := org.account_by_code(code)) is not None:
            account["Status"] = "ARCHIVED"
    for tax_type in data.get("archive_tax_rates", []):
        org.tax_rates[tax_type]["Status"] = "ARCHIVED"
    return {"id": org.id}


@get("/_sandbox/organisations/{tenant_id:str}/books", sync_to_thread=False)
def books(request: Request[Any, Any, State], tenant_id: FromPath[str]) -> Response[bytes]:
    """Everything an organisation holds, as Xero would write it: what tests assert on."""
    sandbox = _sandbox(request)
    org = sandbox.store.organisations[tenant_id]
    call = Call(org=org, now=sandbox.clock.now(), params={}, query={"unitdp": "4"})
    body = {
        "Contacts": [contacts.render(c) for c in org.contacts.values()],
        "Invoices": [documents.render(call, INVOICE, r) for r in org.invoices.values()],
        "CreditNotes": [documents.render(call, CREDIT_NOTE, r) for r in org.credit_notes.values()],
        "Payments": [payments.render(call, p) for p in org.payments.values()],
        "Overpayments": [banking.render_overpayment(call, r) for r in org.overpayments.values()],
    }
    return _json(wire.to_wire(body))


@post("/_sandbox/revoke", status_code=200, sync_to_thread=False)
def revoke_app(request: Request[Any, Any, State], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    """The user disconnects the app inside Xero: every grant and connection of it ends."""
    store = _sandbox(request).store
    client_id = str(data["client_id"])
    identity.end_access(store, client_id, store.user_id)
    return {"revoked": client_id}


# Pages for the demo ---------------------------------------------------------------------------


@get("/", sync_to_thread=False)
def home(request: Request[Any, Any, State]) -> Response[bytes]:
    store = _sandbox(request).store
    rows = "".join(
        f'<tr><td><a href="/organisations/{o.id}">{html.escape(o.name)}</a></td><td>{o.country}</td>'
        + "".join(f"<td class=num>{len(books)}</td>" for books in (o.contacts, o.invoices, o.credit_notes, o.payments))
        + "</tr>"
        for o in store.organisations.values()
    )
    table = "<tr><th>Organisation<th>Country<th>Contacts<th>Invoices<th>Credit notes<th>Payments</tr>"
    return _page("Xero sandbox", f"<table>{table}{rows}</table>")


@get("/organisations/{tenant_id:str}", sync_to_thread=False)
def organisation_page(request: Request[Any, Any, State], tenant_id: FromPath[str]) -> Response[bytes]:
    org = _sandbox(request).store.organisations.get(tenant_id)
    if org is None:
        return _page("Xero sandbox", "<p>No such organisation.</p>", 404)
    contacts = "".join(
        f"<tr><td>{html.escape(c['Name'])}</td><td>{html.escape(c.get('ContactNumber', ''))}</td>"
        f"<td>{html.escape(c.get('EmailAddress', ''))}</td><td>{c['ContactStatus']}</td></tr>"
        for c in org.contacts.values()
    )
    invoices = "".join(
        f"<tr><td>{html.escape(r['InvoiceNumber'])}</td><td>{html.escape(r['_contact']['Name'])}</td><td>{r['Date']}</td>"
        f"<td>{r['Status']}</td><td class=num>{r['Total']}</td><td class=num>{r['AmountDue']}</td>"
        f"<td>{r['CurrencyCode']}</td></tr>"
        for r in org.invoices.values()
    )
    body = (
        f'<p><a href="/">All organisations</a> · short code {html.escape(org.short_code)}</p>'
        "<h2>Contacts</h2><table><tr><th>Name<th>Number<th>E-mail<th>Status</tr>"
        f"{contacts}</table><h2>Invoices</h2><table><tr><th>Number<th>Contact<th>Date<th>Status<th>Total"
        f"<th>Due<th>Currency</tr>{invoices}</table>"
    )
    return _page(org.name, body)


@get("/organisationlogin/default.aspx", sync_to_thread=False)
def deep_link(
    request: Request[Any, Any, State], shortcode: FromQuery[str] = "", redirecturl: FromQuery[str] = "/"
) -> Response[bytes]:
    """Xero's deep-link door: switch to the organisation with this short code, then open the page.
    Here every page of an organisation is its one page."""
    org = next((o for o in _sandbox(request).store.organisations.values() if o.short_code == shortcode), None)
    if org is None:
        return _page("Xero sandbox", "<p>No organisation has that short code.</p>", 404)
    return Response(
        b"", status_code=302, headers={"Location": f"/organisations/{org.id}", "X-Requested-Page": redirecturl}
    )


def create_app(sandbox: Sandbox) -> ASGIApp:
    """The sandbox as an ASGI app, wrapped so that a response marked lost never fully arrives."""
    app = Litestar(
        route_handlers=[
            authorize_page,
            authorize_decision,
            token,
            revocation,
            connections,
            disconnect,
            accounting,
            reset,
            register_app,
            clock_now,
            clock_change,
            set_faults,
            forget_usage,
            set_limits,
            violations,
            clear_violations,
            stats,
            add_organisation,
            list_organisations,
            change_organisation,
            books,
            revoke_app,
            home,
            organisation_page,
            deep_link,
        ],
        state=State({"sandbox": sandbox}),
        openapi_config=None,
    )

    async def lose_marked_responses(scope: Scope, receive: Receive, send: Send) -> None:
        lost = False

        async def forward(message: Message) -> None:
            nonlocal lost
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                lost = any(name.lower() == LOSE_HEADER.encode() for name, _ in headers)
                if lost:
                    message = {**message, "headers": [(n, v) for n, v in headers if n.lower() != LOSE_HEADER.encode()]}
            elif message["type"] == "http.response.body" and lost:
                # Half the answer, then the connection drops: the write stands, the client cannot know.
                body = message.get("body", b"")
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                raise ConnectionAbortedError("sandbox: response deliberately lost")
            await send(message)

        await app(scope, receive, forward)

    return lose_marked_responses
