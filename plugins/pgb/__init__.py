"""PGB: invoices to the budget holder that the SVB accepts."""
