"""What the Zvw screens show, as plain functions over a session (testable without Flask):
an insurer's month at a glance, the client's Zvw section, the worklist and the contracts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from plugins.zvw_msvt import declaration as declaring
from plugins.zvw_msvt import standard as std
from plugins.zvw_msvt.validation import parse_hours
from portal.domain import ActionCount, Issue, MenuItem
from portal.models import (
    Client,
    Contract,
    ContractLine,
    Declaration,
    DeclarationLine,
    Financier,
    Legitimation,
)
from portal.models.declaration import (
    DECL_CONCEPT,
    LINE_AWARDED,
    LINE_CREDITED,
    LINE_REJECTED,
    LINE_SENT,
)
from portal.services import declarations


def insurers(session: Session) -> list[Financier]:
    return list(
        session.scalars(
            select(Financier)
            .where(Financier.financing == std.CODE, Financier.actief.is_(True))
            .order_by(Financier.naam)
        )
    )


@dataclass
class Month:
    """An insurer's month at a glance (amounts in cents, signed: credits count negative)."""

    financier: Financier
    begin: date
    end: date
    declared: int = 0
    awarded: int = 0
    rejected: int = 0
    pending: int = 0  # sent, no answer yet
    lines: dict[str, int] = field(default_factory=dict)  # status -> number of lines
    to_declare: int = 0
    to_declare_lines: int = 0
    not_covered: list[Issue] = field(default_factory=list)
    other_skipped: list[Issue] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)


def month(session: Session, hooks, financier: Financier, day: date) -> Month:
    """Declared, awarded, rejected and still to declare for ``financier`` in the calendar month
    of ``day``. "Still to declare" is what the next declaration run would make now (the same
    choice of care and the same lines, nothing stored), with what it would hold back."""
    begin, end = declarations.month_bounds(day)
    m = Month(financier, begin, end)
    signed = case(
        (DeclarationLine.debet_credit == "C", -DeclarationLine.bedrag_cents),
        else_=DeclarationLine.bedrag_cents,
    )
    for status, n, cents in session.execute(
        select(DeclarationLine.status, func.count(), func.coalesce(func.sum(signed), 0))
        .join(Declaration, Declaration.id == DeclarationLine.declaration_id)
        .where(
            Declaration.financier_id == financier.id,
            Declaration.periode_begin == begin,
            Declaration.status != DECL_CONCEPT,
        )
        .group_by(DeclarationLine.status)
    ):
        m.lines[status] = n
        m.declared += cents
        if status in (LINE_AWARDED, LINE_CREDITED):
            m.awarded += cents
        elif status == LINE_REJECTED:
            m.rejected += cents
        elif status == LINE_SENT:
            m.pending += cents
    m.declarations = list(
        session.scalars(
            select(Declaration)
            .where(Declaration.financier_id == financier.id, Declaration.periode_begin == begin)
            .order_by(Declaration.id)
        )
    )
    chosen = declarations.choose_care(session, hooks, financier, begin, end)
    made = declaring.lines(financier, chosen.care, begin, end, session)
    m.to_declare = sum(ln.bedrag_cents for ln in made.lines)
    m.to_declare_lines = len(made.lines)
    for issue in list(chosen.skipped) + list(made.skipped):
        (m.not_covered if issue.code == "niet-gedekt" else m.other_skipped).append(issue)
    return m


@dataclass
class Indicatie:
    leg: Legitimation
    kind: std.Kind
    hours: list[tuple[str, str]]  # (zorgsoort, "4:30")


def client_section(
    session: Session, client_id: int
) -> tuple[list[Indicatie], list[DeclarationLine]]:
    """The client's Zvw indicaties (kind, who set it, hours per zorgsoort) and its prestaties."""
    legs = session.scalars(
        select(Legitimation)
        .where(Legitimation.client_id == client_id, Legitimation.financing == std.CODE)
        .options(selectinload(Legitimation.financier), selectinload(Legitimation.products))
        .order_by(Legitimation.begindatum.desc())
    )
    found = []
    for leg in legs:
        hours = []
        for key, label in std.ZORGSOORTEN.items():
            minutes = parse_hours(str((leg.sleutels or {}).get(key) or ""))
            if minutes:
                hours.append((label, f"{minutes // 60}:{minutes % 60:02d}"))
        found.append(Indicatie(leg, std.kind_of(leg), hours))
    lines = list(
        session.scalars(
            select(DeclarationLine)
            .where(DeclarationLine.client_id == client_id, DeclarationLine.financing == std.CODE)
            .options(selectinload(DeclarationLine.declaration))
            .order_by(DeclarationLine.begindatum.desc(), DeclarationLine.id.desc())
            .limit(200)
        )
    )
    return found, lines


