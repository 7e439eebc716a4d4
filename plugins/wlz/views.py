"""Screens of the Wlz plugin, mounted at /f/wlz/: the worklist, a client's toewijzingen with
the chain actions that are valid now (AW35, AW39, withdrawal), and — only against the VECOZO
stand-in — a button that lets the simulated zorgkantoor send an AW33 for a new client.

Rejected AW319 lines are handled on the core's generic follow-up screen
(``/declareren/vervolg/wlz``); the worklist links to it.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from plugins.wlz import chain, rules, worklist
from plugins.wlz import messages as msgs
from plugins.wlz.standard import current
from portal.auth import requires
from portal.db import db_session, lock_row
from portal.models import Client, Legitimation, Message
from portal.validators import parse_date
from portal.web import audit_client_view, render

bp = Blueprint("wlz", __name__, template_folder="templates")

STAND = {
    "nieuw": ("Nog niet gestart", "warn"),
    "start_verzonden": ("Start verzonden", "off"),
    "start_afgewezen": ("Start afgewezen", "err"),
    "gestart": ("In zorg", "ok"),
    "einde_melden": ("Einde/mutatie melden", "warn"),
    "mutatie_verzonden": ("Mutatie verzonden", "off"),
    "mutatie_afgewezen": ("Mutatie afgewezen", "err"),
    "wacht": ("Wacht (nog niet gestart)", "off"),
    "beeindigd": ("Beëindigd", "off"),
}


def _label(leg: Legitimation) -> str:
    s = leg.sleutels or {}
    rel = current()
    if s.get("soort") == "zzp":
        return f"ZZP {s['code']} {rel.meaning('LDT_ZzpCode', s['code'])}"
    if s.get("soort") == "functie":
        klasse = f", klasse {s['klasse']}" if s.get("klasse") else ""
        return f"Functie {s['code']} {rel.meaning('LDT_FunctieCode', s['code'])}{klasse}"
    return leg.productcode or "—"


def _rows(session, condition, limit=200):
    return list(
        session.scalars(
            select(Legitimation)
            .where(condition)
            .options(selectinload(Legitimation.client), selectinload(Legitimation.financier))
            .order_by(Legitimation.begindatum.desc(), Legitimation.id.desc())
            .limit(limit)
        )
    )


@bp.route("/")
@requires("legitimations.view")
def index():
    session = db_session()
    today = date.today()
    sections = [
        ("Nieuwe toewijzingen: start melden (AW35)", _rows(session, worklist.to_start())),
        (
            "Beëindigd of gewijzigd na de start: mutatie of einde melden (AW39)",
            _rows(session, worklist.to_end(today)),
        ),
        ("Afgewezen door het zorgkantoor (AW36/AW310)", _rows(session, worklist.rejected())),
    ]
    late = list(
        session.scalars(
            select(Message).where(worklist.unanswered()).order_by(Message.sent_at).limit(100)
        )
    )
    n_legs = session.scalar(
        select(func.count(Legitimation.id)).where(
            Legitimation.financing == chain.CODE, Legitimation.toewijzingnummer.is_not(None)
        )
    )
    return render(
        "wlz/index.html",
        sections=sections,
        late=late,
        n_legs=n_legs,
        label=_label,
        stand=STAND,
    )


@bp.route("/clienten/<int:client_id>")
@requires("legitimations.view")
def client(client_id: int):
    session = db_session()
    person = session.get(Client, client_id)
    if person is None:
        abort(404)
    audit_client_view(person.id)
    rel = current()
    rows = []
    legs = session.scalars(
        select(Legitimation)
        .where(Legitimation.client_id == client_id, Legitimation.financing == chain.CODE)
        .order_by(Legitimation.begindatum.desc(), Legitimation.id)
    )
    for leg in legs:
        s = leg.sleutels or {}
        rows.append(
            {
                "leg": leg,
                "s": s,
                "label": _label(leg),
                "stand": STAND.get(leg.keten_stand or "", ("—", "off")),
                "actions": chain.actions(leg),
                "history": list(reversed(s.get("historie") or []))[:10],
                "codes": [
                    (c, rel.meaning("LDT_RetourCode", c))
                    for k in ("start", "mutatie")
                    for c in ((s.get(k) or {}).get("codes") or [])
                ],
            }
        )
    return render(
        "wlz/client.html",
        client=person,
        rows=rows,
        today=date.today(),
        mutatiecodes=rel.codes("LDT_MutatieCode"),
        zzpcodes=rel.codes("LDT_ZzpCode"),
        leveringsvormen=rel.codes("LDT_Leveringsvorm"),
        leveringsstatus=rel.codes("LDT_Leveringsstatus"),
        bij_mutatie=rules.LEVERINGSSTATUS_BIJ_MUTATIE,
        met_bestemming=rules.MUTATIE_MET_BESTEMMING,
    )


@bp.route("/toewijzingen/<int:leg_id>/<action>", methods=["POST"])
@requires("legitimations.edit")
def act(leg_id: int, action: str):
    """AW35, AW39 or a withdrawal: only when offered now for this toewijzing; a double click
    waits for the first request (row lock) and then finds nothing left to do."""
    from portal.services.messages import create_outgoing

    session = db_session()
    lock_row(session, Legitimation, leg_id)
    leg = session.get(Legitimation, leg_id, populate_existing=True)
    if leg is None or leg.financing != chain.CODE:
        abort(404)
    back = redirect(url_for("wlz.client", client_id=leg.client_id), 303)
    if action not in {a["action"] for a in chain.actions(leg)}:
        session.rollback()
        flash(
            "Dit kan nu niet voor deze toewijzing: er wacht een bericht op antwoord van het "
            "zorgkantoor, of de actie is niet van toepassing.",
            "error",
        )
        return back
    try:
        if action == "start":
            begin = _date("begindatum")
            draft = chain.start_draft(
                session, leg, begin, etmalen=request.form.get("etmalen") or None
            )
            done = f"Melding aanvang zorg (AW35) per {begin:%d-%m-%Y} is verstuurd naar het zorgkantoor."
        elif action == "mutatie":
            when = _date("mutatiedatum")
            code = request.form.get("mutatiecode") or ""
            aanvraag = None
            if request.form.get("aanvraag_zzp"):
                s = leg.sleutels or {}
                aanvraag = msgs.Aanvraag(
                    besluitnummer=s["besluitnummer"],
                    afgiftedatum=date.fromisoformat(s["indicatie"]["afgiftedatum"]),
                    instelling=s["instelling"],
                    zzp=request.form["aanvraag_zzp"],
                    leveringsvorm=request.form.get("aanvraag_leveringsvorm") or "",
                    ingangsdatum=_date("aanvraag_ingangsdatum"),
                )
            draft = chain.mutatie_draft(
                session,
                leg,
                code,
                when,
                leveringsstatus=request.form.get("leveringsstatus") or None,
                bestemming=(request.form.get("bestemming") or "").strip() or None,
                aanvraag=aanvraag,
            )
            done = f"Mutatie {code} (AW39) per {when:%d-%m-%Y} is verstuurd naar het zorgkantoor."
        else:
            kind = "start" if action == "start_intrekken" else "mutatie"
            draft = chain.withdraw_draft(session, leg, kind)
            done = f"Het intrekken van de {kind} is verstuurd naar het zorgkantoor."
    except chain.RuleError as exc:
        session.rollback()
        for issue in exc.issues:
            flash(f"Niet verstuurd: {issue.message} ({issue.code})", "error")
        return back
    except ValueError as exc:
        session.rollback()
        flash(str(exc), "error")
        return back
    create_outgoing(session, draft, financing=chain.CODE, created_by=current_user.id)
    session.commit()
    flash(done, "success")
    return back


def _date(name: str) -> date:
    try:
        value = parse_date(request.form.get(name))
    except ValueError:
        value = None
    if value is None:
        raise ValueError("Vul een geldige datum in (dd-mm-jjjj).")
    return value


@bp.route("/demo/toewijzing", methods=["POST"])
@requires("legitimations.edit")
def demo_aw33():
    """The simulated zorgkantoor sends an AW33 for a new client (VECOZO stand-in only)."""
    import base64

    import requests
    from flask import current_app

    from plugins.wlz import demo
    from portal.app import hooks
    from portal.vecozo.client import base_url

    if current_app.config.get("VECOZO_ENVIRONMENT") != "standin":
        abort(404)
    session = db_session()
    try:
        draft = demo.new_aw33(session, hooks().settings, date.today())
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("wlz.index"), 303)
    try:
        resp = requests.post(
            f"{base_url(current_app.config)}/_standin/plaatsen",
            json={
                "payload_base64": base64.b64encode(draft.payload).decode(),
                "code": draft.code,
                "postbus": draft.geadresseerde[1],
                "postbus_rol": "Instelling",
                "afzender_rol": "Zorgkantoor",
                "afzender_code": draft.afzender[1],
            },
            timeout=10,
        )
        resp.raise_for_status()
    except requests.RequestException as exc:
        flash(f"De VECOZO-stand-in is niet bereikbaar: {exc}", "error")
        return redirect(url_for("wlz.index"), 303)
    flash(
        f"Het zorgkantoor heeft toewijzing {draft.reference} (AW33) gestuurd. Haal de berichten op "
        "(Berichten → Nu ophalen) om hem te verwerken.",
        "success",
    )
    return redirect(url_for("wlz.index"), 303)
