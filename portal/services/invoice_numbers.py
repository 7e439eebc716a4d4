"""Gap-free invoice numbers per organisation and year.

A number is taken in the same transaction that makes the invoice final: the series row is
incremented with one ``UPDATE … RETURNING`` (PostgreSQL locks the row until commit, so concurrent
runs queue behind each other; SQLite serialises writers anyway). If the transaction rolls back, the
increment rolls back with it, so no number is ever lost or handed out twice.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import InvoiceNumberSeries


def format_number(jaar: int, n: int) -> str:
    return f"{jaar}-{n:05d}"


def take_numbers(session: Session, organisation_id: int, jaar: int, count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive numbers of the organisation's series for ``jaar``."""
    if count <= 0:
        return []
    last = _increment(session, organisation_id, jaar, count)
    if last is None:
        _create_series(session, organisation_id, jaar)
        last = _increment(session, organisation_id, jaar, count)
    assert last is not None
    return [format_number(jaar, n) for n in range(last - count + 1, last + 1)]


def _increment(session: Session, organisation_id: int, jaar: int, count: int) -> int | None:
    stmt = (
        update(InvoiceNumberSeries)
        .where(
            InvoiceNumberSeries.organisation_id == organisation_id,
            InvoiceNumberSeries.jaar == jaar,
        )
        .values(last_number=InvoiceNumberSeries.last_number + count)
        .returning(InvoiceNumberSeries.last_number)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).scalar_one_or_none()


def _create_series(session: Session, organisation_id: int, jaar: int) -> None:
    """Create the year's series row; a concurrent creator wins harmlessly (unique constraint)."""
    try:
        with session.begin_nested():
            session.add(InvoiceNumberSeries(organisation_id=organisation_id, jaar=jaar))
    except IntegrityError:
        pass  # another transaction created it first; our UPDATE now waits for its lock


def last_number(session: Session, organisation_id: int, jaar: int) -> int:
    value = session.scalar(
        select(InvoiceNumberSeries.last_number).where(
            InvoiceNumberSeries.organisation_id == organisation_id,
            InvoiceNumberSeries.jaar == jaar,
        )
    )
    return value or 0
