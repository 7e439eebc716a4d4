"""Declaration runs: from approved care to declaration lines, to a message, to the answer.

Generic for financings that declare by message; the standard's details are in the plugin:

* :func:`prepare` collects approved, not yet declared care of one financier up to the end of a
  calendar month, maps it through the contract lines, and aggregates it into lines: one line
  per client, legitimation, product code and product period, where product periods are cut at
  month and legitimation boundaries (:func:`split_period`). Pending credits join the run.
* :func:`preview_issues` asks the plugin (``validate_declaration``) what would block it.
* :func:`submit` has the plugin build the message(s) (``build_declaration``), stores them
  through the message service and marks everything ``ingediend`` — once, even on a double click.
* :func:`apply_answer` processes the financier's answer (e.g. a 325): awarded and rejected lines.
* :func:`credit` creates credit lines for awarded lines (new reference, pointing at the old one).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from portal.db import bulk_insert
from portal.domain import Issue, Unit
from portal.models import Contract, ContractLine, Financier, Legitimation
from portal.models._base import utcnow
from portal.models.declaration import (
    DECL_ANSWERED,
    DECL_CONCEPT,
    DECL_REJECTED,
    DECL_SENT,
    LINE_AWARDED,
    LINE_CONCEPT,
    LINE_CREDITED,
    LINE_REJECTED,
    LINE_SENT,
    Declaration,
    DeclarationLine,
)
from portal.services import audit

OK_CODES = {"0200", "0233", "8001"}


class DeclarationError(ValueError):
    """A request we refuse, with a Dutch reason and, when known, the blocking issues."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        self.issues = issues or []
        super().__init__(message)


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(day.year, day.month)[1])


def split_period(
    begin: date, end: date, legit_begin: date, legit_end: date | None
) -> list[tuple[date, date]]:
    """The product periods of ``begin..end`` within a legitimation: cut at every month boundary
    and clipped to the legitimation (IV089: 08-04…17-06 → 08-04…30-04, 01-05…31-05, 01-06…17-06).
    """
    start = max(begin, legit_begin)
    stop = min(end, legit_end) if legit_end else end
    periods = []
    while start <= stop:
        month_end = month_bounds(start)[1]
        periods.append((start, min(month_end, stop)))
        start = month_end + timedelta(days=1)
    return periods


# --- building lines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """One approved unit of care, as the declaration needs it (a registration, usually)."""

    client_id: int
    product_id: int
    datum: date
    minutes: int | None = None
    aantal: int | None = None
    registration_id: int | None = None


@dataclass
class Prepared:
    declaration: Declaration | None  # the first (usually only) one; lines: ``.lines``
    skipped: list[Issue] = field(default_factory=list)  # care that could not be declared
    # one per declaration group (hook ``declaration_group``), e.g. Wmo and Jeugdwet apart
    declarations: list[Declaration] = field(default_factory=list)


def approved_care(session: Session, financier: Financier, until: date) -> list[Delivered]:
    """Approved, not yet declared registrations of clients with a legitimation of this financier."""
    from portal.models.registration import REG_APPROVED, Registration

    client_ids = select(Legitimation.client_id).where(
        Legitimation.financier_id == financier.id, Legitimation.financing == financier.financing
    )
    rows = session.execute(
        select(
            Registration.id,
            Registration.client_id,
            Registration.product_id,
            Registration.datum,
            Registration.duur_minuten,
            Registration.aantal,
        ).where(
            Registration.status == REG_APPROVED,
            Registration.gedeclareerd.is_(False),
            Registration.credit_of_id.is_(None),
            Registration.datum <= until,
            Registration.client_id.in_(client_ids),
        )
    )
    return [
        Delivered(
            client_id=r.client_id,
            product_id=r.product_id,
            datum=r.datum,
            minutes=r.duur_minuten,
            aantal=r.aantal,
            registration_id=r.id,
        )
        for r in rows
    ]


def _contract_lines(session: Session, financier: Financier) -> list[ContractLine]:
    return list(
        session.scalars(
            select(ContractLine)
            .join(Contract, Contract.id == ContractLine.contract_id)
            .where(Contract.financier_id == financier.id)
        )
    )


