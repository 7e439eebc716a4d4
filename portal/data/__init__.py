"""Data files shipped with the portal (word lists)."""
