"""Processes the benchmarks start and wait for (the API, the Xero sandbox)."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_for(url: str, process: subprocess.Popen[bytes], what: str, seconds: float = 180) -> None:
    """Until ``url`` answers (anything at all); a loaded machine imports slowly."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The {what} stopped at start (exit {process.returncode}).")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"The {what} did not start within {seconds:.0f} s.")
