"""A test-only plugin that declares Wlz care (stacked, per ISO week) in Vektis EI (AW319).

Registered by the tests (and ``bench/stacked_export.py``) that need a stacking financing to
declare through the core's run before the real Wlz plugin does: it implements only the declaring
hooks for ``wlz`` — one prestatie per client, indicatie, product and ISO week, in minutes at the
contract's hourly tariff — so it shows what the run asks of a plugin and nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from portal import hookimpl
from portal.domain import DeclarationLines, Issue, LineDraft, Unit
from portal.models import Contract, ContractLine

CODE = "wlz"


def _tariffs(session, financier):
    found = {}
    for cl in session.scalars(
        select(ContractLine)
        .join(Contract, Contract.id == ContractLine.contract_id)
        .where(Contract.financier_id == financier.id)
    ):
        found.setdefault(cl.product_id, cl)
    return found


@hookimpl
def declaration_lines(financier, care, period_begin, period_end, session, settings):
    if financier.financing != CODE:
        return None
    contract = _tariffs(session, financier)
    groups: dict[tuple, list] = defaultdict(list)
    skipped = []
    for c in care:
        if c.legitimation_id is None:
            skipped.append(Issue("legitimatie", f"Zorg op {c.datum:%d-%m-%Y} zonder indicatie."))
            continue
        week = c.datum - timedelta(days=c.datum.weekday())
        groups[(c.client_id, c.legitimation_id, c.product_id, week)].append(c)
    lines = []
    for (client_id, leg_id, product_id, week), pieces in sorted(groups.items()):
        cl = contract.get(product_id)
        if cl is None:
            skipped.append(Issue("contract", f"Geen contractregel voor product {product_id}."))
            continue
        minutes = sum(p.minutes or 0 for p in pieces)
        if minutes <= 0:
            continue
        per_minute = cl.tarief_cents / 60
        lines.append(
            LineDraft(
                client_id=client_id,
                legitimation_id=leg_id,
                begindatum=week,
                einddatum=week + timedelta(days=6),
                volume=minutes,
                eenheid=Unit.MINUUT.value,
                tarief_cents=round(per_minute),
                bedrag_cents=round(minutes * per_minute),
                product_id=product_id,
                contract_line_id=cl.id,
                productcode=cl.productcode,
                care=pieces,
            )
        )
    return DeclarationLines(lines, skipped)
