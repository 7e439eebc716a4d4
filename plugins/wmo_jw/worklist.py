"""The toewijzingen that need a chain message (start, stop, or a fix of a rejected one).

One SQL condition on ``Legitimation.keten_stand``, shared by the worklist screen and the start
page count, so the two never disagree: a toewijzing whose start was sent today is "start
verzonden" at once and drops out of both.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from plugins.wmo_jw import chain
from plugins.wmo_jw.standard import IJW, IWMO
from portal.domain import ActionCount, MenuItem
from portal.models import Legitimation


def needs_action(today: date):
    """No start yet (or the start was withdrawn), a rejected start/stop, or care still started
    on a toewijzing that has ended or was withdrawn by the gemeente (a stop to report)."""
    return and_(
        Legitimation.financing == chain.CODE,
        Legitimation.toewijzingnummer.is_not(None),
        or_(
            and_(
                Legitimation.status == "actief",
                or_(
                    Legitimation.keten_stand.is_(None),
                    Legitimation.keten_stand == "start_ingetrokken",
                ),
            ),
            Legitimation.keten_stand.in_(("start_afgewezen", "stop_afgewezen")),
            and_(
                Legitimation.keten_stand == "gestart",
                or_(Legitimation.status == "vervallen", Legitimation.einddatum < today),
            ),
        ),
    )


def action_counts(session: Session, today: date) -> list[ActionCount]:
    n = session.scalar(select(func.count(Legitimation.id)).where(needs_action(today))) or 0
    return [
        ActionCount(
            key="wmo_jw.toewijzingen",
            label="Toewijzingen zonder start of met een stop te melden (Wmo/Jeugdwet)",
            count=n,
            endpoint="wmo_jw.index",
            permission="legitimations.view",
        )
    ]


def menu_items() -> list[MenuItem]:
    return [MenuItem("wmo_jw.index", "Toewijzingen", "legitimations.view")]


CODELISTS = {"retourcode": "LDT_RetourCode", "productcategorie": "LDT_ProductCategorie"}


def code_label(codelist: str, code: str) -> str | None:
    """A code's meaning from the iWmo code list, else the iJw one (youth categories)."""
    type_name = CODELISTS.get(codelist)
    if type_name is None:
        return None
    for std in (IWMO, IJW):
        meaning = std.codes(type_name).get(code)
        if meaning:
            return meaning
    return None
