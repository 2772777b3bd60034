"""The clients of outside services the app holds (an accounting system, a payment provider), by
their class: adding a provider adds an entry here, not a field to the app state, and the core
never names one."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class Providers:
    def __init__(self, *clients: object) -> None:
        self._clients: dict[type[Any], Any] = {}
        for client in clients:
            self.put(client)

    def put(self, client: object) -> None:
        """Hold ``client`` as the one of its class (replacing any held before)."""
        self._clients[type(client)] = client

    def get(self, kind: type[T]) -> T | None:
        """The client of that class, if the deployment configured one."""
        found: T | None = self._clients.get(kind)
        return found

    async def aclose(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()
