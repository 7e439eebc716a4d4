from __future__ import annotations

from plugins.zvw_msvt import validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Unit

CODE = validation.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Zvw (wijkverpleging en MSVT)",
        financier_kinds=(FinancierKind.ZORGVERZEKERAAR,),
        units=(Unit.MINUUT, Unit.UUR, Unit.STUK),
        can_stack=True,
        standards=("AW319/AW320 (Vektis EI, prestatiecodelijst 065)",),
        channel="vecozo",
        description="Wijkverpleging en medisch-specialistische verpleging thuis, gedeclareerd bij de zorgverzekeraar.",
        legitimation_label="indicatie",
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None
    return validation.legitimation_issues(legitimation, financier, client)
