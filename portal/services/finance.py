"""How the money stands: the figures behind the start page's plots, as SQL aggregates.

Four figures over the last 13 months, each a handful of grouped rows however many declarations
and invoices there are:

* revenue per financing per month of care: declared, awarded, invoiced, paid;
* rejection rate per financier per month (rejected lines / answered lines);
* outstanding amounts by age (open invoices by invoice date, unanswered declarations by sending);
* days from care to money (end of the period of care → paid or awarded), per month of care.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Date, case, cast, func, select
from sqlalchemy.orm import Session

from portal.models import Financier, Invoice
from portal.models.declaration import Declaration, DeclarationLine
from portal.models.invoice import OPEN_STATUSES
from portal.validators import month_label

MONTHS = 13
AGE_BUCKETS = (("0–30 dagen", 0, 30), ("31–60 dagen", 31, 60), ("61–90 dagen", 61, 90))
AGE_LAST = "meer dan 90 dagen"


def months_back(today: date, n: int = MONTHS) -> list[str]:
    """``YYYY-MM`` of the last ``n`` months, oldest first, this month last."""
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def month_name(key: str) -> str:
    """ "2026-03" → "mrt 2026" (short, for an axis)."""
    y, m = key.split("-")
    return month_label(date(int(y), int(m), 1))[:3] + f" {y[2:]}"


def _month(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _days(session: Session, later, earlier):
    """Whole days from ``earlier`` (a date) to ``later`` (a date or timestamp)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(later, Date) - earlier
    return func.julianday(func.date(later)) - func.julianday(earlier)


@dataclass
class Figures:
    months: list[str]
    # revenue[financing][month] = [declared, awarded, invoiced, paid] in cents
    revenue: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # rejection[financier label][month] = (rejected, answered)
    rejection: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    # outstanding[bucket label] = (invoices cents, declarations cents)
    outstanding: dict[str, tuple[int, int]] = field(default_factory=dict)
    # days[month] = (average days to payment of invoices, to award of declarations)
    days: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


REVENUE_KINDS = ("Gedeclareerd", "Toegekend", "Gefactureerd", "Betaald")


def figures(session: Session, today: date) -> Figures:
    months = months_back(today)
    first = date(int(months[0][:4]), int(months[0][5:]), 1)
    fig = Figures(months=months)
    _revenue(session, fig, first)
    _rejection(session, fig, first)
    _outstanding(session, fig, today)
    _days_to_money(session, fig, first)
    return fig


def _revenue(session: Session, fig: Figures, first: date) -> None:
    month = _month(session, Declaration.periode_begin)
    for financing, mon, declared, awarded in session.execute(
        select(
            Declaration.financing,
            month,
            func.sum(Declaration.total_cents),
            func.sum(func.coalesce(Declaration.awarded_cents, 0)),
        )
        .where(Declaration.status != "concept", Declaration.periode_begin >= first)
        .group_by(Declaration.financing, month)
    ):
        row = fig.revenue.setdefault(financing, {}).setdefault(mon, [0, 0, 0, 0])
        row[0] += int(declared or 0)
        row[1] += int(awarded or 0)
    month = _month(session, Invoice.periode_start)
    for financing, mon, invoiced, paid in session.execute(
        select(
            Invoice.financing,
            month,
            func.sum(Invoice.totaal_cents),
            # what came in: partial payments count, an invoice marked paid counts in full
            func.sum(case((Invoice.soort == "factuur", Invoice.betaald_cents), else_=0)),
        )
        .where(Invoice.nummer.is_not(None), Invoice.periode_start >= first)
        .group_by(Invoice.financing, month)
    ):
        row = fig.revenue.setdefault(financing, {}).setdefault(mon, [0, 0, 0, 0])
        row[2] += int(invoiced or 0)
        row[3] += int(paid or 0)


def _rejection(session: Session, fig: Figures, first: date, top: int = 5) -> None:
    month = _month(session, DeclarationLine.begindatum)
    answered = DeclarationLine.status.in_(("toegekend", "afgewezen", "gecrediteerd"))
    rows = session.execute(
        select(
            Financier.naam,
            month,
            func.count(DeclarationLine.id).filter(DeclarationLine.status == "afgewezen"),
            func.count(DeclarationLine.id),
        )
        .join(Financier, Financier.id == DeclarationLine.financier_id)
        .where(answered, DeclarationLine.begindatum >= first, DeclarationLine.debet_credit == "D")
        .group_by(Financier.naam, month)
    ).all()
    volume: dict[str, int] = {}
    for naam, _mon, _rej, n in rows:
        volume[naam] = volume.get(naam, 0) + n
    keep = set(sorted(volume, key=lambda k: -volume[k])[:top])
    for naam, mon, rejected, n in rows:
        if naam in keep:
            fig.rejection.setdefault(naam, {})[mon] = (int(rejected), int(n))


def _bucket(column, today: date):
    whens = [(column >= today - timedelta(days=hi), label) for label, _lo, hi in AGE_BUCKETS]
    return case(*whens, else_=AGE_LAST)


def _outstanding(session: Session, fig: Figures, today: date) -> None:
    for label, *_ in AGE_BUCKETS:
        fig.outstanding[label] = (0, 0)
    fig.outstanding[AGE_LAST] = (0, 0)
    bucket = _bucket(Invoice.factuurdatum, today)
    for label, cents in session.execute(
        select(bucket, func.sum(Invoice.totaal_cents - Invoice.betaald_cents))
        .where(Invoice.soort == "factuur", Invoice.status.in_(OPEN_STATUSES))
        .group_by(bucket)
    ):
        fig.outstanding[label] = (int(cents or 0), fig.outstanding[label][1])
    sent_day = func.coalesce(Declaration.dagtekening, Declaration.periode_eind)
    bucket = _bucket(sent_day, today)
    for label, cents in session.execute(
        select(bucket, func.sum(Declaration.total_cents))
        .where(Declaration.status == "ingediend")
        .group_by(bucket)
    ):
        fig.outstanding[label] = (fig.outstanding[label][0], int(cents or 0))


def _days_to_money(session: Session, fig: Figures, first: date) -> None:
    inv: dict[str, float] = {}
    month = _month(session, Invoice.periode_eind)
    for mon, avg in session.execute(
        select(month, func.avg(_days(session, Invoice.paid_at, Invoice.periode_eind)))
        .where(Invoice.paid_at.is_not(None), Invoice.periode_eind >= first)
        .group_by(month)
    ):
        inv[mon] = float(avg)
    decl: dict[str, float] = {}
    month = _month(session, Declaration.periode_eind)
    for mon, avg in session.execute(
        select(month, func.avg(_days(session, Declaration.answered_at, Declaration.periode_eind)))
        .where(
            Declaration.answered_at.is_not(None),
            Declaration.awarded_cents > 0,
            Declaration.periode_eind >= first,
        )
        .group_by(month)
    ):
        decl[mon] = float(avg)
    for mon in fig.months:
        fig.days[mon] = (inv.get(mon), decl.get(mon))
