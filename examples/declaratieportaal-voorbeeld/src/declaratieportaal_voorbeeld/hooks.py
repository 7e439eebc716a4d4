"""Hook implementations only; the rules live in ``validation``, declaring in ``declaration``.

The portal finds this module through the entry point ``voorbeeld`` in the group
``declaratieportaal`` (see pyproject.toml) and registers it next to the built-in financings.
"""

from __future__ import annotations

from declaratieportaal_voorbeeld import CODE, validation
from declaratieportaal_voorbeeld import declaration as declaring
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, MessageDraft, Unit


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Voorbeeldfinanciering",
        financier_kinds=(FinancierKind.INSTELLING,),
        units=(Unit.MINUUT, Unit.UUR),
        can_stack=False,
        standards=("VB-DECLARATIE 1.0",),
        channel="vecozo",
        description="Een voorbeeld van een financiering uit een eigen pakket (buiten de portal).",
        legitimation_label="opdracht",
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None  # not mine
    return validation.legitimation_issues(legitimation, financier, settings.get(CODE, {}))


# -- declaring: a small fixed-width file of our own through the portal's run ---------------------


@hookimpl
def declaration_lines(financier, care, period_begin, period_end, session, settings):
    if financier.financing != CODE:
        return None
    return declaring.lines(financier, care, session)


@hookimpl
def build_declaration(declaration, session, settings):
    if declaration.financing != CODE:
        return None
    return declaring.build(declaration, session)


@hookimpl
def parse_message(message, session, settings):
    return declaring.read_answer(bytes(message.payload))


@hookimpl
def financier_reply(payload, settings):
    answer = declaring.reply(bytes(payload))
    if answer is None:
        return None
    return [MessageDraft(standard="VB-RETOUR 1.0", code="VB02", payload=answer)]
