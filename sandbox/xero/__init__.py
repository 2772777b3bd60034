"""A local stand-in for Xero: identity, connections and the Accounting API, over real HTTP."""
