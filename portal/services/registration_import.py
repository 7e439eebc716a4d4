"""Registration import (CSV upload and ``portal import-registrations FILE``).

All or nothing per file: every row is checked with the same rules as the registration screen
(plus: the employee and client must exist, no duplicate of the same employee, client and start in
the file or in the database); one refused row means nothing of the file is stored, and the report
says per row what is wrong, in Dutch.

Columns (header row, ``;`` or ``,`` separated, UTF-8): medewerker (e-mail), client (cliëntnummer or
BSN), product (product code), datum (dd-mm-jjjj or jjjj-mm-dd), starttijd (uu:mm), duur (uu:mm or
minutes; time products), aantal (other units), opmerking (optional).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.models import Client, Product, Registration, User
from portal.services import audit
from portal.services import registrations as regs

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
COLUMNS = ["medewerker", "client", "product", "datum", "starttijd", "duur", "aantal", "opmerking"]
REQUIRED = ["medewerker", "client", "product", "datum", "starttijd"]


@dataclass
class RowReport:
    line: int
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    filename: str
    rows: list[RowReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # file-level
    stored: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not any(r.errors for r in self.rows)

    @property
    def failed_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.errors]


@dataclass
class References:
    """The employees, clients and products a set of rows (a file, an API batch) names, read
    at once, and the Dutch refusal when a row names one that does not exist."""

    users: dict[str, User]
    clients: dict[str, Client]
    products: dict[str, Product]

    def resolve(
        self, medewerker: str, client: str, product: str
    ) -> tuple[User | None, Client | None, Product | None, dict[str, str]]:
        """(user, client, product, problems per field: medewerker, client, product)."""
        problems: dict[str, str] = {}
        user = self.users.get(medewerker.lower())
        if user is None or not user.active:
            problems["medewerker"] = f"Medewerker '{medewerker}' is onbekend of niet actief."
        found = self.clients.get(client)
        if found is None:
            problems["client"] = "Cliënt niet gevonden (gebruik cliëntnummer of BSN)."
        prod = self.products.get(product)
        if prod is None:
            problems["product"] = f"Product '{product}' bestaat niet."
        return user, found, prod, problems


def load_references(session: Session, emails: set[str], client_keys: set[str]) -> References:
    """Employees by e-mail (any case), clients by cliëntnummer or BSN, and every product."""
    users = {
        u.email.lower(): u
        for u in session.scalars(
            select(User).where(func.lower(User.email).in_({e.lower() for e in emails}))
        )
    }
    clients: dict[str, Client] = {}
    for c in session.scalars(
        select(Client).where(or_(Client.clientnummer.in_(client_keys), Client.bsn.in_(client_keys)))
    ):
        clients[c.bsn] = c
        if c.clientnummer:
            clients[c.clientnummer] = c
    products = {p.code: p for p in session.scalars(select(Product))}
    return References(users, clients, products)


def _decode(raw: bytes) -> str | None:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def import_csv(
    session: Session,
    raw: bytes,
    *,
    filename: str,
    user_id: int | None,
    today: date,
    validate: Callable | None = None,
) -> ImportReport:
    report = ImportReport(filename=filename)
    if len(raw) > MAX_BYTES:
        report.problems.append("Het bestand is groter dan 5 MB. Splits het in kleinere bestanden.")
        return report
    text = _decode(raw)
    if text is None or "\x00" in (text or ""):
        report.problems.append("Dit is geen leesbaar CSV-bestand (tekst in UTF-8).")
        return report
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report.problems.append(
            "Kolommen ontbreken: " + ", ".join(missing) + ". Verwacht: " + ", ".join(COLUMNS) + "."
        )
        return report
    reader.fieldnames = header
    rows = list(reader)
    if not rows:
        report.problems.append("Het bestand bevat geen regels.")
        return report
    if len(rows) > MAX_ROWS:
        report.problems.append(f"Meer dan {MAX_ROWS} regels; splits het bestand.")
        return report

    refs = load_references(
        session,
        {(r.get("medewerker") or "").strip() for r in rows},
        {(r.get("client") or "").strip() for r in rows},
    )

    seen: dict[tuple, int] = {}
    created: list[Registration] = []
    for n, row in enumerate(rows, start=2):
        rr = RowReport(line=n)
        report.rows.append(rr)
        get = lambda k, row=row: (row.get(k) or "").strip()  # noqa: E731
        user, client, product, problems = refs.resolve(
            get("medewerker"), get("client"), get("product")
        )
        rr.errors.extend(problems.values())
        if rr.errors:
            continue
        form = {
            "client_id": str(client.id),
            "product_id": str(product.id),
            "datum": get("datum"),
            "starttijd": get("starttijd"),
            "duur": get("duur"),
            "aantal": get("aantal"),
            "opmerking": get("opmerking"),
        }
        data = regs.parse_form(session, form)
        key = (user.id, client.id, data.datum, data.starttijd)
        if data.datum and data.starttijd and key in seen:
            rr.errors.append(
                f"Dubbel: regel {seen[key]} heeft dezelfde medewerker, cliënt, datum en starttijd."
            )
            continue
        seen[key] = n
        result = regs.save(
            session,
            data,
            user.id,
            today=today,
            bron="import",
            import_bestand=filename[:200],
            validate=validate,
            commit=False,
        )
        rr.errors.extend(_messages(result.errors))
        rr.warnings.extend(w.message for w in result.warnings)
        if result.registration is not None:
            created.append(result.registration)
    if not report.ok:
        session.rollback()
        return report
    report.stored = len(created)
    audit.record(
        session,
        "registration.imported",
        user_id=user_id,
        object_type="registration_import",
        object_id=filename[:40],
        detail={"rows": report.stored},
    )
    session.commit()
    return report


_FIELD_LABELS = {
    "client_id": "Cliënt",
    "product_id": "Product",
    "datum": "Datum",
    "starttijd": "Starttijd",
    "duur": "Duur",
    "aantal": "Aantal",
    "_form": "Regel",
}


def _messages(errors: dict[str, str]) -> list[str]:
    return [f"{_FIELD_LABELS.get(k, k)}: {v}" for k, v in errors.items()]


def run_cli_import(path: str, echo: Callable[[str], None]) -> int:
    """``portal import-registrations FILE``: prints the per-row report; exit code 1 on refusal."""
    from pathlib import Path

    from flask import current_app, has_app_context

    from portal.db import session_scope

    file = Path(path)
    if file.stat().st_size > MAX_BYTES:
        echo("Het bestand is groter dan 5 MB. Splits het in kleinere bestanden.")
        return 1
    validate = None
    if has_app_context():
        hooks = current_app.extensions.get("hooks")
        validate = hooks.validate_registration if hooks is not None else None
    with session_scope() as session:
        report = import_csv(
            session,
            file.read_bytes(),
            filename=file.name,
            user_id=None,
            today=date.today(),
            validate=validate,
        )
    for problem in report.problems:
        echo(problem)
    for row in report.rows:
        for e in row.errors:
            echo(f"Regel {row.line}: {e}")
        for w in row.warnings:
            echo(f"Regel {row.line} (waarschuwing): {w}")
    if report.ok:
        echo(f"{report.stored} registratie(s) geïmporteerd.")
        return 0
    echo("Niets geïmporteerd.")
    return 1
