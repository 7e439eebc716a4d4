"""What needs action in forensische zorg, as SQL conditions shared by the worklist screen and
the start page's counts (so the two never disagree):

* a placement without start: active, its period begun, no accepted or pending melding aanvang
  zorg (never sent, or rejected by DJI);
* an ended placement without end report: care started and the placement's period over (or the
  placement ended or withdrawn), no melding einde zorg accepted or pending;
* rejected prestaties still to fix (the core's rule: no later line sent for the same care).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from plugins.fz.placements import CODE, GEPLAATST, GESTART
from portal.domain import ActionCount, MenuItem
from portal.models import Legitimation
from portal.services import declarations


def without_start(today: date):
    return and_(
        Legitimation.financing == CODE,
        Legitimation.status == "actief",
        Legitimation.begindatum <= today,
        or_(Legitimation.keten_stand.is_(None), Legitimation.keten_stand == GEPLAATST),
    )


def end_to_report(today: date):
    return and_(
        Legitimation.financing == CODE,
        Legitimation.keten_stand == GESTART,
        or_(Legitimation.status != "actief", Legitimation.einddatum < today),
    )


def action_counts(session: Session, today: date) -> list[ActionCount]:
    n_start = session.scalar(select(func.count(Legitimation.id)).where(without_start(today))) or 0
    n_end = session.scalar(select(func.count(Legitimation.id)).where(end_to_report(today))) or 0
    n_rejected = declarations.count_rejected(session, CODE)
    return [
        ActionCount(
            key="fz.zonder_aanvang",
            label="Plaatsingen (forensische zorg) zonder melding aanvang zorg",
            count=n_start,
            endpoint="fz.index",
            params={"lijst": "aanvang"},
            permission="legitimations.view",
        ),
        ActionCount(
            key="fz.einde_melden",
            label="Beëindigde plaatsingen zonder melding einde zorg",
            count=n_end,
            endpoint="fz.index",
            params={"lijst": "einde"},
            permission="legitimations.view",
        ),
        ActionCount(
            key="fz.afgewezen",
            label="Door DJI afgewezen prestaties",
            count=n_rejected,
            endpoint="fz.index",
            params={"lijst": "afgewezen"},
            permission="legitimations.view",
        ),
    ]


def menu_items() -> list[MenuItem]:
    return [MenuItem("fz.index", "Plaatsingen DJI", "legitimations.view")]
