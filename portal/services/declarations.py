"""The declaration run: one core pipeline for every financing that declares by message.

1. **Choose the care** (:func:`choose_care`). A financing that stacks (``FinancingInfo.can_stack``)
   gets what the stacking service gives it: whole ISO weeks, each registration's part on its
   legitimation, the stack's rounding (DESIGN §6), weeks already exported left out — so week 5 of
   2019 is declared once across the January and the February run. Any other financing gets the
   approved registrations of clients with a legitimation of the financier. Never a part that an
   earlier declaration or invoice still counts (``portal.services.exports``).
2. **The plugin makes the lines** (hook ``declaration_lines``): period split, units, tariffs and
   the group of each line (one declaration per group) are its standard's business.
3. **Numbers** (hook ``declaration_numbering``): the declaration's number and the line references.
4. **Store** lines and their export parts in one transaction (a unique index refuses a part that
   another run exported at the same moment), and the stacked weeks counted.
5. **Check** (``validate_declaration``), **build** (``build_declaration``) and put the message(s)
   in the outbox (:func:`submit`) — once, even on a double click.
6. **The answer**: the plugin reads it (``parse_message`` → ``DeclarationAnswer``); the core
   applies it here (:func:`apply_answer`): awarded and rejected lines, a rejection releases its
   parts (correct and declare again), an awarded credit releases its original's parts.
7. **Follow-ups**: a rejected line's care is corrected and declared again by the next run (its
   parts were released); :func:`credit` (with :func:`credit_line`, the one helper that copies a
   line as its credit) for an awarded line.

The core names no standard: everything above that belongs to one is asked of its plugin.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session, aliased, load_only

from portal.db import bulk_insert, lock_row
from portal.domain import (
    Care,
    DeclarationAnswer,
    Issue,
    LineDraft,
    ParseOutcome,
)
from portal.models import ExportPart, Financier, Legitimation, StackExport
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
from portal.models.registration import REG_APPROVED, Registration
from portal.plugins import Hooks
from portal.services import audit, stacking
from portal.services.stacking import exports
from portal.services.stacking.exports import EXPORT_DECLARATION, AlreadyExported, Part

Delivered = Care  # the name the first callers used


class DeclarationError(ValueError):
    """A request we refuse, with a Dutch reason and, when known, the blocking issues."""

    def __init__(self, message: str, issues: list[Issue] | None = None):
        self.issues = issues or []
        super().__init__(message)


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(day.year, day.month)[1])


@dataclass
class Prepared:
    declaration: Declaration | None  # the first (usually only) one; lines: ``.lines``
    skipped: list[Issue] = field(default_factory=list)  # care that could not be declared
    # one per declaration group (LineDraft.groep), e.g. Wmo and Jeugdwet apart
    declarations: list[Declaration] = field(default_factory=list)


# --- 1. choosing the care -----------------------------------------------------------------------


def approved_care(session: Session, financier: Financier, until: date) -> list[Care]:
    """Approved registrations up to ``until`` of clients with a legitimation of this financier,
    of which no part is exported yet (a financing that does not stack: the whole registration is
    one part; the plugin chooses its legitimation)."""
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
            Registration.credit_of_id.is_(None),
            Registration.datum <= until,
            Registration.client_id.in_(client_ids),
            exports.not_exported(),
        )
    )
    return [
        Care(
            client_id=r.client_id,
            product_id=r.product_id,
            datum=r.datum,
            minutes=r.duur_minuten,
            aantal=r.aantal,
            registration_id=r.id,
        )
        for r in rows
    ]


@dataclass
class StackedCare:
    care: list[Care]
    skipped: list[Issue]
    weeks: list  # the stacking WeekTotals this care counts (recorded with the export)


def stacked_care(
    session: Session, hooks: Hooks, financier: Financier, begin: date, end: date
) -> StackedCare:
    """This financier's share of every whole ISO week overlapping [begin, end], as the stacking
    service computes it (DESIGN §6): weeks never exported for this financing, each registration's
    part on its legitimation, plus each week's rounding difference as a piece of its own on the
    last day the legitimation was used that week (so the week adds up to the stack's rounding).
    A week exported before whose recomputation differs is not taken: it is reported, to be
    credited first. Weeks before the period are looked at again when a part in them was
    released (credited or rejected) and not exported since."""
    financing = financier.financing
    legs = set(
        session.scalars(
            select(Legitimation.id).where(
                Legitimation.financier_id == financier.id, Legitimation.financing == financing
            )
        )
    )
    clients = (
        sorted(
            set(
                session.scalars(
                    select(Legitimation.client_id).where(Legitimation.id.in_(legs)).distinct()
                )
            )
        )
        if legs
        else []
    )
    if not clients:
        return StackedCare([], [], [])
    # care whose part was released (a credit, a rejection) is declared again by the next run,
    # however long ago its week was: start there
    released = select(func.min(ExportPart.datum)).where(
        ExportPart.financing == financing,
        ExportPart.active.is_(False),
        ExportPart.legitimation_id.in_(legs),
        ExportPart.datum < begin,
        ~exports.part_is_active(ExportPart.registration_id, ExportPart.legitimation_id),
    )
    first = session.scalar(released)
    plan = stacking.export_plan(
        session,
        hooks=hooks,
        financing=financing,
        start=min(begin, first) if first else begin,
        end=end,
        client_ids=clients,
    )
    skipped = [
        Issue(
            "week-gewijzigd",
            f"Week {stacking.iso_week_label(wt.week_start)} van cliënt {wt.client_id} is "
            f"veranderd sinds die is gedeclareerd ({stacking.minutes_label(before)} → "
            f"{stacking.minutes_label(wt.minutes)}): crediteer de eerdere prestatie, dan gaat de "
            "hele week opnieuw mee.",
            "week",
        )
        for wt, before in plan.changed
        if wt.legitimation_id is None or wt.legitimation_id in legs
    ]
    new_keys = {
        (w.client_id, w.week_start, w.legitimation_id)
        for w in plan.new
        if w.legitimation_id in legs
    }
    done = exports.exported_keys(session, clients)
    care: list[Care] = []
    # per (client, week, legitimation): the exact minutes of all its care and the last
    # (day, product), where the week's rounding difference goes — also when only part of the week
    # is declared again (one of its lines was rejected, the others still count): then the
    # difference is declared again only when the rejected care held that last (day, product)
    exact: dict[tuple, int] = defaultdict(int)
    last: dict[tuple, tuple[date, int]] = {}
    taken: dict[tuple, set[tuple[date, int]]] = defaultdict(set)
    for a in plan.allocations:
        key = (a.client_id, a.week_start, a.legitimation_id)
        if key not in new_keys:
            continue
        exact[key] += a.minutes
        if key not in last or (a.day, a.product_id) > last[key]:
            last[key] = (a.day, a.product_id)
        if (a.registration_id, a.legitimation_id) in done:
            continue
        care.append(
            Care(
                client_id=a.client_id,
                product_id=a.product_id,
                datum=a.day,
                minutes=a.minutes,
                aantal=a.aantal,
                registration_id=a.registration_id,
                legitimation_id=a.legitimation_id,
                rounded=True,
            )
        )
        taken[key].add((a.day, a.product_id))
    weeks = []
    for w in plan.new:
        key = (w.client_id, w.week_start, w.legitimation_id)
        if not taken.get(key):
            continue
        weeks.append(w)
        if w.minutes != exact[key] and last[key] in taken[key]:
            day, product_id = last[key]
            care.append(
                Care(
                    client_id=w.client_id,
                    product_id=product_id,
                    datum=day,
                    minutes=w.minutes - exact[key],
                    legitimation_id=w.legitimation_id,
                    rounded=True,
                )
            )
    return StackedCare(care, skipped, weeks)


def choose_care(
    session: Session, hooks: Hooks, financier: Financier, begin: date, end: date
) -> StackedCare:
    """Step 1 of the run: what this financier's declaration for [begin, end] may count."""
    info = hooks.financing(financier.financing)
    if info is not None and info.can_stack:
        return stacked_care(session, hooks, financier, begin, end)
    return StackedCare(approved_care(session, financier, end), [], [])


# --- 2–4. lines, numbers, storing ----------------------------------------------------------------


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


def concepts(session: Session, financier: Financier) -> list[Declaration]:
    return list(
        session.scalars(
            select(Declaration)
            .where(Declaration.financier_id == financier.id, Declaration.status == DECL_CONCEPT)
            .order_by(Declaration.id)
        )
    )


def discard(session: Session, declaration: Declaration) -> None:
    """Delete a concept: its own lines and their export parts go, pending credits stay pending,
    the stacked weeks it counted are free again."""
    if declaration.status != DECL_CONCEPT:
        raise DeclarationError("Alleen een concept kan worden verwijderd.")
    own = list(
        session.scalars(
            select(DeclarationLine.id).where(
                DeclarationLine.declaration_id == declaration.id,
                DeclarationLine.credit_of_id.is_(None),
            )
        )
    )
    exports.delete_for_lines(session, own)
    session.execute(
        update(DeclarationLine)
        .where(
            DeclarationLine.declaration_id == declaration.id,
            DeclarationLine.credit_of_id.is_not(None),
        )
        .values(declaration_id=None)
        .execution_options(synchronize_session=False)
    )
    for i in range(0, len(own), 1000):
        session.execute(
            delete(DeclarationLine)
            .where(DeclarationLine.id.in_(own[i : i + 1000]))
            .execution_options(synchronize_session=False)
        )
    for export in session.scalars(
        select(StackExport).where(StackExport.reference == _export_reference(declaration))
    ):
        session.delete(export)
    session.flush()
    session.delete(declaration)
    session.flush()


def _export_reference(declaration: Declaration) -> str:
    return f"declaratie:{declaration.id}"


def prepare(
    session: Session,
    financier: Financier,
    month: date,
    *,
    hooks: Hooks,
    care: Iterable[Care] | None = None,
    user_id: int | None = None,
    replace: bool = True,
) -> Prepared:
    """Concept declarations for ``financier`` and the calendar month of ``month``: one per
    group the plugin gives its lines (usually one).

    Runs one at a time per financier (a lock on the financier's row). With ``replace`` an
    existing concept for the financier is discarded first; without it, an existing concept is a
    refusal (so two "Voorbereiden" at once make one concept). ``care`` overrides step 1 (tests,
    benchmarks). Returns ``Prepared(None, …)`` when there is nothing to declare.
    """
    begin, end = month_bounds(month)
    lock_row(session, Financier, financier.id)
    existing = concepts(session, financier)
    if existing and not replace:
        raise DeclarationError(
            f"Voor {financier.naam} staat al een concept-declaratie klaar ("
            + ", ".join(d.nummer for d in existing)
            + "). Open het concept om het te versturen, of bereid het daar opnieuw voor."
        )
    for old in existing:
        discard(session, old)
    chosen = (
        choose_care(session, hooks, financier, begin, end)
        if care is None
        else StackedCare(list(care), [], [])
    )
    made = hooks.declaration_lines(financier, chosen.care, begin, end, session)
    if made is None:
        raise DeclarationError("Voor deze financiering kan nog niet worden gedeclareerd.")
    skipped = chosen.skipped + list(made.skipped)
    credits = list(
        session.scalars(
            select(DeclarationLine).where(
                DeclarationLine.financier_id == financier.id,
                DeclarationLine.declaration_id.is_(None),
                DeclarationLine.status == LINE_CONCEPT,
            )
        )
    )
    lines = [line for line in made.lines if line.volume > 0]
    if not lines and not credits:
        return Prepared(None, skipped)
    credit_group = {c.id: _group_of_credit(session, c) for c in credits}
    made_decls = []
    now = utcnow()
    try:
        for group in sorted(
            {line.groep for line in lines} | set(credit_group.values()), key=lambda g: g or ""
        ):
            mine = [line for line in lines if line.groep == group]
            pending = [c for c in credits if credit_group[c.id] == group]
            decl = Declaration(
                financing=financier.financing,
                financier_id=financier.id,
                financier=financier,
                periode_begin=begin,
                periode_eind=end,
                groep=group,
                status=DECL_CONCEPT,
                created_by=user_id,
                retourcodes=[],
            )
            numbering = hooks.declaration_numbering(decl, len(mine), session)
            decl.nummer = numbering.nummer
            session.add(decl)
            session.flush()
            _store_lines(session, decl, mine, numbering.references, now)
            for line in pending:
                line.declaration_id = decl.id
            decl.total_cents = sum(line.bedrag_cents for line in mine) + sum(
                line.signed_cents for line in pending
            )
            session.flush()
            session.expire(decl, ["lines"])
            made_decls.append(decl)
        # only the weeks the plugin declared a part of: a week it held back (care it could not
        # declare, reported in ``skipped``) comes back in the next run instead of counting as done
        counted = {
            (c.client_id, stacking.week_start(c.datum), line.legitimation_id)
            for line in lines
            for c in line.care
        }
        weeks = [
            w for w in chosen.weeks if (w.client_id, w.week_start, w.legitimation_id) in counted
        ]
        if weeks:
            _record_weeks(session, financier.financing, made_decls, weeks, user_id)
    except AlreadyExported as exc:
        raise DeclarationError(str(exc)) from exc
    except Exception as exc:
        if exports.is_unique_violation(exc):
            raise DeclarationError(str(AlreadyExported())) from exc
        raise
    return Prepared(made_decls[0], skipped, made_decls)


def _group_of_credit(session: Session, line: DeclarationLine) -> str | None:
    original = session.get(DeclarationLine, line.credit_of_id) if line.credit_of_id else None
    if original is not None and original.declaration is not None:
        return original.declaration.groep
    return None


# what a declaration line says about the care (the prestatie), the same on a plugin's LineDraft,
# a stored line and its credit
PRESTATIE_FIELDS = (
    "client_id",
    "legitimation_id",
    "product_id",
    "contract_line_id",
    "productcategorie",
    "productcode",
    "begindatum",
    "einddatum",
    "volume",
    "eenheid",
    "tarief_cents",
    "bedrag_cents",
)


def prestatie(line: LineDraft | DeclarationLine) -> dict:
    """The prestatie fields of a line draft or a line, to store a line or copy it as a credit."""
    return {name: getattr(line, name) for name in PRESTATIE_FIELDS}


def _store_lines(
    session: Session, decl: Declaration, lines: list[LineDraft], references: list[str], now
) -> None:
    """The lines (thousands: COPY on PostgreSQL) and the registration parts each counts."""
    rows = []
    for line, ref in zip(lines, references, strict=True):
        rows.append(
            dict(
                declaration_id=decl.id,
                financing=decl.financing,
                financier_id=decl.financier_id,
                **prestatie(line),
                debet_credit="D",
                referentie=ref,
                status=LINE_CONCEPT,
                registration_ids=sorted(
                    {c.registration_id for c in line.care if c.registration_id}
                ),
                retourcodes=[],
                toelichting=dict(line.toelichting),
                created_at=now,
                updated_at=now,
            )
        )
    bulk_insert(session, DeclarationLine, rows)
    ids = {
        ref: line_id
        for ref, line_id in session.execute(
            select(DeclarationLine.referentie, DeclarationLine.id).where(
                DeclarationLine.declaration_id == decl.id
            )
        )
    }
    exports.record_parts(
        session,
        EXPORT_DECLARATION,
        decl.financing,
        (
            (
                Part(
                    registration_id=c.registration_id,
                    client_id=line.client_id,
                    legitimation_id=line.legitimation_id,
                    datum=c.datum,
                    minutes=c.minutes or 0,
                    aantal=c.aantal or 0,
                ),
                ids[ref],
            )
            for line, ref in zip(lines, references, strict=True)
            for c in line.care
            if c.registration_id
        ),
    )


def _record_weeks(session, financing, declarations, weeks, user_id) -> None:
    """The stacked client-weeks these declarations count (the stacking service's record, so an
    export never counts a week twice); each week under the declaration holding its parts."""
    if len(declarations) == 1:  # the usual case: every week is the one declaration's
        stacking.record_export(
            session,
            EXPORT_DECLARATION,
            financing,
            weeks,
            reference=_export_reference(declarations[0]),
            user_id=user_id,
        )
        return
    owner: dict[tuple[int, date], int] = {}
    for decl in declarations:
        for client_id, wk in session.execute(
            select(DeclarationLine.client_id, DeclarationLine.begindatum).where(
                DeclarationLine.declaration_id == decl.id
            )
        ):
            owner.setdefault((client_id, stacking.week_start(wk)), decl.id)
    parts = session.execute(
        select(
            ExportPart.client_id,
            ExportPart.week_start,
            DeclarationLine.declaration_id,
        )
        .join(DeclarationLine, DeclarationLine.id == ExportPart.declaration_line_id)
        .where(DeclarationLine.declaration_id.in_([d.id for d in declarations]))
        .distinct()
    )
    for client_id, wk, decl_id in parts:
        owner.setdefault((client_id, wk), decl_id)
    for decl in declarations:
        mine = [w for w in weeks if owner.get((w.client_id, w.week_start)) == decl.id]
        if mine:
            stacking.record_export(
                session,
                EXPORT_DECLARATION,
                financing,
                mine,
                reference=_export_reference(decl),
                user_id=user_id,
            )


# --- 5. check, build, send ------------------------------------------------------------------------


def preview_issues(declaration: Declaration, hooks: Hooks) -> list[Issue]:
    return hooks.validate_declaration(declaration)


def submit(session: Session, declaration_id: int, hooks: Hooks, *, user_id: int | None = None):
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
    session.execute(
        update(DeclarationLine)
        .where(DeclarationLine.declaration_id == decl.id)
        .values(status=LINE_SENT)
        .execution_options(synchronize_session=False)
    )
    session.expire(decl, ["lines"])
    audit.record(
        session,
        "declaratie.ingediend",
        user_id=user_id,
        object_type="declaration",
        object_id=decl.id,
        detail={"nummer": decl.nummer},
    )
    return messages


# --- 6. the answer ------------------------------------------------------------------------------


@dataclass
class AnswerResult:
    summary: str
    needs_action: bool = False
    issues: list[Issue] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    declaration_id: int | None = None
    changed: bool = False


def _find(session: Session, financing: str | None, answer: DeclarationAnswer):
    where = [Declaration.financing == financing] if financing else []
    decl = None
    if answer.message_reference:
        decl = session.scalar(
            select(Declaration).where(
                *where, Declaration.message_reference == answer.message_reference
            )
        )
    if decl is None and answer.number:
        decl = session.scalar(
            select(Declaration).where(*where, Declaration.nummer == answer.number)
        )
    return decl


def apply_answer(
    session: Session, answer: DeclarationAnswer, *, financing: str | None = None
) -> AnswerResult:
    """Apply a financier's answer, as its plugin read it, to the declaration's lines.

    Lines the answer rejects (or all, for a rejection of the whole declaration) become
    ``afgewezen`` with their codes and release their parts, so the care can be corrected and
    declared again; awarded lines become ``toegekend``; an awarded credit makes its original
    ``gecrediteerd`` and releases the original's parts. An answer to no known declaration, to
    one that was already answered, or naming lines that were never sent in it, changes nothing
    and says so."""
    decl = _find(session, financing, answer)
    label = answer.number or answer.message_reference
    if decl is None:
        return AnswerResult(
            f"Antwoord op een onbekende declaratie ({label}); er is niets gewijzigd.",
            needs_action=True,
            issues=[Issue("onbekend", "Geen declaratie gevonden bij dit antwoord.", None)],
        )
    if decl.status in (DECL_ANSWERED, DECL_REJECTED):
        return AnswerResult(
            f"Antwoord op declaratie {decl.nummer} was al verwerkt; er is niets gewijzigd.",
            declaration_id=decl.id,
        )
    if decl.status != DECL_SENT:
        return AnswerResult(
            f"Antwoord op declaratie {decl.nummer}, die nog niet is verstuurd; er is niets "
            "gewijzigd.",
            needs_action=True,
            declaration_id=decl.id,
            issues=[Issue("niet-verstuurd", "Deze declaratie is nog niet verstuurd.", None)],
        )
    # only what an answer reads and writes (a line's JSON lists of registrations and notes are
    # not needed here: thousands of lines load much faster without them)
    lines = list(
        session.scalars(
            select(DeclarationLine)
            .where(DeclarationLine.declaration_id == decl.id)
            .options(
                load_only(
                    DeclarationLine.referentie,
                    DeclarationLine.status,
                    DeclarationLine.retourcodes,
                    DeclarationLine.credit_of_id,
                    DeclarationLine.client_id,
                    DeclarationLine.debet_credit,
                )
            )
            .order_by(DeclarationLine.id)
        )
    )
    by_ref = {line.referentie: line for line in lines}
    unknown = sorted({la.reference for la in answer.lines} - set(by_ref))
    if unknown:
        return AnswerResult(
            f"Het antwoord op declaratie {decl.nummer} noemt prestaties die nooit in deze "
            f"declaratie zijn verstuurd ({', '.join(unknown[:5])}); er is niets gewijzigd.",
            needs_action=True,
            declaration_id=decl.id,
            issues=[
                Issue("onbekend", f"Prestatie {ref} komt niet voor in de declaratie.", None)
                for ref in unknown
            ],
        )
    result = AnswerResult("", declaration_id=decl.id, changed=True)
    credited: list[int] = []  # originals of awarded credits
    if answer.rejected_whole:
        decl.status = DECL_REJECTED
        codes = [c.code for c in answer.codes]
        for line in lines:
            line.status, line.retourcodes = LINE_REJECTED, codes
        result.summary = f"Declaratie {decl.nummer} is afgekeurd: " + "; ".join(
            f"{c.code} {c.meaning}" for c in answer.codes
        )
        result.needs_action = True
        result.issues = [Issue(c.code, c.meaning, "declaratie") for c in answer.codes]
    else:
        decl.status = DECL_ANSWERED
        listed = {la.reference: la for la in answer.lines}
        awarded_ids, n_rejected = [], 0
        for line in lines:
            la = listed.get(line.referentie)
            if la is None and not answer.unlisted_awarded:
                continue  # the answer says nothing about it: it stays as sent
            if la is not None and not la.awarded:
                line.status, line.retourcodes = LINE_REJECTED, [c.code for c in la.codes]
                n_rejected += 1
                for c in la.codes:
                    result.issues.append(
                        Issue(c.code, f"Prestatie {line.referentie}: {c.meaning}", "prestatie")
                    )
                continue
            if la is not None and la.codes:
                line.retourcodes = [c.code for c in la.codes]
            awarded_ids.append(line.id)
            if line.credit_of_id:
                original = session.get(DeclarationLine, line.credit_of_id)
                if original is not None:
                    original.status = LINE_CREDITED
                    credited.append(original.id)
        session.flush()
        for i in range(0, len(awarded_ids), 1000):  # one statement per thousand lines
            session.execute(
                update(DeclarationLine)
                .where(DeclarationLine.id.in_(awarded_ids[i : i + 1000]))
                .values(status=LINE_AWARDED)
                .execution_options(synchronize_session=False)
            )
        session.expire(decl, ["lines"])
        awarded = set(awarded_ids)
        for line in lines:
            if line.id in awarded:
                session.expire(line, ["status"])
        if n_rejected:
            result.summary = (
                f"Declaratie {decl.nummer}: {len(lines) - n_rejected} prestaties toegekend, "
                f"{n_rejected} afgewezen."
            )
            result.needs_action = True
        else:
            result.summary = f"Declaratie {decl.nummer} is volledig toegekend."
    decl.awarded_cents = answer.awarded_total_cents
    decl.retourcodes = [c.code for c in answer.codes]
    decl.answer_reference = answer.reference
    decl.answered_at = utcnow()
    session.flush()
    # this declaration's rejected debet lines, in one statement; originals of awarded credits
    _release(
        session,
        select(DeclarationLine.id).where(
            DeclarationLine.declaration_id == decl.id,
            DeclarationLine.status == LINE_REJECTED,
            DeclarationLine.debet_credit == "D",
        ),
    )
    _release(session, credited)
    result.client_ids = sorted({line.client_id for line in lines})
    return result


def _release(session: Session, line_ids: list[int] | Select) -> None:
    """Parts of these lines may be exported again; so may the stacked weeks they were in."""
    weeks = exports.release(session, declaration_line_ids=line_ids)
    if weeks:
        by_financing: dict[str, list[tuple[int, date]]] = defaultdict(list)
        for financing, client_id, wk in weeks:
            by_financing[financing].append((client_id, wk))
        for financing, client_weeks in by_financing.items():
            stacking.release_weeks(session, financing, client_weeks)


def apply_outcome(session: Session, outcome: ParseOutcome | None) -> ParseOutcome | None:
    """Apply the declaration answer a plugin read (``ParseOutcome.declaration_answer``) and say
    what it did in the outcome (summary, issues, clients). Called where incoming messages are
    processed; other outcomes pass through unchanged."""
    if outcome is None or outcome.declaration_answer is None:
        return outcome
    result = apply_answer(session, outcome.declaration_answer)
    outcome.summary = result.summary
    outcome.needs_action = outcome.needs_action or result.needs_action
    outcome.issues = list(outcome.issues) + result.issues
    outcome.client_ids = sorted(set(outcome.client_ids) | set(result.client_ids))
    return outcome


# --- 7. follow-ups --------------------------------------------------------------------------------


def credit_line(line: DeclarationLine, reference: str) -> DeclarationLine:
    """The one helper that copies a line as its credit: the same prestatie, ``C``, a new
    reference, pointing at the original; it joins the next declaration to that financier."""
    return DeclarationLine(
        financing=line.financing,
        financier_id=line.financier_id,
        **prestatie(line),
        debet_credit="C",
        referentie=reference,
        credit_of_id=line.id,
        status=LINE_CONCEPT,
        registration_ids=[],
        retourcodes=[],
        toelichting={},
    )


def credit(
    session: Session, line_ids: Iterable[int], hooks: Hooks, *, user_id: int | None = None
) -> list[DeclarationLine]:
    """Credit lines for awarded debet lines; they join the next declaration to that financier.
    The original's parts are released when the financier awards the credit."""
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
        copy = credit_line(line, hooks.credit_reference(line, session))
        session.add(copy)
        session.flush()  # the next credit's reference sees this one
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


def open_rejected() -> tuple:
    """Rejected lines that still need a fix: no follow-up chosen for them (corrected, moved to
    particulier) and no later line for the same client, legitimation,
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
    return (
        DeclarationLine.status == LINE_REJECTED,
        DeclarationLine.vervolg.is_(None),  # a follow-up was chosen (portal.services.followups)
        ~sent.exists(),
    )


def rejected_lines(
    session: Session, financing: str | None = None, limit: int = 500
) -> list[DeclarationLine]:
    """Rejected lines still to be fixed (corrected and re-declared, or left alone), newest first."""
    stmt = select(DeclarationLine).where(*open_rejected())
    if financing:
        stmt = stmt.where(DeclarationLine.financing == financing)
    return list(session.scalars(stmt.order_by(DeclarationLine.id.desc()).limit(limit)))


def count_rejected(session: Session, financing: str | None = None) -> int:
    """How many rejected lines (of ``financing``, or of all) still need a fix."""
    stmt = select(func.count(DeclarationLine.id)).where(*open_rejected())
    if financing:
        stmt = stmt.where(DeclarationLine.financing == financing)
    return session.scalar(stmt) or 0
