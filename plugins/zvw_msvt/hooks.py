"""Zvw incl. wijkverpleging, ELV, ZG and MSVT (zorgverzekeraars): AW319/AW320 (Vektis EI)."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from plugins.zvw_msvt import declaration as declaring
from plugins.zvw_msvt import financier, standard, validation
from portal import hookimpl
from portal.domain import FinancierKind, FinancingInfo, Recognition, Unit

CODE = standard.CODE


@hookimpl
def financing_info(settings):
    return FinancingInfo(
        code=CODE,
        label="Zvw (wijkverpleging en MSVT)",
        financier_kinds=(FinancierKind.ZORGVERZEKERAAR,),
        units=(
            Unit.MINUUT,
            Unit.UUR,
            Unit.DAG,
            Unit.ETMAAL,
            Unit.MAAND,
            Unit.JAAR,
            Unit.STUK,
        ),
        can_stack=True,
        standards=(
            "AW319/AW320 (Vektis EI; 428 wijkverpleging en ELV, 430 ZG; lijsten 065, 068, 066)",
        ),
        channel="vecozo",
        description=(
            "Wijkverpleging, eerstelijnsverblijf, zintuiglijk gehandicaptenzorg en MSVT, "
            "gedeclareerd bij de zorgverzekeraar."
        ),
        legitimation_label="indicatie",
        legitimation_fields=validation.FIELDS,
    )


@hookimpl
def validate_legitimation(legitimation, financier, client, settings):
    if legitimation.financing != CODE:
        return None
    return validation.legitimation_issues(legitimation, financier, client)


@hookimpl
def declaration_lines(financier, care, period_begin, period_end, session, settings):
    if financier.financing != CODE:
        return None
    return declaring.lines(financier, care, period_begin, period_end, session)


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
def validate_declaration(declaration, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    return declaring.issues(declaration, object_session(declaration))


@hookimpl
def build_declaration(declaration, session, settings):
    if getattr(declaration, "financing", None) != CODE:
        return None
    return declaring.drafts(declaration, session, settings)


@hookimpl
def recognise_message(message, session, settings):
    if declaring.is_aw320(bytes(message.payload[:5])):
        return Recognition(CODE, "AW320", "AW320 (Vektis EI)")
    return None


@hookimpl
def parse_message(message, session, settings):
    payload = bytes(message.payload)
    if message.financing not in (None, CODE) or not declaring.is_aw320(payload[:5]):
        return None
    return declaring.read_aw320(payload)


@hookimpl
def financier_reply(payload, settings):
    return financier.reply(bytes(payload), settings)


@hookimpl
def code_label(financing, codelist, code, settings):
    if financing != CODE:
        return None
    if codelist == "retourcode":
        found = standard.retourcodes().get(code)
        return found.meaning if found else None
    if codelist == "productcategorie":
        return standard.lists().get(code)
    return None


@hookimpl
def register_blueprints(settings):
    from plugins.zvw_msvt.views import bp

    return [bp]


@hookimpl
def menu_items(settings):
    from plugins.zvw_msvt import overview

    return overview.menu_items()


@hookimpl
def action_counts(session, today, settings):
    from plugins.zvw_msvt import overview

    return overview.action_counts(session, today)


@hookimpl
def seed_demo(session, today, settings):
    from plugins.zvw_msvt import demo

    return demo.seed(session, today, settings)
