"""Xero sync benchmark: how close the outbound sync comes to what Xero's limits allow.

For one organisation and for 50 at once (``--orgs``), against the sandbox in a process of its own
and the real worker (``flexledger worker``) in another:

1. Set-up, not timed: a fresh database built by the migrations, operators loaded with COPY (the
   billing benchmark's data set: companies with memberships, three locations each), a sandbox
   organisation per operator, connected through the real consent flow and mapped; every
   operator's contacts synced by the drain itself (with the limits lifted on both sides).
2. Throughput: billing runs that issue on run, period after period, until each operator has its
   backlog of invoices waiting in the outbox. The sandbox's time is scaled (``--scale``) and so is
   our throttle (``XERO_TIME_SCALE``); the worker starts and the clock runs until every invoice is
   synced. The ceiling is Xero's: 60 calls a minute per organisation, 50 invoices a call, with the
   first minute's 60 calls free to go at once.
3. Latency, in real time (scale 1): drafts issued one at a time (as the console's Issue does),
   spread evenly below the limits, each timed from its commit to its document's "synced".

Figures go to ``bench/results/xero_sync.json``.

    DATABASE_URL=postgresql://postgres@127.0.0.1/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m bench.xero_sync
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.audit.capture import set_actor
from app.auth.principal import ROLE_SCOPES
from app.auth.principal import Operator as Principal
from app.billing.periods import add_months
from app.billing.tasks import bill_together
from app.catalog.models import RevenueAccount, TaxRate
from app.company.models import Company
from app.db.provision import ensure_app_login
from app.db.session import tenant_transaction
from app.integrations.xero import outbox, sync
from app.integrations.xero.connections import PendingConsent, finish_consent, record_consent
from app.integrations.xero.mapping import save_location_settings
from app.integrations.xero.schemas import LocationXeroIn
from app.integrations.xero.tokens import client_of
from app.invoice.service import issue_invoice
from app.kit.ids import new_id
from app.main import build_state
from app.settings import Settings
from app.state import AppState
from bench.billing_run import (
    PERIOD,
    RESULTS,
    Shape,
    _busy_jiffies,
    _process_cpu,
    create_database,
    drop_database,
    generate,
    load,
    machine,
    migrate,
    say,
)
from bench.serving import wait_for
from sandbox import free_port

ROOT = Path(__file__).resolve().parent.parent
APP_LOGIN = "flexledger_bench_login"
APP_PASSWORD = "bench-login-password"  # noqa: S105 - a throwaway login on a throwaway database
CLIENT_ID = "flexledger-bench"
CLIENT_SECRET = "bench-client-secret"  # noqa: S105 - the sandbox's, for this run only
PUBLIC_URL = "http://127.0.0.1:9"  # the consent's redirect is read, never followed
COMPANIES_PER_ORG = 100  # contacts; the backlog comes from billing them period after period

# Xero's limits the ceiling is made of.
CALLS_PER_MINUTE = 60
PER_CALL = 50

ACCOUNT_CODES = {"membership_fees": "210", "booking_fees": "220", "one_off_fees": "200", "deposits": "835"}
PAYMENT_ACCOUNTS = {"bank_transfer": "090", "card": "091", "direct_debit": "092"}
UNLIMITED = {"per_minute": 10**7, "in_flight": 5, "per_day": 10**8, "app_per_minute": 10**8}

TARGET_CEILING_SHARE = 0.90
TARGET_P95_SECONDS = 5.0


# --------------------------------------------------------------------------------------------
# Processes: the sandbox and the worker


@dataclass
class Environment:
    """Where everything is, as the worker's environment variables."""

    app_url: str
    redis_url: str
    sandbox_url: str
    logs: Path
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    queue: str = field(default_factory=lambda: f"bench-xero:{uuid.uuid4().hex[:8]}:queue")

    def variables(self, *, scale: float, prefix: str) -> dict[str, str]:
        return {
            "ENVIRONMENT": "development",
            "DATABASE_URL": self.app_url,
            "DATABASE_POOL_SIZE": "10",
            "REDIS_URL": self.redis_url,
            "REDIS_KEY_PREFIX": prefix,
            "WORKER_QUEUE_NAME": self.queue,
            "SECRET_KEY": self.secret_key,
            "PUBLIC_URL": PUBLIC_URL,
            "XERO_CLIENT_ID": CLIENT_ID,
            "XERO_CLIENT_SECRET": CLIENT_SECRET,
            "XERO_LOGIN_URL": self.sandbox_url,
            "XERO_IDENTITY_URL": self.sandbox_url,
            "XERO_API_URL": self.sandbox_url,
            "XERO_GO_URL": self.sandbox_url,
            "XERO_TIME_SCALE": repr(scale),
            "LOG_LEVEL": "WARNING",
        }

    def settings(self, *, scale: float, prefix: str) -> Settings:
        variables = self.variables(scale=scale, prefix=prefix)
        return Settings.model_validate({name.lower(): value for name, value in variables.items()})


