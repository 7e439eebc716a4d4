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
    from plugins.wlz import declaration, messages
    from portal.services.messages import financings_that_sent

    payload = bytes(message.payload)
    if declaration.is_aw320(payload):
        number = declaration.invoice_number(payload)
        if number and CODE in financings_that_sent(session, reference=number, code="AW319"):
            return Recognition(CODE, "AW320", "AW320 (Vektis EI)")
        return None
    found = messages.recognise(payload)
    if found is None:
        return None
    rel, name = found
    return Recognition(CODE, name, f"iWlz {rel.name}")


@hookimpl
def parse_message(message, session, settings):
    from plugins.wlz import declaration

    payload = bytes(message.payload)
    if declaration.is_aw320(payload):
        if message.financing not in (None, CODE):
            return None
        return declaration.parse_aw320(payload)
    return chain.process(session, payload)


@hookimpl
def chain_actions(legitimation, settings):
    if legitimation.financing != CODE:
        return None
    return chain.actions(legitimation)


@hookimpl
def financier_reply(payload, settings):
    from plugins.wlz import financier

    return financier.reply(bytes(payload), settings)


# --- declaring (AW319 / AW320) --------------------------------------------------------------------


@hookimpl
def declaration_lines(financier, care, period_begin, period_end, session, settings):
    if financier.financing != CODE:
        return None
    from plugins.wlz import declaration

    return declaration.lines(financier, care, session, settings)


@hookimpl
def declaration_numbering(declaration, n_lines, session, settings):
    if declaration.financing != CODE:
        return None
    from plugins.wlz import declaration as d

    return d.numbering(declaration, n_lines, session)


@hookimpl
def credit_reference(line, session, settings):
    if line.financing != CODE:
        return None
    from plugins.wlz import declaration

    return declaration.credit_reference(line, session)


@hookimpl
def validate_declaration(declaration, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    from sqlalchemy.orm import object_session

    from plugins.wlz import declaration as d

    return d.issues(declaration, object_session(declaration))


@hookimpl
def build_declaration(declaration, session, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    from plugins.wlz import declaration as d

    return d.drafts(declaration, session)


@hookimpl
def code_label(financing, codelist, code, settings):
    if financing != CODE or codelist != "retourcode":
        return None
    from plugins.wlz import declaration

    rc = declaration.retourcodes().get(code)
    return rc.betekenis if rc else None


# --- screens ------------------------------------------------------------------------------------


@hookimpl
def register_blueprints(settings):
    from plugins.wlz.views import bp

    return [bp]


@hookimpl
def menu_items(settings):
    from plugins.wlz import worklist

    return worklist.menu_items()


@hookimpl
def action_counts(session, today, settings):
    from plugins.wlz import worklist

    return worklist.action_counts(session, today)


@hookimpl
def seed_demo(session, today, settings):
    from plugins.wlz import demo

    return demo.seed(session, today, settings)
