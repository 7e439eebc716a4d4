"""Wmo and Jeugdwet (gemeenten): iWmo 3.2 and iJw 3.2."""

from __future__ import annotations

from plugins.wmo_jw import chain, financier, validation, worklist
from plugins.wmo_jw import declaration as declaring
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Recognition, Unit

CODE = validation.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Wmo en Jeugdwet",
        financier_kinds=(FinancierKind.GEMEENTE,),
        units=(
            Unit.MINUUT,
            Unit.UUR,
            Unit.DAGDEEL,
            Unit.DAG,
            Unit.ETMAAL,
            Unit.WEEK,
            Unit.MAAND,
            Unit.STUK,
        ),
        can_stack=False,  # DESIGN §6.4: Wmo and Jeugdwet never stack
        standards=("iWmo 3.2", "iJw 3.2"),
        channel="vecozo",
        description="Toewijzingen (301), start/stop zorg (305/307) en declaraties (323) met gemeenten.",
        legitimation_label="toewijzing",
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None
    return validation.legitimation_issues(legitimation, financier, client)


@hookimpl
def recognise_message(message, session, settings):
    from plugins.wmo_jw.messages import recognise

    found = recognise(bytes(message.payload))
    if found is None:
        return None
    std, kind = found
    return Recognition(CODE, std.message_name(kind), f"{std.label} {std.release}")


@hookimpl
def parse_message(message, session, settings):
    return chain.process(session, bytes(message.payload))


@hookimpl
def financier_reply(payload, settings):
    return financier.reply(bytes(payload), settings)


@hookimpl
def chain_actions(legitimation, settings):
    if legitimation.financing != CODE:
        return None
    return chain.actions(legitimation)


@hookimpl
def validate_declaration(declaration, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    from sqlalchemy.orm import object_session

    return declaring.issues(declaration, object_session(declaration))


@hookimpl
def declaration_lines(financier, care, period_begin, period_end, session, settings):
    if financier.financing != CODE:
        return None
    return declaring.lines(financier, care, session)


@hookimpl
def declaration_numbering(declaration, n_lines, session, settings):
    if declaration.financing != CODE:
        return None
    return declaring.numbering(declaration, n_lines, session)


@hookimpl
def credit_reference(line, session, settings):
    if line.financing != CODE:
        return None
    return declaring.credit_reference(line, session)


@hookimpl
def declaration_choices(financing, step, selected, settings):
    if financing != CODE or step != "periode":
        return None
    return declaring.period_choices(selected)


@hookimpl
def build_declaration(declaration, session, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    return declaring.drafts(declaration, session)


@hookimpl
def register_blueprints(settings):
    from plugins.wmo_jw.views import bp

    return [bp]


@hookimpl
def menu_items(settings):
    return worklist.menu_items()


@hookimpl
def action_counts(session, today, settings):
    return worklist.action_counts(session, today)


@hookimpl
def code_label(financing, codelist, code, settings):
    if financing != CODE:
        return None
    return worklist.code_label(codelist, code)


@hookimpl
def seed_demo(session, today, settings):
    from plugins.wmo_jw import demo

    return demo.seed(session, today, settings)
