"""Particulier: invoices to the client or whoever pays for them."""