def explain(codes: list[str]) -> list[tuple[str, str, str]]:
    """(code, Dutch meaning, what to do) per retourcode of a line."""
    return [(c, std.meaning(c), std.action(c)) for c in codes]


# --- worklist ---------------------------------------------------------------------------------


def ending_soon(today: date):
    """Active indicaties that end within 30 days, or ended in the last 30 (a new one needed)."""
    return and_(
        Legitimation.financing == std.CODE,
        Legitimation.status == "actief",
        Legitimation.einddatum.is_not(None),
        Legitimation.einddatum >= today - timedelta(days=30),
        Legitimation.einddatum <= today + timedelta(days=30),
    )


def worklist(session: Session, today: date):
    rejected = declarations.rejected_lines(session, std.CODE, limit=300)
    ending = list(
        session.scalars(
            select(Legitimation)
            .where(ending_soon(today))
            .options(selectinload(Legitimation.client), selectinload(Legitimation.financier))
            .order_by(Legitimation.einddatum)
            .limit(300)
        )
    )
    return rejected, ending


def action_counts(session: Session, today: date) -> list[ActionCount]:
    rejected = declarations.count_rejected(session, std.CODE)
    ending = session.scalar(select(func.count(Legitimation.id)).where(ending_soon(today))) or 0
    return [
        ActionCount(
            key="zvw_msvt.afgewezen",
            label="Afgewezen prestaties Zvw (wijkverpleging, ELV, ZG)",
            count=rejected,
            endpoint="zvw_msvt.index",
            permission="declarations.view",
        ),
        ActionCount(
            key="zvw_msvt.indicaties",
            label="Zvw-indicaties die aflopen of net zijn afgelopen",
            count=ending,
            endpoint="zvw_msvt.index",
            permission="legitimations.view",
        ),
    ]


def menu_items() -> list[MenuItem]:
    return [
        MenuItem("zvw_msvt.index", "Zvw-werklijst", "declarations.view"),
        MenuItem("zvw_msvt.insurers", "Zorgverzekeraars per maand", "declarations.view"),
        MenuItem("zvw_msvt.contracts", "Contracten zorgverzekeraars", "contracts.view"),
    ]


# --- contracts --------------------------------------------------------------------------------


@dataclass
class InsurerContracts:
    financier: Financier
    by_list: dict[str, list[ContractLine]]
    msvt: list[ContractLine]

    @property
    def msvt_route(self) -> str:
        if self.msvt:
            codes = ", ".join(sorted({cl.productcode or "" for cl in self.msvt}))
            return f"MSVT via het contract met deze zorgverzekeraar (prestatiecodes {codes})"
        return (
            "MSVT niet gecontracteerd: het ziekenhuis declareert, wij factureren het ziekenhuis "
            "in onderaanneming"
        )


def contracts(session: Session, settings, today: date) -> tuple[list[InsurerContracts], list]:
    """Per insurer its current contract lines by prestatiecodelijst, and which way MSVT goes;
    plus the onderaanneming contracts (where the hospital bills MSVT)."""
    msvt = std.msvt_codes(settings)
    current = or_(ContractLine.einddatum.is_(None), ContractLine.einddatum >= today)
    rows = session.scalars(
        select(ContractLine)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .join(Financier, Financier.id == Contract.financier_id)
        .where(Financier.financing == std.CODE, current)
        .options(selectinload(ContractLine.product), selectinload(ContractLine.contract))
        .order_by(ContractLine.productcategorie, ContractLine.productcode)
    )
    per: dict[int, InsurerContracts] = {}
    for f in insurers(session):
        per[f.id] = InsurerContracts(f, defaultdict(list), [])
    for cl in rows:
        entry = per.get(cl.contract.financier_id)
        if entry is None:
            continue
        entry.by_list[declaring.lijst_of(cl)].append(cl)
        if cl.productcode in msvt:
            entry.msvt.append(cl)
    onderaanneming = list(
        session.scalars(
            select(Contract)
            .join(Financier, Financier.id == Contract.financier_id)
            .where(Financier.financing == "onderaanneming")
            .options(selectinload(Contract.financier))
            .order_by(Contract.naam)
        )
    )
    return list(per.values()), onderaanneming


def clients_of(session: Session, ids) -> dict[int, Client]:
    return {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(set(ids))))}
