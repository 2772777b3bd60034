"""Xero's call limits per organisation (per minute, in flight, per day) and app-wide per minute.

Windows are rolling and counted in sandbox time. A call refused with 429 does not count; every
other call does, failed or not. Remaining quotas go out on every response as Xero's headers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

MINUTE = 60.0
DAY = 86400.0


@dataclass
class LimitSettings:
    per_minute: int = 60
    in_flight: int = 5
    per_day: int = 5000
    app_per_minute: int = 10_000


@dataclass
class Refusal:
    problem: str
    retry_after: float  # sandbox seconds


@dataclass
class _OrgUsage:
    minute: deque[float] = field(default_factory=deque)
    day: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class Limiter:
    def __init__(self, settings: LimitSettings | None = None) -> None:
        self.settings = settings or LimitSettings()
        self._orgs: dict[str, _OrgUsage] = {}
        self._app: deque[float] = deque()
        self.refusals: dict[str, int] = {}

    def _usage(self, tenant_id: str) -> _OrgUsage:
        return self._orgs.setdefault(tenant_id, _OrgUsage())

    @staticmethod
    def _trim(window: deque[float], now: float, length: float) -> None:
        while window and window[0] <= now - length:
            window.popleft()

    def admit(self, tenant_id: str, now: float) -> Refusal | None:
        """Count a call in, or say which limit refuses it. An admitted call must be ``release``d."""
        usage, limits = self._usage(tenant_id), self.settings
        self._trim(usage.minute, now, MINUTE)
        self._trim(usage.day, now, DAY)
        self._trim(self._app, now, MINUTE)
        refusal = None
        if usage.in_flight >= limits.in_flight:
            refusal = Refusal("concurrent", 1.0)
        elif len(usage.day) >= limits.per_day:
            refusal = Refusal("day", usage.day[0] + DAY - now)
        elif len(usage.minute) >= limits.per_minute:
            refusal = Refusal("minute", usage.minute[0] + MINUTE - now)
        elif len(self._app) >= limits.app_per_minute:
            refusal = Refusal("appminute", self._app[0] + MINUTE - now)
        if refusal:
            self.refusals[refusal.problem] = self.refusals.get(refusal.problem, 0) + 1
            return refusal
        usage.in_flight += 1
        usage.minute.append(now)
        usage.day.append(now)
        self._app.append(now)
        return None

    def release(self, tenant_id: str) -> None:
        self._usage(tenant_id).in_flight -= 1

    def headers(self, tenant_id: str) -> dict[str, str]:
        usage, limits = self._usage(tenant_id), self.settings
        return {
            "X-DayLimit-Remaining": str(max(0, limits.per_day - len(usage.day))),
            "X-MinLimit-Remaining": str(max(0, limits.per_minute - len(usage.minute))),
            "X-AppMinLimit-Remaining": str(max(0, limits.app_per_minute - len(self._app))),
        }


def retry_after_header(sandbox_seconds: float, scale: float) -> str:
    """Retry-After in wall-clock seconds: whole seconds as Xero sends, fractions only when time is scaled."""
    real = max(sandbox_seconds, 0.001) / scale
    return str(math.ceil(real)) if scale == 1 else f"{real:.3f}"
