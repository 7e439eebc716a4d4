from __future__ import annotations

from plugins.fz import validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Unit

CODE = validation.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Forensische zorg (DJI)",
        financier_kinds=(FinancierKind.DJI,),
        units=(Unit.MINUUT, Unit.UUR, Unit.DAG, Unit.ETMAAL, Unit.STUK),
        can_stack=False,
        standards=("FZ303/FZ304", "GDS801/GDS802", "FZ821–FZ826"),
        channel="vecozo",
        description="Forensische zorg in opdracht van DJI. Berichtformaten zijn voorlopig (niet openbaar).",
        legitimation_label="plaatsing",
        provisional=True,
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None
    return validation.legitimation_issues(legitimation, financier, client)
