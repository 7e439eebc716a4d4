"""What happened to a registration and to a declaration line, for connected systems.

The one read-model behind the API's status endpoints: approval, the stacking outcome (which
financing pays which part, from ``portal.services.stacking.allocate``), the declaration lines and
invoice lines that carry the registration, awarded or rejected with each retourcode and its Dutch
meaning (hook ``code_label``, codelist ``retourcode``), the invoice and its payment.

Which lines carry a registration: its export parts (``export_part``: which part of its time
went into which declaration line or invoice line; released parts stay as history).

The change feed (:func:`changes`) reads what the triggers of migration 0013 wrote, in commit
order, after an opaque cursor ``"<batch>-<row>-<position>"``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, String, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from portal.models import (
    ApiRegistratie,
    ApprovalRun,
    Declaration,
    DeclarationLine,
    ExportPart,
    Financier,
    Invoice,
    InvoiceLine,
    Product,
    Registration,
)
from portal.models.declaration import LINE_STATUS_LABELS
from portal.models.invoice import INVOICE_STATUS_LABELS
from portal.models.registration import REG_APPROVED, REG_CREDITED, REGISTRATION_STATUS_LABELS
from portal.services import stacking

if TYPE_CHECKING:
    from portal.plugins import Hooks

Meaning = Callable[[str, str], str | None]  # (financing, code) -> Dutch meaning


def _no_meaning(financing: str, code: str) -> str | None:
    return None


@dataclass
class Code:
    code: str
    betekenis: str


@dataclass
class DeclarationLineStatus:
    id: int
    referentie: str
    financiering: str
    financier: str | None
    client_id: int
    productcode: str | None
    begindatum: date
    einddatum: date
    volume: int
    eenheid: str
    bedrag_cents: int
    debet_credit: str
    status: str
    status_omschrijving: str
    retourcodes: list[Code]
    declaratie_id: int | None
    declaratie_nummer: str | None
    declaratie_status: str | None
    ingediend_op: datetime | None
    beantwoord_op: datetime | None
    registratie_ids: list[int]
    gecrediteerd_door: int | None = None
    vervolg: str | None = None  # a rejected line: what was done with it (opnieuw, particulier)
    vervolg_omschrijving: str | None = None


@dataclass
class InvoiceLineStatus:
    factuur_id: int
    factuurnummer: str | None
    financiering: str
    status: str
    status_omschrijving: str
    factuurdatum: date
    vervaldatum: date
    betaald_op: date | None
    regel_bedrag_cents: int
    factuur_totaal_cents: int


@dataclass
class Part:
    """One part of a registration's time or quantity, and who pays it (stacking)."""

    financiering: str | None  # None: not covered by any legitimation ("niet gedekt")
    legitimatie_id: int | None
    minuten: int
    aantal: int


@dataclass
class RegistrationStatus:
    id: int
    extern_id: str | None
    client_id: int
    product: str | None
    datum: date
    starttijd: str | None
    duur_minuten: int | None
    aantal: int | None
    status: str
    status_omschrijving: str
    gefiatteerd_op: datetime | None
    waarschuwingen: list[dict[str, Any]]
    financiering: list[Part] = field(default_factory=list)
    declaratieregels: list[DeclarationLineStatus] = field(default_factory=list)
    factuurregels: list[InvoiceLineStatus] = field(default_factory=list)


def _codes(financing: str, codes: Iterable[str], meaning: Meaning) -> list[Code]:
    return [Code(c, meaning(financing, c) or f"Code {c} (betekenis onbekend)") for c in codes or ()]


