"""Export records (DESIGN §6.7–6.8): what each financial export counted — per week, and per
part of a registration.

Per part (model ``ExportPart``): every declaration line and every invoice line records the
registration parts it counted. One active row per (registration, legitimation) is a unique index,
so "exported once" holds even for two runs at the same moment: the second run's insert fails and
it is refused with a Dutch message (:class:`AlreadyExported`). A credit, a rejection or a
replaced concept releases exactly the parts of its own line (:func:`release`).

Never counting a week twice (§6.8): ``record_export`` stores, per export, the (financing, client,
week) it counted, with one *active* row per (financing, client, week) enforced by a unique index.
``export_plan`` splits the weeks of a period into ``new`` (never exported for that financing),
``unchanged`` (already exported with the same result: skip) and ``changed`` (exported, but the
whole-week recomputation now differs, e.g. registrations approved later: the export must credit
the earlier week and send the recomputed whole week, then call ``record_export(...,
replace=True)``). Recording a week that is already actively exported without ``replace`` raises
``WeekAlreadyExported``. The week-5 example therefore comes out 2 h Wlz + 2 h particulier whatever
order the January and February exports run in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, and_, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from portal.db import bulk_insert
from portal.models import (
    ExportPart,
    Registration,
    StackExport,
    StackExportWeek,
)
from portal.models._base import utcnow
from portal.models.export import EXPORT_DECLARATION as EXPORT_DECLARATION
from portal.models.export import EXPORT_INVOICE as EXPORT_INVOICE
from portal.models.export import EXPORT_MOVED as EXPORT_MOVED
from portal.services.stacking.allocation import Allocation, StackResult, WeekTotal, allocate
from portal.services.stacking.weeks import iso_week_label, week_start

if TYPE_CHECKING:
    from portal.plugins import Hooks


class WeekAlreadyExported(RuntimeError):
    """A (financing, client, week) is already counted by an earlier export."""

    def __init__(self, weeks: list[tuple[str, int, date]]):
        self.weeks = weeks
        first = weeks[0]
        super().__init__(
            f"Week {iso_week_label(first[2])} van cliënt {first[1]} is al geëxporteerd voor "
            f"{first[0]}; een week wordt nooit twee keer meegeteld."
        )


# -- exports: never count a week twice ----------------------------------------------------------


@dataclass
class ExportPlan:
    financing: str
    new: list[WeekTotal]  # never exported for this financing: export these
    unchanged: list[WeekTotal]  # already exported with this result: skip
    changed: list[tuple[WeekTotal, int]]  # (recomputed week, minutes exported before)
    allocations: list[Allocation]  # the allocations behind ``new`` and ``changed``
    result: StackResult


def exported_weeks(
    session: Session, financing: str, client_ids: Iterable[int] | None = None
) -> dict[tuple[int, date], tuple[int, int]]:
    """(client, week) -> (minutes, aantal) of the active exported weeks of a financing."""
    q = select(
        StackExportWeek.client_id,
        StackExportWeek.week_start,
        StackExportWeek.minutes,
        StackExportWeek.aantal,
    ).where(StackExportWeek.financing == financing, StackExportWeek.active.is_(True))
    if client_ids is not None:
        q = q.where(StackExportWeek.client_id.in_(list(client_ids)))
    return {(c, w): (m, a) for c, w, m, a in session.execute(q)}


def export_plan(
    session: Session,
    *,
    hooks: Hooks,
    financing: str,
    start: date,
    end: date,
    client_ids: Iterable[int] | None = None,
) -> ExportPlan:
    if client_ids is not None:
        client_ids = list(client_ids)
    result = allocate(session, hooks=hooks, start=start, end=end, client_ids=client_ids)
    done = exported_weeks(session, financing, client_ids)
    # one WeekTotal per (client, week) for this financing (several legitimations are summed)
    merged: dict[tuple[int, date], list[WeekTotal]] = defaultdict(list)
    for w in result.week_totals:
        if w.financing == financing:
            merged[(w.client_id, w.week_start)].append(w)
    new, unchanged, changed = [], [], []
    take: set[tuple[int, date]] = set()
    for key, totals in merged.items():
        minutes = sum(t.minutes for t in totals)
        qty = sum(t.aantal for t in totals)
        if key not in done:
            new.extend(totals)
            take.add(key)
        elif done[key] == (minutes, qty):
            unchanged.extend(totals)
        else:
            for t in totals:
                changed.append((t, done[key][0]))
            take.add(key)
    # exported weeks that have nothing left now (all credited): they changed to zero
    looked_at = set(result.weeks) | {
        week_start(start) + timedelta(weeks=i)
        for i in range((week_start(end) - week_start(start)).days // 7 + 1)
    }
    for (c, w), (m, a) in done.items():
        if w in looked_at and (c, w) not in merged and (m or a):
            changed.append((WeekTotal(c, w, None, financing, 0, 0, 0), m))
            take.add((c, w))
    allocations = [
        a for a in result.allocations_for(financing) if (a.client_id, a.week_start) in take
    ]
    return ExportPlan(financing, new, unchanged, changed, allocations, result)


def record_export(
    session: Session,
    export_kind: str,
    financing: str,
    weeks: Iterable[WeekTotal],
    *,
    reference: str | None = None,
    user_id: int | None = None,
    replace: bool = False,
) -> StackExport:
    """Record that ``export_kind`` counted these client-weeks for ``financing``.

    Raises WeekAlreadyExported when one is already counted by another export, unless ``replace``
    (the caller credited the earlier week and sends the recomputed whole week) — also when
    another export records the same week at the same moment (the unique index refuses it; the
    caller rolls back). The registration parts behind the weeks are recorded by the export's
    own lines (:func:`record_parts`).
    """
    per_week: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    for w in weeks:
        if w.financing != financing:
            raise ValueError(f"week total of {w.financing} in an export of {financing}")
        slot = per_week[(w.client_id, w.week_start)]
        slot[0] += w.minutes
        slot[1] += w.aantal
    keys = list(per_week)
    clients = sorted({c for c, _w in keys})
    weeks_seen = sorted({w for _c, w in keys})
    active = (
        {
            (r.client_id, r.week_start): r
            for r in session.scalars(
                select(StackExportWeek).where(
                    StackExportWeek.financing == financing,
                    StackExportWeek.active.is_(True),
                    StackExportWeek.week_start >= weeks_seen[0],
                    StackExportWeek.week_start <= weeks_seen[-1],
                    StackExportWeek.client_id.in_(clients)
                    if len(clients) <= 1000
                    else StackExportWeek.client_id.is_not(None),
                )
            )
            if (r.client_id, r.week_start) in per_week
        }
        if keys
        else {}
    )
    if active and not replace:
        raise WeekAlreadyExported([(financing, c, w) for c, w in sorted(active)])
    for row in active.values():
        row.active = False
    session.flush()
    export = StackExport(
        export_kind=export_kind, financing=financing, reference=reference, created_by=user_id
    )
    session.add(export)
    session.flush()
    rows = [
        {
            "export_id": export.id,
            "financing": financing,
            "client_id": c,
            "week_start": w,
            "minutes": m,
            "aantal": a,
            "active": True,
        }
        for (c, w), (m, a) in per_week.items()
    ]
    try:
        bulk_insert(session, StackExportWeek, rows)  # thousands of client-weeks: COPY
        session.flush()
    except Exception as exc:
        if is_unique_violation(exc):  # another export counted one of them at this moment
            raise WeekAlreadyExported([(financing, c, w) for c, w in sorted(per_week)]) from exc
        raise
    from portal.services import audit

    audit.record(
        session,
        "stacking.export_recorded",
        user_id=user_id,
        object_type="stack_export",
        object_id=str(export.id),
        detail={"kind": export_kind, "financing": financing, "weeks": len(per_week)},
    )
    return export


def release_weeks(
    session: Session, financing: str, client_weeks: Iterable[tuple[int, date]]
) -> int:
    """After crediting: the weeks may be counted again by a new export. Returns rows released."""
    n = 0
    for client_id, wk in client_weeks:
        res = session.execute(
            update(StackExportWeek)
            .where(
                and_(
                    StackExportWeek.financing == financing,
                    StackExportWeek.client_id == client_id,
                    StackExportWeek.week_start == wk,
                    StackExportWeek.active.is_(True),
                )
            )
            .values(active=False)
        )
        n += res.rowcount or 0
    return n


def is_week_exported(session: Session, client_id: int, day: date) -> bool:
    """Has any financing counted the week of ``day`` for this client?"""
    return (
        session.scalar(
            select(StackExportWeek.id)
            .where(
                StackExportWeek.client_id == client_id,
                StackExportWeek.week_start == week_start(day),
                StackExportWeek.active.is_(True),
            )
            .limit(1)
        )
        is not None
    )


# -- export parts: each part of a registration exported once ------------------------------------


class AlreadyExported(RuntimeError):
    """A part was exported by another run at the same moment (the database refused it)."""

    def __init__(self, what: str = "Deze zorg"):
        super().__init__(
            f"{what} is zojuist al gedeclareerd of gefactureerd door een andere run die "
            "tegelijk liep. Er is niets dubbel geëxporteerd; vernieuw de pagina."
        )


@dataclass(frozen=True)
class Part:
    """One registration's share on one legitimation, as an export counts it."""

    registration_id: int
    client_id: int
    legitimation_id: int
    datum: date
    minutes: int = 0
    aantal: int = 0


