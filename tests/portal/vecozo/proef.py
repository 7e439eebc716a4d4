"""A tiny test standard ("Proef") with a real plugin, so the stand-in and the portal have a
financier that answers and a parser that reads the answer — without knowing any real standard.

Records are fixed width with CRLF:
* heen  (code TEST):       "H" + referentie (10) + bedrag in centen (8)  → 19 characters
* retour (code TESTRETOUR): "R" + referentie (10) + retourcode (4)       → 15 characters
* toewijzing (code TEST, placed by the stand-in): "T" + referentie (10) + 8 spaces
"""

from __future__ import annotations

from portal import hookimpl
from portal.domain import Issue, MessageDraft, ParseOutcome, Severity

RETOURCODES = {"0000": "Goedgekeurd", "8001": "Bedrag is nul; regel afgewezen"}


def heen(ref: str, cents: int) -> bytes:
    return f"H{ref:<10}{cents:08d}\r\n".encode()


def toewijzing(ref: str) -> bytes:
    return f"T{ref:<10}{'':8}\r\n".encode()


def draft(ref: str = "REF0000001", cents: int = 1234, **kw) -> MessageDraft:
    return MessageDraft(
        standard="Proef",
        code="TEST",
        payload=heen(ref, cents),
        afzender=("Instelling", "12345678"),
        geadresseerde=("Gemeente", "0363"),
        reference=ref,
        **kw,
    )


class ProefPlugin:
    """Registered on the portal's and the stand-in's plugin managers by the test fixtures."""

    def __init__(self) -> None:
        self.parsed: list[str] = []
        self.fail_on: set[str] = set()

    @hookimpl
    def financier_reply(self, payload, settings):
        if not payload.startswith(b"H") or len(payload) != 21:
            return None
        ref = payload[1:11].decode().strip()
        code = "8001" if payload[11:19] == b"00000000" else "0000"
        return [
            MessageDraft(
                standard="Proef",
                code="TESTRETOUR",
                payload=f"R{ref:<10}{code}\r\n".encode(),
                reference=f"RET{ref}"[:10],
            )
        ]

    @hookimpl
    def parse_message(self, message, session, settings):
        payload = message.payload
        if payload.startswith(b"R") and len(payload) == 17:
            ref = payload[1:11].decode().strip()
            if ref in self.fail_on:
                raise RuntimeError(f"kapot bericht {ref}")
            code = payload[11:15].decode()
            self.parsed.append(ref)
            issues = []
            if code != "0000":
                issues.append(Issue(code, RETOURCODES.get(code, "Onbekende retourcode")))
            return ParseOutcome(
                standard="Proef",
                code="TESTRETOUR",
                summary=f"Retour op {ref}: {RETOURCODES.get(code, code)}",
                needs_action=bool(issues),
                issues=issues,
                reference=f"RET{ref}"[:10],
                answers_reference=ref,
            )
        if payload.startswith(b"T") and len(payload) == 21:
            ref = payload[1:11].decode().strip()
            self.parsed.append(ref)
            return ParseOutcome(
                standard="Proef",
                code="TEST",
                summary=f"Toewijzing {ref} ontvangen",
                reference=ref,
                replies=[draft(f"A{ref}"[:10], 1)],
                issues=[Issue("W1", "Controleer de toewijzing", severity=Severity.WARNING)],
            )
        return None
