"""API benchmark: the hot read paths of the HTTP service against a bare Litestar + asyncpg ceiling.

In one run, against a PostgreSQL server (administrator URL) and a Redis server:

1. Set-up, not timed: a fresh database built by the migrations, the demo operator seeded
   (``app.demo``), and the member Ada's billing account given 19 more issued invoices so that her
   list has 20 rows, as the ceiling's does. Then, through the product's own HTTP endpoints, a member
   token (``POST /api/v1/auth/member-tokens``) and a portal session cookie (``POST /portal/login``);
   the operator key is the demo's.
2. The product (``flexledger api``, uvicorn) and the ceiling (a bare Litestar app on the same
   uvicorn, in this module: per request it opens a transaction on an asyncpg pool, reads the member
   token, then reads 20 invoices) each run in a process of their own.
3. Per target: ``wrk`` (2 threads, 32 connections, 10 s) for throughput, then a constant 500
   requests a second for latency (``wrk`` cannot hold a rate, so a small asyncio client here does,
   timing each request from when it was due, as wrk2 does), then one connection, one request at a
   time. The targets: the member's ``GET /api/v1/me/invoices``, the operator's
   ``GET /api/v1/invoices``, the portal's dashboard ``GET /portal/``, and the ceiling.
4. Once as ``python3 dev.py run`` serves (console logs, one process), and once with the production
   settings (JSON logs, ``--workers`` uvicorn processes; the ceiling then gets as many).

Figures go to ``bench/results/api.json``.

    DATABASE_URL=postgresql://postgres@127.0.0.1/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m bench.api
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app.db.provision import ensure_app_login
from app.demo import MEMBER_PASSWORD, SLUG, demo_api_key, seed_demo
from app.kit.ids import new_id
from app.settings import Settings
from bench.billing_run import RESULTS, create_database, drop_database, machine, migrate, plain_url, say
from bench.serving import wait_for
from sandbox import free_port

ROOT = Path(__file__).resolve().parent.parent
APP_LOGIN = "flexledger_bench_login"
APP_PASSWORD = "bench-login-password"  # noqa: S105 - a throwaway login on a throwaway database
MEMBER = "ada@example.test"
PAGE = 20  # rows a list shows, here and in the ceiling
HISTORY = PAGE - 1  # issued invoices added to the member's account, beside the demo's one

TARGET_CEILING_SHARE = 0.50
TARGET_P99_MS = 25.0

WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK {\\"requests\\": %d, \\"duration_us\\": %d, \\"connect\\": %d, \\"read\\": %d, \\"write\\": %d, "
    .. "\\"status\\": %d, \\"timeout\\": %d, \\"p50_us\\": %d, \\"p90_us\\": %d, \\"p99_us\\": %d, "
    .. "\\"max_us\\": %d}\\n",
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


# --------------------------------------------------------------------------------------------
# The ceiling: a bare Litestar app, one transaction, the token, 20 invoices


def ceiling_app() -> Any:
    """The bare app (a uvicorn factory). Reads its database from ``BENCH_CEILING_DATABASE_URL``."""
    import hashlib

    from litestar import Litestar, Request, get

    url = os.environ["BENCH_CEILING_DATABASE_URL"]
    pool: list[asyncpg.Pool] = []

    async def open_pool(_: Litestar) -> None:
        pool.append(await asyncpg.create_pool(url, min_size=10, max_size=10))

    async def close_pool(_: Litestar) -> None:
        await pool[0].close()

    @get("/invoices")
    async def invoices(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        async with pool[0].acquire() as connection, connection.transaction():
            owner = await connection.fetchrow(
                "SELECT t.tenant_id, m.company_id FROM member_tokens t "
                "JOIN members m ON m.tenant_id = t.tenant_id AND m.id = t.member_id WHERE t.digest = $1",
                hashlib.sha256(token.encode()).digest(),
            )
            assert owner is not None
            rows = await connection.fetch(
                "SELECT id, status, number, location_id, company_id, billing_run_id, currency, tax_mode, "
                "issue_date, due_date, subtotal, tax_total, total, created_at FROM invoices "
                "WHERE tenant_id = $1 AND company_id = $2 ORDER BY id LIMIT $3",
                owner["tenant_id"],
                owner["company_id"],
                PAGE,
            )
        return [dict(row) for row in rows]

    return Litestar(route_handlers=[invoices], on_startup=[open_pool], on_shutdown=[close_pool])


# --------------------------------------------------------------------------------------------
# Set-up


@dataclass
class Credentials:
    member_token: str
    api_key: str
    portal_cookie: str


async def add_history(owner_url: str) -> int:
    """The member's billing account gets ``HISTORY`` more issued invoices: copies of its demo
    invoice (lines and all) with their own ids and numbers, as earlier months would have left."""
    connection = await asyncpg.connect(owner_url)
    try:
        invoice = await connection.fetchrow(
            "SELECT i.* FROM invoices i JOIN members m ON m.tenant_id = i.tenant_id AND m.company_id = i.company_id "
            "WHERE m.email = $1 AND i.status <> 'draft' ORDER BY i.id LIMIT 1",
            MEMBER,
        )
        assert invoice is not None, "the demo has no issued invoice for the benchmark's member"
        lines = await connection.fetch("SELECT * FROM invoice_lines WHERE invoice_id = $1", invoice["id"])
        async with connection.transaction():
            for month in range(1, HISTORY + 1):
                copy = dict(invoice, id=new_id(), number=f"{invoice['number']}-H{month:02}", status="issued")
                await _insert(connection, "invoices", copy)
                for line in lines:
                    await _insert(connection, "invoice_lines", dict(line, id=new_id(), invoice_id=copy["id"]))
        count: int = await connection.fetchval(
            "SELECT count(*) FROM invoices WHERE company_id = $1 AND status <> 'draft'", invoice["company_id"]
        )
        return count
    finally:
        await connection.close()


async def _insert(connection: asyncpg.Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    places = ", ".join(f"${number}" for number in range(1, len(row) + 1))
    await connection.execute(f"INSERT INTO {table} ({columns}) VALUES ({places})", *row.values())  # noqa: S608


def credentials(base_url: str, settings: Settings) -> Credentials:
    """A member token and a portal session, each through the product's own sign-in."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        answer = http.post(
            "/api/v1/auth/member-tokens",
            json={"organisation": SLUG, "email": MEMBER, "password": MEMBER_PASSWORD, "device_name": "bench"},
        )
        answer.raise_for_status()
        token = answer.json()["token"]
        page = http.get("/portal/login")
        page.raise_for_status()
        csrf = http.cookies["csrftoken"]
        signed = http.post(
            "/portal/login",
            data={"organisation": SLUG, "email": MEMBER, "password": MEMBER_PASSWORD},
            headers={"x-csrftoken": csrf},
        )
        if signed.status_code != 303:
            raise SystemExit(f"The portal sign-in answered {signed.status_code}.")
        cookie = signed.cookies["fl_portal"]
    # What a browser sends back after signing in: its session and the CSRF cookie it was given
    # (without the latter, every page would set a new one).
    return Credentials(token, demo_api_key(settings)[0], f"fl_portal={cookie}; csrftoken={csrf}")


