"""Voorbeeldfinanciering: an example outside financing plugin for Declaratieportaal."""

CODE = "voorbeeld"
