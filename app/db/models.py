"""Every mapped model, imported in one place so the metadata is complete (migrations, mappers)."""

from app.api_key.models import ApiKey
from app.audit.models import AuditEvent
from app.billing.models import BillingItem, BillingRun
from app.booking.models import Booking, Resource
from app.catalog.models import Discount, LocationTaxPolicy, Plan, RevenueAccount, TaxRate, TaxRateComponent
from app.company.models import Company
from app.db.base import Base
from app.email.models import Email
from app.fee.models import Fee
from app.idempotency.models import IdempotencyKey
from app.integrations.xero.models import (
    XeroConnection,
    XeroDocument,
    XeroGrant,
    XeroJournalEntry,
    XeroLocationSettings,
)
from app.invoice.models import Invoice, InvoiceLine, InvoiceLineTax, InvoiceSequence
from app.ledger.models import Allocation, CreditNote, CreditNoteLine, CreditNoteLineTax, Payment, Refund, WriteOff
from app.location.models import Location
from app.member.models import Member, MemberToken
from app.membership.models import Membership
from app.tenant.models import Tenant
from app.user.models import User, UserLocation

__all__ = [
    "Allocation",
    "ApiKey",
    "AuditEvent",
    "Base",
    "BillingItem",
    "BillingRun",
    "Booking",
    "Company",
    "CreditNote",
    "CreditNoteLine",
    "CreditNoteLineTax",
    "Discount",
    "Email",
    "Fee",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "InvoiceLineTax",
    "InvoiceSequence",
    "Location",
    "LocationTaxPolicy",
    "Member",
    "MemberToken",
    "Membership",
    "Payment",
    "Plan",
    "Refund",
    "Resource",
    "RevenueAccount",
    "TaxRate",
    "TaxRateComponent",
    "Tenant",
    "User",
    "UserLocation",
    "WriteOff",
    "XeroConnection",
    "XeroDocument",
    "XeroGrant",
    "XeroJournalEntry",
    "XeroLocationSettings",
]
