"""Authentication over HTTP: operator API keys, member bearer tokens, and failed-login throttling."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_key.models import ApiKey
from app.auth.ratelimit import LoginThrottle
from app.auth.service import BAD_CREDENTIALS
from app.db.engine import bind_tenant
from app.kit.errors import TooManyRequests
from app.kit.security import API_KEY_PREFIX, api_key_prefix, new_api_key, token_digest
from app.member.models import Member, MemberToken
from app.settings import Settings
from app.state import AppState
from app.tenant.models import Tenant
from tests.support.worlds import PASSWORD, World

OPERATOR_PATH = "/api/v1/locations"
ME = "/api/v1/me"
MEMBER_TOKENS = "/api/v1/auth/member-tokens"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def give_spare_key_a_secret(db: AsyncSession, world: World, *, expires_at: datetime | None = None) -> str:
    """The spare key's secret is not kept by the fixture: give it a known one (same prefix)."""
    secret = f"{API_KEY_PREFIX}{world.spare_key.prefix}_{secrets.token_urlsafe(32)}"
    await bind_tenant(db, world.tenant_id)
    world.spare_key.digest = token_digest(secret)
    world.spare_key.expires_at = expires_at
    await db.commit()
    return secret


async def last_used_at(db: AsyncSession, world: World, key_id: Any) -> datetime | None:
    await bind_tenant(db, world.tenant_id)
    value = (await db.execute(select(ApiKey.last_used_at).where(ApiKey.id == key_id))).scalar_one()
    await db.commit()
    return value


# --- operator API keys ------------------------------------------------------------------------


async def test_a_valid_api_key_is_accepted(client: httpx.AsyncClient, world_a: World) -> None:
    response = await client.get(OPERATOR_PATH, headers=world_a.headers())
    assert response.status_code == 200, response.text


async def test_no_authorization_header_is_401(client: httpx.AsyncClient, world_a: World) -> None:
    assert_problem(await client.get(OPERATOR_PATH), 401, "unauthenticated")


async def test_malformed_authorization_headers_are_401(client: httpx.AsyncClient, world_a: World) -> None:
    for value in ["Bearer", "Bearer ", "Bearer    ", world_a.key, "Bearer flk_short", "Bearer not-a-key-at-all"]:
        response = await client.get(OPERATOR_PATH, headers={"Authorization": value})
        assert_problem(response, 401, "unauthenticated")


async def test_wrong_scheme_is_401_even_with_a_valid_key(client: httpx.AsyncClient, world_a: World) -> None:
    for scheme in ["Basic", "Token", "Digest"]:
        response = await client.get(OPERATOR_PATH, headers={"Authorization": f"{scheme} {world_a.key}"})
        assert_problem(response, 401, "unauthenticated")


async def test_unknown_key_is_401(client: httpx.AsyncClient, world_a: World) -> None:
    unknown, _ = new_api_key()
    assert_problem(await client.get(OPERATOR_PATH, headers=bearer(unknown)), 401, "unauthenticated")


async def test_right_prefix_wrong_secret_is_401(client: httpx.AsyncClient, world_a: World) -> None:
    prefix = api_key_prefix(world_a.key)
    assert prefix is not None
    forged = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    assert forged != world_a.key
    assert_problem(await client.get(OPERATOR_PATH, headers=bearer(forged)), 401, "unauthenticated")
    # A truncated secret of the real key is no better.
    assert_problem(await client.get(OPERATOR_PATH, headers=bearer(world_a.key[:-1])), 401, "unauthenticated")


