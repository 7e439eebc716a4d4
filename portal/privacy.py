"""Finding and masking BSNs in free text and in message payloads.

A BSN is nine digits that pass the 11-proef, written together (``158813996``) or in groups of
three with dots or spaces (``158.813.996``, ``158 813 996``). Logs mask them completely; screens
for people without the right to see full BSNs show only the last three digits, as the client
page does (``******996``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from stdnum.nl import bsn as stdnum_bsn

# Nine digits, or three groups of three with the same separator (a dot or a space) twice.
_BSN = re.compile(r"(?<![\d.])(\d{3})([. ]?)(\d{3})\2(\d{3})(?![\d])")


def _replace(text: str, render: Callable[[str], str]) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = m.group(1) + m.group(3) + m.group(4)
        return render(digits) if stdnum_bsn.is_valid(digits) else m.group(0)

    return _BSN.sub(repl, text)


def mask_all(text: str) -> str:
    """Every BSN becomes ``*********`` (logs)."""
    return _replace(text, lambda _digits: "*********")


def mask_partly(text: str) -> str:
    """Every BSN keeps only its last three digits (``******996``), as on the client page."""
    return _replace(text, lambda digits: "*" * 6 + digits[-3:])


# XML elements that hold a BSN, whatever other numbers pass the 11-proef by chance.
_BSN_ELEMENT = re.compile(
    rb"(<(?:[\w.-]+:)?[A-Za-z]*(?:Bsn|BSN|bsn|Burgerservicenummer)[A-Za-z]*>\s*)(\d{9})(\s*<)"
)


def mask_payload(payload: bytes) -> bytes:
    """A message payload with every BSN partly masked (XML elements and loose numbers)."""
    masked = _BSN_ELEMENT.sub(
        lambda m: m.group(1) + b"******" + m.group(2)[-3:] + m.group(3), payload
    )
    try:
        text = masked.decode("utf-8")
    except UnicodeDecodeError:
        return mask_partly(masked.decode("latin-1")).encode("latin-1")
    return mask_partly(text).encode("utf-8")
