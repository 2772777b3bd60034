"""Switchable faults: latency, server errors, an organisation offline, and lost responses.

Queued faults (``fail_next``, ``lose_next``) hit the next calls in order, for exact tests; rates
hit calls at random, seeded, for storms. ``lose`` means the write is applied and then the
connection drops before the answer arrives, so the client cannot know whether it succeeded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

OFFLINE_TEXT = "The Organisation is offline"
UNAVAILABLE_TEXT = "The Xero API is temporarily unavailable"
ERROR_TEXT = (
    "An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status."
)


@dataclass
class FaultSettings:
    latency_ms: int = 0
    error_rate: float = 0.0  # share of calls answered 503 (or 500 when ``error_status`` says so)
    error_status: int = 503
    lose_rate: float = 0.0  # share of successful writes whose answer is lost
    offline: list[str] = field(default_factory=list)  # tenant ids answering 503 "offline"
    fail_next: list[int] = field(default_factory=list)  # statuses for the next calls, in order
    lose_next: int = 0  # the next successful writes whose answers are lost
    seed: int = 0


class Faults:
    def __init__(self, settings: FaultSettings | None = None) -> None:
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)  # noqa: S311 - a reproducible fault pattern, not a secret

    def before(self, tenant_id: str) -> tuple[int, str] | None:
        """A fault that answers instead of the API, if one is due."""
        s = self.settings
        if tenant_id in s.offline:
            return 503, OFFLINE_TEXT
        if s.fail_next:
            status = s.fail_next.pop(0)
            return status, UNAVAILABLE_TEXT if status == 503 else ERROR_TEXT
        if s.error_rate and self._random.random() < s.error_rate:
            return s.error_status, UNAVAILABLE_TEXT if s.error_status == 503 else ERROR_TEXT
        return None

    def lose_answer(self) -> bool:
        """Whether the answer to a write that just succeeded is lost."""
        s = self.settings
        if s.lose_next:
            s.lose_next -= 1
            return True
        return bool(s.lose_rate) and self._random.random() < s.lose_rate
