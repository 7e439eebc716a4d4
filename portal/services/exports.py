"""What has been exported, per part of a registration (model ``ExportPart``).

Every financial export — a declaration line or an invoice line — records the registration parts
it counted. One active row per (registration, legitimation) is a unique index, so "exported once"
holds even for two runs at the same moment: the second run's insert fails and the run is refused
with a Dutch message (:class:`AlreadyExported`). A credit, a rejection or a replaced concept
releases exactly the parts of its own line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.db import bulk_insert
from portal.models import ExportPart, Registration
from portal.models._base import utcnow
from portal.models.export import EXPORT_DECLARATION, EXPORT_INVOICE

__all__ = [
    "EXPORT_DECLARATION",
    "EXPORT_INVOICE",
    "AlreadyExported",
    "Part",
    "exported_keys",
    "exported_registration_ids",
    "is_unique_violation",
    "not_exported",
    "record_parts",
    "release",
]


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
    declaration_line_ids: Iterable[int] = (),
    invoice_line_ids: Iterable[int] = (),
) -> set[tuple[str, int, date]]:
    """Release the parts of these lines (a credit, a rejection, a replaced concept): a later run
    may export them again. Returns the (financing, client, week) the released parts were in."""
    released: set[tuple[str, int, date]] = set()
    for column, ids in (
        (ExportPart.declaration_line_id, sorted(set(declaration_line_ids))),
        (ExportPart.invoice_line_id, sorted(set(invoice_line_ids))),
    ):
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            released.update(
                (f, c, w)
                for f, c, w in session.execute(
                    select(ExportPart.financing, ExportPart.client_id, ExportPart.week_start)
                    .where(column.in_(chunk), ExportPart.active.is_(True))
                    .distinct()
                )
            )
            session.execute(
                update(ExportPart)
                .where(column.in_(chunk), ExportPart.active.is_(True))
                .values(active=False, released_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    return released


def delete_for_lines(session: Session, declaration_line_ids: Iterable[int]) -> None:
    """A concept's lines are deleted when it is prepared again: their parts go with them."""
    from sqlalchemy import delete

    ids = sorted(set(declaration_line_ids))
    for i in range(0, len(ids), 1000):
        session.execute(
            delete(ExportPart)
            .where(ExportPart.declaration_line_id.in_(ids[i : i + 1000]))
            .execution_options(synchronize_session=False)
        )
