"""Running the sandbox: in a background thread for tests, or as a process for the demo and benchmark.

python -m sandbox.xero --port 8100 --client-id ID --client-secret SECRET --redirect-uri URL [--time-scale N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import time

import uvicorn

from sandbox import free_port
from sandbox.xero.app import Sandbox, create_app
from sandbox.xero.clock import SandboxClock
from sandbox.xero.store import ClientApp


class SandboxServer:
    """The sandbox on 127.0.0.1 in a thread of its own, with its own event loop."""

    def __init__(self, port: int = 0, *, time_scale: float = 1.0) -> None:
        self.port = port or free_port()
        self.sandbox = Sandbox(clock=SandboxClock(time_scale))
        config = uvicorn.Config(
            create_app(self.sandbox),
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Xero sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Xero sandbox")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--redirect-uri", action="append", default=[])
    args = parser.parse_args()
    sandbox = Sandbox(clock=SandboxClock(args.time_scale))
    if args.client_id:
        sandbox.store.apps[args.client_id] = ClientApp(args.client_id, args.client_secret or "", args.redirect_uri)
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(create_app(sandbox), host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