# --------------------------------------------------------------------------------------------
# Servers


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def pids(self) -> list[int]:
        """The server process and its children (uvicorn's workers)."""
        found = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            found += [int(pid) for pid in children.read_text().split()]
        return found


def _cpu_seconds(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(name: str, command: list[str], env: dict[str, str], log: Path, probe: str) -> Iterator[Server]:
    port = free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + probe, process, name)
        yield Server(name, url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass(frozen=True)
class Place:
    """Where the product runs: its database (owner and app logins), its Redis, its secret."""

    owner_url: str
    app_url: str
    redis_url: str
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    prefix: str = field(default_factory=lambda: f"bench-api:{uuid.uuid4().hex[:8]}:")


def product_environment(place: Place, *, json_logs: bool) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "DATABASE_URL": place.app_url,
        "REDIS_URL": place.redis_url,
        "REDIS_KEY_PREFIX": place.prefix,
        "WORKER_QUEUE_NAME": f"{place.prefix}queue",
        "SECRET_KEY": place.secret_key,
        # Plain HTTP on the loopback: cookies must come back without TLS.
        "SESSION_COOKIE_SECURE": "false",
        "LOG_JSON": "true" if json_logs else "false",
        "LOG_LEVEL": "INFO",
    }


# --------------------------------------------------------------------------------------------
# Load


@dataclass
class Target:
    name: str
    path: str
    headers: dict[str, str]


@dataclass
class Throughput:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


@dataclass
class Latency:
    rate: float
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_seconds: float


@dataclass
class Measured:
    target: str
    throughput: Throughput
    latency: Latency | None  # None: the rate is beyond what the server answers at full load
    single_ms: float
    single_p99_ms: float
    figures: dict[str, float] = field(default_factory=dict)


