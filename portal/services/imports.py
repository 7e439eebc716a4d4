"""CSV import of clients and legitimations: all rows or nothing, with a report per row.

The same checks as the screens (``clean_client``, ``clean_legitimation``) run on every row. Rows
are added to the session one by one (so a BSN that appears twice in one file is caught by the
same uniqueness rule as on the screen); when any row is wrong the session is rolled back and
nothing is stored. Callers pass a session without other pending work and commit on success.

Files: UTF-8 (with or without BOM), ``;`` or ``,`` separated, the first line holds the column
names (see ``docs/import/``). Messages never repeat a BSN.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Client, Product
from portal.plugins import Hooks
from portal.services import audit
from portal.services.clients import FIELDS as CLIENT_COLUMNS
from portal.services.clients import ClientInvalid, create_client
from portal.services.legitimations import (
    SLEUTEL_PREFIX,
    LegitimationInvalid,
    create_legitimation,
    financier_choices,
)
from portal.validators import clean, normalize_bsn

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
MAX_REPORTED = 500

CLIENT_REQUIRED = ("bsn", "achternaam", "geboortedatum")

# CSV column -> form field of the legitimation service.
LEGITIMATION_COLUMNS = {
    "bsn": None,
    "financiering": "financing",
    "financiercode": "financier_id",
    "productcodes": "product_ids",
    "begindatum": "begindatum",
    "einddatum": "einddatum",
    "volume": "volume",
    "eenheid": "eenheid",
    "frequentie": "frequentie",
    "budget": "budget",
    "tarief": "tarief",
    "prioriteit": "priority",
    "productcategorie": "productcategorie",
    "productcode": "productcode",
    "toewijzingnummer": "toewijzingnummer",
    "referentienummer": "referentienummer",
    "opmerking": "opmerking",
}
LEGITIMATION_REQUIRED = ("bsn", "financiering", "productcodes", "begindatum")
_FIELD_TO_COLUMN = {v: k for k, v in LEGITIMATION_COLUMNS.items() if v}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (too large, not UTF-8, no header…)."""


@dataclass
class RowMessage:
    row: int  # line number in the file (the header is line 1)
    field: str  # the column name, or "" for the row as a whole
    message: str


@dataclass
class ImportReport:
    kind: str  # "clienten" or "legitimaties"
    rows: int = 0
    imported: int = 0
    errors: list[RowMessage] = field(default_factory=list)
    warnings: list[RowMessage] = field(default_factory=list)
    more_errors: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.more_errors

    def error(self, row: int, column: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowMessage(row, column, message))
        else:
            self.more_errors += 1

    def lines(self) -> Iterator[str]:
        """The report as plain Dutch lines (CLI)."""
        for m in self.errors:
            yield f"regel {m.row}" + (f", {m.field}" if m.field else "") + f": {m.message}"
        if self.more_errors:
            yield f"… en nog {self.more_errors} fouten."
        for m in self.warnings:
            yield (
                f"regel {m.row} (waarschuwing)"
                + (f", {m.field}" if m.field else "")
                + (f": {m.message}")
            )


def read_csv(data: bytes, max_bytes: int = MAX_BYTES) -> tuple[list[str], list[tuple[int, list]]]:
    """Header (lower-case names) and the data rows with their line numbers."""
    if len(data) > max_bytes:
        raise ImportFileError(
            f"Het bestand is te groot ({len(data) // 1024} kB); de grens is {max_bytes // 1024} kB. "
            "Splits het bestand in delen."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "Het bestand is geen UTF-8-tekst. Sla het in uw spreadsheet op als 'CSV UTF-8'."
        ) from None
    if "\x00" in text:
        raise ImportFileError("Dit is geen CSV-bestand (het bevat binaire gegevens).")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise ImportFileError("Het bestand is leeg of heeft geen kopregel met kolomnamen.")
        header = [h.strip().lstrip("\ufeff").lower() for h in header]
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append((reader.line_num, values))
            if len(rows) > MAX_ROWS:
                raise ImportFileError(
                    f"Het bestand heeft meer dan {MAX_ROWS} regels. Splits het bestand in delen."
                )
    except csv.Error as exc:
        raise ImportFileError(
            f"Het bestand is geen geldige CSV (regel {reader.line_num})."
        ) from exc
    if len(set(header)) != len(header):
        raise ImportFileError("Een kolomnaam staat twee keer in de kopregel.")
    return header, rows


def _check_header(header, allowed, required, report, *, prefixes=()) -> bool:
    unknown = [h for h in header if h not in allowed and not h.startswith(prefixes or ("\0",))]
    for h in unknown:
        report.error(1, h, f"Onbekende kolom '{h}'. Zie de beschrijving van het importbestand.")
    for h in required:
        if h not in header:
            report.error(1, h, f"De kolom '{h}' ontbreekt.")
    return report.ok


