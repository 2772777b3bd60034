"""Xero: the OAuth2 client, connections and the Accounting API."""
