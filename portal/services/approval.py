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

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import ApprovalRun, Client, Registration, StackExportWeek
from portal.models._base import utcnow
from portal.models.registration import REG_APPROVED, REG_CONCEPT, REG_CREDITED
from portal.services import audit, stacking
from portal.services.stacking import exports

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


@dataclass
class Preview:
    filters: Filters
    lines: list[Line]
    problems: list[str]  # period errors: nothing can be approved

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def with_warnings(self) -> list[Line]:
        return [ln for ln in self.lines if ln.warnings]

    @property
    def minutes(self) -> int:
        return sum(ln.minutes or 0 for ln in self.lines)


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
    if f.team:
        conds.append(Registration.client_id.in_(select(Client.id).where(Client.team == f.team)))
    return conds


def _concept_rows(session: Session, f: Filters):
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
    return session.execute(
        q.order_by(Registration.client_id, Registration.datum, Registration.starttijd)
    )


def preview(session: Session, f: Filters) -> Preview:
    """The concept registrations of the period (and filters), each with its warnings."""
    problems = period_problems(session, f.start, f.end)
    if problems:
        return Preview(f, [], problems)
    rows = list(_concept_rows(session, f))
    client_ids = sorted({r.client_id for r in rows})
    ws, we = stacking.week_start(f.start), stacking.week_start(f.end) + timedelta(days=6)
    ctx = stacking.allocation._Context(
        session,
        ws,
        we,
        client_ids if len(client_ids) < 5000 else None,
        stacking.allocation._default_stackable(),
    )
    product_uursoort = {pid: u for pid, (_t, u) in ctx.products.items()}
    lines: list[Line] = []
    # per client-week: minutes per top legitimation (non-stacked) / per stack (stacked)
    load: dict[tuple[int, date, int], int] = defaultdict(int)
    stack_room: dict[tuple[int, date, int], int] = {}
    line_stack: list[tuple[Line, tuple[int, date, int] | None, bool]] = []
    already = _approved_minutes(session, client_ids, ws, we, ctx, product_uursoort)
    no_legit: list[Line] = []
    week_of: dict[date, date] = {}
    stack_for = ctx.stack_for
    for rid, cid, eid, pid, uid, day, start, minutes, aantal in rows:
        levels, stacked = stack_for(cid, pid, uid or product_uursoort.get(pid), day)
        top = levels[0] if levels else None
        financing = top.financing if top is not None else None
        if f.financing and financing != f.financing:
            continue
        line = Line(rid, cid, eid, pid, day, start, minutes, aantal, financing, [])
        if top is None:
            no_legit.append(line)
        key = None
        if top is not None and minutes:
            wk = week_of.get(day)
            if wk is None:
                wk = week_of[day] = stacking.week_start(day)
            key = (cid, wk, top.id)
            load[key] += minutes
            if key not in stack_room:
                room = sum(lg.cap for lg in levels) if stacked else top.cap
                stack_room[key] = min(room, stacking.allocation._INF)
        line_stack.append((line, key, stacked))
        lines.append(line)
    _no_legitimation_warnings(session, no_legit)
    messages: dict[tuple[int, date, int], str | None] = {}
    for line, key, stacked in line_stack:
        if key is None:
            continue
        if key not in messages:
            messages[key] = _volume_message(
                key, load[key] + already.get(key, 0), stack_room[key], stacked
            )
        if messages[key]:
            line.warnings.append(messages[key])
    _overlap_warnings(session, lines)
    return Preview(f, lines, [])


def _no_legitimation_warnings(session: Session, lines: list[Line]) -> None:
    """The warning saved with the registration (or a general one) for lines without cover."""
    saved: dict[int, str] = {}
    ids = [ln.registration_id for ln in lines]
    for i in range(0, len(ids), 1000):
        for rid, warnings in session.execute(
            select(Registration.id, Registration.waarschuwingen).where(
                Registration.id.in_(ids[i : i + 1000])
            )
        ):
            msg = next((w.get("message") for w in warnings or [] if w.get("message")), None)
            if msg:
                saved[rid] = msg
    for ln in lines:
        ln.warnings.append(
            saved.get(ln.registration_id)
            or "Geen geldige legitimatie voor deze cliënt en dit product op deze datum."
        )


def _volume_message(key, total: int, room: int, stacked: bool) -> str | None:
    if room >= stacking.allocation._INF or total <= room:
        return None
    over = stacking.minutes_label(total - room)
    week = stacking.iso_week_label(key[1])
    if stacked:
        return (
            f"In week {week} is meer zorg geleverd dan alle gestapelde legitimaties samen "
            f"toestaan: {over} uur is niet gedekt."
        )
    return f"In week {week} gaat de zorg {over} uur boven het volume van de legitimatie."


def _approved_minutes(session, client_ids, ws, we, ctx, product_uursoort):
    """Minutes already approved in the weeks, per (client, week, top legitimation)."""
    out: dict[tuple[int, date, int], int] = defaultdict(int)
    if not client_ids:
        return out
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
    for cid, pid, uid, day, minutes in session.execute(q):
        levels, _stacked = ctx.stack_for(cid, pid, uid or product_uursoort.get(pid), day)
        if levels:
            out[(cid, stacking.week_start(day), levels[0].id)] += minutes
    return out


def _overlap_warnings(session: Session, lines: list[Line]) -> None:
    """Same employee or same client, overlapping time on one day (one sorted pass each)."""
    timed = [
        (ln.starttijd.hour * 60 + ln.starttijd.minute, ln)
        for ln in lines
        if ln.starttijd is not None and ln.minutes
    ]
    for kind, attr in (("medewerker", "employee_id"), ("cliënt", "client_id")):
        timed.sort(key=lambda t, attr=attr: (getattr(t[1], attr), t[1].datum, t[0]))
        group_key = None
        end_prev, prev = -1, None
        for begin, ln in timed:
            key = (getattr(ln, attr), ln.datum)
            if key != group_key:
                group_key, end_prev, prev = key, -1, None
            if prev is not None and begin < end_prev:
                msg = (
                    f"Overlapt in tijd met een andere registratie voor dezelfde {kind} "
                    f"(vanaf {prev.starttijd:%H:%M})."
                )
                for x in (prev, ln):
                    if msg not in x.warnings:
                        x.warnings.append(msg)
            end = begin + ln.minutes
            if end > end_prev:
                end_prev, prev = end, ln


def approve(
    session: Session, f: Filters, *, user_id: int | None, token: str | None = None
) -> ApprovalRun:
    """Freeze the concept registrations of the period. Raises ApprovalError (Dutch)."""
    if token:
        existing = session.scalar(select(ApprovalRun).where(ApprovalRun.token == token))
        if existing is not None:
            return existing  # a double click: the first one did it
    pv = preview(session, f)
    if pv.problems:
        raise ApprovalError(pv.problems[0])
    if not pv.lines:
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
        aantal_waarschuwingen=len(pv.with_warnings),
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
        ids = [ln.registration_id for ln in pv.lines]
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
            .where(
                *_concept_filter(f), Registration.id <= max(ln.registration_id for ln in pv.lines)
            )
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
    "approve",
    "credit",
    "period_problems",
    "preview",
    "runs",
    "withdraw",
    "withdraw_problems",
]
