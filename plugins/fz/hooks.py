"""Forensische zorg (DJI, UZOVI 9992): placements, start/end of care and declarations.

DJI's message formats are not public: every format is a provisional one of our own, versioned
data in ``plugins/fz/formats`` (see docs/fz.md).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import object_session

from plugins.fz import codes, financier, formats, placements, validation, worklist
from plugins.fz import declaration as declaring
from portal import hookimpl
from portal.domain import (
    FinancierKind,
    FinancingInfo,
    Issue,
    LegitimationField,
    ParseOutcome,
    Recognition,
    Unit,
)

CODE = validation.CODE
log = logging.getLogger(__name__)
INBOUND = ("FZ821", "FZ824", "FZ826", "GDS802", "FZ304")


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
        description="Plaatsingen, aanvang en einde zorg en declaraties met DJI. Berichtformaten "
        "zijn voorlopig (DJI's formaten zijn niet openbaar).",
        legitimation_label="plaatsing",
        provisional=any(f.provisional for f in formats.all_formats(settings)),
        legitimation_fields=(
            LegitimationField(
                "titel",
                "Forensische titel",
                tuple((t.code, f"{t.code} {t.omschrijving}") for t in codes.titels().values()),
            ),
            LegitimationField("instelling", "Instelling (AGB-code van de plaatsing)"),
        ),
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None
    return validation.legitimation_issues(legitimation, financier, client) + (
        placements.placement_issues(legitimation)
    )


@hookimpl
def chain_actions(legitimation, settings):
    if legitimation.financing != CODE:
        return None
    return placements.actions(legitimation)


@hookimpl
def declaration_lines(financier, care, period_begin, period_end, session, settings):
    if financier.financing != CODE:
        return None
    return declaring.lines(financier, care, session)


@hookimpl
def validate_declaration(declaration, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    return declaring.issues(declaration, object_session(declaration), settings)


@hookimpl
def build_declaration(declaration, session, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    return declaring.drafts(declaration, session, settings)


@hookimpl
def recognise_message(message, session, settings):
    fmt = formats.identify(bytes(message.payload), settings)
    if fmt is None or fmt.message not in INBOUND:
        return None
    return Recognition(CODE, fmt.message, fmt.standard_label)


@hookimpl
def parse_message(message, session, settings):
    payload = bytes(message.payload)
    fmt = formats.identify(payload, settings)
    if fmt is None or fmt.message not in INBOUND:
        return None
    try:
        values = fmt.read(payload)
    except formats.FormatError as exc:
        log.warning(
            "fz: %s-bericht %s geweigerd (%d bytes): %s", fmt.message, message.id, len(payload), exc
        )
        return ParseOutcome(
            standard=fmt.standard_label,
            code=fmt.message,
            summary=f"{fmt.message} geweigerd, er is niets gewijzigd: {exc}",
            needs_action=True,
            issues=[Issue("formaat", str(exc), None)],
            financing=CODE,
        )
    if fmt.message == "FZ821":
        return placements.process_821(session, fmt, values)
    if fmt.message in ("FZ824", "FZ826"):
        return placements.process_retour(session, fmt, values)
    return declaring.read_answer(fmt, values)


@hookimpl
def financier_reply(payload, settings):
    return financier.reply(bytes(payload), settings)


@hookimpl
def register_blueprints(settings):
    from plugins.fz.views import bp

    return [bp]


@hookimpl
def menu_items(settings):
    return worklist.menu_items()


@hookimpl
def action_counts(session, today, settings):
    return worklist.action_counts(session, today)


@hookimpl
def code_label(financing, codelist, code, settings):
    if financing != CODE or codelist != "retourcode":
        return None
    return codes.retourcodes().get(code, (None,))[0]


@hookimpl
def seed_demo(session, today, settings):
    from plugins.fz import demo

    return demo.seed(session, today, settings)
