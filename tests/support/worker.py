"""Running the real arq worker over what a test queued."""

from __future__ import annotations

from app.state import AppState
from workers.main import make_worker


async def run_worker(state: AppState) -> None:
    """A real arq worker, in burst mode: runs what is queued, then stops. Without the clock's rings:
    a burst that met one (the billing scheduler at :m0:30 and :m5:30) queued jobs for every tenant
    other tests had committed, run beside the test's own on its one connection. The tests of the
    sweeps and the scheduler call them directly."""
    worker = make_worker(state.settings, burst=True, state=state, scheduled=False)
    try:
        await worker.async_run()
    finally:
        await worker.close()
