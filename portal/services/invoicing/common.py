"""What the rooms of invoicing share: the Dutch error, the periods, the plugin's settings."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import FinancingInfo, InvoiceDraft
from portal.models import (
    Invoice,
)
from portal.validators import MONTH_NAMES

MAANDEN = MONTH_NAMES


class InvoiceError(ValueError):
    """A request that cannot be carried out; the message is Dutch and says why."""


# ---------------------------------------------------------------------------------------------
# financings and periods
# ---------------------------------------------------------------------------------------------


def invoice_financings(hooks) -> list[tuple[str, str]]:
    """The financings that can be invoiced: those whose plugin implements ``build_invoice``."""
    return [
        (code, info.label)
        for code, info in hooks.financings.items()
        if hooks.can(code, "build_invoice")
    ]


def _invoice_setting(hooks, financing: str, key: str) -> Any:
    """``invoice_per`` or ``betaaltermijn_dagen``: the deployment's PLUGIN_SETTINGS, else what
    the plugin says in its FinancingInfo, else the FinancingInfo default."""
    settings = (hooks.settings or {}).get(financing, {})
    if key in settings:
        return settings[key]
    info = hooks.financing(financing)
    if info is None:
        return FinancingInfo.__dataclass_fields__[key].default
    return getattr(info, key)


def month_period(year: int, month: int) -> tuple[date, date]:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1), date(year, month, last)


def period_label(start: date, end: date) -> str:
    if start.day == 1 and end == month_period(start.year, start.month)[1]:
        return f"{MAANDEN[start.month - 1]} {start.year}"
    return f"{start:%d-%m-%Y} t/m {end:%d-%m-%Y}"


def check_period(year: int | None, month: int | None, today: date) -> tuple[date, date]:
    """A whole calendar month that has ended; otherwise a Dutch reason."""
    if not year or not month or not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise InvoiceError("Kies een maand en een jaar.")
    start, end = month_period(year, month)
    if end >= today:
        raise InvoiceError(
            f"{period_label(start, end).capitalize()} is nog niet voorbij. Factureer een maand pas "
            "als hij helemaal is afgelopen: de SVB en cliënten accepteren alleen facturen over een "
            "afgesloten periode."
        )
    return start, end


def last_month(today: date) -> tuple[int, int]:
    first = today.replace(day=1) - timedelta(days=1)
    return first.year, first.month


def _locked(session: Session, invoice_id: int) -> Invoice:
    inv = session.scalars(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    ).one_or_none()
    if inv is None:
        raise InvoiceError("Deze factuur bestaat niet.")
    return inv


def _draft_for(hooks, invoice: Invoice) -> InvoiceDraft:
    draft = hooks.build_invoice(invoice)
    if draft is None:
        raise InvoiceError(f"Geen plugin maakt facturen voor {invoice.financing}.")
    return draft
