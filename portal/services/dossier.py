"""The client dossier: everything about one client, one tab at a time.

Each tab reads only its own rows for this client (indexed on ``client_id``), aggregated where a
client can have many (registered care is summed per day in SQL and grouped per week or month
here). Codes are shown with their names by the views; this module returns plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Text, case, cast, func, or_, select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, Invoice, InvoiceLine, Message, Product, Registration, User
from portal.models.declaration import Declaration, DeclarationLine
from portal.models.registration import REG_APPROVED, REG_CONCEPT
from portal.services import worklists

TABS = (
    ("legitimaties", "Legitimaties"),
    ("zorg", "Geregistreerde zorg"),
    ("declaraties", "Declaraties"),
    ("facturen", "Facturen"),
    ("berichten", "Berichten"),
    ("inzage", "Wie keek"),
)
LIMIT = 200


@dataclass
class CarePeriod:
    """Registered care of one week or month, by approval state."""

    key: str
    start: date
    label: str
    minutes: int = 0
    concept: int = 0
    approved: int = 0
    exported: int = 0
    not_covered: int = 0
    aantal: int = 0
    registrations: int = 0
    weeks: list[date] = field(default_factory=list)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def care(
    session: Session, client_id: int, per: str, today: date, months: int = 13
) -> list[CarePeriod]:
    """Care of the last ``months`` months per ISO week (``per="week"``) or calendar month."""
    from portal.validators import month_label

    y, m = today.year, today.month - (months - 1)
    while m < 1:
        y, m = y - 1, m + 12
    first = _week_start(date(y, m, 1)) if per == "week" else date(y, m, 1)
    uncovered = worklists.not_covered(today)
    rows = session.execute(
        select(
            Registration.datum,
            Registration.status,
            func.count(Registration.id),
            func.coalesce(func.sum(Registration.duur_minuten), 0),
            func.coalesce(func.sum(Registration.aantal), 0),
            func.count(Registration.id).filter(*uncovered),
            func.coalesce(
                func.sum(case((worklists.exported(), Registration.duur_minuten), else_=0)), 0
            ),
        )
        .where(
            Registration.client_id == client_id,
            Registration.credit_of_id.is_(None),
            Registration.status != "gecrediteerd",
            Registration.datum >= first,
        )
        .group_by(Registration.datum, Registration.status)
    ).all()
    periods: dict[date, CarePeriod] = {}
    for day, status, n, minutes, aantal, n_uncovered, exported_minutes in rows:
        if per == "week":
            start = _week_start(day)
            iso = start.isocalendar()
            label = (
                f"Week {iso.week} {iso.year} ({start:%d-%m} – {start + timedelta(days=6):%d-%m})"
            )
            key = f"{iso.year}-W{iso.week:02d}"
        else:
            start = day.replace(day=1)
            label, key = month_label(start), f"{start:%Y-%m}"
        p = periods.setdefault(start, CarePeriod(key, start, label))
        p.minutes += minutes
        p.aantal += aantal
        p.registrations += n
        p.not_covered += n_uncovered
        if status == REG_CONCEPT:
            p.concept += minutes
        elif status == REG_APPROVED:
            p.approved += minutes
            p.exported += exported_minutes
    return [periods[k] for k in sorted(periods, reverse=True)]


def declaration_lines(session: Session, client_id: int) -> list:
    """(line, declaration number, own product) rows, newest period first."""
    return list(
        session.execute(
            select(DeclarationLine, Declaration, Product)
            .outerjoin(Declaration, Declaration.id == DeclarationLine.declaration_id)
            .outerjoin(Product, Product.id == DeclarationLine.product_id)
            .where(DeclarationLine.client_id == client_id)
            .order_by(DeclarationLine.begindatum.desc(), DeclarationLine.id.desc())
            .limit(LIMIT)
        ).all()
    )


def invoices(session: Session, client_id: int) -> list[Invoice]:
    """The client's own invoices and those of a paying institution with a line for the client."""
    on_line = select(InvoiceLine.invoice_id).where(InvoiceLine.client_id == client_id)
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.nummer.is_not(None),
                or_(Invoice.client_id == client_id, Invoice.id.in_(on_line)),
            )
            .order_by(Invoice.factuurdatum.desc(), Invoice.id.desc())
            .limit(LIMIT)
        )
    )


def messages(session: Session, client_id: int) -> list[Message]:
    """Messages about the client (``client_ids`` as the plugin stored them)."""
    text = cast(Message.client_ids, Text)
    n = str(client_id)
    return list(
        session.scalars(
            select(Message)
            .where(
                or_(
                    text == f"[{n}]",
                    text.like(f"[{n},%"),
                    text.like(f"%, {n}]"),
                    text.like(f"%, {n},%"),
                    text.like(f"%,{n}]"),
                    text.like(f"%,{n},%"),
                )
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(LIMIT)
        )
    )


def audit_trail(session: Session, client_id: int) -> list:
    """(event, user name) of who did or looked at what for this client, newest first."""
    return list(
        session.execute(
            select(AuditEvent, User.naam)
            .outerjoin(User, User.id == AuditEvent.user_id)
            .where(AuditEvent.client_id == client_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(LIMIT)
        ).all()
    )
