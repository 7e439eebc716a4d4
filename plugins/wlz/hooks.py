from __future__ import annotations

from plugins.wlz import validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Unit

CODE = validation.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Wlz",
        financier_kinds=(FinancierKind.ZORGKANTOOR,),
        units=(Unit.MINUUT, Unit.UUR, Unit.DAGDEEL, Unit.DAG, Unit.ETMAAL, Unit.STUK),
        can_stack=True,
        standards=("iWlz 2.2", "AW319/AW320 (Vektis EI)"),
        channel="vecozo",
        description="Indicaties en opdrachten van het zorgkantoor (AW33), start/stop (AW35/AW39) en declaraties (AW319).",
        legitimation_label="indicatie",
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None
    return validation.legitimation_issues(legitimation, financier, client)
