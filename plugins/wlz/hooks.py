"""Wlz (zorgkantoren): the iWlz chain (AW33 → AW34, AW35/AW36, AW39/AW310) and the AW319/AW320
declaration. Only hook implementations; the work is in the modules beside this one."""

from __future__ import annotations

from plugins.wlz import chain, validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Recognition, Unit

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


@hookimpl
def recognise_message(message, session, settings):
    from plugins.wlz import messages

    found = messages.recognise(bytes(message.payload))
    if found is None:
        return None
    rel, name = found
    return Recognition(CODE, name, f"iWlz {rel.name}")


@hookimpl
def parse_message(message, session, settings):
    return chain.process(session, bytes(message.payload))


@hookimpl
def chain_actions(legitimation, settings):
    if legitimation.financing != CODE:
        return None
    return chain.actions(legitimation)