def _row_dict(header, values, line, report) -> dict[str, str] | None:
    if len(values) != len(header):
        report.error(
            line,
            "",
            f"Deze regel heeft {len(values)} kolommen; de kopregel heeft er {len(header)}.",
        )
        return None
    return dict(zip(header, values, strict=True))


def import_clients(
    session: Session, data: bytes, *, user_id: int | None, max_bytes: int = MAX_BYTES
) -> ImportReport:
    """Import clients from CSV. On any error nothing is stored (the session is rolled back)."""
    report = ImportReport("clienten")
    header, rows = read_csv(data, max_bytes)
    report.rows = len(rows)
    if not _check_header(header, set(CLIENT_COLUMNS), CLIENT_REQUIRED, report):
        return report
    for line, values in rows:
        row = _row_dict(header, values, line, report)
        if row is None:
            continue
        try:
            create_client(session, row, user_id=user_id)
        except ClientInvalid as exc:
            for column, message in exc.errors.items():
                report.error(line, column, message)
        else:
            report.imported += 1
    return _finish(session, report, user_id)


def import_legitimations(
    session: Session,
    hooks: Hooks,
    data: bytes,
    *,
    user_id: int | None,
    max_bytes: int = MAX_BYTES,
) -> ImportReport:
    """Import legitimations from CSV; clients are found by BSN, financiers by their code."""
    report = ImportReport("legitimaties")
    header, rows = read_csv(data, max_bytes)
    report.rows = len(rows)
    if not _check_header(
        header, set(LEGITIMATION_COLUMNS), LEGITIMATION_REQUIRED, report, prefixes=(SLEUTEL_PREFIX,)
    ):
        return report
    products = {p.code.upper(): p for p in session.scalars(select(Product))}
    financiers: dict[str, list] = {}
    for line, values in rows:
        row = _row_dict(header, values, line, report)
        if row is None:
            continue
        bsn = normalize_bsn(row.get("bsn", ""))
        client = session.scalar(select(Client).where(Client.bsn == bsn)) if bsn else None
        if client is None:
            report.error(line, "bsn", "Er is geen cliënt met dit BSN. Importeer eerst de cliënt.")
            continue
        form = {
            target: clean(row.get(column))
            for column, target in LEGITIMATION_COLUMNS.items()
            if target and target not in ("financier_id", "product_ids")
        }
        form.update({k: v for k, v in row.items() if k.startswith(SLEUTEL_PREFIX)})
        row_ok = True
        financing = form.get("financing", "")
        info = hooks.financing(financing)
        if info is None:
            report.error(line, "financiering", _unknown_financing(hooks))
            row_ok = False
        else:
            if financing not in financiers:
                financiers[financing] = financier_choices(session, info)
            financier, problem = _find_financier(financiers[financing], row.get("financiercode"))
            if problem:
                report.error(line, "financiercode", problem)
                row_ok = False
            else:
                form["financier_id"] = str(financier.id)
        product_ids = []
        for code in re.split(r"[|,\s]+", clean(row.get("productcodes")).upper()):
            if not code:
                continue
            if code not in products:
                report.error(line, "productcodes", f"Onbekend product '{code}'.")
                row_ok = False
            else:
                product_ids.append(products[code].id)
        if not row_ok:
            continue
        try:
            _leg, warnings = create_legitimation(
                session, hooks, client, form, product_ids=product_ids, user_id=user_id
            )
        except LegitimationInvalid as exc:
            for name, message in exc.errors.items():
                report.error(
                    line, _FIELD_TO_COLUMN.get(name, "" if name == "_form" else name), message
                )
        else:
            report.imported += 1
            for w in warnings:
                column = _FIELD_TO_COLUMN.get(w.field or "", w.field or "")
                report.warnings.append(RowMessage(line, column, w.message))
    return _finish(session, report, user_id)


def _unknown_financing(hooks: Hooks) -> str:
    codes = ", ".join(hooks.financings)
    return f"Onbekende financiering. Gebruik een van: {codes}."


def _find_financier(choices, code: str | None):
    code = clean(code)
    if code:
        found = [f for f in choices if (f.code or "") == code]
        if not found:
            return None, "Geen (actieve) financier met deze code bij deze financiering."
        return found[0], None
    without_code = [f for f in choices if not f.code]
    if len(without_code) == 1:
        return without_code[0], None
    return None, "Vul de code van de financier in (bijvoorbeeld de gemeentecode)."


def _finish(session: Session, report: ImportReport, user_id: int | None) -> ImportReport:
    if not report.ok:
        session.rollback()
        report.imported = 0
        return report
    audit.record(
        session,
        f"import.{report.kind}",
        user_id=user_id,
        object_type="import",
        detail={"regels": report.rows, "geimporteerd": report.imported},
    )
    session.flush()
    return report
