"""The operator console (/console): one module per area."""

from __future__ import annotations

from litestar import Controller

from portal.console.accounting import AccountingPages
from portal.console.dashboard import ConsoleDashboard, ConsoleSignIn

PAGES: list[type[Controller]] = [ConsoleSignIn, ConsoleDashboard, AccountingPages]