def is_unique_violation(exc: BaseException) -> bool:
    """A unique key refused an insert (SQLAlchemy's IntegrityError, or psycopg's own error from
    a ``COPY``)."""
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code == "23505"


def record_parts(
    session: Session,
    kind: str,
    financing: str,
    parts: Iterable[tuple[Part, int]],
) -> int:
    """Record ``(part, line id)`` pairs as exported by ``kind`` (``declaratie``: the id is a
    declaration line's, ``factuur``: an invoice line's). Raises :class:`AlreadyExported` when the
    database refuses a part that is already actively exported (the caller rolls back)."""
    now = utcnow()
    column = "declaration_line_id" if kind == EXPORT_DECLARATION else "invoice_line_id"
    other = "invoice_line_id" if kind == EXPORT_DECLARATION else "declaration_line_id"
    rows = [
        {
            "registration_id": p.registration_id,
            "client_id": p.client_id,
            "financing": financing,
            "legitimation_id": p.legitimation_id,
            "datum": p.datum,
            "week_start": p.datum - timedelta(days=p.datum.weekday()),
            "minutes": p.minutes,
            "aantal": p.aantal,
            "kind": kind,
            column: line_id,
            other: None,
            "active": True,
            "created_at": now,
            "released_at": None,
        }
        for p, line_id in parts
    ]
    try:
        bulk_insert(session, ExportPart, rows)
        session.flush()
    except Exception as exc:
        if is_unique_violation(exc):
            raise AlreadyExported() from exc
        raise
    return len(rows)