def round_minutes(minutes: int, step: int | None, how: str | None) -> int:
    """One unit of care's minutes rounded as the contract line says (``afronding_minuten``
    in steps, ``afronding_wijze`` omhoog/omlaag/dichtstbij; a half step rounds up)."""
    if not step or step <= 0 or minutes <= 0:
        return minutes
    q, r = divmod(minutes, step)
    if r == 0:
        return minutes
    if how == "omhoog":
        return (q + 1) * step
    if how == "omlaag":
        return q * step
    return (q + 1) * step if r * 2 >= step else q * step


def build_lines(
    session: Session,
    financier: Financier,
    care: Iterable[Delivered],
    reference_prefix: str,
    legitimations: list[Any] | None = None,
) -> tuple[list[dict[str, Any]], list[Issue]]:
    """Aggregate care into declaration line rows through contract lines and legitimations.

    Each unit of care's minutes are first rounded by its contract line (``round_minutes``).
    ``legitimations``: the financier's legitimation rows, when the caller has them already."""
    contract_lines: dict[int, list[ContractLine]] = {}
    for cl in _contract_lines(session, financier):
        contract_lines.setdefault(cl.product_id, []).append(cl)
    if legitimations is None:
        legitimations = _legitimation_rows(session, financier)
    legs: dict[int, list[Any]] = {}
    for leg in legitimations:
        if leg.status in ("actief", "beeindigd") and leg.financing == financier.financing:
            legs.setdefault(leg.client_id, []).append(leg)

    groups: dict[tuple, dict[str, Any]] = {}
    skipped: list[Issue] = []
    for d in care:
        # One own product may map to several financier codes at one financier (Begeleiding
        # under the Wmo and under the Jeugdwet): the contract line is the one that fits a
        # legitimation of this client on that day.
        lines_then = [
            cl
            for cl in contract_lines.get(d.product_id, [])
            if cl.begindatum <= d.datum and (cl.einddatum is None or d.datum <= cl.einddatum)
        ]
        if not lines_then:
            skipped.append(
                Issue(
                    "contract",
                    f"Geen contractregel voor product {d.product_id} op {d.datum:%d-%m-%Y}.",
                    "product",
                )
            )
            continue
        current = [
            leg
            for leg in legs.get(d.client_id, [])
            if leg.begindatum <= d.datum and (leg.einddatum is None or d.datum <= leg.einddatum)
        ]
        cl, leg = next(
            (
                (cl, leg)
                for cl in lines_then
                for leg in current
                if (not leg.productcode or leg.productcode == cl.productcode)
                and (not leg.productcategorie or leg.productcategorie == cl.productcategorie)
            ),
            (lines_then[0], None),
        )
        if leg is None:
            skipped.append(
                Issue(
                    "legitimatie",
                    f"Zorg op {d.datum:%d-%m-%Y} valt niet binnen een toewijzing voor "
                    f"product {cl.productcode}.",
                    "legitimation",
                )
            )
            continue
        # the product period holding this day: its month, clipped to the legitimation
        month_begin, month_end = month_bounds(d.datum)
        begin = max(month_begin, leg.begindatum)
        end = min(month_end, leg.einddatum) if leg.einddatum else month_end
        key = (d.client_id, leg.id, cl.id, begin)
        g = groups.setdefault(
            key,
            {
                "leg": leg,
                "cl": cl,
                "begin": begin,
                "end": end,
                "minutes": 0,
                "aantal": 0,
                "regs": [],
            },
        )
        g["minutes"] += round_minutes(d.minutes or 0, cl.afronding_minuten, cl.afronding_wijze)
        g["aantal"] += d.aantal or 0
        if d.registration_id:
            g["regs"].append(d.registration_id)

    lines = []
    for n, (key, g) in enumerate(
        sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][3], kv[0][1])), 1
    ):
        cl: ContractLine = g["cl"]
        unit = Unit(cl.eenheid)
        tarief = cl.tarief_cents
        if unit is Unit.UUR:
            if g["minutes"] % 60 == 0:
                volume = g["minutes"] // 60
            else:  # minutes on an hours agreement, with the minute tariff (IV081/TR346)
                unit, volume, tarief = Unit.MINUUT, g["minutes"], round(cl.tarief_cents / 60)
        elif unit is Unit.MINUUT:
            volume = g["minutes"]
        else:
            volume = g["aantal"]
        if volume <= 0:
            continue
        lines.append(
            dict(
                financing=financier.financing,
                financier_id=financier.id,
                client_id=key[0],
                legitimation_id=g["leg"].id,
                product_id=cl.product_id,
                contract_line_id=cl.id,
                productcategorie=cl.productcategorie,
                productcode=cl.productcode,
                begindatum=g["begin"],
                einddatum=g["end"],
                volume=volume,
                eenheid=unit.value,
                tarief_cents=tarief,
                bedrag_cents=volume * tarief,
                debet_credit="D",
                referentie=f"{reference_prefix}{n:06d}",
                status=LINE_CONCEPT,
                registration_ids=sorted(g["regs"]),
                retourcodes=[],
                toelichting={},
            )
        )
    return lines, skipped


