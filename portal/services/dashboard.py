"""The start page's "Vraagt actie": what waits for the back office, each a count and its list.

Every count is one SQL aggregate over indexed columns (the start page is opened all day, with
hundreds of thousands of registrations behind it); nothing here loads rows. What is done drops
out by construction: the conditions are the same ones the lists behind the counts use
(``portal.services.worklists``), and a financing plugin adds its own items through the
``action_counts`` hook.

Testable without Flask: ``action_counts(session, hooks, today)`` returns plain
:class:`~portal.domain.ActionCount` values; the view turns endpoints into links.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from portal.domain import ActionCount
from portal.models import Invoice, Message, Registration
from portal.models.invoice import OPEN_STATUSES
from portal.services import worklists
from portal.validators import format_cents


def hours_label(minutes: int) -> str:
    """Hours as the back office says them: "12,5 uur"."""
    h = round(minutes / 60, 1)
    text = f"{h:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text} uur"


def action_counts(
    session: Session, hooks, today: date, now: datetime | None = None
) -> list[ActionCount]:
    """Everything that needs someone, in the order a working day goes; counts of 0 left out."""
    items: list[ActionCount] = []
    items += _waiting_for_approval(session, today)
    items += _not_covered(session, today)
    items += hooks.action_counts(session, today)
    items += _rejected_per_code(session, hooks)
    items += _unanswered(session, now)
    items += _invoices(session, today)
    items += _undeclarable(session, hooks, today)
    return [item for item in items if item.count]


def _waiting_for_approval(session: Session, today: date) -> list[ActionCount]:
    n, minutes = session.execute(
        select(
            func.count(Registration.id), func.coalesce(func.sum(Registration.duur_minuten), 0)
        ).where(*worklists.waiting_for_approval(today))
    ).one()
    return [
        ActionCount(
            key="fiatteren",
            label="Zorg wacht op fiattering",
            count=n,
            endpoint="approval.index",
            permission="approval",
            detail=hours_label(minutes) if minutes else "",
        )
    ]


def _not_covered(session: Session, today: date) -> list[ActionCount]:
    n, minutes = session.execute(
        select(
            func.count(Registration.id), func.coalesce(func.sum(Registration.duur_minuten), 0)
        ).where(*worklists.not_covered(today))
    ).one()
    return [
        ActionCount(
            key="niet_gedekt",
            label="Zorg buiten elke legitimatie (niet gedekt)",
            count=n,
            endpoint="worklists.not_covered",
            permission="registrations.view",
            detail=hours_label(minutes) if minutes else "",
        )
    ]


def _rejected_per_code(session: Session, hooks) -> list[ActionCount]:
    """Open rejected lines, one item per retourcode (a line with two codes counts under both)."""
    rows = session.execute(
        select(
            worklists.LINE.financing,
            cast(worklists.LINE.retourcodes, Text),
            func.count(worklists.LINE.id),
        )
        .where(*worklists.open_rejected())
        .group_by(worklists.LINE.financing, cast(worklists.LINE.retourcodes, Text))
    ).all()
    per_code: dict[tuple[str, str], int] = {}
    for financing, codes_text, n in rows:
        for code in worklists.codes_of(codes_text) or ["(geen code)"]:
            per_code[(financing, code)] = per_code.get((financing, code), 0) + n
    items = []
    for (financing, code), n in sorted(per_code.items(), key=lambda kv: -kv[1]):
        meaning = hooks.code_label(financing, "retourcode", code)
        label = f"Afgewezen regels {hooks.financing_label(financing)}: {code}"
        items.append(
            ActionCount(
                key=f"afgewezen.{financing}.{code}",
                label=f"{label} {meaning}" if meaning else label,
                count=n,
                endpoint="worklists.rejected",
                params={"financiering": financing, "code": code},
                permission="declarations.view",
            )
        )
    return items


def _unanswered(session: Session, now: datetime | None) -> list[ActionCount]:
    n = session.scalar(select(func.count(Message.id)).where(*worklists.unanswered(now))) or 0
    return [
        ActionCount(
            key="berichten.te_laat",
            label=f"Berichten zonder antwoord na {worklists.ANSWER_WORKDAYS} werkdagen",
            count=n,
            endpoint="worklists.unanswered",
            permission="messages.view",
        )
    ]


def _invoices(session: Session, today: date) -> list[ActionCount]:
    to_send, overdue, overdue_cents = session.execute(
        select(
            func.count(Invoice.id).filter(Invoice.status == "definitief"),
            func.count(Invoice.id).filter(*worklists.overdue_invoice(today)),
            func.coalesce(
                func.sum(Invoice.totaal_cents - Invoice.betaald_cents).filter(
                    *worklists.overdue_invoice(today)
                ),
                0,
            ),
        ).where(Invoice.soort == "factuur", Invoice.status.in_(OPEN_STATUSES))
    ).one()
    from portal.models import BankPayment

    unmatched, unmatched_cents = session.execute(
        select(
            func.count(BankPayment.id), func.coalesce(func.sum(BankPayment.bedrag_cents), 0)
        ).where(BankPayment.status == "open")
    ).one()
    return [
        ActionCount(
            key="facturen.versturen",
            label="Facturen nog te versturen",
            count=to_send,
            endpoint="invoices.index",
            params={"status": "definitief"},
            permission="invoices.view",
        ),
        ActionCount(
            key="facturen.vervallen",
            label="Vervallen facturen",
            count=overdue,
            endpoint="invoices.overdue",
            permission="invoices.view",
            detail=f"€ {format_cents(overdue_cents)}" if overdue_cents else "",
        ),
        ActionCount(
            key="betalingen.koppelen",
            label="Ontvangen betalingen nog te koppelen",
            count=unmatched,
            endpoint="invoices.bank",
            permission="invoices.view",
            detail=f"€ {format_cents(unmatched_cents)}" if unmatched_cents else "",
        ),
    ]


def _undeclarable(session: Session, hooks, today: date) -> list[ActionCount]:
    """Approved care whose only financings cannot declare or invoice yet (their plugin lacks the
    hook): hours and an estimate in euros from the contract tariffs of that financing."""
    stuck = [
        code
        for code in hooks.financings
        if not hooks.can(code, "build_declaration") and not hooks.can(code, "build_invoice")
    ]
    if not stuck:
        return []
    declarable = [code for code in hooks.financings if code not in stuck]
    n, minutes, cents = worklists.undeclarable_totals(session, stuck, declarable, today)
    detail = hours_label(minutes or 0)
    if cents:
        detail += f", ongeveer € {format_cents(int(cents))}"
    return [
        ActionCount(
            key="niet_declarabel",
            label="Gefiatteerde zorg die nog geen financiering kan declareren",
            count=n,
            endpoint="worklists.undeclarable",
            permission="registrations.view",
            detail=detail,
        )
    ]
