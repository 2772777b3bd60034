"""The Accounting API operations the sandbox answers, keyed by the spec's method and path template.

Each entry names the scope group that must be granted (``.read`` suffices for GET).
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.xero.resources import banking, contacts, documents, payments, settings
from sandbox.xero.resources.common import Answer, Call
from sandbox.xero.resources.documents import CREDIT_NOTE, INVOICE

Handler = Callable[[Call], Answer]

ROUTES: dict[tuple[str, str], tuple[str, Handler]] = {
    ("GET", "/Organisation"): ("settings", settings.organisation),
    ("GET", "/Accounts"): ("settings", settings.accounts),
    ("PUT", "/Accounts"): ("settings", settings.put_account),
    ("GET", "/Accounts/{AccountID}"): ("settings", settings.account),
    ("POST", "/Accounts/{AccountID}"): ("settings", settings.post_account),
    ("DELETE", "/Accounts/{AccountID}"): ("settings", settings.delete_account),
    ("GET", "/TaxRates"): ("settings", settings.tax_rates),
    ("PUT", "/TaxRates"): ("settings", lambda call: settings.write_tax_rates(call, create=True)),
    ("POST", "/TaxRates"): ("settings", lambda call: settings.write_tax_rates(call, create=False)),
    ("GET", "/TaxRates/{TaxType}"): ("settings", settings.tax_rate),
    ("GET", "/TrackingCategories"): ("settings", settings.tracking_categories),
    ("PUT", "/TrackingCategories"): ("settings", settings.put_tracking_category),
    ("GET", "/TrackingCategories/{TrackingCategoryID}"): ("settings", settings.tracking_category),
    ("POST", "/TrackingCategories/{TrackingCategoryID}"): ("settings", settings.post_tracking_category),
    ("PUT", "/TrackingCategories/{TrackingCategoryID}/Options"): ("settings", settings.put_option),
    ("POST", "/TrackingCategories/{TrackingCategoryID}/Options/{TrackingOptionID}"): ("settings", settings.post_option),
    ("GET", "/BrandingThemes"): ("settings", settings.themes),
    ("GET", "/BrandingThemes/{BrandingThemeID}"): ("settings", settings.theme),
    ("GET", "/Currencies"): ("settings", settings.currencies),
    ("PUT", "/Currencies"): ("settings", settings.put_currency),
    ("GET", "/Contacts"): ("contacts", contacts.get_list),
    ("PUT", "/Contacts"): ("contacts", contacts.put),
    ("POST", "/Contacts"): ("contacts", contacts.post),
    ("GET", "/Contacts/{ContactID}"): ("contacts", contacts.get_one),
    ("GET", "/Contacts/{ContactNumber}"): ("contacts", contacts.get_one),
    ("POST", "/Contacts/{ContactID}"): ("contacts", contacts.post_one),
    ("GET", "/Invoices"): ("invoices", lambda call: documents.get_list(call, INVOICE)),
    ("PUT", "/Invoices"): ("invoices", lambda call: documents.write(call, INVOICE, "PUT")),
    ("POST", "/Invoices"): ("invoices", lambda call: documents.write(call, INVOICE, "POST")),
    ("GET", "/Invoices/{InvoiceID}"): ("invoices", lambda call: documents.get_one(call, INVOICE)),
    ("POST", "/Invoices/{InvoiceID}"): ("invoices", lambda call: documents.write(call, INVOICE, "POST")),
    ("GET", "/CreditNotes"): ("invoices", lambda call: documents.get_list(call, CREDIT_NOTE)),
    ("PUT", "/CreditNotes"): ("invoices", lambda call: documents.write(call, CREDIT_NOTE, "PUT")),
    ("POST", "/CreditNotes"): ("invoices", lambda call: documents.write(call, CREDIT_NOTE, "POST")),
    ("GET", "/CreditNotes/{CreditNoteID}"): ("invoices", lambda call: documents.get_one(call, CREDIT_NOTE)),
    ("POST", "/CreditNotes/{CreditNoteID}"): ("invoices", lambda call: documents.write(call, CREDIT_NOTE, "POST")),
    ("PUT", "/CreditNotes/{CreditNoteID}/Allocations"): (
        "invoices",
        lambda call: payments.allocate(call, "CreditNoteID"),
    ),
    ("DELETE", "/CreditNotes/{CreditNoteID}/Allocations/{AllocationID}"): (
        "invoices",
        lambda call: payments.unallocate(call, "CreditNoteID"),
    ),
    ("GET", "/Payments"): ("payments", payments.get_list),
    ("PUT", "/Payments"): ("payments", payments.put),
    ("POST", "/Payments"): ("payments", payments.post),
    ("GET", "/Payments/{PaymentID}"): ("payments", payments.get_one),
    ("POST", "/Payments/{PaymentID}"): ("payments", payments.post_one),
    ("GET", "/Overpayments"): ("payments", banking.get_overpayments),
    ("GET", "/Overpayments/{OverpaymentID}"): ("payments", banking.get_overpayment),
    ("PUT", "/Overpayments/{OverpaymentID}/Allocations"): (
        "payments",
        lambda call: payments.allocate(call, "OverpaymentID"),
    ),
    ("DELETE", "/Overpayments/{OverpaymentID}/Allocations/{AllocationID}"): (
        "payments",
        lambda call: payments.unallocate(call, "OverpaymentID"),
    ),
    ("GET", "/BankTransactions"): ("banktransactions", banking.get_transactions),
    ("PUT", "/BankTransactions"): ("banktransactions", banking.put),
    ("GET", "/BankTransactions/{BankTransactionID}"): ("banktransactions", banking.get_transaction),
}