def not_exported() -> ColumnElement[bool]:
    """SQL condition: the registration has no active export part (of any financing)."""
    return ~exists(
        select(ExportPart.id).where(
            ExportPart.registration_id == Registration.id, ExportPart.active.is_(True)
        )
    )


def part_is_active(registration_id, legitimation_id) -> ColumnElement[bool]:
    """SQL condition: an active part exists for this (registration, legitimation) — columns of
    an outer query."""
    other = aliased(ExportPart)
    return exists(
        select(other.id).where(
            other.registration_id == registration_id,
            other.legitimation_id == legitimation_id,
            other.active.is_(True),
        )
    )


def exported_registration_ids(session: Session, registration_ids: Iterable[int]) -> set[int]:
    ids = sorted(set(registration_ids))
    found: set[int] = set()
    for i in range(0, len(ids), 1000):
        found.update(
            session.scalars(
                select(ExportPart.registration_id).where(
                    ExportPart.registration_id.in_(ids[i : i + 1000]),
                    ExportPart.active.is_(True),
                )
            )
        )
    return found


def exported_keys(
    session: Session, client_ids: Iterable[int] | None = None
) -> set[tuple[int, int]]:
    """(registration, legitimation) of every active part (of these clients)."""
    q = select(ExportPart.registration_id, ExportPart.legitimation_id).where(
        ExportPart.active.is_(True)
    )
    if client_ids is not None:
        ids = sorted(set(client_ids))
        if len(ids) <= 1000:
            q = q.where(ExportPart.client_id.in_(ids))
    return {(r, lg) for r, lg in session.execute(q)}


def release(
    session: Session,
    *,
    declaration_line_ids: Iterable[int] | Select = (),
    invoice_line_ids: Iterable[int] | Select = (),
) -> set[tuple[str, int, date]]:
    """Release the parts of these lines (a credit, a rejection, a replaced concept): a later run
    may export them again. The ids may be a SELECT of line ids (thousands of lines: one
    statement, no parameter lists). Returns the (financing, client, week) of the released
    parts."""
    released: set[tuple[str, int, date]] = set()
    # a part moved away from a rejected line (``verplaatst``) is never released through that
    # line: it is its new legitimation's now
    not_moved = ExportPart.kind != EXPORT_MOVED
    for column, ids in (
        (ExportPart.declaration_line_id, declaration_line_ids),
        (ExportPart.invoice_line_id, invoice_line_ids),
    ):
        if isinstance(ids, Select):
            chunks = [ids.scalar_subquery()]
        else:
            ids = sorted(set(ids))
            chunks = [ids[i : i + 1000] for i in range(0, len(ids), 1000)]
        for chunk in chunks:
            if column is ExportPart.invoice_line_id:
                # care moved to this legitimation (kind ``verplaatst``) stays moved when its
                # invoice is credited: the next invoice run of that financing takes it again
                session.execute(
                    update(ExportPart)
                    .where(
                        column.in_(chunk),
                        ExportPart.active.is_(True),
                        ExportPart.kind == EXPORT_MOVED,
                    )
                    .values(invoice_line_id=None)
                    .execution_options(synchronize_session=False)
                )
            released.update(
                (f, c, w)
                for f, c, w in session.execute(
                    select(ExportPart.financing, ExportPart.client_id, ExportPart.week_start)
                    .where(column.in_(chunk), ExportPart.active.is_(True), not_moved)
                    .distinct()
                )
            )
            session.execute(
                update(ExportPart)
                .where(column.in_(chunk), ExportPart.active.is_(True), not_moved)
                .values(active=False, released_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    return released


def delete_for_lines(session: Session, declaration_line_ids: Iterable[int]) -> None:
    """A concept's lines are deleted when it is prepared again: their parts go with them."""
    ids = sorted(set(declaration_line_ids))
    for i in range(0, len(ids), 1000):
        session.execute(
            delete(ExportPart)
            .where(ExportPart.declaration_line_id.in_(ids[i : i + 1000]))
            .execution_options(synchronize_session=False)
        )
