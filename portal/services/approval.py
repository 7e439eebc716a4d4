"""Fiatteren: approving the registrations of a period; withdrawing; crediting after export.

- ``preview`` shows what an approval would freeze, with every warning: no legitimation, above the
  legitimation's weekly volume (or beyond the whole stack: "niet gedekt"), overlapping time.
- ``approve`` freezes the concept registrations of the period (set-based); a one-time token from
  the form makes a double click harmless.
- ``withdraw`` puts an approval back to concept while nothing of it is exported or declared.
- ``credit`` is the only correction after export: a credit row (negated) pointing at the original,
  which becomes ``gecrediteerd``; the stacking export plan then offers the week as changed.

With stacking active (a stack rule exists) a period must run Monday through Sunday (DESIGN §6.8).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import ApprovalRun, Client, Registration, StackExportWeek
from portal.models._base import utcnow
from portal.models.registration import REG_APPROVED, REG_CONCEPT, REG_CREDITED
from portal.services import audit, stacking
from portal.services.stacking import exports

if TYPE_CHECKING:
    from portal.plugins import Hooks

DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]


class ApprovalError(ValueError):
    """Refused, with the reason in plain Dutch."""


@dataclass
class Filters:
    start: date
    end: date
    team: str | None = None
    financing: str | None = None
    client_id: int | None = None
    # registrations the user left out of this approval (they stay concept)
    exclude: frozenset[int] = frozenset()

    def as_dict(self) -> dict:
        return {
            "team": self.team,
            "financing": self.financing,
            "client_id": self.client_id,
        }


@dataclass(slots=True)
class Line:
    registration_id: int
    client_id: int
    employee_id: int
    product_id: int
    datum: date
    starttijd: time | None
    minutes: int | None
    aantal: int | None
    financing: str | None
    warnings: list[str] = field(default_factory=list)


class Preview:
    """What an approval would freeze. The lines are built on first use: a month of a whole
    organisation is hundreds of thousands of them, and approving only needs the counts."""

    def __init__(
        self,
        filters: Filters,
        rows: list[tuple],
        financings: list[str | None],
        warnings: list[list[str] | None],
        problems: list[str],  # period errors: nothing can be approved
    ):
        self.filters = filters
        self.problems = problems
        self._rows = (
            rows  # (id, client, employee, product, uursoort, datum, start, minutes, aantal)
        )
        self._financings = financings
        self._warnings = warnings
        self._lines: list[Line] | None = None

    @property
    def lines(self) -> list[Line]:
        if self._lines is None:
            self._lines = [
                Line(rid, cid, eid, pid, day, start, minutes, aantal, fin, list(warn or ()))
                for (rid, cid, eid, pid, _uid, day, start, minutes, aantal), fin, warn in zip(
                    self._rows, self._financings, self._warnings, strict=True
                )
            ]
        return self._lines

    @property
    def count(self) -> int:
        return len(self._rows)

    @property
    def warned(self) -> int:
        """How many lines carry a warning."""
        return sum(1 for warn in self._warnings if warn)

    @property
    def with_warnings(self) -> list[Line]:
        return [ln for ln in self.lines if ln.warnings]

    @property
    def minutes(self) -> int:
        return sum(row[7] or 0 for row in self._rows)

    @property
    def registration_ids(self) -> list[int]:
        return [row[0] for row in self._rows]


@dataclass(frozen=True)
class WeekChoice:
    """A whole-week period offered instead of one that is not (Monday to Sunday)."""

    start: date
    end: date
    label: str
    nearest: bool = False

    @property
    def weeks(self) -> int:
        return ((self.end - self.start).days + 1) // 7


def whole_week_choices(start: date, end: date) -> list[WeekChoice]:
    """The whole-week periods nearest to ``start``–``end``: the weeks that lie inside it and
    the weeks around it. The one that moves the fewest days is marked ``nearest``."""
    if end < start or (start.weekday() == 0 and end.weekday() == 6):
        return []
    inner_start = start + timedelta(days=(7 - start.weekday()) % 7)
    inner_end = end - timedelta(days=(end.weekday() + 1) % 7)
    outer_start = start - timedelta(days=start.weekday())
    outer_end = end + timedelta(days=6 - end.weekday())
    choices = []
    if inner_start <= inner_end:
        moved = (inner_start - start).days + (end - inner_end).days
        choices.append((moved, WeekChoice(inner_start, inner_end, "Alleen de hele weken erbinnen")))
    if (outer_start, outer_end) != (start, end):
        moved = (start - outer_start).days + (outer_end - end).days
        choices.append((moved, WeekChoice(outer_start, outer_end, "Uitgebreid tot hele weken")))
    if not choices:
        return []
    best = min(moved for moved, _c in choices)
    marked, out = False, []
    for moved, choice in choices:
        if moved == best and not marked:
            choice = WeekChoice(choice.start, choice.end, choice.label, nearest=True)
            marked = True
        out.append(choice)
    return out


def warning_summary(pv: Preview, top: int = 5) -> list[tuple[str, int]]:
    """The preview's warnings counted per kind (the text without its figures), most frequent
    first: what a confirmation shows before approving."""
    counts: dict[str, int] = defaultdict(int)
    for warn in pv._warnings:
        for text in warn or ():
            kind = re.split(r"[:(\d]", text, maxsplit=1)[0].strip().rstrip(",;.") or text
            counts[kind] += 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


def period_problems(session: Session, start: date, end: date) -> list[str]:
    problems = []
    if end < start:
        problems.append("De einddatum ligt vóór de begindatum.")
        return problems
    if stacking.stacking_active(session):
        wrong = []
        if start.weekday() != 0:
            monday = stacking.week_start(start)
            wrong.append(
                f"de periode begint op {DAYS[start.weekday()]} {start:%d-%m-%Y}; de week "
                f"begint op maandag {monday:%d-%m-%Y}"
            )
        if end.weekday() != 6:
            sunday = stacking.week_start(end) + timedelta(days=6)
            wrong.append(
                f"de periode eindigt op {DAYS[end.weekday()]} {end:%d-%m-%Y}; week "
                f"{end.isocalendar()[1]} loopt door tot en met zondag {sunday:%d-%m-%Y}"
            )
        if wrong:
            problems.append(
                "Gestapeld financieren staat aan. Een legitimatie geldt per week, dus fiatteren "
                "gaat per hele week (maandag tot en met zondag): "
                + " en ".join(wrong)
                + ". Anders zou dezelfde week twee keer worden opgevuld en gaat er bijvoorbeeld "
                "4 uur naar de Wlz terwijl er 2 uur Wlz en 2 uur particulier geleverd is. Kies "
                "een periode van hele weken."
            )
    return problems


def _concept_filter(f: Filters) -> list:
    conds = [
        Registration.status == REG_CONCEPT,
        Registration.credit_of_id.is_(None),
        Registration.datum >= f.start,
        Registration.datum <= f.end,
    ]
    if f.client_id:
        conds.append(Registration.client_id == f.client_id)
    if f.exclude:
        conds.append(Registration.id.not_in(sorted(f.exclude)))
    if f.team:
        conds.append(Registration.client_id.in_(select(Client.id).where(Client.team == f.team)))
    return conds


def _concept_rows(session: Session, f: Filters) -> Sequence[Row]:
    q = select(
        Registration.id,
        Registration.client_id,
        Registration.employee_id,
        Registration.product_id,
        Registration.uursoort_id,
        Registration.datum,
        Registration.starttijd,
        Registration.duur_minuten,
        Registration.aantal,
    ).where(*_concept_filter(f))
    q = q.order_by(Registration.client_id, Registration.datum, Registration.starttijd)
    # plain rows through the Core connection, fetched at once: the ORM's per-row machinery
    # costs more than the whole preview on a month of an organisation
    return session.connection().execute(q).all()


def preview(session: Session, f: Filters, hooks: Hooks) -> Preview:
    """The concept registrations of the period (and filters), each with its warnings."""
    problems = period_problems(session, f.start, f.end)
    if problems:
        return Preview(f, [], [], [], problems)
    rows = _concept_rows(session, f)
    client_ids = sorted({r[1] for r in rows})
    capacity = stacking.Capacity(
        session,
        start=f.start,
        end=f.end,
        client_ids=client_ids if len(client_ids) < 5000 else None,
        stackable=stacking.can_stack(hooks),
    )
    stack_of = capacity.stack
    kept: list[tuple] = []
    financings: list[str | None] = []
    keys: list[tuple[int, date, int] | None] = []  # (client, week, top legitimation) per line
    no_legit: list[int] = []
    # per client-week and top legitimation: minutes, and what the stack holds in a week
    load: dict[tuple[int, date, int], int] = defaultdict(int)
    room: dict[tuple[int, date, int], tuple[int | None, bool]] = {}
    week_of: dict[date, date] = {}
    for row in rows:
        _rid, cid, _eid, pid, uid, day, _start, minutes, _aantal = row
        stack = stack_of(cid, pid, uid, day)
        top = stack.top
        financing = top.financing if top is not None else None
        if f.financing and financing != f.financing:
            continue
        key = None
        if top is None:
            no_legit.append(len(kept))
        elif minutes:
            wk = week_of.get(day)
            if wk is None:
                wk = week_of[day] = stacking.week_start(day)
            key = (cid, wk, top.legitimation_id)
            load[key] += minutes
            if key not in room:
                room[key] = (stack.weekly_room, stack.stacked)
        kept.append(row)
        financings.append(financing)
        keys.append(key)
    warnings: list[list[str] | None] = [None] * len(kept)
    for i, msg in zip(no_legit, _no_legitimation_messages(session, kept, no_legit), strict=True):
        warnings[i] = [msg]
    already = _approved_minutes(session, client_ids, f, capacity)
    messages = {
        key: _volume_message(key, load[key] + already.get(key, 0), weekly, stacked)
        for key, (weekly, stacked) in room.items()
    }
    for i, key in enumerate(keys):
        if key is not None:
            msg = messages[key]
            if msg:
                if warnings[i] is None:
                    warnings[i] = [msg]
                else:
                    warnings[i].append(msg)
    _overlap_warnings(kept, warnings)
    return Preview(f, kept, financings, warnings, [])


def _no_legitimation_messages(session: Session, rows: list[tuple], idx: list[int]) -> list[str]:
    """The warning saved with each registration (or a general one) for lines without cover."""
    saved: dict[int, str] = {}
    ids = [rows[i][0] for i in idx]
    for i in range(0, len(ids), 1000):
        for rid, warnings in session.execute(
            select(Registration.id, Registration.waarschuwingen).where(
                Registration.id.in_(ids[i : i + 1000])
            )
        ):
            msg = next((w.get("message") for w in warnings or [] if w.get("message")), None)
            if msg:
                saved[rid] = msg
    general = "Geen geldige legitimatie voor deze cliënt en dit product op deze datum."
    return [saved.get(rid) or general for rid in ids]


def _volume_message(key, total: int, room: int | None, stacked: bool) -> str | None:
    if room is None or total <= room:
        return None
    over = stacking.minutes_label(total - room)
    week = stacking.iso_week_label(key[1])
    if stacked:
        return (
            f"In week {week} is meer zorg geleverd dan alle gestapelde legitimaties samen "
            f"toestaan: {over} uur is niet gedekt."
        )
    return f"In week {week} gaat de zorg {over} uur boven het volume van de legitimatie."


def _approved_minutes(session, client_ids, f: Filters, capacity) -> dict:
    """Minutes already approved in the weeks, per (client, week, top legitimation)."""
    out: dict[tuple[int, date, int], int] = defaultdict(int)
    if not client_ids:
        return out
    ws, we = stacking.week_start(f.start), stacking.week_start(f.end) + timedelta(days=6)
    q = select(
        Registration.client_id,
        Registration.product_id,
        Registration.uursoort_id,
        Registration.datum,
        Registration.duur_minuten,
    ).where(
        Registration.status == REG_APPROVED,
        Registration.credit_of_id.is_(None),
        Registration.datum >= ws,
        Registration.datum <= we,
        Registration.duur_minuten.is_not(None),
    )
    if len(client_ids) < 5000:
        q = q.where(Registration.client_id.in_(client_ids))
    stack_of = capacity.stack
    for cid, pid, uid, day, minutes in session.connection().execute(q).all():
        top = stack_of(cid, pid, uid, day).top
        if top is not None:
            out[(cid, stacking.week_start(day), top.legitimation_id)] += minutes
    return out


def _overlap_warnings(rows: list[tuple], warnings: list[list[str] | None]) -> None:
    """Same employee or same client, overlapping time on one day (one sorted pass each)."""
    timed = [
        (r[5], r[6].hour * 60 + r[6].minute, r[2], r[1], i)
        for i, r in enumerate(rows)
        if r[6] is not None and r[7]
    ]
    for kind, by_employee in (("medewerker", True), ("cliënt", False)):
        # (who, day, begin) and then the order the rows came in: plain tuples sort in C
        if by_employee:
            order = sorted((e, day, begin, i) for day, begin, e, _c, i in timed)
        else:
            order = sorted((c, day, begin, e, i) for day, begin, e, c, i in timed)
        group_key = None
        end_prev, prev = -1, None
        for item in order:
            who, day, begin, i = item[0], item[1], item[2], item[-1]
            if (who, day) != group_key:
                group_key, end_prev, prev = (who, day), -1, None
            if prev is not None and begin < end_prev:
                msg = (
                    f"Overlapt in tijd met een andere registratie voor dezelfde {kind} "
                    f"(vanaf {rows[prev][6]:%H:%M})."
                )
                for x in (prev, i):
                    if warnings[x] is None:
                        warnings[x] = [msg]
                    elif msg not in warnings[x]:
                        warnings[x].append(msg)
            end = begin + rows[i][7]
            if end > end_prev:
                end_prev, prev = end, i


def approve(
    session: Session, f: Filters, hooks: Hooks, *, user_id: int | None, token: str | None = None
) -> ApprovalRun:
    """Freeze the concept registrations of the period. Raises ApprovalError (Dutch)."""
    if token:
        existing = session.scalar(select(ApprovalRun).where(ApprovalRun.token == token))
        if existing is not None:
            return existing  # a double click: the first one did it
    if f.exclude and stacking.stacking_active(session):
        raise ApprovalError(
            "Gestapeld financieren staat aan: een week wordt in zijn geheel gefiatteerd, dus "
            "registraties uitsluiten kan niet. Corrigeer of verwijder de registratie en fiatteer "
            "dan de hele week."
        )
    pv = preview(session, f, hooks)
    if pv.problems:
        raise ApprovalError(pv.problems[0])
    if not pv.count:
        raise ApprovalError("Er zijn geen registraties om te fiatteren in deze periode.")
    run = ApprovalRun(
        periode_start=f.start,
        periode_eind=f.end,
        team=f.team,
        financing=f.financing,
        client_id=f.client_id,
        filters=f.as_dict(),
        created_by=user_id,
        token=token,
        aantal=0,
        aantal_waarschuwingen=pv.warned,
        minuten=pv.minutes,
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ApprovalError("Deze fiattering is al uitgevoerd.") from exc
    done = 0
    if f.financing:
        ids = pv.registration_ids
        for i in range(0, len(ids), 5000):
            res = session.execute(
                update(Registration)
                .where(Registration.id.in_(ids[i : i + 5000]), Registration.status == REG_CONCEPT)
                .values(status=REG_APPROVED, approval_run_id=run.id, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            done += res.rowcount or 0
    else:
        # The same selection as the preview, in one statement; rows registered after the
        # preview was read (higher ids) wait for the next approval.
        res = session.execute(
            update(Registration)
            .where(*_concept_filter(f), Registration.id <= max(pv.registration_ids))
            .values(status=REG_APPROVED, approval_run_id=run.id, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        done = res.rowcount or 0
    run.aantal = done
    audit.record(
        session,
        "approval.approved",
        user_id=user_id,
        object_type="approval_run",
        object_id=run.id,
        detail={
            "periode": [f.start.isoformat(), f.end.isoformat()],
            "filters": f.as_dict(),
            "uitgesloten": sorted(f.exclude),
            "aantal": done,
            "waarschuwingen": run.aantal_waarschuwingen,
        },
    )
    session.commit()
    session.expire_all()  # the bulk update bypassed the identity map
    return run


def withdraw_problems(session: Session, run: ApprovalRun) -> str | None:
    if run.withdrawn:
        return "Deze fiattering is al ingetrokken."
    declared = session.scalar(
        select(Registration.id)
        .where(Registration.approval_run_id == run.id, ~exports.not_exported())
        .limit(1)
    )
    weeks = {
        (cid, stacking.week_start(day))
        for cid, day in session.execute(
            select(Registration.client_id, Registration.datum)
            .where(Registration.approval_run_id == run.id)
            .distinct()
        )
    }
    exported = None
    if weeks:
        starts = sorted({w for _c, w in weeks})
        exported = next(
            (
                key
                for key in session.execute(
                    select(StackExportWeek.client_id, StackExportWeek.week_start).where(
                        StackExportWeek.active.is_(True),
                        StackExportWeek.week_start >= starts[0],
                        StackExportWeek.week_start <= starts[-1],
                        StackExportWeek.client_id.in_(sorted({c for c, _w in weeks})),
                    )
                )
                if tuple(key) in weeks
            ),
            None,
        )
    if declared is not None or exported is not None:
        return (
            "Een deel van deze registraties is al gedeclareerd of gefactureerd. Intrekken kan "
            "dan niet meer; corrigeer met een creditregel."
        )
    return None


def withdraw(session: Session, run_id: int, *, user_id: int | None) -> ApprovalRun:
    run = session.get(ApprovalRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise ApprovalError("Deze fiattering bestaat niet.")
    problem = withdraw_problems(session, run)
    if problem:
        raise ApprovalError(problem)
    res = session.execute(
        update(Registration)
        .where(Registration.approval_run_id == run.id, Registration.status == REG_APPROVED)
        .values(status=REG_CONCEPT, approval_run_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    run.status = "ingetrokken"
    run.ingetrokken_at = utcnow()
    run.ingetrokken_by = user_id
    audit.record(
        session,
        "approval.withdrawn",
        user_id=user_id,
        object_type="approval_run",
        object_id=run.id,
        detail={"aantal": res.rowcount or 0},
    )
    session.commit()
    session.expire_all()
    return run


def credit(
    session: Session, registration_id: int, *, user_id: int | None, reden: str
) -> Registration:
    """Reverse an approved registration that has been exported: the only correction then."""
    original = session.get(
        Registration, registration_id, with_for_update=True, populate_existing=True
    )
    if original is None or original.credit_of_id is not None:
        raise ApprovalError("Deze registratie kan niet gecrediteerd worden.")
    if original.status == REG_CREDITED:
        raise ApprovalError("Deze registratie is al gecrediteerd.")
    if original.status != REG_APPROVED:
        raise ApprovalError("Alleen een gefiatteerde registratie kan gecrediteerd worden.")
    if not (reden or "").strip():
        raise ApprovalError("Geef een reden voor de creditering.")
    credit_row = Registration(
        client_id=original.client_id,
        product_id=original.product_id,
        uursoort_id=original.uursoort_id,
        employee_id=original.employee_id,
        datum=original.datum,
        starttijd=original.starttijd,
        duur_minuten=-original.duur_minuten if original.duur_minuten is not None else None,
        aantal=-original.aantal if original.aantal is not None else None,
        opmerking=original.opmerking,
        status=REG_APPROVED,
        approval_run_id=None,  # a credit is never put back to concept by a withdrawal
        bron=original.bron,
        waarschuwingen=[],
        credit_of_id=original.id,
        credit_reden=reden.strip(),
    )
    original.status = REG_CREDITED
    session.add(credit_row)
    session.flush()
    audit.record(
        session,
        "registration.credited",
        user_id=user_id,
        object_type="registration",
        object_id=original.id,
        client_id=original.client_id,
        detail={"credit_id": credit_row.id, "reden": reden.strip()},
    )
    session.commit()
    return credit_row


def runs(session: Session, limit: int = 20) -> list[ApprovalRun]:
    return list(session.scalars(select(ApprovalRun).order_by(ApprovalRun.id.desc()).limit(limit)))


__all__ = [
    "ApprovalError",
    "Filters",
    "Preview",
    "WeekChoice",
    "approve",
    "credit",
    "period_problems",
    "preview",
    "runs",
    "warning_summary",
    "whole_week_choices",
    "withdraw",
    "withdraw_problems",
]
