"""The app state's registry of outside services' clients."""

from __future__ import annotations

from app.kit.providers import Providers


class Closing:
    def __init__(self) -> None:
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


class Plain:
    pass


async def test_clients_are_held_by_their_class_and_closed_together() -> None:
    first, plain = Closing(), Plain()
    held = Providers(first, plain)
    assert held.get(Closing) is first
    assert held.get(Plain) is plain
    second = Closing()
    held.put(second)  # the one of its class: replaced
    assert held.get(Closing) is second
    await held.aclose()
    assert second.closed
    assert not first.closed


def test_a_provider_not_configured_is_none() -> None:
    assert Providers().get(Closing) is None
