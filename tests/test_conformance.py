"""The API answers as its OpenAPI document says: schemathesis (configured by ``schemathesis.toml``)
generates requests for every operation from the served document, schema-valid and not, and checks
every answer (status, content type, headers, body schema, that bad input is refused and good
input accepted, that a credential is needed where one is declared).

It runs against the real API process over a tenant seeded with the demo's data, so operations
find real ids; once per credential: no credential for sign-in and health, a member token for
/api/v1/me, an operator API key for the rest of /api/v1, the platform token for /api/platform.
Operations that would destroy the credential a pass runs on (revoking the key or token in use)
get their own short pass with a throwaway one.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.auth.principal import SCOPES
from app.db.provision import ensure_app_login
from app.demo import MEMBER_PASSWORD, MEMBERS, seed_demo
from app.settings import Settings
from sandbox.xero.server import SandboxServer
from tests.fixtures.server import api_process
from tests.support.db import drop_database, fresh_database, migrate

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Operations that end the credential they are called with; each pass but the last leaves them out.
REVOKE_KEY = "POST /api/v1/api-keys/{api_key_id}/revoke"
DROP_TOKEN = "DELETE /api/v1/me/token"


@pytest.fixture(scope="module")
def own_settings(settings: Settings) -> Iterator[Settings]:
    """The run's own database, queue and Redis keys: it commits all it makes, and none of that
    may reach the other tests (a sweep over every tenant would find its mail, say)."""
    owner = fresh_database("flexledger_conformance")
    try:
        migrate(owner)
        login = asyncio.run(ensure_app_login(owner, "flexledger_test_login", "test-login-password"))
        yield settings.model_copy(
            update={
                "database_url": SecretStr(login),
                "migration_database_url": SecretStr(owner),
                "worker_queue_name": f"{settings.worker_queue_name}:conformance",
                "redis_key_prefix": f"{settings.redis_key_prefix}conformance:",
            }
        )
    finally:
        drop_database(owner)


@pytest.fixture(scope="module")
def server(own_settings: Settings, xero_server: SandboxServer) -> Iterator[str]:
    assert own_settings.platform_admin_token is not None
    platform = own_settings.platform_admin_token.get_secret_value()
    keys = {"PLATFORM_ADMIN_TOKEN": platform, "REDIS_KEY_PREFIX": own_settings.redis_key_prefix}
    with api_process(own_settings, xero_server.url, **keys) as url:
        yield url


def member_token(server: str, organisation: str, email: str) -> str:
    body = {"organisation": organisation, "email": email, "password": MEMBER_PASSWORD}
    answer = httpx.post(f"{server}/api/v1/auth/member-tokens", json=body)
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def operator_key(server: str, key: str) -> str:
    """A new full-scope API key, made with ``key``."""
    body = {"name": "throwaway", "scopes": sorted(SCOPES)}
    answer = httpx.post(f"{server}/api/v1/api-keys", json=body, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201, answer.text
    made: str = answer.json()["key"]
    return made


def schemathesis(server: str, credential: str | None, *selection: str) -> None:
    """One schemathesis pass over the operations ``selection`` picks; fails with its report."""
    command = [str(SCHEMATHESIS), "run", f"{server}/schema/openapi.json", "--no-color", *selection]
    if credential is not None:
        command += ["--header", f"Authorization: Bearer {credential}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, f"{' '.join(selection)}\n{done.stdout}\n{done.stderr}"
    # Its warnings and counts (operations, cases, failures), for `pytest -rP` or `-s`.
    marks = [done.stdout.find("= WARNINGS ="), done.stdout.rfind("API Operations:")]
    summary = done.stdout[min(mark for mark in marks if mark >= 0) :]
    sys.stdout.write(f"{' '.join(selection)}\n{summary}\n")


async def test_every_operation_answers_as_the_document_says(server: str, own_settings: Settings) -> None:
    assert own_settings.platform_admin_token is not None
    platform = own_settings.platform_admin_token.get_secret_value()
    slug = f"c{uuid.uuid4().hex[:10]}"
    key = await seed_demo(own_settings, slug)
    # Every credential first: the sign-in pass below meets the sign-in throttle on purpose.
    email = MEMBERS[0][0]
    token, spare_token, spare_key = (
        member_token(server, slug, email),
        member_token(server, slug, email),
        operator_key(server, key),
    )

    schemathesis(server, token, "--include-path-regex", "^/api/v1/me(/|$)", "--exclude-name", DROP_TOKEN)
    schemathesis(server, spare_token, "--include-name", DROP_TOKEN)
    schemathesis(server, None, "--include-path-regex", "^/(api/v1/auth/|health/)")
    schemathesis(server, key, "--include-path-regex", "^/api/v1/(?!me(/|$)|auth/)", "--exclude-name", REVOKE_KEY)
    schemathesis(server, spare_key, "--include-name", REVOKE_KEY)
    schemathesis(server, platform, "--include-path-regex", "^/api/platform/")