def wrk(url: str, target: Target, *, threads: int, connections: int, seconds: int, script: Path) -> dict[str, Any]:
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", str(script)]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url + target.path], capture_output=True, text=True, check=True)  # noqa: S603
    found = re.search(r"^WRK (\{.*\})$", done.stdout, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    report: dict[str, Any] = json.loads(found.group(1))
    return report


def _request(host: str, target: Target) -> bytes:
    head = [f"GET {target.path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in target.headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


async def _answer(reader: asyncio.StreamReader) -> int:
    """Read one response; its status. Bodies come with a Content-Length (no chunked answers here)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if length is None:
        raise RuntimeError("a response without Content-Length")
    await reader.readexactly(int(length.group(1)))
    return status


@asynccontextmanager
async def _connections(url: str, count: int) -> AsyncIterator[asyncio.Queue[tuple[Any, Any]]]:
    host, port = url.removeprefix("http://").split(":")
    free: asyncio.Queue[tuple[Any, Any]] = asyncio.Queue()
    opened = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(host, int(port))
        opened.append(writer)
        free.put_nowait((reader, writer))
    try:
        yield free
    finally:
        for writer in opened:
            writer.close()


async def constant_rate(url: str, target: Target, *, rate: float, seconds: float, connections: int) -> dict[str, Any]:
    """Requests due at a steady ``rate``, each timed from when it was due (not when a connection
    was free), so a stall counts against every request it delays, as wrk2 counts it."""
    request = _request(url.removeprefix("http://"), target)
    timings: list[float] = []
    errors = 0

    async def one(due: float, free: asyncio.Queue[tuple[Any, Any]]) -> None:
        nonlocal errors
        reader, writer = await free.get()
        try:
            writer.write(request)
            status = await _answer(reader)
            if status != 200:
                errors += 1
            timings.append(time.perf_counter() - due)
        finally:
            free.put_nowait((reader, writer))

    async with _connections(url, connections) as free:
        total = int(rate * seconds)
        start = time.perf_counter() + 0.05
        tasks = []
        for number in range(total):
            due = start + number / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(due, free)))
        await asyncio.gather(*tasks)
        took = time.perf_counter() - start
    timings.sort()
    return {
        "requests": len(timings),
        "errors": errors,
        "seconds": took,
        "p50_ms": _percentile(timings, 50) * 1000,
        "p90_ms": _percentile(timings, 90) * 1000,
        "p99_ms": _percentile(timings, 99) * 1000,
        "max_ms": timings[-1] * 1000,
    }


async def one_at_a_time(url: str, target: Target, count: int) -> list[float]:
    request = _request(url.removeprefix("http://"), target)
    timings = []
    async with _connections(url, 1) as free:
        reader, writer = free.get_nowait()
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            if await _answer(reader) != 200:
                raise SystemExit(f"{target.name} did not answer 200")
            timings.append(time.perf_counter() - started)
    return sorted(timings)


def _percentile(ordered: Sequence[float], percent: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))]


def measure(server: Server, target: Target, args: argparse.Namespace, script: Path) -> Measured:
    check = httpx.get(server.url + target.path, headers=target.headers, timeout=10)
    if check.status_code != 200:
        raise SystemExit(f"{target.name} answered {check.status_code}: {check.text[:300]}")
    # Warm-up: statement caches, prepared statements, the pools' connections.
    wrk(server.url, target, threads=args.threads, connections=args.connections, seconds=2, script=script)
    cpu = _cpu_seconds(server.pids())
    report = wrk(
        server.url, target, threads=args.threads, connections=args.connections, seconds=args.seconds, script=script
    )
    throughput = Throughput(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        errors=sum(report[kind] for kind in ("connect", "read", "write", "status", "timeout")),
        p50_ms=report["p50_us"] / 1000,
        p90_ms=report["p90_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        max_ms=report["max_us"] / 1000,
        server_cpu_seconds=_cpu_seconds(server.pids()) - cpu,
    )
    time.sleep(1)
    latency = None
    # Below the rate at full load the queue only grows: every figure would be the length of the run.
    if throughput.per_second >= args.rate:
        cpu = _cpu_seconds(server.pids())
        steady = asyncio.run(
            constant_rate(server.url, target, rate=args.rate, seconds=args.seconds, connections=args.connections)
        )
        latency = Latency(rate=args.rate, **steady, server_cpu_seconds=_cpu_seconds(server.pids()) - cpu)
    single = asyncio.run(one_at_a_time(server.url, target, args.single))
    alone = (_percentile(single, 50) * 1000, _percentile(single, 99) * 1000)
    measured = Measured(target.name, throughput, latency, *alone)
    steady_text = (
        f"p50 {latency.p50_ms:.1f} ms, p99 {latency.p99_ms:.1f} ms (errors {latency.errors})"
        if latency
        else "not sustainable"
    )
    say(
        f"  {target.name:<18} {throughput.per_second:7.0f} req/s (p50 {throughput.p50_ms:.1f} ms, p99 "
        f"{throughput.p99_ms:.1f} ms, server CPU {throughput.server_cpu_seconds / throughput.seconds:.0%}, "
        f"errors {throughput.errors}); at {args.rate:.0f}/s: {steady_text}; alone {measured.single_ms:.2f} ms"
    )
    return measured


# --------------------------------------------------------------------------------------------
# Runs


@dataclass
class Setting:
    label: str
    workers: int
    json_logs: bool


def settings_of(environment: dict[str, str]) -> Settings:
    return Settings.model_validate({name.lower(): value for name, value in environment.items()})


def run_setting(
    setting: Setting, place: Place, logs: Path, args: argparse.Namespace, script: Path
) -> dict[str, Measured]:
    say(f"[{setting.label}] {setting.workers} worker(s), {'JSON' if setting.json_logs else 'console'} logs")
    variables = product_environment(place, json_logs=setting.json_logs)
    env = os.environ | variables
    settings = settings_of(variables)
    product = [sys.executable, "-m", "app.cli", "api", "--host", "127.0.0.1", "--workers", str(setting.workers)]
    ceiling = [sys.executable, "-m", "uvicorn", "bench.api:ceiling_app", "--factory", "--host", "127.0.0.1"]
    ceiling += ["--workers", str(setting.workers), "--no-access-log", "--log-level", "warning"]
    results: dict[str, Measured] = {}
    bare_env = os.environ | {"BENCH_CEILING_DATABASE_URL": plain_url(place.owner_url)}
    with (
        serving("ceiling", ceiling, bare_env, logs / "ceiling.log", "/") as bare,
        serving("API", product, env, logs / f"api-{setting.label}.log", "/health/live") as api,
    ):
        found = credentials(api.url, settings)
        targets = [
            (bare, Target("ceiling", "/invoices", {"Authorization": f"Bearer {found.member_token}"})),
            (
                api,
                Target(
                    "member_invoices",
                    f"/api/v1/me/invoices?limit={PAGE}",
                    {"Authorization": f"Bearer {found.member_token}"},
                ),
            ),
            (
                api,
                Target(
                    "operator_invoices",
                    f"/api/v1/invoices?limit={PAGE}",
                    {"Authorization": f"Bearer {found.api_key}"},
                ),
            ),
            (api, Target("portal_dashboard", "/portal/", {"Cookie": found.portal_cookie})),
        ]
        for server, target in targets:
            if args.only and target.name not in args.only and target.name != "ceiling":
                continue
            results[target.name] = measure(server, target, args, script)
    return results


def figures(results: dict[str, dict[str, Measured]], args: argparse.Namespace) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | int, unit: str) -> None:
        out.append({"name": name, "value": round(value, 4) if isinstance(value, float) else value, "unit": unit})

    for label, measured in results.items():
        ceiling = measured["ceiling"].throughput.per_second
        for name, found in measured.items():
            prefix = f"{label}_{name}"
            through, steady = found.throughput, found.latency
            add(f"{prefix}_requests_per_second", through.per_second, "req/s")
            add(f"{prefix}_p50_at_full_load", through.p50_ms, "ms")
            add(f"{prefix}_p99_at_full_load", through.p99_ms, "ms")
            add(f"{prefix}_errors_at_full_load", through.errors, "requests")
            add(f"{prefix}_server_cpu_at_full_load", through.server_cpu_seconds / through.seconds, "cores")
            add(f"{prefix}_server_cpu_per_request", through.server_cpu_seconds / through.requests * 1000, "ms")
            rate = f"at_{args.rate:.0f}_per_second"
            if steady is None:
                add(f"{prefix}_sustains_{rate}", 0, "bool")
            else:
                add(f"{prefix}_sustains_{rate}", 1, "bool")
                add(f"{prefix}_achieved_rate_{rate}", steady.requests / steady.seconds, "req/s")
                add(f"{prefix}_p50_{rate}", steady.p50_ms, "ms")
                add(f"{prefix}_p90_{rate}", steady.p90_ms, "ms")
                add(f"{prefix}_p99_{rate}", steady.p99_ms, "ms")
                add(f"{prefix}_max_{rate}", steady.max_ms, "ms")
                add(f"{prefix}_errors_{rate}", steady.errors, "requests")
                add(f"{prefix}_server_cpu_{rate}", steady.server_cpu_seconds / steady.seconds, "cores")
            add(f"{prefix}_p50_one_connection", found.single_ms, "ms")
            add(f"{prefix}_p99_one_connection", found.single_p99_ms, "ms")
            if name != "ceiling":
                add(f"{prefix}_share_of_ceiling", through.per_second / ceiling, "ratio")
    add("threads", args.threads, "wrk threads")
    add("connections", args.connections, "connections")
    add("seconds", args.seconds, "s per measurement")
    add("rate", args.rate, "req/s")
    add("page", PAGE, "invoices per list")
    return out


def verdict(results: dict[str, dict[str, Measured]], args: argparse.Namespace) -> None:
    for label, measured in results.items():
        ceiling = measured["ceiling"].throughput.per_second
        say(f"[{label}] ceiling {ceiling:.0f} req/s")
        for name, found in measured.items():
            if name == "ceiling":
                continue
            share = found.throughput.per_second / ceiling
            p99 = found.latency.p99_ms if found.latency else None
            steady = (
                f"{p99:.1f} ms ({'meets' if p99 <= TARGET_P99_MS else 'misses'} {TARGET_P99_MS:.0f} ms)"
                if p99 is not None
                else f"not sustained (misses {TARGET_P99_MS:.0f} ms)"
            )
            say(
                f"  {name:<18} {share:6.1%} of the ceiling ({'meets' if share >= TARGET_CEILING_SHARE else 'misses'} "
                f"{TARGET_CEILING_SHARE:.0%}); p99 at {args.rate:.0f}/s {steady}"
            )


def commit() -> str:
    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603, S607
        return done.stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="an administrator's URL")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=float, default=500.0, help="requests a second for the latency figures")
    parser.add_argument("--single", type=int, default=300, help="requests one at a time, on one connection")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes with the production settings")
    parser.add_argument("--only", action="append", help="measure only this target (repeatable; the ceiling always)")
    parser.add_argument("--skip-production", action="store_true", help="only the settings `dev.py run` uses")
    parser.add_argument("--keep", action="store_true", help="keep the database (for inspection)")
    parser.add_argument("--output", type=Path, default=RESULTS / "api.json")
    args = parser.parse_args(argv)
    if not args.database_url or not args.redis_url:
        parser.error("set DATABASE_URL and REDIS_URL (or pass --database-url and --redis-url)")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    name = f"flexledger_bench_api_{uuid.uuid4().hex[:8]}"
    logs = Path(tempfile.mkdtemp(prefix="flexledger-bench-api-"))
    script = logs / "report.lua"
    script.write_text(WRK_REPORT)
    say(f"logs in {logs}")
    settings_list = [Setting("dev", 1, json_logs=False)]
    if not args.skip_production:
        settings_list.append(Setting("production", args.workers, json_logs=True))
    results: dict[str, dict[str, Measured]] = {}
    try:
        owner_url = asyncio.run(create_database(args.database_url, name))
        migrate(owner_url)
        app_url = asyncio.run(ensure_app_login(owner_url, APP_LOGIN, APP_PASSWORD))
        place = Place(owner_url, app_url, args.redis_url)
        asyncio.run(seed_demo(settings_of(product_environment(place, json_logs=False))))
        invoices = asyncio.run(add_history(owner_url))
        say(f"set up {name}: the demo operator, {invoices} issued invoices on the member's account")
        for setting in settings_list:
            results[setting.label] = run_setting(setting, place, logs, args, script)
        report = {
            "benchmark": "api",
            "machine": machine(args.database_url),
            "date": datetime.now(UTC).date().isoformat(),
            "commit": commit(),
            "load": "wrk for throughput; a constant-rate asyncio client for latency",
            "settings": [asdict(setting) for setting in settings_list],
            "figures": figures(results, args),
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        verdict(results, args)
        say(f"wrote {args.output}")
    finally:
        if args.keep:
            say(f"kept database {name}")
        else:
            asyncio.run(drop_database(args.database_url, name))


if __name__ == "__main__":
    main()
