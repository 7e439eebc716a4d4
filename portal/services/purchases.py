"""Inkoop onderaanneming: a subcontractor's specification (CSV) becomes our own approved
production, and their invoice is checked against it.

The CSV has a header row with the columns ``bsn`` (or ``clientnummer``), ``datum``, ``product``
(our product code), ``minuten`` and ``tarief`` (euro per hour, e.g. ``54,00``); ``;`` or ``,``
separated. A file is loaded whole or not at all: any row with an error refuses the file, with a
Dutch message per row. Loaded rows become approved registrations (``bron`` "inkoop",
``import_bestand`` "onderaanneming …"), so they flow through stacking into our own declarations.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import Client, Legitimation, Product, PurchaseInvoice
from portal.services import audit
from portal.validators import check_agb, clean, format_cents, parse_amount_cents, parse_date

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
BRON = "inkoop"


@dataclass
class PurchaseError(ValueError):
    """The upload was refused; ``errors`` per form field, ``rows`` per CSV row (Dutch)."""

    errors: dict[str, str]
    rows: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(list(self.errors.values()) + self.rows[:5])


@dataclass
class SpecRow:
    line: int
    client: Client
    product: Product
    day: date
    minutes: int
    tarief_cents: int

    @property
    def bedrag_cents(self) -> int:
        return (2 * self.minutes * self.tarief_cents + 60) // 120


def _date(value: str | None) -> date | None:
    try:
        return parse_date(value)
    except ValueError:
        return None


def _decode(content: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(enc)
        except UnicodeDecodeError:
            continue
    raise PurchaseError({"bestand": "Het bestand is geen leesbare tekst (CSV)."})


def parse_specification(session: Session, content: bytes) -> list[SpecRow]:
    if not content:
        raise PurchaseError({"bestand": "Kies het CSV-bestand met de specificatie."})
    if len(content) > MAX_BYTES:
        raise PurchaseError({"bestand": "Het bestand is groter dan 5 MB."})
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";"
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    headers = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = [h for h in ("datum", "product", "minuten", "tarief") if h not in headers] + (
        [] if {"bsn", "clientnummer"} & headers else ["bsn of clientnummer"]
    )
    if missing:
        raise PurchaseError(
            {"bestand": "Deze kolommen ontbreken in de kopregel: " + ", ".join(missing) + "."}
        )
    clients_by_bsn = {c.bsn: c for c in session.scalars(select(Client))}
    clients_by_nr = {c.clientnummer: c for c in clients_by_bsn.values() if c.clientnummer}
    products = {p.code.upper(): p for p in session.scalars(select(Product))}
    rows: list[SpecRow] = []
    problems: list[str] = []
    seen: set[tuple] = set()
    today = date.today()
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            raise PurchaseError({"bestand": f"Meer dan {MAX_ROWS} regels; splits het bestand."})
        row = {(k or "").strip().lower(): clean(v) for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        errs = []
        client = None
        if row.get("bsn"):
            client = clients_by_bsn.get(row["bsn"].replace(" ", "").zfill(9))
        elif row.get("clientnummer"):
            client = clients_by_nr.get(row["clientnummer"])
        if client is None:
            errs.append("cliënt onbekend (BSN/cliëntnummer niet gevonden)")
        product = products.get((row.get("product") or "").upper())
        if product is None:
            errs.append(f"product {row.get('product') or '(leeg)'} bestaat niet")
        elif not product.is_time:
            errs.append(f"product {product.code} is geen tijdproduct")
        day = _date(row.get("datum"))
        if day is None:
            errs.append("datum ongeldig (dd-mm-jjjj)")
        elif day > today:
            errs.append("datum ligt in de toekomst")
        minutes_raw = row.get("minuten") or ""
        minutes = int(minutes_raw) if minutes_raw.isdigit() else None
        if minutes is None or not 0 < minutes <= 24 * 60:
            errs.append("minuten moet een heel getal van 1 tot en met 1440 zijn")
        try:
            tarief = parse_amount_cents(row.get("tarief"))
        except ValueError:
            tarief = None
        if tarief is None or tarief <= 0:
            errs.append("tarief ongeldig (bijvoorbeeld 54,00)")
        if not errs:
            key = (client.id, day, product.id, minutes)
            if key in seen:
                errs.append("dubbele regel in het bestand")
            seen.add(key)
        if errs:
            problems.append(f"Regel {n}: " + "; ".join(errs) + ".")
        else:
            rows.append(SpecRow(n, client, product, day, minutes, tarief))
    if problems:
        raise PurchaseError(
            {"bestand": "Het bestand is niet ingelezen; verbeter deze regels."}, problems
        )
    if not rows:
        raise PurchaseError({"bestand": "Het bestand bevat geen regels."})
    return rows


def load_specification(
    session: Session,
    *,
    leverancier_naam: str,
    leverancier_agb: str,
    factuurnummer: str,
    factuurdatum: str,
    bedrag: str,
    filename: str,
    content: bytes,
    user_id: int | None,
) -> PurchaseInvoice:
    """Check the form and the file, load the rows as approved production, list differences."""
    from portal.models.registration import REG_APPROVED, ApprovalRun, Registration

    errors: dict[str, str] = {}
    naam = clean(leverancier_naam)
    agb = clean(leverancier_agb)
    nummer = clean(factuurnummer)
    if not naam:
        errors["leverancier_naam"] = "Vul de naam van de onderaannemer in."
    agb_error = check_agb(agb) if agb else "Vul de AGB-code van de onderaannemer in."
    if agb_error:
        errors["leverancier_agb"] = agb_error
    if not nummer:
        errors["factuurnummer"] = "Vul het factuurnummer van de onderaannemer in."
    datum = _date(factuurdatum)
    if datum is None:
        errors["factuurdatum"] = "Vul de factuurdatum in (dd-mm-jjjj)."
    try:
        gefactureerd = parse_amount_cents(bedrag)
    except ValueError:
        gefactureerd = None
    if gefactureerd is None:
        errors["bedrag"] = "Vul het totaalbedrag van hun factuur in, bijvoorbeeld 1.234,50."
    if len(content) > MAX_BYTES:
        errors["bestand"] = "Het bestand is groter dan 5 MB."
    if errors:
        raise PurchaseError(errors)
    if session.scalar(
        select(PurchaseInvoice.id).where(
            PurchaseInvoice.leverancier_agb == agb, PurchaseInvoice.factuurnummer == nummer
        )
    ):
        raise PurchaseError(
            {"factuurnummer": f"Factuur {nummer} van deze onderaannemer is al ingelezen."}
        )
    rows = parse_specification(session, content)
    sha = hashlib.sha256(content).hexdigest()

    differences: list[dict] = []
    marker = f"onderaanneming {agb} factuur {nummer}"[:200]
    # Rows this subcontractor delivered before (an earlier invoice): never loaded twice.
    earlier = {
        (r.client_id, r.datum, r.product_id, r.duur_minuten)
        for r in session.scalars(
            select(Registration).where(
                Registration.bron == BRON,
                Registration.import_bestand.like(f"onderaanneming {agb} %"),
                Registration.credit_of_id.is_(None),
                Registration.status != "gecrediteerd",
            )
        )
    }
    legs = session.scalars(
        select(Legitimation).where(Legitimation.client_id.in_({r.client.id for r in rows}))
    ).all()
    loaded = []
    for r in rows:
        if (r.client.id, r.day, r.product.id, r.minutes) in earlier:
            differences.append(
                {
                    "regel": r.line,
                    "soort": "dubbel",
                    "melding": f"{r.client.naam} {r.day:%d-%m-%Y} {r.product.naam}: al eerder "
                    "gefactureerd en ingelezen; niet opnieuw meegenomen.",
                }
            )
            continue
        financings = set(r.product.uursoort.financing_codes) if r.product.uursoort else set()
        covered = any(
            leg.covers(r.day)
            and (leg.financing in financings or not financings)
            and any(p.id == r.product.id for p in leg.products)
            for leg in legs
            if leg.client_id == r.client.id
        )
        if not covered:
            differences.append(
                {
                    "regel": r.line,
                    "soort": "niet gedekt",
                    "melding": f"{r.client.naam} {r.day:%d-%m-%Y}: geen legitimatie voor "
                    f"{r.product.naam}; wij kunnen dit niet declareren.",
                }
            )
        loaded.append(r)
    berekend = sum(r.bedrag_cents for r in loaded)
    if berekend != gefactureerd:
        differences.append(
            {
                "regel": None,
                "soort": "bedrag",
                "melding": f"Gefactureerd € {format_cents(gefactureerd)} maar de specificatie "
                f"komt op € {format_cents(berekend)} (verschil "
                f"€ {format_cents(gefactureerd - berekend)}).",
            }
        )

    pi = PurchaseInvoice(
        leverancier_naam=naam,
        leverancier_agb=agb,
        factuurnummer=nummer,
        factuurdatum=datum,
        gefactureerd_cents=gefactureerd,
        berekend_cents=berekend,
        n_rows=len(rows),
        n_registrations=len(loaded),
        verschillen=differences,
        status="akkoord" if not differences else "verschillen",
        bestand_sha256=sha,
        created_by=user_id,
    )
    session.add(pi)
    if loaded:
        approval = ApprovalRun(
            periode_start=min(r.day for r in loaded),
            periode_eind=max(r.day for r in loaded),
            filters={"bron": "onderaanneming", "leverancier_agb": agb, "factuur": nummer},
            created_by=user_id,
            token=f"inkoop-{agb}-{hashlib.sha256(nummer.encode()).hexdigest()[:20]}-{sha[:20]}",
            aantal=len(loaded),
            minuten=sum(r.minutes for r in loaded),
        )
        session.add(approval)
        for r in loaded:
            session.add(
                Registration(
                    client_id=r.client.id,
                    product_id=r.product.id,
                    uursoort_id=r.product.uursoort_id,
                    employee_id=user_id,
                    datum=r.day,
                    duur_minuten=r.minutes,
                    status=REG_APPROVED,
                    approval_run=approval,
                    bron=BRON,
                    import_bestand=marker,
                    opmerking=f"Geleverd door {naam} (onderaanneming)"[:500],
                    waarschuwingen=[],
                )
            )
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise PurchaseError(
            {"factuurnummer": f"Factuur {nummer} van deze onderaannemer is zojuist al ingelezen."}
        ) from exc
    audit.record(
        session,
        "inkoop.ingelezen",
        user_id=user_id,
        object_type="purchase_invoice",
        object_id=pi.id,
        detail={"bestand": filename[:100], "regels": len(rows), "verschillen": len(differences)},
    )
    session.commit()
    return pi
