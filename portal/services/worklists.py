"""The conditions behind "Vraagt actie" and the lists they link to.

Each condition is plain SQL over indexed columns, used both by the count on the start page
(``portal.services.dashboard``) and by the list behind it, so a count and its list always agree
and an item drops out of both as soon as its work is done.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, literal, or_, select

from portal.models import (
    Contract,
    ContractLine,
    ExportPart,
    Financier,
    Invoice,
    Legitimation,
    Message,
    Registration,
)
from portal.models.declaration import DeclarationLine
from portal.models.legitimation import legitimation_product
from portal.models.registration import REG_APPROVED, REG_CONCEPT, REG_CREDITED

LINE = DeclarationLine

# An answer (306, 308, 325, AW320…) is due within a few working days; after this many the
# portal shows the heenbericht as "zonder antwoord" (the iStandaarden ask 3 working days for a
# retour; a declaration's answer may take a little longer, so one week of working days).
ANSWER_WORKDAYS = 5


def workdays_before(day: date, n: int) -> date:
    """The date ``n`` working days (Monday–Friday) before ``day``."""
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def exported():
    """The registration (or a part of it) is counted by an active export: a declaration line or
    an invoice line (``ExportPart``, one active row per registration part)."""
    return exists().where(
        ExportPart.registration_id == Registration.id, ExportPart.active.is_(True)
    )


def _live():
    return and_(Registration.status != REG_CREDITED, Registration.credit_of_id.is_(None))


def waiting_for_approval(today: date) -> list:
    """Concept care delivered before today (today's care is still being registered)."""
    return [
        Registration.status == REG_CONCEPT,
        Registration.credit_of_id.is_(None),
        Registration.datum < today,
    ]


def _covering_legitimation(financings: list[str] | None = None):
    """An active legitimation of the registration's client that covers its date and product."""
    cond = [
        Legitimation.client_id == Registration.client_id,
        Legitimation.status == "actief",
        Legitimation.begindatum <= Registration.datum,
        or_(Legitimation.einddatum.is_(None), Legitimation.einddatum >= Registration.datum),
        legitimation_product.c.legitimation_id == Legitimation.id,
        legitimation_product.c.product_id == Registration.product_id,
    ]
    if financings is not None:
        cond.append(Legitimation.financing.in_(financings))
    return exists().where(*cond)


def not_covered(today: date) -> list:
    """Care not yet declared or invoiced that no legitimation of the client covers (DESIGN §6.5:
    shown as an action, never silently dropped)."""
    return [
        _live(),
        Registration.datum <= today,
        ~exported(),
        ~_covering_legitimation(),
    ]


def open_rejected() -> list:
    """Rejected lines nobody has dealt with (``declarations.open_rejected``: no follow-up chosen,
    not sent again since)."""
    from portal.services.declarations import open_rejected as conditions

    return list(conditions())


def codes_of(codes_text: str | None) -> list[str]:
    """The retourcodes of a line from its JSON text."""
    try:
        codes = json.loads(codes_text or "[]")
    except ValueError:
        return []
    return [str(c) for c in codes] if isinstance(codes, list) else []


def unanswered(now: datetime | None = None) -> list:
    """Heenberichten sent more than ``ANSWER_WORKDAYS`` working days ago without an answer
    (retours we send ourselves, with ``als_antwoord_op``, expect none)."""
    now = now or datetime.now().astimezone()
    cutoff_day = workdays_before(now.date(), ANSWER_WORKDAYS)
    cutoff = datetime.combine(cutoff_day, time.min, tzinfo=now.tzinfo)
    return [
        Message.direction == "uit",
        Message.status.in_(("verzonden", "bezorgd")),
        Message.als_antwoord_op.is_(None),
        Message.sent_at < cutoff,
    ]


def overdue_invoice(today: date) -> list:
    return [Invoice.vervaldatum < today]


def undeclarable(stuck: list[str], declarable: list[str]) -> list:
    """Approved, not yet exported care that only legitimations of financings that cannot declare
    or invoice yet cover."""
    return [
        Registration.status == REG_APPROVED,
        Registration.credit_of_id.is_(None),
        ~exported(),
        _covering_legitimation(stuck),
        ~_covering_legitimation(declarable) if declarable else literal(True),
    ]


def undeclarable_totals(session, stuck: list[str], declarable: list[str], today: date):
    """(count, minutes, estimated cents) of :func:`undeclarable` care. The estimate takes, per
    product, the highest tariff of a current contract line of a financier of a stuck financing
    (the declaration decides the real amount); tariffs per hour, minute or unit."""
    rows = session.execute(
        select(
            Registration.product_id,
            func.count(Registration.id),
            func.coalesce(func.sum(Registration.duur_minuten), 0),
            func.coalesce(func.sum(Registration.aantal), 0),
        )
        .where(*undeclarable(stuck, declarable))
        .group_by(Registration.product_id)
    ).all()
    if not rows:
        return 0, 0, 0
    tariffs = {
        pid: (cents, eenheid)
        for pid, cents, eenheid in session.execute(
            select(
                ContractLine.product_id, func.max(ContractLine.tarief_cents), ContractLine.eenheid
            )
            .join(Contract, Contract.id == ContractLine.contract_id)
            .join(Financier, Financier.id == Contract.financier_id)
            .where(
                Financier.financing.in_(stuck),
                ContractLine.product_id.in_([r[0] for r in rows]),
                ContractLine.begindatum <= today,
                or_(ContractLine.einddatum.is_(None), ContractLine.einddatum >= today),
            )
            .group_by(ContractLine.product_id, ContractLine.eenheid)
        )
    }
    count = minutes = cents = 0
    for pid, n, mins, aantal in rows:
        count += n
        minutes += mins
        tariff, eenheid = tariffs.get(pid, (0, ""))
        if eenheid == "uur":
            cents += mins * tariff / 60
        elif eenheid == "minuut":
            cents += mins * tariff
        else:
            cents += aantal * tariff
    return count, minutes, round(cents)
