"""The ``flexledger`` command: one image, one entry point; the argument picks the process.

flexledger api [--host H] [--port P] [--workers N]
                                       the HTTP service (JSON API, portal, console)
flexledger worker                      the background worker
flexledger migrate                     apply database migrations (as the schema owner)
flexledger seed-demo                   create the demo operator (idempotent)
flexledger token-key                   print a new key for TOKEN_KEYS
flexledger rotate-token-keys           re-encrypt stored tokens under the first of TOKEN_KEYS
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.settings import Settings


def migrate(revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    command.upgrade(config, revision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="flexledger",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    api = commands.add_parser("api")
    api.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a container listens on all interfaces
    api.add_argument("--port", type=int, default=8000)
    # A process keeps one core busy at most: a worker per core lets the API use them all.
    api.add_argument("--workers", type=int, default=1)
    commands.add_parser("worker")
    commands.add_parser("migrate")
    login = commands.add_parser("app-login")
    login.add_argument("name")
    commands.add_parser("seed-demo")
    commands.add_parser("token-key")
    commands.add_parser("rotate-token-keys")
    args = parser.parse_args(argv)

    from app.settings import get_settings

    if args.command == "migrate":
        migrate()
        return
    if args.command == "token-key":
        from app.kit.crypto import new_key

        print(new_key())  # noqa: T201
        return
    if args.command == "app-login":
        from app.db.provision import ensure_app_login

        owner = os.environ.get("MIGRATION_DATABASE_URL") or os.environ["DATABASE_URL"]
        print(asyncio.run(ensure_app_login(owner, args.name, os.environ["APP_LOGIN_PASSWORD"])))  # noqa: T201
        return
    settings = get_settings()  # validates the environment before anything starts
    if args.command == "api":
        import uvicorn

        # The portal mounts itself on the core app; named by string so app/ never imports it.
        uvicorn.run(
            "portal.asgi:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=None,
            access_log=False,  # the app writes its own access line, with request and tenant ids
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    elif args.command == "worker":
        worker_module = importlib.import_module("workers.main")
        worker_module.run(settings)
    elif args.command == "seed-demo":
        from app.demo import seed_demo

        asyncio.run(seed_demo(settings))
    elif args.command == "rotate-token-keys":
        resealed, unreadable = asyncio.run(_rotate(settings))
        print(f"re-sealed the tokens of {resealed} Xero grant(s); {unreadable} opened with no configured key")  # noqa: T201
        if unreadable:
            raise SystemExit(1)


async def _rotate(settings: Settings) -> tuple[int, int]:
    from app.integrations.xero.tokens import reseal_all
    from app.main import build_state

    state = await build_state(settings)
    try:
        return await reseal_all(state)
    finally:
        await state.close()


if __name__ == "__main__":
    main()
