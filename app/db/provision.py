"""Give the app a login of its own: a LOGIN role whose only power is membership of the app role.

Run with the owner's (or an administrator's) connection, after the migrations created the roles.
A superuser login could leave the app role again with RESET ROLE; this login cannot.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

APP_ROLE = "flexledger_app"


async def ensure_app_login(admin_url: str, login: str, password: str) -> str:
    """Create or update ``login``; returns the app's DATABASE_URL for it."""
    url = make_url(admin_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        quoted = '"' + login.replace('"', '""') + '"'
        secret = password.replace("'", "''")
        exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", login)
        verb = "ALTER" if exists else "CREATE"
        await connection.execute(
            f"{verb} ROLE {quoted} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '{secret}'"
        )
        await connection.execute(f"GRANT {APP_ROLE} TO {quoted}")
    finally:
        await connection.close()
    return url.set(username=login, password=password).render_as_string(hide_password=False)
