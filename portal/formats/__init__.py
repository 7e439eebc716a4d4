"""Formats shared by every financing plugin.

- :mod:`portal.formats.xml` — the safe XML reader and XSD releases (schemas, code lists and header
  values read from the official XSDs, chosen by namespace).
- :mod:`portal.formats.ei` — Vektis EI fixed-width files (AW319/AW320 and family), driven by record
  layouts kept as data tables.

Plugins import these; nothing in here names a financing.
"""