def last_period(session: Session, financier: Financier) -> date | None:
    """The first day of the latest month declared to ``financier`` (sent or answered; a concept
    or a wholly rejected declaration does not count). With several declaration groups (Wmo and
    Jeugdwet), the earliest of their latest months: each group may still go on from there."""
    latest = session.scalars(
        select(func.max(Declaration.periode_begin))
        .where(
            Declaration.financier_id == financier.id,
            Declaration.status.not_in((DECL_CONCEPT, DECL_REJECTED)),
        )
        .group_by(Declaration.groep)
    ).all()
    return min(latest) if latest else None


def next_number(session: Session, financing: str, month: date) -> str:
    """Declaration number: year+month+sequence, unique per financing (TR333)."""
    base = f"{month:%Y%m}"
    existing = set(
        session.scalars(
            select(Declaration.nummer).where(
                Declaration.financing == financing, Declaration.nummer.like(f"{base}%")
            )
        )
    )
    n = 1
    while f"{base}{n:04d}" in existing:
        n += 1
    return f"{base}{n:04d}"


def prepare(
    session: Session,
    financier: Financier,
    month: date,
    *,
    care: Iterable[Delivered] | None = None,
    user_id: int | None = None,
    hooks=None,
) -> Prepared:
    """Concept declarations for ``financier`` and the calendar month of ``month``: one per
    declaration group (hook ``declaration_group``; usually just one).

    An existing concept for the same financier is replaced (its lines are released).
    Returns ``Prepared(None, …)`` when there is nothing to declare.
    """
    begin, end = month_bounds(month)
    for old in session.scalars(
        select(Declaration).where(
            Declaration.financier_id == financier.id,
            Declaration.status == DECL_CONCEPT,
        )
    ):
        for line in list(old.lines):
            if line.credit_of_id is not None:
                line.declaration_id = None  # pending credits stay pending
            else:
                session.delete(line)
        session.flush()
        session.delete(old)
    session.flush()
    if care is None:
        care = approved_care(session, financier, end)
    legitimations = _legitimation_rows(session, financier)
    lines, skipped = build_lines(session, financier, care, "", legitimations)
    credits = list(
        session.scalars(
            select(DeclarationLine).where(
                DeclarationLine.financier_id == financier.id,
                DeclarationLine.declaration_id.is_(None),
                DeclarationLine.status == LINE_CONCEPT,
            )
        )
    )
    if not lines and not credits:
        return Prepared(None, skipped)
    group_of = _groups(
        legitimations,
        {row["legitimation_id"] for row in lines} | {c.legitimation_id for c in credits},
        hooks,
    )
    made = []
    now = utcnow()
    for group in sorted(
        {group_of.get(row["legitimation_id"]) for row in lines}
        | {group_of.get(c.legitimation_id) for c in credits},
        key=lambda g: g or "",
    ):
        rows = [row for row in lines if group_of.get(row["legitimation_id"]) == group]
        mine = [c for c in credits if group_of.get(c.legitimation_id) == group]
        decl = Declaration(
            financing=financier.financing,
            financier_id=financier.id,
            periode_begin=begin,
            periode_eind=end,
            nummer=next_number(session, financier.financing, begin),
            groep=group,
            status=DECL_CONCEPT,
            created_by=user_id,
            retourcodes=[],
        )
        session.add(decl)
        session.flush()
        for n, row in enumerate(rows, 1):  # references unique per provider (TR314)
            row.update(
                declaration_id=decl.id,
                referentie=f"{decl.nummer}R{n:06d}",
                created_at=now,
                updated_at=now,
            )
        bulk_insert(session, DeclarationLine, rows)  # thousands of rows: COPY, not row by row
        for line in mine:
            line.declaration_id = decl.id
        decl.total_cents = sum(
            row["bedrag_cents"] if row["debet_credit"] == "D" else -row["bedrag_cents"]
            for row in rows
        ) + sum(line.signed_cents for line in mine)
        session.flush()
        session.expire(decl, ["lines"])
        made.append(decl)
    return Prepared(made[0], skipped, made)


