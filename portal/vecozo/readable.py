"""Showing payloads readably: XML pretty-printed (parsed safely), Vektis EI files field by field
from the same layout tables that build and check them (:mod:`portal.formats.ei`, with every
problem in Dutch beside its record), other fixed-width records split into named fields when a
layout is known, VECOZO meldingen explained in Dutch.

Record layouts are data registered by whoever knows the standard (a plugin, at import time)::

    from portal.vecozo.readable import register_layout
    register_layout("AW319", "01", [("Recordcode", 1, 2), ("Berichtcode", 3, 3), ...])

Positions are 1-based as in the standards' documentation. Without a layout, records are shown
whole with their length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from portal.formats import ei

MAX_SHOWN_BYTES = 2 * 1024 * 1024
_LAYOUTS: dict[tuple[str, str], list[tuple[str, int, int]]] = {}


def register_layout(code: str, record_type: str, fields: list[tuple[str, int, int]]) -> None:
    """Name the fields of record ``record_type`` (its first characters) in message ``code``."""
    _LAYOUTS[(code.upper(), record_type)] = list(fields)


def layout_for(code: str | None, record: str) -> list[tuple[str, int, int]] | None:
    if not code:
        return None
    for (c, rtype), fields in _LAYOUTS.items():
        if c == code.upper() and record.startswith(rtype):
            return fields
    return None


@dataclass
class Record:
    number: int
    text: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    # EI files: the record's name from the layout table, its fields as (number, name, value) and
    # the problems found in it (Dutch)
    name: str = ""
    numbered: list[tuple[str, str, str]] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)


@dataclass
class Readable:
    kind: str  # "xml", "ei", "records", "text", "binary"
    text: str = ""
    records: list[Record] = field(default_factory=list)
    note: str | None = None
    issues: list[str] = field(default_factory=list)  # EI: problems of the file as a whole


def readable(payload: bytes, code: str | None = None) -> Readable:
    if len(payload) > MAX_SHOWN_BYTES:
        return Readable("binary", note="Het bericht is te groot om hier te tonen; download het.")
    if payload.lstrip()[:1] == b"<":
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True
        )
        try:
            root = etree.fromstring(payload, parser)
        except etree.XMLSyntaxError as exc:
            return Readable(
                "text",
                text=payload.decode("utf-8", "replace"),
                note=f"Geen geldige XML ({exc}); de tekst staat er ongewijzigd.",
            )
        return Readable("xml", text=etree.tostring(root, pretty_print=True, encoding="unicode"))
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = payload.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
            return Readable("binary", note="Binaire inhoud; download het bestand.")
    layout = ei.identify(payload)
    if layout is not None:
        return _ei(layout, payload, text)
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > 1 or (lines and len({len(line) for line in lines}) == 1):
        records = []
        for i, line in enumerate(lines, start=1):
            fields = layout_for(code, line) or []
            records.append(
                Record(
                    i, line, [(name, line[start - 1 : start - 1 + n]) for name, start, n in fields]
                )
            )
        return Readable("records", records=records)
    return Readable("text", text=text)


def _ei(layout: ei.Layout, payload: bytes, text: str) -> Readable:
    """An EI file record by record, field by field, with the checks' findings beside them."""
    parsed = ei.parse(layout, payload, strict=False, max_bytes=MAX_SHOWN_BYTES)
    by_line: dict[int, list[str]] = {}
    whole: list[str] = []
    for issue in parsed.issues:
        if issue.line is None:
            whole.append(issue.message)
        else:
            by_line.setdefault(issue.line, []).append(_without_line(issue))
    rows = {rec.line: (rec, name, cells) for rec, name, cells in parsed.rows()}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records = []
    for number, line in enumerate(lines, start=1):
        found = rows.get(number)
        if found is None:  # unreadable (length, record type): shown whole
            records.append(Record(number, line.rstrip("\r"), issues=by_line.pop(number, [])))
            continue
        rec, name, cells = found
        records.append(
            Record(
                number,
                rec.raw,
                name=f"{name} ({rec.type})",
                numbered=cells,
                issues=by_line.pop(number, []),
            )
        )
    for number in sorted(by_line):  # e.g. the missing closing record, after the last line
        whole.extend(f"regel {number}: {message}" for message in by_line[number])
    note = f"Vektis EI, {layout.label}: {len(parsed.records)} records."
    if parsed.issues:
        note += f" {len(parsed.issues)} fout(en) gevonden; zie hieronder."
    return Readable("ei", records=records, note=note, issues=whole)


def _without_line(issue: ei.EiIssue) -> str:
    if issue.field:
        return f"veld {issue.field} ({issue.field_name}): {issue.message}"
    return issue.message


@cache
def _melding_texts() -> dict[str, str]:
    path = Path(__file__).with_name("meldingen.json")
    return json.loads(path.read_text(encoding="utf-8"))["meldingen"]


def explain_melding(code: str | None) -> str | None:
    """A Dutch explanation of a VECOZO melding code, when known."""
    return _melding_texts().get((code or "").strip().upper())