def line_statuses(
    session: Session, line_ids: list[int], meaning: Meaning = _no_meaning
) -> list[DeclarationLineStatus]:
    if not line_ids:
        return []
    rows = session.execute(
        select(DeclarationLine, Declaration, Financier.naam)
        .outerjoin(Declaration, Declaration.id == DeclarationLine.declaration_id)
        .outerjoin(Financier, Financier.id == DeclarationLine.financier_id)
        .where(DeclarationLine.id.in_(line_ids))
        .order_by(DeclarationLine.id)
    ).all()
    credited = dict(
        session.execute(
            select(DeclarationLine.credit_of_id, DeclarationLine.id).where(
                DeclarationLine.credit_of_id.in_(line_ids)
            )
        ).all()
    )
    out = []
    for line, decl, financier in rows:
        out.append(
            DeclarationLineStatus(
                id=line.id,
                referentie=line.referentie,
                financiering=line.financing,
                financier=financier,
                client_id=line.client_id,
                productcode=line.productcode,
                begindatum=line.begindatum,
                einddatum=line.einddatum,
                volume=line.volume,
                eenheid=line.eenheid,
                bedrag_cents=line.bedrag_cents,
                debet_credit=line.debet_credit,
                status=line.status,
                status_omschrijving=LINE_STATUS_LABELS.get(line.status, line.status),
                retourcodes=_codes(line.financing, line.retourcodes, meaning),
                declaratie_id=decl.id if decl else None,
                declaratie_nummer=decl.nummer if decl else None,
                declaratie_status=decl.status if decl else None,
                ingediend_op=decl.sent_at if decl else None,
                beantwoord_op=decl.answered_at if decl else None,
                registratie_ids=list(line.registration_ids or []),
                gecrediteerd_door=credited.get(line.id),
                vervolg=line.vervolg,
                vervolg_omschrijving=line.vervolg_label or None,
            )
        )
    return out


def _export_parts(
    session: Session, regs: list[Registration]
) -> list[tuple[int, int | None, int | None]]:
    """(registration, declaration line, invoice line) of every export part of these
    registrations, also released ones (a rejected or credited line stays in the history)."""
    if not regs:
        return []
    return list(
        session.execute(
            select(
                ExportPart.registration_id,
                ExportPart.declaration_line_id,
                ExportPart.invoice_line_id,
            )
            .where(among(session, ExportPart.registration_id, [r.id for r in regs]))
            .order_by(ExportPart.id)
        ).all()
    )


def _lines_of(parts) -> dict[int, list[int]]:
    """registration id -> ids of the declaration lines its parts went into."""
    out: dict[int, list[int]] = defaultdict(list)
    for rid, line_id, _invoice_line_id in parts:
        if line_id is not None and line_id not in out[rid]:
            out[rid].append(line_id)
    return out


def _invoice_lines_of(session: Session, parts) -> dict[int, list[InvoiceLineStatus]]:
    out: dict[int, list[InvoiceLineStatus]] = defaultdict(list)
    wanted = defaultdict(list)
    for rid, _line_id, invoice_line_id in parts:
        if invoice_line_id is not None:
            wanted[invoice_line_id].append(rid)
    if not wanted:
        return out
    rows = session.execute(
        select(InvoiceLine.id, InvoiceLine.bedrag_cents, Invoice)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(among(session, InvoiceLine.id, list(wanted)))
    )
    for line_id, bedrag, inv in rows:
        for rid in wanted[line_id]:
            out[rid].append(
                InvoiceLineStatus(
                    factuur_id=inv.id,
                    factuurnummer=inv.nummer,
                    financiering=inv.financing,
                    status=inv.status,
                    status_omschrijving=INVOICE_STATUS_LABELS.get(inv.status, inv.status),
                    factuurdatum=inv.factuurdatum,
                    vervaldatum=inv.vervaldatum,
                    betaald_op=inv.paid_at,
                    regel_bedrag_cents=bedrag,
                    factuur_totaal_cents=inv.totaal_cents,
                )
            )
    return out


def _parts(session: Session, hooks: Hooks, reg: Registration) -> list[Part]:
    """Stacking's outcome for an approved registration: the whole ISO week of its client."""
    if reg.status != REG_APPROVED or reg.credit_of_id is not None:
        return []
    result = stacking.allocate(
        session, hooks=hooks, start=reg.datum, end=reg.datum, client_ids=[reg.client_id]
    )
    return [
        Part(a.financing, a.legitimation_id, a.minutes, a.aantal)
        for a in result.allocations
        if a.registration_id == reg.id
    ]


