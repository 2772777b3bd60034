"""The member portal (/portal): one module per area."""

from __future__ import annotations

from litestar import Controller

from portal.member.dashboard import MemberDashboard, MemberSignIn
from portal.member.invoices import InvoicePages

PAGES: list[type[Controller]] = [MemberSignIn, MemberDashboard, InvoicePages]
