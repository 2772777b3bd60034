"""What tests do to the database server itself."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

import migrations


async def terminate_backend(pid: int) -> None:
    admin = await asyncpg.connect(admin_url())
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


def admin_url() -> str:
    return make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql").render_as_string(hide_password=False)


def migrate(url: str, revision: str = "head", *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", os.path.dirname(migrations.__file__))
    config.attributes["url"] = url
    (command.downgrade if down else command.upgrade)(config, revision)


def fresh_database(prefix: str) -> str:
    """Create an empty database on the test server; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        connection = await asyncpg.connect(admin_url())
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return make_url(admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    async def drop() -> None:
        connection = await asyncpg.connect(admin_url())
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())
