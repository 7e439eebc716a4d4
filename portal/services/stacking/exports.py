"""Export records (DESIGN §6.7–6.8): what each financial export counted, per week.

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

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from portal.models import (
    Registration,
    StackExport,
    StackExportWeek,
)
from portal.services.stacking.allocation import Allocation, StackResult, WeekTotal, allocate
from portal.services.stacking.weeks import iso_week_label, week_start


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
    financing: str,
    start: date,
    end: date,
    client_ids: Iterable[int] | None = None,
) -> ExportPlan:
    if client_ids is not None:
        client_ids = list(client_ids)
    result = allocate(session, start=start, end=end, client_ids=client_ids)
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
    allocations: Iterable[Allocation] = (),
    reference: str | None = None,
    user_id: int | None = None,
    replace: bool = False,
) -> StackExport:
    """Record that ``export_kind`` counted these client-weeks for ``financing``.

    Raises WeekAlreadyExported when one is already counted by another export, unless ``replace``
    (the caller credited the earlier week and sends the recomputed whole week). Marks the
    registrations behind ``allocations`` as gedeclareerd (which blocks withdrawing approval).
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
    active = {
        (r.client_id, r.week_start): r
        for r in session.scalars(
            select(StackExportWeek).where(
                StackExportWeek.financing == financing,
                StackExportWeek.active.is_(True),
                StackExportWeek.client_id.in_(clients),
            )
        )
        if (r.client_id, r.week_start) in per_week
    }
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
    session.add_all(
        StackExportWeek(
            export_id=export.id,
            financing=financing,
            client_id=c,
            week_start=w,
            minutes=m,
            aantal=a,
            active=True,
        )
        for (c, w), (m, a) in per_week.items()
    )
    reg_ids = sorted({a.registration_id for a in allocations})
    for i in range(0, len(reg_ids), 1000):
        session.execute(
            update(Registration)
            .where(Registration.id.in_(reg_ids[i : i + 1000]))
            .values(gedeclareerd=True)
        )
    session.flush()
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