def _legitimation_rows(session: Session, financier: Financier) -> list[Any]:
    """Every legitimation of ``financier`` as a read-only row with all its columns (thousands:
    no ORM objects)."""
    table = Legitimation.__table__
    return list(session.execute(select(table).where(table.c.financier_id == financier.id)))


def _groups(rows: list[Any], legitimation_ids: set[int | None], hooks) -> dict[int, str | None]:
    """The declaration group of each legitimation (hook ``declaration_group``)."""
    if hooks is None:
        if not has_app_context():
            return {}
        from portal.app import hooks as app_hooks

        hooks = app_hooks()
    return {leg.id: hooks.declaration_group(leg) for leg in rows if leg.id in legitimation_ids}


def preview_issues(declaration: Declaration, hooks) -> list[Issue]:
    return hooks.validate_declaration(declaration)


def submit(session: Session, declaration_id: int, hooks, *, user_id: int | None = None):
    """Build, validate and store the declaration's message(s); mark everything ingediend.

    Only a concept moves on: the status update is a conditional UPDATE, so a second click (or a
    second worker) finds nothing to do and gets a clear refusal instead of a second message.
    """
    from portal.services.messages import create_outgoing

    decl = session.get(Declaration, declaration_id)
    if decl is None:
        raise DeclarationError("Deze declaratie bestaat niet.")
    if decl.status != DECL_CONCEPT:
        raise DeclarationError("Deze declaratie is al ingediend.")
    issues = [i for i in hooks.validate_declaration(decl) if i.blocking]
    if issues:
        raise DeclarationError("De declaratie kan nog niet worden ingediend.", issues)
    drafts = hooks.build_declaration(decl, session)
    if not drafts:
        raise DeclarationError("Voor deze financiering kan nog niet worden gedeclareerd.")
    claimed = session.execute(
        update(Declaration)
        .where(Declaration.id == decl.id, Declaration.status == DECL_CONCEPT)
        .values(status=DECL_SENT, sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise DeclarationError("Deze declaratie is al ingediend.")
    session.refresh(decl)
    messages = [
        create_outgoing(session, d, financing=decl.financing, created_by=user_id) for d in drafts
    ]
    session.flush()
    decl.message_reference = drafts[0].reference
    decl.message_id = messages[0].id
    for m in messages:
        m.financier_id = decl.financier_id
    reg_ids = [
        i
        for ids in session.scalars(
            select(DeclarationLine.registration_ids).where(
                DeclarationLine.declaration_id == decl.id
            )
        )
        for i in (ids or [])
    ]
    session.execute(
        update(DeclarationLine)
        .where(DeclarationLine.declaration_id == decl.id)
        .values(status=LINE_SENT)
        .execution_options(synchronize_session=False)
    )
    session.expire(decl, ["lines"])
    _mark_registrations(session, reg_ids, True)
    audit.record(
        session,
        "declaratie.ingediend",
        user_id=user_id,
        object_type="declaration",
        object_id=decl.id,
        detail={"nummer": decl.nummer},
    )
    return messages


def _mark_registrations(session: Session, ids: list[int], value: bool) -> None:
    if not ids:
        return
    from portal.models.registration import Registration

    for chunk in range(0, len(ids), 500):
        session.execute(
            update(Registration)
            .where(Registration.id.in_(ids[chunk : chunk + 500]))
            .values(gedeclareerd=value)
            .execution_options(synchronize_session=False)
        )


@dataclass
class AnswerResult:
    summary: str
    needs_action: bool = False
    issues: list[Issue] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    declaration_id: int | None = None


def apply_answer(
    session: Session,
    *,
    financing: str,
    message_reference: str | None,
    number: str | None,
    header_codes: list[str],
    declaration_codes: list[str],
    rejected: dict[str, list[str]],
    awarded_total_cents: int,
    meaning: Callable[[str], str] = str,
) -> AnswerResult:
    """Apply a declaration answer: the listed lines are rejected with their codes, the rest is
    awarded; a rejection at header or declaration level rejects everything (not sent)."""
    decl = session.scalar(
        select(Declaration).where(
            Declaration.financing == financing, Declaration.message_reference == message_reference
        )
    )
    if decl is None and number:
        decl = session.scalar(
            select(Declaration).where(
                Declaration.financing == financing, Declaration.nummer == number
            )
        )
    if decl is None:
        return AnswerResult(
            f"Antwoord op een onbekende declaratie ({number or message_reference}).",
            needs_action=True,
            issues=[Issue("onbekend", "Geen declaratie gevonden bij dit antwoord.", None)],
        )
    if decl.status in (DECL_ANSWERED, DECL_REJECTED):
        return AnswerResult(
            f"Antwoord op declaratie {decl.nummer} was al verwerkt.", declaration_id=decl.id
        )
    whole = [c for c in header_codes + declaration_codes if c not in OK_CODES]
    result = AnswerResult("", declaration_id=decl.id)
    lines = list(decl.lines)
    by_ref = {line.referentie: line for line in lines}
    release: list[int] = []
    if whole:
        decl.status = DECL_REJECTED
        for line in lines:
            line.status, line.retourcodes = LINE_REJECTED, whole
            release.extend(line.registration_ids or [])
        result.summary = f"Declaratie {decl.nummer} is afgekeurd: " + "; ".join(
            f"{c} {meaning(c)}" for c in whole
        )
        result.needs_action = True
        result.issues = [Issue(c, meaning(c), "declaratie") for c in whole]
    else:
        decl.status = DECL_ANSWERED
        n_rejected = 0
        rejected_ids = []
        for line in lines:
            codes = [c for c in rejected.get(line.referentie, []) if c not in OK_CODES]
            if line.referentie in rejected and codes:
                line.status, line.retourcodes = LINE_REJECTED, codes
                rejected_ids.append(line.id)
                release.extend(line.registration_ids or [])
                n_rejected += 1
                for c in codes:
                    result.issues.append(
                        Issue(c, f"Prestatie {line.referentie}: {meaning(c)}", "prestatie")
                    )
            elif line.credit_of_id:
                original = session.get(DeclarationLine, line.credit_of_id)
                if original is not None:
                    original.status = LINE_CREDITED
                    release.extend(original.registration_ids or [])
        session.flush()
        # everything not rejected is awarded: one statement, however many lines
        session.execute(
            update(DeclarationLine)
            .where(
                DeclarationLine.declaration_id == decl.id,
                DeclarationLine.status != LINE_REJECTED,
            )
            .values(status=LINE_AWARDED)
            .execution_options(synchronize_session=False)
        )
        session.expire(decl, ["lines"])
        for line in lines:
            if line.id not in rejected_ids:
                session.expire(line, ["status"])
        unknown = set(rejected) - set(by_ref)
        for ref in sorted(unknown):
            result.issues.append(
                Issue("onbekend", f"Prestatie {ref} komt niet voor in de declaratie.", None)
            )
        if n_rejected:
            result.summary = (
                f"Declaratie {decl.nummer}: {len(lines) - n_rejected} prestaties toegekend, "
                f"{n_rejected} afgewezen."
            )
            result.needs_action = True
        else:
            result.summary = f"Declaratie {decl.nummer} is volledig toegekend."
    decl.awarded_cents = awarded_total_cents
    decl.retourcodes = header_codes + declaration_codes
    decl.answered_at = utcnow()
    _mark_registrations(session, release, False)
    result.client_ids = sorted({line.client_id for line in lines})
    return result


def credit(
    session: Session, line_ids: Iterable[int], *, user_id: int | None = None
) -> list[DeclarationLine]:
    """Credit lines for awarded debet lines; they join the next declaration to that financier."""
    made = []
    for line_id in line_ids:
        line = session.get(DeclarationLine, line_id, with_for_update=True)
        if line is None:
            raise DeclarationError("Deze prestatie bestaat niet.")
        if line.debet_credit != "D" or line.status != LINE_AWARDED:
            raise DeclarationError(
                f"Prestatie {line.referentie} kan niet worden gecrediteerd: alleen toegekende "
                "prestaties kunnen worden gecrediteerd."
            )
        already = session.scalar(
            select(DeclarationLine.id).where(
                DeclarationLine.credit_of_id == line.id,
                DeclarationLine.status != LINE_REJECTED,
            )
        )
        if already:
            raise DeclarationError(f"Prestatie {line.referentie} is al gecrediteerd.")
        copy = DeclarationLine(
            financing=line.financing,
            financier_id=line.financier_id,
            client_id=line.client_id,
            legitimation_id=line.legitimation_id,
            product_id=line.product_id,
            contract_line_id=line.contract_line_id,
            productcategorie=line.productcategorie,
            productcode=line.productcode,
            begindatum=line.begindatum,
            einddatum=line.einddatum,
            volume=line.volume,
            eenheid=line.eenheid,
            tarief_cents=line.tarief_cents,
            bedrag_cents=line.bedrag_cents,
            debet_credit="C",
            referentie=_credit_reference(session, line.referentie),
            credit_of_id=line.id,
            status=LINE_CONCEPT,
            registration_ids=[],
            retourcodes=[],
            toelichting={},
        )
        session.add(copy)
        made.append(copy)
        audit.record(
            session,
            "declaratie.credit",
            user_id=user_id,
            client_id=line.client_id,
            object_type="declaration_line",
            object_id=line.id,
            detail={"referentie": line.referentie},
        )
    session.flush()
    return made


def _credit_reference(session: Session, original: str) -> str:
    """A new reference (max 20 characters) derived from the original: ``…C1``, ``…C2``."""
    n = 1
    while True:
        ref = f"{original[: 20 - 1 - len(str(n))]}C{n}"
        if (
            session.scalar(select(DeclarationLine.id).where(DeclarationLine.referentie == ref))
            is None
        ):
            return ref
        n += 1


def _open_rejected():
    """Rejected lines that still need a fix: no later line for the same client, legitimation,
    product and product period has been sent since (a re-declaration supersedes the rejection,
    whatever its own answer; a new rejection is then the one to act on)."""
    later = aliased(DeclarationLine)
    sent = (
        select(later.id)
        .join(Declaration, Declaration.id == later.declaration_id)
        .where(
            later.id > DeclarationLine.id,
            later.financier_id == DeclarationLine.financier_id,
            later.client_id == DeclarationLine.client_id,
            later.legitimation_id == DeclarationLine.legitimation_id,
            later.productcode == DeclarationLine.productcode,
            later.begindatum == DeclarationLine.begindatum,
            later.debet_credit == DeclarationLine.debet_credit,
            Declaration.status != DECL_CONCEPT,
        )
    )
    return DeclarationLine.status == LINE_REJECTED, ~sent.exists()


def rejected_lines(
    session: Session, financing: str | None = None, limit: int = 500
) -> list[DeclarationLine]:
    """Rejected lines still to be fixed (corrected and re-declared, or left alone), newest first."""
    stmt = select(DeclarationLine).where(*_open_rejected())
    if financing:
        stmt = stmt.where(DeclarationLine.financing == financing)
    return list(session.scalars(stmt.order_by(DeclarationLine.id.desc()).limit(limit)))


def count_rejected(session: Session) -> int:
    """How many rejected lines still need a fix."""
    return session.scalar(select(func.count(DeclarationLine.id)).where(*_open_rejected())) or 0
