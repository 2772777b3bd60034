"""Billing-run benchmark: bill every location of a generated data set for one period, as the worker does.

Per size (10,000 and 100,000 memberships by default):

1. Setup, not timed, in a process of its own: a fresh database built by the migrations, the app's
   own login, and a data set loaded with COPY as the owner (tenants with their built-in revenue accounts, a taxed
   membership-fees account, plans, discounts, locations, companies holding two memberships each).
2. The run, timed, in a fresh process (so its peak memory is its own), after a checkpoint: every
   location billed for one period through the app's engine (the app login, the app role,
   row-level security, the worker's own call: one transaction per job, a job being a tenant's
   locations due together), two jobs at a time.
3. The ceiling, timed: the rows the run wrote, read back and copied with one COPY per table into
   bare copies of those tables (no row-level security, no triggers, no foreign keys); three
   tries, each after a checkpoint, and the fastest counts.

Figures go to ``bench/results/billing_run.json``. ``--profile`` instead profiles a sample of
locations with cProfile and writes ``bench/results/billing_run_profile.txt``.

    DATABASE_URL=postgresql://postgres@127.0.0.1/postgres \\
        .venv/bin/python -m bench.billing_run
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import multiprocessing
import os
import platform
import pstats
import random
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

PERIOD = date(2027, 3, 1)
Job = tuple[str, list[str]]  # a billing job: the tenant, and the locations it bills together
RESULTS = Path(__file__).resolve().parent / "results"
APP_LOGIN = "flexledger_bench_login"
APP_PASSWORD = "bench-login-password"  # noqa: S105 - a throwaway login on a throwaway database
SEED = 20270301

# The shape the issue asks for at 100,000 memberships, kept per tenant at every size so that
# only the number of tenants changes with scale.
MEMBERSHIPS_PER_TENANT = 100
LOCATIONS_PER_TENANT = 3
MEMBERSHIPS_PER_COMPANY = 2

# Rows the run writes, in the order the ceiling copies them (parents first).
WRITTEN_TABLES = ("billing_runs", "invoices", "invoice_lines", "billing_items", "audit_events")

TARGET_INVOICES_PER_SECOND = 1000
TARGET_CEILING_SHARE = 0.20
TARGET_PEAK_MB = 500


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------
# Databases


def plain_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(admin_url: str, name: str) -> str:
    return make_url(plain_url(admin_url)).set(database=name).render_as_string(hide_password=False)


async def create_database(admin_url: str, name: str) -> str:
    connection = await asyncpg.connect(plain_url(admin_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return database_url(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(plain_url(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def migrate(url: str) -> None:
    """The schema, built by the migrations as the owner (as tests/conftest.py does)."""
    from alembic import command
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", os.path.dirname(migrations.__file__))
    config.attributes["url"] = url
    command.upgrade(config, "head")


# --------------------------------------------------------------------------------------------
# The data set


@dataclass(frozen=True)
class Shape:
    memberships: int
    tenants: int
    locations: int
    companies: int

    @classmethod
    def for_memberships(cls, memberships: int) -> Shape:
        tenants = max(1, round(memberships / MEMBERSHIPS_PER_TENANT))
        companies = max(tenants, memberships // MEMBERSHIPS_PER_COMPANY)
        return cls(companies * MEMBERSHIPS_PER_COMPANY, tenants, tenants * LOCATIONS_PER_TENANT, companies)


@dataclass
class DataSet:
    """Rows for COPY, table by table, with the column names they fill."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)  # the worker's jobs: a tenant's locations each

    def table(self, name: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        self.columns[name] = columns
        return self.rows.setdefault(name, [])


# Columns of each generated table (those without a server default).
COLUMNS: dict[str, tuple[str, ...]] = {
    "tenants": (
        "id",
        "slug",
        "name",
        "status",
        "default_currency",
        "default_country",
        "default_time_zone",
        "issue_on_run",
    ),
    "tax_rates": ("tenant_id", "id", "name", "status"),
    "tax_rate_components": ("tenant_id", "tax_rate_id", "position", "name", "percent", "compound"),
    "revenue_accounts": ("tenant_id", "id", "kind", "name", "code", "liability", "tax_rate_id", "active"),
    "plans": (
        "tenant_id",
        "id",
        "name",
        "currency",
        "price",
        "interval_months",
        "revenue_account_id",
        "prorate",
        "included_credit",
        "deposit",
        "active",
    ),
    "discounts": ("tenant_id", "id", "name", "kind", "percent", "amount", "currency", "active"),
    "locations": (
        "tenant_id",
        "id",
        "name",
        "code",
        "time_zone",
        "country",
        "currency",
        "tax_mode",
        "billing_day",
        "active",
        "invoice_number_template",
        "credit_note_number_template",
    ),
    "companies": (
        "tenant_id",
        "id",
        "kind",
        "legal_name",
        "billing_email",
        "country",
        "currency",
        "payment_terms_days",
        "tax_rate_id",
        "auto_charge",
        "home_location_id",
        "active",
    ),
    "memberships": (
        "tenant_id",
        "id",
        "company_id",
        "plan_id",
        "location_id",
        "start_date",
        "end_date",
        "quantity",
        "price_override",
        "discount_id",
    ),
}
LOAD_ORDER = tuple(COLUMNS)

# name, monthly price in pence, interval in months, prorated
PLANS = (
    ("Hot desk", 25_000, 1, True),
    ("Dedicated desk", 40_000, 1, True),
    ("Private office", 180_000, 1, False),
    ("Hot desk, quarterly", 70_000, 3, True),
)


def _start_date(rng: random.Random) -> date:
    """When a membership started, relative to the period: one or two cycles to bill, some partial."""
    roll = rng.random()
    if roll < 0.40:
        return PERIOD  # the period's own cycle
    if roll < 0.65:
        return PERIOD.replace(month=PERIOD.month - 1)  # 1 Feb: last month caught up, then this one
    if roll < 0.85:
        return date(PERIOD.year, PERIOD.month - 1, rng.randint(2, 28))  # a prorated February, then March
    return PERIOD.replace(day=rng.randint(2, 28))  # a prorated March


def _tenant(data: DataSet, rng: random.Random, index: int, companies: int, issue_on_run: bool) -> None:
    from app.catalog.models import BUILTIN_ACCOUNTS
    from app.kit.ids import new_id

    tenant_id = new_id()
    data.rows["tenants"].append(
        (tenant_id, f"bench-{index:05d}", f"Bench Spaces {index}", "active", "GBP", "GB", "Europe/London", issue_on_run)
    )
    vat, exempt = new_id(), new_id()
    data.rows["tax_rates"] += [(tenant_id, vat, "VAT 20%", "active"), (tenant_id, exempt, "Exempt", "active")]
    data.rows["tax_rate_components"] += [
        (tenant_id, vat, 1, "VAT", Decimal(20), False),
        (tenant_id, exempt, 1, "Exempt", Decimal(0), False),
    ]
    accounts = {kind: new_id() for kind in BUILTIN_ACCOUNTS}
    data.rows["revenue_accounts"] += [
        (
            tenant_id,
            accounts[kind],
            kind,
            name,
            code,
            kind == "deposits",
            vat if kind == "membership_fees" else None,
            True,
        )
        for kind, (name, code) in BUILTIN_ACCOUNTS.items()
    ]
    plans = [new_id() for _ in PLANS]
    data.rows["plans"] += [
        (tenant_id, plan_id, name, "GBP", price, interval, accounts["membership_fees"], prorated, 0, 0, True)
        for plan_id, (name, price, interval, prorated) in zip(plans, PLANS, strict=True)
    ]
    founders, community = new_id(), new_id()
    data.rows["discounts"] += [
        (tenant_id, founders, "Founders", "percent", Decimal("12.5"), None, None, True),
        (tenant_id, community, "Community", "fixed", None, 5_000, "GBP", True),
    ]
    inclusive = index % 5 == 0  # a fifth of the operators price tax-inclusive
    locations = [new_id() for _ in range(LOCATIONS_PER_TENANT)]
    for number, location_id in enumerate(locations, start=1):
        data.rows["locations"].append(
            (
                tenant_id,
                location_id,
                f"Site {number}",
                f"L{number}",
                "Europe/London",
                "GB",
                "GBP",
                "inclusive" if inclusive else "exclusive",
                PERIOD.day,
                True,
                f"L{number}-{{number:06}}",
                f"L{number}-CN-{{number:06}}",
            )
        )
    # The scheduler's jobs: a tenant's locations due for the period, together (app/billing/tasks.py).
    from app.billing.tasks import RUN_BATCH

    for first in range(0, len(locations), RUN_BATCH):
        data.jobs.append((str(tenant_id), [str(location_id) for location_id in locations[first : first + RUN_BATCH]]))
    for number in range(companies):
        company_id = new_id()
        location_id = locations[number % LOCATIONS_PER_TENANT]
        data.rows["companies"].append(
            (
                tenant_id,
                company_id,
                "company",
                f"Customer {number:04d} Ltd",
                f"accounts{number}@customer{index}.test",
                "GB",
                "GBP",
                rng.choice((14, 14, 30)),
                exempt if rng.random() < 0.03 else None,
                False,
                location_id,
                True,
            )
        )
        for _ in range(MEMBERSHIPS_PER_COMPANY):
            start = _start_date(rng)
            roll = rng.random()
            discount = founders if roll < 0.10 else community if roll < 0.15 else None
            end = PERIOD.replace(day=20) if rng.random() < 0.05 and start < PERIOD.replace(day=20) else None
            data.rows["memberships"].append(
                (
                    tenant_id,
                    new_id(),
                    company_id,
                    rng.choice(plans),
                    location_id,
                    start,
                    end,
                    2 if rng.random() < 0.05 else 1,
                    rng.choice((20_000, 30_000)) if rng.random() < 0.05 else None,
                    discount,
                )
            )


def generate(shape: Shape, *, issue_on_run: bool) -> DataSet:
    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    data = DataSet()
    for name in LOAD_ORDER:
        data.table(name, COLUMNS[name])
    base, extra = divmod(shape.companies, shape.tenants)
    for index in range(shape.tenants):
        _tenant(data, rng, index, base + (1 if index < extra else 0), issue_on_run)
    return data


async def load(owner_url: str, data: DataSet) -> dict[str, int]:
    """COPY every table as the owner; foreign-key triggers are skipped (the rows are consistent
    by construction), row-level security does not apply to the superuser."""
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute("SET session_replication_role = replica")
        counts = {}
        for name in LOAD_ORDER:
            await connection.copy_records_to_table(name, records=data.rows[name], columns=list(data.columns[name]))
            counts[name] = len(data.rows[name])
        await connection.execute("SET session_replication_role = origin")
        # Statistics for what was loaded, as a live database would have. The tables the run
        # writes stay as the migrations left them (never analyzed): analyzed while empty, the
        # planner would scan them sequentially for every foreign-key check the run makes.
        await connection.execute(f"VACUUM ANALYZE {', '.join(LOAD_ORDER)}")
    finally:
        await connection.close()
    return counts


# --------------------------------------------------------------------------------------------
# The run (in its own process)


@dataclass
class RunResult:
    jobs: int
    locations: int
    invoices: int
    lines: int
    problems: int
    seconds: float
    started_at: float  # time.time(), to combine processes
    finished_at: float
    cpu_seconds: float  # this process, user + system
    backend_cpu_seconds: float | None  # the PostgreSQL backends serving it (None: not on this machine)
    jiffies: tuple[int, int, int, int]  # every core's (busy, total) ticks before, then after, from /proc/stat
    wal: tuple[int, int]  # the server's WAL position before and after (everyone's writes, on a shared server)
    load_average: float  # the 1-minute load average as the run started (others' work shows here)
    commit_seconds: float  # summed over the workers
    peak_rss_kib: int  # getrusage ru_maxrss
    peak_hwm_kib: int  # VmHWM of /proc/self/status: the same peak, counted for this process image only
    statements: dict[str, int] = field(default_factory=dict)
    statement_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def wal_bytes(self) -> int:
        return self.wal[1] - self.wal[0]

    @property
    def machine_busy_cores(self) -> float:
        busy_before, total_before, busy_after, total_after = self.jiffies
        return (busy_after - busy_before) / max(1, total_after - total_before) * (os.cpu_count() or 1)

    @classmethod
    def combine(cls, parts: Sequence[RunResult]) -> RunResult:
        """Processes that ran side by side, as one run: from the first start to the last finish."""
        if len(parts) == 1:
            return parts[0]
        started, finished = min(part.started_at for part in parts), max(part.finished_at for part in parts)
        backends = [part.backend_cpu_seconds for part in parts]
        statements: Counter[str] = Counter()
        statement_seconds: defaultdict[str, float] = defaultdict(float)
        for part in parts:
            statements.update(part.statements)
            for kind, seconds in part.statement_seconds.items():
                statement_seconds[kind] += seconds
        return cls(
            jobs=sum(part.jobs for part in parts),
            locations=sum(part.locations for part in parts),
            invoices=sum(part.invoices for part in parts),
            lines=sum(part.lines for part in parts),
            problems=sum(part.problems for part in parts),
            seconds=finished - started,
            started_at=started,
            finished_at=finished,
            cpu_seconds=sum(part.cpu_seconds for part in parts),
            backend_cpu_seconds=None if None in backends else sum(b or 0.0 for b in backends),
            jiffies=(
                min(part.jiffies[0] for part in parts),
                min(part.jiffies[1] for part in parts),
                max(part.jiffies[2] for part in parts),
                max(part.jiffies[3] for part in parts),
            ),
            wal=(min(part.wal[0] for part in parts), max(part.wal[1] for part in parts)),
            load_average=max(part.load_average for part in parts),
            commit_seconds=sum(part.commit_seconds for part in parts),
            peak_rss_kib=max(part.peak_rss_kib for part in parts),
            peak_hwm_kib=max(part.peak_hwm_kib for part in parts),
            statements=dict(statements),
            statement_seconds=dict(statement_seconds),
        )


def _busy_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores so far."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) a process on this machine has used, if it can be seen."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_hwm_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _statement_kind(statement: str) -> str:
    words = statement.split()
    if not words:
        return "?"
    verb = words[0].upper()
    # Inserts, into one table or several in one statement (WITH ... INSERT INTO ...).
    tables = [
        words[at + 2] for at, word in enumerate(words[:-2]) if word.lstrip("(") == "INSERT" and words[at + 1] == "INTO"
    ]
    if verb in {"INSERT", "WITH"} and tables:
        return "INSERT " + " + ".join(tables)
    if verb == "SELECT" and words[1].startswith("pg_advisory_xact_lock"):
        return "SELECT pg_advisory_xact_lock"
    if verb == "UPDATE" and len(words) > 1:
        return f"UPDATE {words[1]}"
    if verb == "SELECT" and "FROM" in words:
        return f"SELECT {words[words.index('FROM') + 1]}"
    return " ".join(words[:2])


class Biller:
    """The worker's billing job (app/billing/tasks.py), minus the queue, counting what it wrote."""

    def __init__(self, app_url: str, concurrency: int) -> None:
        from app.db.engine import create_engine, create_sessionmaker
        from app.db.provision import APP_ROLE
        from app.kit.clock import Clock

        self.engine = create_engine(app_url, app_role=APP_ROLE, pool_size=concurrency)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.pids: set[int] = set()
        self.local = make_url(app_url).host in {None, "", "localhost", "127.0.0.1", "::1"}
        self.track_backends()
        self.clock = Clock()
        self.concurrency = concurrency
        self.totals: Counter[str] = Counter()
        self.commit_seconds = 0.0
        self.committing = 0.0
        self.statements: Counter[str] = Counter()
        self.statement_seconds: defaultdict[str, float] = defaultdict(float)

    async def warm(self) -> None:
        """Before the clock starts, what a worker does once when it starts: load the modules (the
        worker's own, which import every model) and set up the mappers; and open the pool's
        connections. Statements are still compiled and prepared on first use, inside the run."""
        from contextlib import AsyncExitStack

        from sqlalchemy import text
        from sqlalchemy.orm import configure_mappers

        import workers.main  # noqa: F401 - what the worker process imports at start

        configure_mappers()

        async with AsyncExitStack() as stack:
            for _ in range(self.concurrency):
                connection = await stack.enter_async_context(self.engine.connect())
                await connection.execute(text("SELECT 1"))

    async def wal_position(self) -> int:
        """Where the server's write-ahead log is (bytes): the run's WAL volume is the difference."""
        from sqlalchemy import text

        async with self.engine.connect() as connection:
            position = (await connection.execute(text("SELECT pg_current_wal_lsn()::text"))).scalar_one()
        return _lsn(position)

    def track_backends(self) -> None:
        """Note the PostgreSQL backend of every connection the pool opens (their CPU is read from /proc)."""
        from sqlalchemy import event

        def connected(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT pg_backend_pid()")
            self.pids.add(cursor.fetchone()[0])
            cursor.close()

        event.listen(self.engine.sync_engine, "connect", connected)

    def backends(self) -> dict[int, float]:
        """CPU used so far by each live backend this process has connected to."""
        found = {pid: _process_cpu(pid) for pid in self.pids}
        return {pid: used for pid, used in found.items() if used is not None}

    def time_statements(self) -> None:
        """Count and time every statement, by kind (client-side: sent to answered)."""
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        def before(*args: Any) -> None:
            args[0].info["bench_started"] = time.perf_counter()

        def after(*args: Any) -> None:
            if "pg_backend_pid" in args[2] or "pg_current_wal_lsn" in args[2]:
                args[0].info.pop("bench_started")
                return  # the benchmark's own look-ups
            kind = _statement_kind(args[2])
            self.statements[kind] += 1
            self.statement_seconds[kind] += time.perf_counter() - args[0].info.pop("bench_started")

        def commit_sent(*_: Any) -> None:
            self.committing = time.perf_counter()

        def committed(*_: Any) -> None:
            self.statements["COMMIT"] += 1
            self.statement_seconds["COMMIT"] += time.perf_counter() - self.committing

        # Statements the run sends straight to the driver (app.db.driver) pass no cursor events.
        from app.db import driver

        run = driver._run

        async def timed(connection: Any, statement: Any, params: Any, rows: bool) -> Any:
            kind = _statement_kind(driver.compiled(connection.dialect, statement).sql)
            started = time.perf_counter()
            try:
                return await run(connection, statement, params, rows)
            finally:
                self.statements[kind] += 1
                self.statement_seconds[kind] += time.perf_counter() - started

        driver._run = timed
        event.listen(self.engine.sync_engine, "before_cursor_execute", before)
        event.listen(self.engine.sync_engine, "after_cursor_execute", after)
        # The COMMIT round trip itself (profile mode runs one job at a time, so one is open).
        event.listen(self.engine.sync_engine, "commit", commit_sent)
        event.listen(Session, "after_commit", committed)

    async def bill_one(self, tenant_id: str, location_ids: list[str]) -> None:
        from app.audit.capture import set_actor
        from app.billing.service import SCHEDULER, run_scheduled
        from app.db.engine import bind_tenant

        async with self.sessionmaker() as session:
            await bind_tenant(session, uuid.UUID(tenant_id))
            set_actor(session.sync_session, SCHEDULER)
            async with session.begin():
                locations = [uuid.UUID(location_id) for location_id in location_ids]
                outcomes = await run_scheduled(session, uuid.UUID(tenant_id), locations, PERIOD, self.clock)
                committing = time.perf_counter()
            self.commit_seconds += time.perf_counter() - committing
        self.totals["jobs"] += 1
        for outcome in outcomes:
            self.totals["locations"] += 1
            self.totals["invoices"] += outcome.run.invoices_created
            self.totals["lines"] += outcome.run.lines_created
            self.totals["problems"] += len(outcome.problems)

    def reset(self) -> None:
        self.totals.clear()
        self.commit_seconds = 0.0
        self.statements.clear()
        self.statement_seconds.clear()

    async def worker(self, queue: Iterator[Job]) -> None:
        for tenant_id, location_ids in queue:
            await self.bill_one(tenant_id, location_ids)

    async def bill(self, jobs: Sequence[Job], profiler: cProfile.Profile | None) -> RunResult:
        """Bill ``jobs``, ``concurrency`` at a time; the clock covers only this."""
        queue = iter(jobs)  # shared: each worker takes the next location
        load_average = os.getloadavg()[0]
        backends_before = self.backends()
        wal_before = await self.wal_position()
        busy_before, total_before = _busy_jiffies()
        cpu_before = _cpu_seconds()
        started_at, started = time.time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        await asyncio.gather(*(self.worker(queue) for _ in range(self.concurrency)))
        if profiler is not None:
            profiler.disable()
        seconds, finished_at = time.perf_counter() - started, time.time()
        cpu = _cpu_seconds() - cpu_before
        busy_after, total_after = _busy_jiffies()
        wal_after = await self.wal_position()
        backend_cpu = (
            sum(used - backends_before.get(pid, 0.0) for pid, used in self.backends().items())
            if self.local
            else None  # the server is not on this machine
        )
        return RunResult(
            jobs=self.totals["jobs"],
            locations=self.totals["locations"],
            invoices=self.totals["invoices"],
            lines=self.totals["lines"],
            problems=self.totals["problems"],
            seconds=seconds,
            started_at=started_at,
            finished_at=finished_at,
            cpu_seconds=cpu,
            backend_cpu_seconds=backend_cpu,
            jiffies=(busy_before, total_before, busy_after, total_after),
            wal=(wal_before, wal_after),
            load_average=load_average,
            commit_seconds=self.commit_seconds,
            peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            peak_hwm_kib=_peak_hwm_kib(),
            statements=dict(self.statements),
            statement_seconds=dict(self.statement_seconds),
        )


async def _bill(app_url: str, jobs: Sequence[Job], concurrency: int, start: Any) -> RunResult:
    biller = Biller(app_url, concurrency)
    try:
        await biller.warm()
        if start is not None:
            await asyncio.to_thread(start.wait)  # every process connected: go together
        return await biller.bill(jobs, None)
    finally:
        await biller.engine.dispose()


def run_process(app_url: str, jobs: list[Job], concurrency: int, start: Any) -> dict[str, Any]:
    """The timed run, in a process of its own (``start``: a barrier shared with its siblings)."""
    return asdict(asyncio.run(_bill(app_url, jobs, concurrency, start)))


def run_processes(app_url: str, jobs: list[Job], concurrency: int, processes: int) -> RunResult:
    """Bill ``jobs`` in fresh processes (one by default), ``concurrency`` locations at a time in all."""
    context = multiprocessing.get_context("spawn")
    shares = [jobs[index::processes] for index in range(processes)]
    each = [concurrency // processes + (1 if index < concurrency % processes else 0) for index in range(processes)]
    with context.Manager() as manager, ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        start = manager.Barrier(processes) if processes > 1 else None
        futures = [
            pool.submit(run_process, app_url, share, max(1, count), start)
            for share, count in zip(shares, each, strict=True)
        ]
        parts = [RunResult(**future.result()) for future in futures]
    return RunResult.combine(parts)


# (file, function) of the app and library code worth naming in the profile.
PROFILED = (
    ("service.py", "run_scheduled"),
    ("engine.py", "bill_location"),
    ("engine.py", "_billable"),
    ("engine.py", "_claim"),
    ("engine.py", "_membership_charges"),
    ("engine.py", "<listcomp>"),
    ("tax.py", "load"),
    ("capture.py", "_record"),
    ("capture.py", "_changes"),
    ("session.py", "flush"),
    ("session.py", "commit"),
    ("service.py", "issue"),
    ("numbering.py", "take_number"),
    ("allocation.py", "apply_credit"),
    ("persistence.py", "_save_obj"),
    ("persistence.py", "_emit_insert_statements"),
    ("decl_base.py", "_declarative_constructor"),
    ("loading.py", "instances"),
    ("elements.py", "_compile_w_cache"),
    ("crud.py", "_extend_values_for_multiparams"),
    ("cursor.py", "_init_compiled"),
    ("default.py", "_exec_insertmany_context"),
    ("asyncpg.py", "_prepare_and_execute"),
    ("~", "<method 'poll' of 'select.epoll' objects>"),
    ("~", "<method 'send' of '_socket.socket' objects>"),
)


def _selected(stats: pstats.Stats) -> str:
    wanted = set(PROFILED)
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if (filename, function) in wanted:
            rows.append((cumulative, f"{calls:9d} {own:9.3f} {cumulative:9.3f}  {filename}:{line}({function})"))
    rows.sort(reverse=True)
    return "\n".join(["    calls   own (s)   cum (s)  function", *(row for _, row in rows)]) + "\n"


async def _profile(app_url: str, jobs: list[Job], warm_up: int, sample: int) -> dict[str, Any]:
    biller = Biller(app_url, 1)
    try:
        await biller.warm()
        for tenant_id, location_ids in jobs[:warm_up]:
            await biller.bill_one(tenant_id, location_ids)
        biller.time_statements()
        biller.reset()
        plain = await biller.bill(jobs[warm_up : warm_up + sample], None)
        biller.reset()
        profiler = cProfile.Profile()
        profiled = await biller.bill(jobs[warm_up + sample : warm_up + 2 * sample], profiler)
    finally:
        await biller.engine.dispose()
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report)
    stats.strip_dirs()
    report.write("== selected functions (cumulative is wall time, waits for PostgreSQL included) ==\n")
    report.write(_selected(stats))
    report.write("\n== by own time (tottime) ==\n")
    stats.sort_stats("tottime").print_stats(40)
    report.write("== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(70)
    return {"plain": asdict(plain), "profiled": asdict(profiled), "profile": report.getvalue()}


def profile_process(app_url: str, jobs: list[Job], warm_up: int, sample: int) -> dict[str, Any]:
    """One job at a time: ``sample`` jobs timed statement by statement, then ``sample`` more under
    cProfile; after ``warm_up`` unmeasured ones (connections open, caches warm)."""
    return asyncio.run(_profile(app_url, jobs, warm_up, sample))


def in_fresh_process(function: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(function, *args).result()
    return result


# --------------------------------------------------------------------------------------------
# The ceiling


@dataclass
class Ceiling:
    seconds: float  # the fastest of the tries
    tries: list[float]
    rows: dict[str, int]
    wal_bytes: int  # of the fastest


CEILING_TRIES = 3


def _lsn(position: str) -> int:
    high, low = position.split("/")
    return int(high, 16) << 32 | int(low, 16)


async def checkpoint(owner_url: str) -> None:
    """Start the next timed part from a fresh checkpoint: the run and each try of the ceiling
    then pay for the same full-page images, and none of them for a checkpoint the one before
    left running."""
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


async def ceiling(owner_url: str) -> Ceiling:
    """Seconds PostgreSQL takes to COPY exactly the rows the run wrote into bare tables.

    The rows are read back to files first (binary COPY format, not timed), so the timed part is
    the server taking them: one COPY per table into a LIKE ... INCLUDING ALL copy (same columns,
    defaults, checks and indexes; no foreign keys, no triggers, no row-level security). The copy
    is tried ``CEILING_TRIES`` times, each into empty tables after a checkpoint, and the fastest
    counts: the strictest ceiling for the run to be measured against."""
    connection = await asyncpg.connect(owner_url)
    counts: dict[str, int] = {}
    tries: list[tuple[float, int]] = []
    try:
        await connection.execute("CREATE SCHEMA ceiling")
        with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as scratch:
            folder = Path(scratch)
            for table in WRITTEN_TABLES:
                counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
                await connection.copy_from_table(table, output=folder / table, format="binary")
                await connection.execute(f"CREATE TABLE ceiling.{table} (LIKE public.{table} INCLUDING ALL)")
            for _ in range(CEILING_TRIES):
                await connection.execute(f"TRUNCATE {', '.join(f'ceiling.{table}' for table in WRITTEN_TABLES)}")
                await connection.execute("CHECKPOINT")
                wal_before = await connection.fetchval("SELECT pg_current_wal_lsn()::text")
                started = time.perf_counter()
                for table in WRITTEN_TABLES:
                    await connection.copy_to_table(table, schema_name="ceiling", source=folder / table, format="binary")
                seconds = time.perf_counter() - started
                wal_after = await connection.fetchval("SELECT pg_current_wal_lsn()::text")
                tries.append((seconds, _lsn(wal_after) - _lsn(wal_before)))
    finally:
        await connection.close()
    fastest, wal_bytes = min(tries)
    return Ceiling(fastest, [seconds for seconds, _ in tries], counts, wal_bytes)


# --------------------------------------------------------------------------------------------
# One size, end to end


@dataclass
class SizeResult:
    shape: Shape
    setup: Setup
    run: RunResult
    ceiling_seconds: float
    ceiling_tries: list[float]
    ceiling_wal_bytes: int
    written: dict[str, int]


@dataclass
class Setup:
    owner_url: str
    app_url: str
    jobs: list[Job]
    loaded: dict[str, int]
    migrate_seconds: float
    generate_seconds: float
    load_seconds: float
    peak_rss_kib: int


def prepare(admin_url: str, name: str, shape: Shape, issue_on_run: bool) -> dict[str, Any]:
    """A fresh database with the schema, the app login and the data set loaded. Runs in a process
    of its own, so the processes started after it do not inherit its peak memory (Linux carries a
    process's peak resident size over fork and exec)."""
    from app.db.provision import ensure_app_login

    started = time.perf_counter()
    owner_url = asyncio.run(create_database(admin_url, name))
    migrate(owner_url)
    app_url = asyncio.run(ensure_app_login(owner_url, APP_LOGIN, APP_PASSWORD))
    migrated = time.perf_counter()
    data = generate(shape, issue_on_run=issue_on_run)
    generated = time.perf_counter()
    loaded = asyncio.run(load(owner_url, data))
    return asdict(
        Setup(
            owner_url,
            app_url,
            data.jobs,
            loaded,
            migrated - started,
            generated - migrated,
            time.perf_counter() - generated,
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        )
    )


def set_up(admin_url: str, name: str, shape: Shape, issue_on_run: bool) -> Setup:
    return Setup(**in_fresh_process(prepare, admin_url, name, shape, issue_on_run))


async def _check(owner_url: str, shape: Shape) -> None:
    """Every company owes something for the period, so the run must leave one invoice each."""
    connection = await asyncpg.connect(owner_url)
    try:
        invoices = await connection.fetchval("SELECT count(*) FROM invoices")
        runs = await connection.fetchval("SELECT count(*) FROM billing_runs WHERE status = 'completed'")
    finally:
        await connection.close()
    if invoices != shape.companies or runs != shape.locations:
        raise SystemExit(
            f"The run wrote {invoices} invoices and {runs} completed runs; expected {shape.companies} and "
            f"{shape.locations}."
        )


def measure(admin_url: str, shape: Shape, args: argparse.Namespace) -> SizeResult:
    name = f"flexledger_bench_{shape.memberships}_{uuid.uuid4().hex[:8]}"
    try:
        say(f"[{shape.memberships:,} memberships] setting up {name} ...")
        setup = set_up(admin_url, name, shape, args.issue)
        say(
            f"[{shape.memberships:,}] migrated in {setup.migrate_seconds:.1f} s, generated in "
            f"{setup.generate_seconds:.1f} s, loaded in {setup.load_seconds:.1f} s: {setup.loaded}"
        )
        say(
            f"[{shape.memberships:,}] billing {shape.locations:,} locations in {len(setup.jobs):,} jobs, "
            f"{args.concurrency} jobs at a time ..."
        )
        asyncio.run(checkpoint(setup.owner_url))
        run = run_processes(setup.app_url, setup.jobs, args.concurrency, args.processes)
        say(
            f"[{shape.memberships:,}] {run.invoices:,} invoices, {run.lines:,} lines in "
            f"{run.seconds:.1f} s ({run.invoices / run.seconds:.0f} invoices/s)"
        )
        asyncio.run(_check(setup.owner_url, shape))
        bare = asyncio.run(ceiling(setup.owner_url))
        tries = ", ".join(f"{seconds:.2f}" for seconds in bare.tries)
        say(f"[{shape.memberships:,}] ceiling: the same rows COPY in {bare.seconds:.2f} s (tries: {tries} s)")
        return SizeResult(shape, setup, run, bare.seconds, bare.tries, bare.wal_bytes, bare.rows)
    finally:
        if args.keep:
            say(f"kept database {name}")
        else:
            asyncio.run(drop_database(admin_url, name))


def _breakdown(run: RunResult) -> list[str]:
    """Where one location's wall time goes, billed alone: statements, commit, the rest (Python)."""
    seconds, locations = run.seconds, max(1, run.locations)
    timed = dict(run.statement_seconds)
    commit_trip = timed.pop("COMMIT", 0.0)
    in_statements = sum(timed.values())
    python = seconds - in_statements - run.commit_seconds
    backend = run.backend_cpu_seconds
    lines = [
        f"{run.locations} locations, {run.invoices} invoices, {run.lines} lines in {seconds:.2f} s "
        f"({run.invoices / seconds:.0f} invoices/s, {seconds / locations * 1000:.1f} ms per location); "
        f"CPU: this process {run.cpu_seconds:.2f} s"
        + (f", its PostgreSQL backend {backend:.2f} s" if backend is not None else "")
        + f"; WAL {run.wal_bytes / locations / 1024:.0f} KiB per location; "
        f"load average {run.load_average:.2f} at the start.",
        f"  statements  {in_statements:7.2f} s  {in_statements / seconds:6.1%}  "
        f"({sum(run.statements.values()) / run.jobs - 1:.1f} per job of {locations / run.jobs:.1f} locations "
        "and a COMMIT; sent to answered)",
        f"  commit      {run.commit_seconds:7.2f} s  {run.commit_seconds / seconds:6.1%}  "
        f"(of which the COMMIT round trip {commit_trip:.2f} s: deferred foreign-key checks, WAL flush)",
        f"  the rest    {python:7.2f} s  {python / seconds:6.1%}  (Python: the engine, the ORM, the audit capture)",
        "  by statement:                                 count   total (s)  per call (ms)",
    ]
    for kind, count in sorted(run.statements.items(), key=lambda item: -run.statement_seconds[item[0]]):
        total = run.statement_seconds[kind]
        lines.append(f"    {kind[:44]:<44} {count:6d} {total:9.3f} {total / count * 1000:10.2f}")
    return lines


def profile(admin_url: str, shape: Shape, args: argparse.Namespace) -> None:
    name = f"flexledger_bench_profile_{uuid.uuid4().hex[:8]}"
    warm_up, sample = 4, args.profile_jobs
    try:
        say(f"[profile, {shape.memberships:,} memberships] setting up {name} ...")
        setup = set_up(admin_url, name, shape, args.issue)
        jobs = setup.jobs[: warm_up + 2 * sample]
        result = in_fresh_process(profile_process, setup.app_url, jobs, warm_up, sample)
    finally:
        if not args.keep:
            asyncio.run(drop_database(admin_url, name))
    header = [
        f"Billing run profile: {shape.memberships:,}-membership data set, one job (a tenant's "
        f"{LOCATIONS_PER_TENANT} locations) at a time, issue on run: {args.issue}, after {warm_up} unmeasured jobs.",
        "",
        "== without the profiler: where the wall time goes ==",
        *_breakdown(RunResult(**result["plain"])),
        "",
        "== under cProfile (the next locations; the profiler slows Python down) ==",
        *_breakdown(RunResult(**result["profiled"])),
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("billing_run_profile_issue.txt" if args.issue else "billing_run_profile.txt")
    path.write_text("\n".join(header) + result["profile"])
    say("\n".join(header))
    say(f"wrote {path}")


# --------------------------------------------------------------------------------------------
# Figures


def machine(admin_url: str) -> dict[str, Any]:
    async def server() -> dict[str, str]:
        connection = await asyncpg.connect(plain_url(admin_url))
        try:
            version = await connection.fetchval("SHOW server_version")
            settings = await connection.fetch(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])",
                ["shared_buffers", "synchronous_commit", "fsync", "max_wal_size", "work_mem", "autovacuum"],
            )
        finally:
            await connection.close()
        found = {"postgres": version}
        for row in settings:
            found[f"postgres_{row['name']}"] = f"{row['setting']}{' x ' + row['unit'] if row['unit'] else ''}"
        return found

    import asyncpg as driver
    import sqlalchemy

    memory_kib = 0
    model = platform.processor()
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "asyncpg": driver.__version__,
        **asyncio.run(server()),
    }


def _size_label(memberships: int) -> str:
    return f"{memberships // 1000}k" if memberships % 1000 == 0 else str(memberships)


def figures(results: list[SizeResult], args: argparse.Namespace) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | int, unit: str) -> None:
        out.append({"name": name, "value": round(value, 4) if isinstance(value, float) else value, "unit": unit})

    for result in results:
        run, size = result.run, _size_label(result.shape.memberships)
        seconds = run.seconds
        add(f"memberships_{size}", result.shape.memberships, "memberships")
        add(f"tenants_{size}", result.shape.tenants, "tenants")
        add(f"locations_{size}", result.shape.locations, "locations")
        add(f"companies_{size}", result.shape.companies, "companies")
        add(f"invoices_{size}", run.invoices, "invoices")
        add(f"invoice_lines_{size}", run.lines, "lines")
        add(f"run_wall_time_{size}", seconds, "s")
        add(f"invoices_per_second_{size}", run.invoices / seconds, "invoices/s")
        add(f"lines_per_second_{size}", run.lines / seconds, "lines/s")
        add(f"seconds_per_1000_memberships_{size}", seconds / (result.shape.memberships / 1000), "s")
        add(f"ceiling_seconds_{size}", result.ceiling_seconds, "s")
        add(f"ceiling_seconds_slowest_try_{size}", max(result.ceiling_tries), "s")
        add(f"rows_written_{size}", sum(result.written.values()), "rows")
        add(f"share_of_ceiling_{size}", result.ceiling_seconds / seconds, "ratio")
        add(f"peak_rss_billing_process_{size}", run.peak_rss_kib / 1024, "MiB")
        add(f"peak_vmhwm_billing_process_{size}", run.peak_hwm_kib / 1024, "MiB")
        add(f"billing_process_cpu_{size}", run.cpu_seconds, "s")
        add(f"billing_process_cpu_share_of_wall_{size}", run.cpu_seconds / seconds, "ratio")
        if run.backend_cpu_seconds is not None:
            add(f"postgres_backend_cpu_{size}", run.backend_cpu_seconds, "s")
            add(f"postgres_backend_cpu_share_of_wall_{size}", run.backend_cpu_seconds / seconds, "ratio")
            add(
                f"postgres_backend_cpu_per_ceiling_second_{size}",
                run.backend_cpu_seconds / result.ceiling_seconds,
                "ratio",
            )
            # The share the run could reach if its CPU (billing and PostgreSQL) filled every core
            # all the time: what this design allows on this machine, whatever the scheduling.
            busiest = (run.cpu_seconds + run.backend_cpu_seconds) / (os.cpu_count() or 1)
            add(f"share_of_ceiling_if_all_cores_busy_{size}", result.ceiling_seconds / busiest, "ratio")
        add(f"commit_time_summed_over_workers_{size}", run.commit_seconds, "s")
        add(f"wal_written_during_run_{size}", run.wal_bytes / 1024 / 1024, "MiB")
        add(f"wal_written_by_ceiling_copy_{size}", result.ceiling_wal_bytes / 1024 / 1024, "MiB")
        add(f"machine_busy_cores_{size}", run.machine_busy_cores, "cores")
        if run.backend_cpu_seconds is not None:
            ours = (run.cpu_seconds + run.backend_cpu_seconds) / seconds
            add(f"other_processes_busy_cores_{size}", max(0.0, run.machine_busy_cores - ours), "cores")
        add(f"load_average_at_start_{size}", run.load_average, "runnable processes (1 min)")
        add(f"setup_migrate_{size}", result.setup.migrate_seconds, "s")
        add(f"setup_generate_{size}", result.setup.generate_seconds, "s")
        add(f"setup_load_{size}", result.setup.load_seconds, "s")
        add(f"peak_rss_setup_process_{size}", result.setup.peak_rss_kib / 1024, "MiB")
    by_size = {result.shape.memberships: result for result in results}
    if len(by_size) > 1:
        small, large = by_size[min(by_size)], by_size[max(by_size)]
        unit_small = small.run.seconds / small.shape.memberships
        unit_large = large.run.seconds / large.shape.memberships
        add("cost_per_membership_growth_largest_vs_smallest", unit_large / unit_small, "ratio (1.0 = linear)")
    add("concurrency", args.concurrency, "locations at a time")
    add("processes", args.processes, "billing processes")
    add("issue_on_run", int(args.issue), "bool")
    return out


def verdict(results: list[SizeResult]) -> None:
    for result in results:
        run = result.run
        rate = run.invoices / run.seconds
        share = result.ceiling_seconds / run.seconds
        peak = run.peak_rss_kib / 1024
        say(
            f"{result.shape.memberships:>7,} memberships: {rate:7.0f} invoices/s "
            f"({'meets' if rate >= TARGET_INVOICES_PER_SECOND else 'misses'} {TARGET_INVOICES_PER_SECOND}), "
            f"{share:6.1%} of the ceiling ({'meets' if share >= TARGET_CEILING_SHARE else 'misses'} "
            f"{TARGET_CEILING_SHARE:.0%}), peak {peak:.0f} MiB "
            f"({'meets' if peak * 1.048576 < TARGET_PEAK_MB else 'misses'} {TARGET_PEAK_MB} MB), "
            f"{run.seconds / (result.shape.memberships / 1000):.3f} s per 1,000 memberships"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.billing_run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--memberships",
        type=int,
        action="append",
        help="size(s) to run (repeatable); without it, --scale decides",
    )
    parser.add_argument("--scale", choices=("both", "10k", "100k"), default="both")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="an administrator's URL (may create databases and roles); default: $DATABASE_URL",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="locations billed at once (default 2)")
    parser.add_argument(
        "--processes", type=int, default=1, help="share the run between this many processes (default 1, as one worker)"
    )
    parser.add_argument("--issue", action="store_true", help="tenants issue invoices on run (default: drafts)")
    parser.add_argument("--profile", action="store_true", help="profile a sample of locations instead")
    parser.add_argument("--profile-jobs", type=int, default=34, help="jobs to profile (default 34: 102 locations)")
    parser.add_argument("--keep", action="store_true", help="keep the databases (for inspection)")
    parser.add_argument(
        "--output",
        type=Path,
        help="where the figures go (default: bench/results/<benchmark>.json; the benchmark is billing_run, "
        "billing_run_issue with --issue, billing_run_processes<N> with --processes N)",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url (an administrator's URL)")
    if not 1 <= args.processes <= args.concurrency:
        parser.error("--processes must be between 1 and --concurrency")
    if any(size < 2 for size in args.memberships or []):
        parser.error("--memberships must be at least 2")
    sizes = args.memberships or {"both": [10_000, 100_000], "10k": [10_000], "100k": [100_000]}[args.scale]
    shapes = [Shape.for_memberships(size) for size in sizes]
    if args.profile:
        profile(args.database_url, shapes[0], args)
        return
    benchmark = (
        "billing_run"
        + ("_issue" if args.issue else "")
        + (f"_processes{args.processes}" if args.processes != 1 else "")
    )
    output: Path = args.output or RESULTS / f"{benchmark}.json"
    results = [measure(args.database_url, shape, args) for shape in shapes]
    report = {
        "benchmark": benchmark,
        "machine": machine(args.database_url),
        "date": datetime.now(UTC).date().isoformat(),
        "period": PERIOD.isoformat(),
        "figures": figures(results, args),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    verdict(results)
    say(f"wrote {output}")


if __name__ == "__main__":
    main()