def _status_of(reg: Registration) -> str:
    return REG_CREDITED if reg.status == REG_CREDITED else reg.status


def registration_statuses(
    session: Session,
    registration_ids: list[int],
    *,
    hooks: Hooks,
    meaning: Meaning = _no_meaning,
    with_parts: bool = True,
) -> list[RegistrationStatus]:
    """The status of each registration (in the order asked; unknown ids left out)."""
    if not registration_ids:
        return []
    regs = list(session.scalars(select(Registration).where(Registration.id.in_(registration_ids))))
    by_id = {r.id: r for r in regs}
    extern = dict(
        session.execute(
            select(ApiRegistratie.registration_id, ApiRegistratie.extern_id).where(
                ApiRegistratie.registration_id.in_(list(by_id))
            )
        ).all()
    )
    products = dict(session.execute(select(Product.id, Product.code)).all())
    runs = dict(
        session.execute(
            select(ApprovalRun.id, ApprovalRun.created_at).where(
                ApprovalRun.id.in_({r.approval_run_id for r in regs if r.approval_run_id})
            )
        ).all()
    )
    parts = _export_parts(session, regs)
    line_map = _lines_of(parts)
    lines = {
        s.id: s
        for s in line_statuses(session, sorted({i for v in line_map.values() for i in v}), meaning)
    }
    invoice_map = _invoice_lines_of(session, parts)
    out = []
    for rid in registration_ids:
        reg = by_id.get(rid)
        if reg is None:
            continue
        out.append(
            RegistrationStatus(
                id=reg.id,
                extern_id=extern.get(reg.id),
                client_id=reg.client_id,
                product=products.get(reg.product_id),
                datum=reg.datum,
                starttijd=f"{reg.starttijd:%H:%M}" if reg.starttijd else None,
                duur_minuten=reg.duur_minuten,
                aantal=reg.aantal,
                status=_status_of(reg),
                status_omschrijving=REGISTRATION_STATUS_LABELS.get(reg.status, reg.status),
                gefiatteerd_op=runs.get(reg.approval_run_id),
                waarschuwingen=list(reg.waarschuwingen or []),
                financiering=_parts(session, hooks, reg) if with_parts else [],
                declaratieregels=[lines[i] for i in line_map.get(reg.id, []) if i in lines],
                factuurregels=invoice_map.get(reg.id, []),
            )
        )
    return out


def registration_by_extern_id(session: Session, koppeling_id: int, extern_id: str) -> int | None:
    return session.scalar(
        select(ApiRegistratie.registration_id).where(
            ApiRegistratie.koppeling_id == koppeling_id, ApiRegistratie.extern_id == extern_id
        )
    )


# -- the change feed ----------------------------------------------------------------------------


class BadCursor(ValueError):
    pass


@dataclass
class Change:
    cursor: str
    soort: str  # registratie, declaratieregel, factuur
    id: int
    status: str | None  # the status now; None: the object no longer exists
    extern_id: str | None = None
    retourcodes: list[str] = field(default_factory=list)


def parse_cursor(value: str | None) -> tuple[int, int, int]:
    if not value:
        return (0, 0, 0)
    parts = value.split("-")
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 18 for p in parts):
        raise BadCursor(value)
    return int(parts[0]), int(parts[1]), int(parts[2])


_PG_FEED = text(
    """
    SELECT b.seq, c.id, e.ord, c.soort, e.value::bigint
      FROM status_change_batch b
      JOIN status_change c ON c.txid = b.txid
     CROSS JOIN LATERAL json_array_elements_text(c.ids) WITH ORDINALITY AS e(value, ord)
     WHERE b.seq >= :s AND (b.seq, c.id, e.ord) > (:s, :c, :o)
     ORDER BY b.seq, c.id, e.ord
     LIMIT :n
    """
)
_SQLITE_FEED = text(
    """
    SELECT 0, c.id, e.key + 1, c.soort, e.value
      FROM status_change c, json_each(c.ids) e
     WHERE c.id > :c OR (c.id = :c AND e.key + 1 > :o)
     ORDER BY c.id, e.key
     LIMIT :n
    """
)


