"""Signing in to the console and the portal as a browser does, and reading its forms."""

from __future__ import annotations

import re
from typing import Literal

import httpx

from tests.support.worlds import PASSWORD, World

Area = Literal["console", "portal"]


CSRF_FIELD = re.compile(r'<input type="hidden" name="_csrf_token" value="([^"]+)">')


def csrf_in(page: httpx.Response) -> str:
    found: list[str] = CSRF_FIELD.findall(page.text)
    assert found, page.text
    assert len(set(found)) == 1
    return found[0]


async def login_page(client: httpx.AsyncClient, area: Area) -> str:
    """Open the sign-in page as a browser would; returns the CSRF token rendered in it."""
    page = await client.get(f"/{area}/login")
    assert page.status_code == 200, page.text
    return csrf_in(page)


def form(world: World, email: str, token: str | None, *, password: str = PASSWORD) -> dict[str, str]:
    data = {"organisation": world.slug, "email": email, "password": password}
    if token is not None:
        data["_csrf_token"] = token
    return data


async def sign_in(
    client: httpx.AsyncClient, area: Area, world: World, email: str, *, password: str = PASSWORD
) -> httpx.Response:
    token = await login_page(client, area)
    return await client.post(f"/{area}/login", data=form(world, email, token, password=password))