@contextmanager
def sandbox_process(logs: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    command = [sys.executable, "-m", "sandbox.xero", "--port", str(port), "--client-id", CLIENT_ID]
    command += ["--client-secret", CLIENT_SECRET, "--redirect-uri", f"{PUBLIC_URL}/console/xero/callback"]
    with open(logs / "sandbox.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/_sandbox/clock", process, "Xero sandbox")
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def start_workers(
    env: Environment, count: int, *, scale: float, prefix: str, label: str
) -> list[subprocess.Popen[bytes]]:
    variables = os.environ | env.variables(scale=scale, prefix=prefix)
    workers = []
    for number in range(count):
        with open(env.logs / f"worker-{label}-{number}.log", "wb") as log:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app.cli", "worker"],
                    cwd=ROOT,
                    env=variables,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return workers


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


# --------------------------------------------------------------------------------------------
# Set-up: operators connected, mapped, their contacts in Xero


@dataclass(frozen=True)
class Org:
    """A benchmark operator (tenant) with its owner, its locations and, once connected, its Xero organisation."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    locations: list[uuid.UUID]
    connection_id: uuid.UUID | None = None
    xero_tenant_id: str | None = None


async def add_users(owner_url: str, tenants: Sequence[tuple[Any, ...]]) -> dict[uuid.UUID, uuid.UUID]:
    """An owner per operator (who connects Xero and issues invoices)."""
    users = {row[0]: new_id() for row in tenants}
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.copy_records_to_table(
            "users",
            records=[(t, u, f"owner@{t}.test", "Owner", "owner", None, True) for t, u in users.items()],
            columns=["tenant_id", "id", "email", "name", "role", "password_hash", "active"],
        )
    finally:
        await connection.close()
    return users


def principal(operator: Org) -> Principal:
    return Principal(operator.tenant_id, "user", operator.user_id, ROLE_SCOPES["owner"], "owner")


async def consent(http: httpx.AsyncClient, authorize_url: str, xero_tenant_id: str) -> str:
    """What the operator's browser does on Xero's consent screen: tick the organisation, allow."""
    query = {key: values[0] for key, values in parse_qs(urlsplit(authorize_url).query).items()}
    page = await http.get(f"{authorize_url.split('?', 1)[0]}", params=query)
    page.raise_for_status()
    form = [(k, v) for k, v in query.items() if k != "response_type"] + [
        ("tenant", xero_tenant_id),
        ("decision", "allow"),
    ]
    answer = await http.post(
        authorize_url.split("?", 1)[0],
        content=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if answer.status_code != 302:
        raise SystemExit(f"The sandbox's consent screen answered {answer.status_code}: {answer.text[:200]}")
    return str(answer.headers["location"])


async def connect(state: AppState, http: httpx.AsyncClient, operator: Org, number: int) -> Org:
    """The operator's organisation, made in the sandbox, connected through the consent flow and
    mapped for each of its locations."""
    made = (await http.post("/_sandbox/organisations", json={"name": f"Bench Spaces {number} Ltd"})).json()
    authorization = client_of(state).authorization(state.settings.xero_redirect_uri)
    back = await consent(http, authorization.url, made["id"])
    pending = PendingConsent(operator.tenant_id, operator.user_id, authorization.code_verifier)
    tokens, organisations = await finish_consent(state, pending, back, authorization.state)
    who = principal(operator)
    async with tenant_transaction(state, operator.tenant_id) as session:
        [connection] = await record_consent(session, state, who, tokens, organisations, state.clock.now())
        accounts = (await session.scalars(select(RevenueAccount))).all()
        rates = (await session.scalars(select(TaxRate))).all()
        mapping = LocationXeroIn(
            connection_id=connection.id,
            account_codes={a.id: ACCOUNT_CODES[a.kind] for a in accounts},
            tax_types={str(r.id): "OUTPUT2" if r.name.startswith("VAT") else "EXEMPTOUTPUT" for r in rates}
            | {"none": "NONE"},
            payment_accounts=PAYMENT_ACCOUNTS,  # type: ignore[arg-type]
        )
        for location_id in operator.locations:
            await save_location_settings(session, who, location_id, mapping, state.clock.now())
    return Org(operator.tenant_id, operator.user_id, operator.locations, connection.id, made["id"])


async def sync_contacts(state: AppState, operator: Org) -> int:
    """Every company of the operator noted for Xero, and drained (the set-up's, not timed)."""
    assert operator.connection_id is not None
    async with tenant_transaction(state, operator.tenant_id) as session:
        for company in (await session.scalars(select(Company))).all():
            await outbox.company_changed(session, company)
    drained = await sync.drain(state, operator.tenant_id, operator.connection_id)
    if drained.stopped is not None:
        raise SystemExit(f"The set-up's contact sync stopped: {drained.stopped}")
    return drained.synced


async def gather_limited(limit: int, jobs: Sequence[Any]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


async def set_up_xero(env: Environment, operators: list[Org]) -> list[Org]:
    state = await build_state(env.settings(scale=1000.0, prefix="bench-xero:setup:"))
    try:
        async with httpx.AsyncClient(base_url=env.sandbox_url, timeout=30) as http:
            await http.post("/_sandbox/limits", json=UNLIMITED)
            connected = [await connect(state, http, operator, n) for n, operator in enumerate(operators)]
            contacts = await gather_limited(4, [sync_contacts(state, operator) for operator in connected])
            say(f"  connected {len(connected)} organisations; {sum(contacts)} contacts synced")
            await http.post("/_sandbox/limits", json={})  # Xero's own limits again
    finally:
        await state.close()
    return connected


# --------------------------------------------------------------------------------------------
# The backlog: billing runs that issue on run


async def bill_periods(env: Environment, operators: Sequence[Org], invoices_per_org: int) -> tuple[int, date]:
    """Bill period after period until each operator has at least ``invoices_per_org`` issued
    invoices; returns how many periods it took and the next period."""
    state = await build_state(env.settings(scale=1.0, prefix="bench-xero:billing:"))
    made: Counter[uuid.UUID] = Counter()
    period, periods = PERIOD, 0
    try:
        while min(made[o.tenant_id] for o in operators) < invoices_per_org:
            counts = await gather_limited(
                2, [bill_together(state, o.tenant_id, o.locations, period, last_try=True) for o in operators]
            )
            for operator, count in zip(operators, counts, strict=True):
                made[operator.tenant_id] += count
            period, periods = add_months(period, 1), periods + 1
    finally:
        await state.close()
    return periods, period


# --------------------------------------------------------------------------------------------
# Watching a run


@dataclass
class Usage:
    """CPU seconds of the worker processes, the sandbox and the machine over a stretch."""

    processes: dict[str, float]
    busy_jiffies: tuple[int, int]
    backends: float

    @classmethod
    async def now(cls, pids: dict[str, int], owner: asyncpg.Connection, database: str) -> Usage:
        rows = await owner.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
        backends = sum(_process_cpu(row["pid"]) or 0.0 for row in rows)
        return cls({name: _process_cpu(pid) or 0.0 for name, pid in pids.items()}, _busy_jiffies(), backends)

    def since(self, before: Usage, seconds: float) -> dict[str, float]:
        busy = (self.busy_jiffies[0] - before.busy_jiffies[0]) / max(1, self.busy_jiffies[1] - before.busy_jiffies[1])
        used = {f"cpu_{name}": self.processes[name] - before.processes.get(name, 0.0) for name in self.processes}
        return used | {
            "cpu_postgres_backends": self.backends - before.backends,
            "machine_busy_share": busy,
            "seconds": seconds,
        }


async def wait_synced(
    owner: asyncpg.Connection,
    workers: Sequence[subprocess.Popen[bytes]],
    objects: Sequence[uuid.UUID] | None,
    patience: float,
) -> int:
    """Until every invoice's document (or these invoices') is synced; gives up after ``patience``
    seconds without progress. Returns how many are not."""
    query = "SELECT count(*) FILTER (WHERE status <> 'synced') FROM xero_documents WHERE kind = 'invoice'"
    args: list[Any] = []
    if objects is not None:
        query, args = query + " AND object_id = ANY($1::uuid[])", [list(objects)]
    left, since = None, time.monotonic()
    while True:
        if any(worker.poll() is not None for worker in workers):
            raise SystemExit("A worker stopped during the run; see its log.")
        now_left = await owner.fetchval(query, *args)
        if now_left == 0:
            return 0
        if now_left != left:
            left, since = now_left, time.monotonic()
        elif time.monotonic() - since > patience:
            return int(now_left)
        await asyncio.sleep(0.25)


# --------------------------------------------------------------------------------------------
# Throughput


def ceiling_seconds(calls: int) -> float:
    """The least time Xero's limit lets ``calls`` calls take: 60 in any minute, the first 60 at once."""
    return 60.0 * ((calls - 1) // CALLS_PER_MINUTE)


@dataclass
class OrgRun:
    """One organisation's run, from the journal: what it sent and when (real seconds, epoch)."""

    invoices: int
    calls: Counter[int]
    first: float  # when the first call went
    last: float  # when the last answer came

    @property
    def needed(self) -> int:
        return math.ceil(self.invoices / PER_CALL)

    def share(self, scale: float) -> float:
        """Its ceiling's time over the time it took (both in Xero's seconds)."""
        return ceiling_seconds(self.needed) / ((self.last - self.first) * scale)


async def throughput(
    env: Environment, owner: asyncpg.Connection, args: argparse.Namespace, sandbox_pid: int
) -> dict[str, Any]:
    database = str(make_url(env.app_url).database)
    scale = args.scale
    async with httpx.AsyncClient(base_url=env.sandbox_url, timeout=30) as http:
        await http.post("/_sandbox/clock", json={"scale": scale})
        await http.delete("/_sandbox/usage")
        stats_before = (await http.get("/_sandbox/stats")).json()
        backlog = await owner.fetchval(
            "SELECT count(*) FROM xero_documents WHERE kind = 'invoice' AND status = 'pending'"
        )
        say(f"  backlog: {backlog} invoices; sandbox time x{scale}")
        started_at = datetime.now(UTC)
        workers = start_workers(env, args.workers, scale=scale, prefix="bench-xero:run:", label="throughput")
        pids = {f"worker_{n}": w.pid for n, w in enumerate(workers)} | {"sandbox": sandbox_pid}
        before, clock = await Usage.now(pids, owner, database), time.monotonic()
        try:
            left = await wait_synced(owner, workers, None, patience=max(120.0, 180 / scale))
            usage = (await Usage.now(pids, owner, database)).since(before, time.monotonic() - clock)
        finally:
            stop_workers(workers)
        stats = (await http.get("/_sandbox/stats")).json()
        violations = (await http.get("/_sandbox/violations")).json()
    rows = await owner.fetch(
        "SELECT connection_id, extract(epoch FROM at) AS at, duration_ms, status_code, items, kind "
        "FROM xero_journal WHERE at >= $1 ORDER BY at",
        started_at,
    )
    counted = await owner.fetch(
        "SELECT connection_id, count(*) FROM xero_documents WHERE kind = 'invoice' GROUP BY connection_id"
    )
    invoices: dict[uuid.UUID, int] = {row[0]: row[1] for row in counted}
    runs: dict[uuid.UUID, OrgRun] = {}
    for row in rows:
        at, began = float(row["at"]), float(row["at"]) - row["duration_ms"] / 1000
        run = runs.setdefault(row["connection_id"], OrgRun(invoices[row["connection_id"]], Counter(), began, at))
        run.calls[row["status_code"] or 0] += 1
        run.first, run.last = min(run.first, began), max(run.last, at)
    shares = [run.share(scale) for run in runs.values()]
    first, last = min(r.first for r in runs.values()), max(r.last for r in runs.values())
    took = (last - first) * scale
    ceiling = ceiling_seconds(max(run.needed for run in runs.values()))
    in_steady = sum(1 for row in rows if row["status_code"] == 429 and float(row["at"]) >= first + 60 / scale)
    refusals = Counter(stats["refusals"]) - Counter(stats_before["refusals"])
    held = stats["held"].values()
    return {
        "orgs": len(runs),
        "scale": scale,
        "invoices": sum(invoices.values()),
        "invoices_in_xero": sum(h["invoices"] for h in held),
        "duplicates_in_xero": sum(h["invoices"] - h["invoice_numbers"] for h in held),
        "not_synced": left,
        "spec_violations": len(violations),
        "calls": sum(sum(r.calls.values()) for r in runs.values()),
        "calls_by_status": dict(sum((r.calls for r in runs.values()), Counter())),
        "calls_needed": sum(run.needed for run in runs.values()),
        "xero_seconds": took,
        "wall_seconds": last - first,
        "ceiling_seconds": ceiling,
        "share": ceiling / took,
        "share_min_org": min(shares),
        "share_median_org": statistics.median(shares),
        "first_calls_spread_xero_seconds": (max(r.first for r in runs.values()) - first) * scale,
        "invoices_per_xero_minute": sum(invoices.values()) / took * 60,
        "ceiling_invoices_per_xero_minute": len(runs) * CALLS_PER_MINUTE * PER_CALL,
        "responses_429": sum(r.calls[429] for r in runs.values()),
        "responses_429_after_first_minute": in_steady,
        "sandbox_refusals": dict(refusals),
        "usage": usage,
    }


# --------------------------------------------------------------------------------------------
# Latency


async def latency(
    env: Environment, owner: asyncpg.Connection, operators: Sequence[Org], args: argparse.Namespace, period: date
) -> dict[str, Any]:
    """Drafts issued one by one, evenly spread at ``--latency-per-minute`` per organisation, in
    real time; each timed from its commit to its document's synced_at."""
    await owner.execute("UPDATE tenants SET issue_on_run = false")
    state = await build_state(env.settings(scale=1.0, prefix="bench-xero:latency:"))
    drafts: dict[uuid.UUID, list[uuid.UUID]] = {}
    for operator in operators:
        await bill_together(state, operator.tenant_id, operator.locations, period, last_try=True)
        rows = await owner.fetch(
            "SELECT id FROM invoices WHERE tenant_id = $1 AND status = 'draft' ORDER BY id", operator.tenant_id
        )
        drafts[operator.tenant_id] = [row["id"] for row in rows]
    async with httpx.AsyncClient(base_url=env.sandbox_url, timeout=30) as http:
        await http.post("/_sandbox/clock", json={"scale": 1})
        await http.delete("/_sandbox/usage")
    workers = start_workers(env, args.workers, scale=1.0, prefix="bench-xero:latency:", label="latency")
    await asyncio.sleep(3)  # the worker up and polling
    gap = 60.0 / args.latency_per_minute
    count = int(args.latency_seconds / gap)
    committed: dict[uuid.UUID, float] = {}
    started = time.monotonic()

    async def issue_for(operator: Org, offset: float) -> None:
        who = principal(operator)
        for number, invoice_id in enumerate(drafts[operator.tenant_id][:count]):
            await asyncio.sleep(max(0.0, started + offset + number * gap - time.monotonic()))
            async with tenant_transaction(state, operator.tenant_id) as session:
                set_actor(session.sync_session, f"user:{operator.user_id}")
                await issue_invoice(session, who, invoice_id, state.clock)
            committed[invoice_id] = time.time()

    try:
        spread = [gap * n / len(operators) for n in range(len(operators))]
        await asyncio.gather(*(issue_for(o, offset) for o, offset in zip(operators, spread, strict=True)))
        left = await wait_synced(owner, workers, list(committed), patience=60.0)
    finally:
        stop_workers(workers)
        await state.close()
    rows = await owner.fetch(
        "SELECT object_id, extract(epoch FROM synced_at) AS synced FROM xero_documents "
        "WHERE kind = 'invoice' AND object_id = ANY($1::uuid[]) AND status = 'synced'",
        list(committed),
    )
    waits = sorted(float(row["synced"]) - committed[row["object_id"]] for row in rows)
    calls = await owner.fetch(
        "SELECT status_code, count(*) FROM xero_journal WHERE at >= to_timestamp($1) GROUP BY status_code",
        min(committed.values()),
    )
    return {
        "orgs": len(operators),
        "issued": len(committed),
        "per_org_per_minute": args.latency_per_minute,
        "not_synced": left,
        "p50": statistics.median(waits),
        "p95": waits[max(0, math.ceil(0.95 * len(waits)) - 1)],
        "max": waits[-1],
        "calls_by_status": {str(row["status_code"]): row["count"] for row in calls},
    }


# --------------------------------------------------------------------------------------------
# One size, end to end


async def operators_of(owner_url: str, users: dict[uuid.UUID, uuid.UUID]) -> list[Org]:
    connection = await asyncpg.connect(owner_url)
    try:
        rows = await connection.fetch("SELECT tenant_id, id FROM locations ORDER BY tenant_id, id")
    finally:
        await connection.close()
    locations: defaultdict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in rows:
        locations[row["tenant_id"]].append(row["id"])
    return [Org(tenant, users[tenant], locations[tenant]) for tenant in sorted(users)]


def measure(admin_url: str, redis_url: str, orgs: int, args: argparse.Namespace) -> dict[str, Any]:
    name = f"flexledger_bench_xero_{orgs}"
    asyncio.run(drop_database(admin_url, name))
    owner_url = asyncio.run(create_database(admin_url, name))
    logs = Path(tempfile.mkdtemp(prefix="bench-xero-"))
    try:
        migrate(owner_url)
        app_url = asyncio.run(ensure_app_login(owner_url, APP_LOGIN, APP_PASSWORD))
        shape = Shape(COMPANIES_PER_ORG * orgs * 2, orgs, orgs * 3, COMPANIES_PER_ORG * orgs)
        data = generate(shape, issue_on_run=True)
        asyncio.run(load(owner_url, data))
        users = asyncio.run(add_users(owner_url, data.rows["tenants"]))
        operators = asyncio.run(operators_of(owner_url, users))
        with sandbox_process(logs) as (sandbox_url, sandbox):
            env = Environment(app_url, redis_url, sandbox_url, logs)
            say(f"{orgs} organisation(s): set-up (logs in {logs})")
            operators = asyncio.run(set_up_xero(env, operators))
            invoices_per_org = args.calls_per_org * PER_CALL
            periods, next_period = asyncio.run(bill_periods(env, operators, invoices_per_org))
            say(f"  billed {periods} periods")

            async def run() -> dict[str, Any]:
                owner = await asyncpg.connect(owner_url)
                try:
                    found = {"throughput": await throughput(env, owner, args, sandbox.pid)}
                    say(f"  throughput: {json.dumps(found['throughput'])}")
                    if args.latency_seconds > 0:
                        found["latency"] = await latency(env, owner, operators, args, next_period)
                        say(f"  latency: {json.dumps(found['latency'])}")
                    return found
                finally:
                    await owner.close()

            return asyncio.run(run())
    finally:
        if not args.keep:
            asyncio.run(drop_database(admin_url, name))


# --------------------------------------------------------------------------------------------
# Figures


# (figure, key in the run's result, unit)
THROUGHPUT_FIGURES = (
    ("ceiling_share", "share", "ratio"),
    ("ceiling_share_median_org", "share_median_org", "ratio"),
    ("ceiling_share_slowest_org", "share_min_org", "ratio"),
    ("first_calls_spread", "first_calls_spread_xero_seconds", "s"),
    ("invoices_per_xero_minute", "invoices_per_xero_minute", "invoices/min"),
    ("ceiling_invoices_per_xero_minute", "ceiling_invoices_per_xero_minute", "invoices/min"),
    ("invoices", "invoices", "invoices"),
    ("calls", "calls", "calls"),
    ("calls_needed", "calls_needed", "calls"),
    ("xero_seconds", "xero_seconds", "s"),
    ("ceiling_seconds", "ceiling_seconds", "s"),
    ("wall_seconds", "wall_seconds", "s"),
    ("time_scale", "scale", "x"),
    ("responses_429", "responses_429", "responses"),
    ("responses_429_after_first_minute", "responses_429_after_first_minute", "responses"),
    ("duplicates_in_xero", "duplicates_in_xero", "invoices"),
    ("not_synced", "not_synced", "invoices"),
    ("spec_violations", "spec_violations", "violations"),
)
LATENCY_FIGURES = (
    ("latency_p50", "p50", "s"),
    ("latency_p95", "p95", "s"),
    ("latency_max", "max", "s"),
    ("latency_issued", "issued", "invoices"),
    ("latency_rate_per_org", "per_org_per_minute", "invoices/min"),
    ("latency_not_synced", "not_synced", "invoices"),
)


def figures(results: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def add(name: str, value: Any, unit: str) -> None:
        found.append({"name": name, "value": round(value, 4) if isinstance(value, float) else value, "unit": unit})

    for orgs, result in results.items():
        suffix = "_1org" if orgs == 1 else f"_{orgs}orgs"
        run = result["throughput"]
        for name, key, unit in THROUGHPUT_FIGURES:
            add(name + suffix, run[key], unit)
        for key, value in run["usage"].items():
            add(key + suffix, value, "ratio" if key == "machine_busy_share" else "s")
        for name, key, unit in LATENCY_FIGURES if "latency" in result else ():
            add(name + suffix, result["latency"][key], unit)
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--orgs", type=int, action="append", help="organisations at once (repeatable; 1 and 50)")
    parser.add_argument("--calls-per-org", type=int, default=181, help="the backlog, in full calls per organisation")
    parser.add_argument("--scale", type=float, default=None, help="sandbox time per real second")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one per core)")
    parser.add_argument("--latency-per-minute", type=float, default=12.0)
    parser.add_argument("--latency-seconds", type=float, default=120.0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "xero_sync.json")
    args = parser.parse_args(argv)
    if not args.database_url:
        raise SystemExit("Set DATABASE_URL (or --database-url) to a PostgreSQL administrator URL.")
    results: dict[int, dict[str, Any]] = {}
    for orgs in args.orgs or [1, 50]:
        scaled = argparse.Namespace(**vars(args))
        scaled.scale = args.scale or (4.0 if orgs == 1 else 0.2)
        results[orgs] = measure(args.database_url, args.redis_url, orgs, scaled)
    report = {
        "benchmark": "xero_sync",
        "machine": machine(args.database_url),
        "date": date.today().isoformat(),
        "figures": figures(results),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    say(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