def changes(session: Session, after: str | None, limit: int = 1000) -> tuple[list[Change], str]:
    """The changes after ``after`` (oldest first, at most ``limit``) with each object's status
    now, and the cursor to ask from next time (the same cursor when nothing is new)."""
    s, c, o = parse_cursor(after)
    feed = _PG_FEED if session.get_bind().dialect.name == "postgresql" else _SQLITE_FEED
    rows = session.execute(feed, {"s": s, "c": c, "o": o, "n": limit}).all()
    if not rows:
        return [], after or "0-0-0"
    ids: dict[str, set[int]] = defaultdict(set)
    for _s, _c, _o, soort, oid in rows:
        ids[soort].add(int(oid))
    now = _current(session, ids)
    out = []
    for seq, cid, ordinal, soort, oid in rows:
        status, extra = now.get((soort, int(oid)), (None, {}))
        out.append(
            Change(
                cursor=f"{seq}-{cid}-{ordinal}",
                soort=soort,
                id=int(oid),
                status=status,
                extern_id=extra.get("extern_id"),
                retourcodes=extra.get("retourcodes", []),
            )
        )
    return out, out[-1].cursor


def among(session: Session, column, values: list):
    """``column IN values`` — on PostgreSQL as ``= ANY(array)``: one parameter for thousands
    (a statement that stays small and cached)."""
    if session.get_bind().dialect.name == "postgresql":
        kind = Integer if isinstance(column.type, Integer) else String
        return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))
    return column.in_(values)


def _current(session: Session, ids: dict[str, set[int]]) -> dict[tuple[str, int], tuple]:
    out: dict[tuple[str, int], tuple] = {}
    if ids.get("registratie"):
        wanted = list(ids["registratie"])
        extern = dict(
            session.execute(
                select(ApiRegistratie.registration_id, ApiRegistratie.extern_id).where(
                    among(session, ApiRegistratie.registration_id, wanted)
                )
            ).all()
        )
        for rid, status in session.execute(
            select(Registration.id, Registration.status).where(
                among(session, Registration.id, wanted)
            )
        ):
            out[("registratie", rid)] = (status, {"extern_id": extern.get(rid)})
    if ids.get("declaratieregel"):
        for lid, status, codes in session.execute(
            select(DeclarationLine.id, DeclarationLine.status, DeclarationLine.retourcodes).where(
                among(session, DeclarationLine.id, list(ids["declaratieregel"]))
            )
        ):
            out[("declaratieregel", lid)] = (status, {"retourcodes": list(codes or [])})
    if ids.get("factuur"):
        for fid, status in session.execute(
            select(Invoice.id, Invoice.status).where(
                among(session, Invoice.id, list(ids["factuur"]))
            )
        ):
            out[("factuur", fid)] = (status, {})
    return out


def latest_cursor(session: Session) -> str:
    """The cursor of the newest change (a new koppeling starts its webhook from here)."""
    _rows, cursor = changes(session, None, limit=1)
    if cursor == "0-0-0":
        return cursor
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            text(
                "SELECT b.seq, c.id, json_array_length(c.ids) FROM status_change_batch b "
                "JOIN status_change c ON c.txid = b.txid WHERE b.seq IS NOT NULL "
                "ORDER BY b.seq DESC, c.id DESC LIMIT 1"
            )
        ).first()
    else:
        row = session.execute(
            text("SELECT 0, id, json_array_length(ids) FROM status_change ORDER BY id DESC LIMIT 1")
        ).first()
    return f"{row[0]}-{row[1]}-{row[2]}" if row else "0-0-0"