async def test_an_expired_key_is_401(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    secret = await give_spare_key_a_secret(db, world_a, expires_at=state.clock.now() + timedelta(days=1))
    assert (await client.get(OPERATOR_PATH, headers=bearer(secret))).status_code == 200

    await bind_tenant(db, world_a.tenant_id)
    world_a.spare_key.expires_at = state.clock.now() - timedelta(minutes=1)
    await db.commit()
    assert_problem(await client.get(OPERATOR_PATH, headers=bearer(secret)), 401, "unauthenticated")


async def test_a_revoked_key_is_401(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    secret = await give_spare_key_a_secret(db, world_a)
    assert (await client.get(OPERATOR_PATH, headers=bearer(secret))).status_code == 200
    await bind_tenant(db, world_a.tenant_id)
    world_a.spare_key.revoked_at = state.clock.now()
    await db.commit()
    assert_problem(await client.get(OPERATOR_PATH, headers=bearer(secret)), 401, "unauthenticated")


async def test_a_suspended_tenants_key_is_401(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    assert (await client.get(OPERATOR_PATH, headers=world_a.headers())).status_code == 200
    await bind_tenant(db, world_a.tenant_id)
    tenant = (await db.execute(select(Tenant).where(Tenant.id == world_a.tenant_id))).scalar_one()
    tenant.status = "suspended"
    await db.commit()
    assert_problem(await client.get(OPERATOR_PATH, headers=world_a.headers()), 401, "unauthenticated")


# A route whose handler takes a session, and one whose handler only reads (a direct transaction):
# authentication runs in whichever the handler takes.
BOTH_PATHS = pytest.mark.parametrize("path", [OPERATOR_PATH, "/api/v1/invoices"])


@BOTH_PATHS
async def test_using_a_key_records_last_used_at(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World, path: str
) -> None:
    secret = await give_spare_key_a_secret(db, world_a)
    assert await last_used_at(db, world_a, world_a.spare_key.id) is None
    before = state.clock.now()
    assert (await client.get(path, headers=bearer(secret))).status_code == 200
    used = await last_used_at(db, world_a, world_a.spare_key.id)
    assert used is not None
    assert before - timedelta(seconds=5) <= used <= state.clock.now() + timedelta(seconds=5)


@BOTH_PATHS
async def test_a_failed_key_does_not_touch_last_used_at(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World, path: str
) -> None:
    await give_spare_key_a_secret(db, world_a)
    forged = f"{API_KEY_PREFIX}{world_a.spare_key.prefix}_{secrets.token_urlsafe(32)}"
    assert_problem(await client.get(path, headers=bearer(forged)), 401, "unauthenticated")
    assert await last_used_at(db, world_a, world_a.spare_key.id) is None


# --- member tokens (mobile API) ---------------------------------------------------------------


def credentials(world: World, **override: str) -> dict[str, str]:
    return {"organisation": world.slug, "email": world.member.email, "password": PASSWORD, **override}


async def member_token(client: httpx.AsyncClient, world: World) -> str:
    response = await client.post(MEMBER_TOKENS, json=credentials(world))
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


async def test_member_sign_in_issues_a_token(client: httpx.AsyncClient, state: AppState, world_a: World) -> None:
    before = state.clock.now()
    response = await client.post(MEMBER_TOKENS, json={**credentials(world_a), "device_name": "Pixel 9"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert body["token"].startswith("flm_")
    assert len(body["token"]) > 40
    expires_at = datetime.fromisoformat(body["expires_at"])
    expected = before + timedelta(days=state.settings.member_token_days)
    assert expected - timedelta(minutes=1) <= expires_at <= expected + timedelta(minutes=1)


async def test_member_sign_in_is_case_and_space_insensitive_on_identifiers(
    client: httpx.AsyncClient, world_a: World
) -> None:
    response = await client.post(
        MEMBER_TOKENS,
        json=credentials(world_a, organisation=f" {world_a.slug.upper()} ", email=world_a.member.email.upper()),
    )
    assert response.status_code == 201, response.text


async def test_member_token_is_stored_only_as_a_digest(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    token = await member_token(client, world_a)
    await bind_tenant(db, world_a.tenant_id)
    digests = (await db.execute(select(MemberToken.digest).where(MemberToken.member_id == world_a.member.id))).all()
    await db.commit()
    assert [row.digest for row in digests] == [token_digest(token)]


@pytest.mark.parametrize("path", [ME, f"{ME}/invoices"])
async def test_using_a_member_token_records_its_last_use_at_most_once_a_minute(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World, path: str
) -> None:
    token = await member_token(client, world_a)
    await bind_tenant(db, world_a.tenant_id)
    used = select(MemberToken.last_used_at).where(MemberToken.digest == token_digest(token))
    assert await db.scalar(used) is None
    await db.commit()
    before = state.clock.now()
    assert (await client.get(path, headers=bearer(token))).status_code == 200
    first = await db.scalar(used)
    await db.commit()
    assert first is not None
    assert before - timedelta(seconds=5) <= first <= state.clock.now() + timedelta(seconds=5)
    assert (await client.get(path, headers=bearer(token))).status_code == 200
    assert await db.scalar(used) == first  # used again within the minute: not written again
    await db.commit()


async def test_get_me_returns_the_signed_in_member(client: httpx.AsyncClient, world_a: World, world_b: World) -> None:
    token = await member_token(client, world_a)
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(world_a.member.id)
    assert body["email"] == world_a.member.email
    assert body["name"] == world_a.member.name
    assert body["location_id"] == str(world_a.location.id)
    assert body["active"] is True
    assert "password_hash" not in body

    other = await client.get(ME, headers=bearer(await member_token(client, world_b)))
    assert other.json()["id"] == str(world_b.member.id)


async def test_patch_me_updates_name_and_phone(client: httpx.AsyncClient, world_a: World) -> None:
    token = await member_token(client, world_a)
    response = await client.patch(ME, headers=bearer(token), json={"name": "Ada Lovelace", "phone": "+44 20 7946 0000"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Ada Lovelace"
    assert response.json()["phone"] == "+44 20 7946 0000"

    again = (await client.get(ME, headers=bearer(token))).json()
    assert again["name"] == "Ada Lovelace"
    assert again["phone"] == "+44 20 7946 0000"
    assert again["email"] == world_a.member.email

    cleared = await client.patch(ME, headers=bearer(token), json={"phone": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["phone"] is None
    assert cleared.json()["name"] == "Ada Lovelace"


async def test_patch_me_rejects_invalid_values(client: httpx.AsyncClient, world_a: World) -> None:
    token = await member_token(client, world_a)
    for body in [{"name": ""}, {"phone": "call me maybe"}]:
        response = await client.patch(ME, headers=bearer(token), json=body)
        assert response.status_code == 400, (body, response.text)
    assert (await client.get(ME, headers=bearer(token))).json()["name"] == world_a.member.name


async def test_patch_me_cannot_change_the_email(client: httpx.AsyncClient, world_a: World) -> None:
    token = await member_token(client, world_a)
    bodies: list[dict[str, object]] = [
        {"email": "new@alpha.test"},
        {"name": "Sneaky", "email": "new@alpha.test"},
        {"active": False},
    ]
    for body in bodies:
        response = await client.patch(ME, headers=bearer(token), json=body)
        assert response.status_code == 400, (body, response.text)
        problem = assert_problem(response, 400, "invalid_request")
        field = next(iter(set(body) - {"name"}))
        messages = [error["message"] for error in problem["errors"]]
        assert any(f"unknown field `{field}`" in message for message in messages), messages
    me = (await client.get(ME, headers=bearer(token))).json()
    assert me["email"] == world_a.member.email
    assert me["name"] == world_a.member.name
    assert me["active"] is True


async def test_revoking_my_token_makes_it_401(client: httpx.AsyncClient, world_a: World) -> None:
    token = await member_token(client, world_a)
    other = await member_token(client, world_a)
    response = await client.delete(f"{ME}/token", headers=bearer(token))
    assert response.status_code == 204, response.text
    assert_problem(await client.get(ME, headers=bearer(token)), 401, "unauthenticated")
    assert_problem(await client.delete(f"{ME}/token", headers=bearer(token)), 401, "unauthenticated")
    # Only that token is revoked: the member's other device stays signed in.
    assert (await client.get(ME, headers=bearer(other))).status_code == 200


async def test_a_deactivated_members_token_is_401(client: httpx.AsyncClient, db: AsyncSession, world_a: World) -> None:
    token = await member_token(client, world_a)
    assert (await client.get(ME, headers=bearer(token))).status_code == 200
    await bind_tenant(db, world_a.tenant_id)
    member = (await db.execute(select(Member).where(Member.id == world_a.member.id))).scalar_one()
    member.active = False
    await db.commit()
    assert_problem(await client.get(ME, headers=bearer(token)), 401, "unauthenticated")
    # Nor can a deactivated member get a new one.
    refused = assert_problem(await client.post(MEMBER_TOKENS, json=credentials(world_a)), 401, "unauthenticated")
    assert refused["detail"] == BAD_CREDENTIALS


async def test_an_expired_member_token_is_401(
    client: httpx.AsyncClient, db: AsyncSession, state: AppState, world_a: World
) -> None:
    token = await member_token(client, world_a)
    await bind_tenant(db, world_a.tenant_id)
    row = (await db.execute(select(MemberToken).where(MemberToken.digest == token_digest(token)))).scalar_one()
    row.expires_at = state.clock.now() - timedelta(seconds=1)
    await db.commit()
    assert_problem(await client.get(ME, headers=bearer(token)), 401, "unauthenticated")


async def test_a_suspended_tenants_member_token_is_401(
    client: httpx.AsyncClient, db: AsyncSession, world_a: World
) -> None:
    token = await member_token(client, world_a)
    await bind_tenant(db, world_a.tenant_id)
    tenant = (await db.execute(select(Tenant).where(Tenant.id == world_a.tenant_id))).scalar_one()
    tenant.status = "suspended"
    await db.commit()
    assert_problem(await client.get(ME, headers=bearer(token)), 401, "unauthenticated")
    refused = assert_problem(await client.post(MEMBER_TOKENS, json=credentials(world_a)), 401, "unauthenticated")
    assert refused["detail"] == BAD_CREDENTIALS


async def test_failed_member_sign_ins_give_one_message(client: httpx.AsyncClient, world_a: World) -> None:
    """Wrong password, unknown e-mail and unknown organisation are indistinguishable."""
    attempts = {
        "wrong password": credentials(world_a, password="not-the-password"),
        "unknown email": credentials(world_a, email="nobody@alpha.test"),
        "unknown organisation": credentials(world_a, organisation="no-such-org"),
        "another tenant's member": credentials(world_a, email="member@bravo.test"),
        "an operator user": credentials(world_a, email=world_a.owner.email),
    }
    answers = {}
    for label, body in attempts.items():
        response = await client.post(MEMBER_TOKENS, json=body)
        problem = assert_problem(response, 401, "unauthenticated")
        assert "token" not in problem, label
        answers[label] = (response.status_code, problem["title"], problem["detail"], problem["type"])
    assert set(answers.values()) == {(401, "Authentication required", BAD_CREDENTIALS, "about:blank#unauthenticated")}


async def test_an_operator_api_key_cannot_use_the_member_api(client: httpx.AsyncClient, world_a: World) -> None:
    assert_problem(await client.get(ME, headers=world_a.headers()), 401, "unauthenticated")
    assert_problem(await client.patch(ME, headers=world_a.headers(), json={"name": "Hijacked"}), 401, "unauthenticated")
    assert_problem(await client.delete(f"{ME}/token", headers=world_a.headers()), 401, "unauthenticated")


async def test_a_member_token_cannot_use_the_operator_api(client: httpx.AsyncClient, world_a: World) -> None:
    token = await member_token(client, world_a)
    assert_problem(await client.get(OPERATOR_PATH, headers=bearer(token)), 401, "unauthenticated")


async def test_member_api_rejects_missing_and_malformed_tokens(client: httpx.AsyncClient, world_a: World) -> None:
    assert_problem(await client.get(ME), 401, "unauthenticated")
    for value in ["Bearer", "Basic abc", "Bearer flm_not-a-real-token", "flm_x"]:
        assert_problem(await client.get(ME, headers={"Authorization": value}), 401, "unauthenticated")


# --- throttling -------------------------------------------------------------------------------


async def test_too_many_failures_lock_the_account(
    client: httpx.AsyncClient, settings: Settings, world_a: World
) -> None:
    wrong = credentials(world_a, password="not-the-password")
    for _ in range(settings.login_attempts_per_window):
        assert_problem(await client.post(MEMBER_TOKENS, json=wrong), 401, "unauthenticated")

    locked = await client.post(MEMBER_TOKENS, json=credentials(world_a))
    body = assert_problem(locked, 429, "rate_limited")
    assert "token" not in body
    retry_after = int(locked.headers["Retry-After"])
    assert 1 <= retry_after <= settings.login_window_seconds
    # Still locked on the next try, with any password.
    assert_problem(await client.post(MEMBER_TOKENS, json=wrong), 429, "rate_limited")


async def test_the_lock_is_per_account(
    client: httpx.AsyncClient, settings: Settings, world_a: World, world_b: World
) -> None:
    wrong = credentials(world_a, password="not-the-password")
    for _ in range(settings.login_attempts_per_window):
        assert_problem(await client.post(MEMBER_TOKENS, json=wrong), 401, "unauthenticated")
    assert_problem(await client.post(MEMBER_TOKENS, json=credentials(world_a)), 429, "rate_limited")
    assert (await client.post(MEMBER_TOKENS, json=credentials(world_b))).status_code == 201


async def test_a_success_resets_the_account_counter(
    client: httpx.AsyncClient, settings: Settings, world_a: World
) -> None:
    wrong = credentials(world_a, password="not-the-password")
    below_limit = settings.login_attempts_per_window - 1
    for _ in range(below_limit):
        assert_problem(await client.post(MEMBER_TOKENS, json=wrong), 401, "unauthenticated")
    assert (await client.post(MEMBER_TOKENS, json=credentials(world_a))).status_code == 201

    # Without the reset, these would add up to more than the limit.
    for _ in range(below_limit):
        assert_problem(await client.post(MEMBER_TOKENS, json=wrong), 401, "unauthenticated")
    assert (await client.post(MEMBER_TOKENS, json=credentials(world_a))).status_code == 201


async def test_changing_the_case_of_the_identifiers_does_not_dodge_the_lock(
    client: httpx.AsyncClient, settings: Settings, world_a: World
) -> None:
    for attempt in range(settings.login_attempts_per_window):
        variant = credentials(
            world_a,
            organisation=world_a.slug.upper() if attempt % 2 else f" {world_a.slug} ",
            email=world_a.member.email.upper() if attempt % 2 else world_a.member.email,
            password="not-the-password",
        )
        assert_problem(await client.post(MEMBER_TOKENS, json=variant), 401, "unauthenticated")
    variant = credentials(world_a, organisation=world_a.slug.title(), email=world_a.member.email.title())
    assert_problem(await client.post(MEMBER_TOKENS, json=variant), 429, "rate_limited")


async def test_one_address_failing_across_many_accounts_is_throttled(
    client: httpx.AsyncClient, settings: Settings, world_a: World
) -> None:
    """The per-address budget (ten times the per-account one) stops spraying one password over accounts."""
    for attempt in range(settings.login_attempts_per_window * 10):
        body = credentials(world_a, email=f"nobody{attempt}@alpha.test", password="not-the-password")
        assert_problem(await client.post(MEMBER_TOKENS, json=body), 401, "unauthenticated")
    locked = await client.post(MEMBER_TOKENS, json=credentials(world_a))
    assert_problem(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) >= 1


# --- hardening found in review --------------------------------------------------------------


async def test_parallel_guesses_cannot_outrun_the_throttle(state: AppState) -> None:
    """Attempts are counted before the password is checked, so a burst cannot slip through."""
    throttle = LoginThrottle(state.redis, attempts=5, window_seconds=60, prefix=state.settings.redis_key_prefix)
    outcomes = await asyncio.gather(
        *(throttle.attempt("member:alpha:x@alpha.test", "198.51.100.9") for _ in range(40)), return_exceptions=True
    )
    allowed = [outcome for outcome in outcomes if outcome is None]
    refused = [outcome for outcome in outcomes if isinstance(outcome, TooManyRequests)]
    assert (len(allowed), len(refused)) == (5, 35)


async def test_rotating_addresses_does_not_give_unlimited_guesses(state: AppState) -> None:
    throttle = LoginThrottle(state.redis, attempts=5, window_seconds=60, prefix=state.settings.redis_key_prefix)
    for index in range(20):  # four times the per-address budget, from twenty addresses
        await throttle.attempt("member:alpha:x@alpha.test", f"198.51.100.{index}")
    with pytest.raises(TooManyRequests):
        await throttle.attempt("member:alpha:x@alpha.test", "198.51.100.200")


async def _key_with(client: httpx.AsyncClient, world: World, scopes: list[str]) -> str:
    created = await client.post("/api/v1/api-keys", json={"name": "narrow", "scopes": scopes}, headers=world.headers())
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


async def test_a_narrow_key_cannot_make_or_take_over_a_stronger_user(client: httpx.AsyncClient, world_a: World) -> None:
    narrow = bearer(await _key_with(client, world_a, ["users:read", "users:write"]))
    admin = {"email": "mallory@alpha.test", "name": "Mallory", "role": "admin", "password": "mallory-password-1"}
    refused = assert_problem(await client.post("/api/v1/users", json=admin, headers=narrow), 403, "forbidden")
    assert "admin role" in refused["detail"]
    # Nor reset the password of the finance user, whose role holds permissions the key lacks.
    reset = await client.patch(
        f"/api/v1/users/{world_a.staff.id}", json={"password": "taken-over-password"}, headers=narrow
    )
    assert_problem(reset, 403, "forbidden")


async def test_a_key_an_owner_made_can_make_a_second_owner(client: httpx.AsyncClient, world_a: World) -> None:
    # world_a.key is the key the platform made with the owner at tenant creation.
    second = {"email": "co-owner@alpha.test", "name": "Co Owner", "role": "owner", "password": "co-owner-password"}
    created = await client.post("/api/v1/users", json=second, headers=world_a.headers())
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "owner"


async def test_a_new_password_ends_the_members_tokens(client: httpx.AsyncClient, world_a: World) -> None:
    token = await member_token(client, world_a)
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    changed = await client.patch(
        f"/api/v1/members/{world_a.member.id}", json={"password": "a-brand-new-password"}, headers=world_a.headers()
    )
    assert changed.status_code == 200, changed.text
    assert_problem(await client.get("/api/v1/me", headers=bearer(token)), 401, "unauthenticated")


async def test_reactivating_a_member_does_not_revive_old_tokens(client: httpx.AsyncClient, world_a: World) -> None:
    token = await member_token(client, world_a)
    member = f"/api/v1/members/{world_a.member.id}"
    assert (await client.post(f"{member}/deactivate", headers=world_a.headers())).status_code == 200
    assert (await client.post(f"{member}/reactivate", headers=world_a.headers())).status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=bearer(token)), 401, "unauthenticated")
