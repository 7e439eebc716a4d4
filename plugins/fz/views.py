"""Screens of forensische zorg, mounted at /f/fz/: what needs action (placements without start,
ended placements without end report, rejected prestaties), the placements of a client with their
start/end state and the valid chain actions, and the formats in use ("voorlopig formaat").

Loaded only by the ``register_blueprints`` hook; the hooks themselves never touch the request.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from plugins.fz import codes, formats, placements, worklist
from portal.auth import requires
from portal.db import db_session
from portal.models import Client, Legitimation, Message
from portal.models.declaration import DeclarationLine
from portal.services import declarations
from portal.validators import parse_date
from portal.web import audit_client_view, render

bp = Blueprint("fz", __name__, template_folder="templates")
LISTS = {
    "aanvang": "Plaatsingen zonder melding aanvang zorg",
    "einde": "Beëindigde plaatsingen zonder melding einde zorg",
    "afgewezen": "Door DJI afgewezen prestaties",
}


def _settings():
    return current_app.extensions["hooks"].settings


def _placement_row(leg: Legitimation) -> dict:
    k = placements.keys(leg)
    history = []
    for kind, label in (("aanvang", "Aanvang zorg (FZ823)"), ("einde", "Einde zorg (FZ825)")):
        item = k.get(kind)
        if item:
            history.append(
                {
                    "label": label,
                    "datum": date.fromisoformat(item["datum"]),
                    "status": item.get("status"),
                    "reden": placements.REDENEN_EINDE.get(item.get("reden") or "", ""),
                    "codes": [(c, codes.meaning(c)) for c in item.get("codes") or []],
                }
            )
    return {
        "leg": leg,
        "titel": codes.titel_label(k.get("titel")),
        "prestatie": codes.prestatie_label(leg.productcode),
        "soort": codes.SOORT_LABELS.get(
            getattr(codes.prestaties().get(leg.productcode or ""), "soort", ""), "onbekend"
        ),
        "instelling": k.get("instelling") or "—",
        "stand": placements.STAND_LABELS.get(placements.stand(leg), placements.stand(leg)),
        "actions": placements.actions(leg),
        "history": history,
    }


@bp.route("/")
@requires("legitimations.view")
def index():
    return _worklist(request.args.get("lijst", "aanvang"))


def _worklist(lijst: str):
    session = db_session()
    today = date.today()
    if lijst not in LISTS:
        lijst = "aanvang"
    rows, rejected = [], []
    if lijst == "afgewezen":
        for line in declarations.rejected_lines(session, placements.CODE, limit=300):
            rejected.append(
                {
                    "line": line,
                    "client": session.get(Client, line.client_id),
                    "codes": [(c, codes.meaning(c)) for c in line.retourcodes or []],
                }
            )
    else:
        cond = (
            worklist.without_start(today) if lijst == "aanvang" else worklist.end_to_report(today)
        )
        legs = session.scalars(
            select(Legitimation)
            .where(cond)
            .options(selectinload(Legitimation.client))
            .order_by(Legitimation.begindatum, Legitimation.id)
            .limit(300)
        )
        rows = [_placement_row(leg) for leg in legs]
    return render(
        "fz/index.html",
        lijst=lijst,
        lists=LISTS,
        rows=rows,
        rejected=rejected,
        counts={c.params["lijst"]: c.count for c in worklist.action_counts(session, today)},
        formaten=formats.all_formats(_settings()),
        today=today,
    )


@bp.route("/afgewezen")
@requires("legitimations.view")
def rejected():
    """The rejected prestaties with DJI's reasons (the declaration page links here)."""
    return _worklist("afgewezen")


@bp.route("/clienten/<int:client_id>")
@requires("legitimations.view")
def client(client_id: int):
    session = db_session()
    person = session.get(Client, client_id)
    if person is None:
        abort(404)
    audit_client_view(person.id)
    legs = session.scalars(
        select(Legitimation)
        .where(Legitimation.client_id == client_id, Legitimation.financing == placements.CODE)
        .order_by(Legitimation.begindatum.desc())
    )
    messages = [
        m
        for m in session.scalars(
            select(Message)
            .where(Message.financing == placements.CODE)
            .order_by(Message.id.desc())
            .limit(500)
        )
        if client_id in (m.client_ids or [])
    ]
    lines = session.scalars(
        select(DeclarationLine)
        .where(
            DeclarationLine.client_id == client_id,
            DeclarationLine.financing == placements.CODE,
        )
        .order_by(DeclarationLine.id.desc())
        .limit(100)
    ).all()
    return render(
        "fz/client.html",
        client=person,
        rows=[_placement_row(leg) for leg in legs],
        messages=messages,
        lines=[(x, [(c, codes.meaning(c)) for c in x.retourcodes or []]) for x in lines],
        redenen=placements.REDENEN_EINDE,
        formaten=formats.all_formats(_settings()),
        today=date.today(),
    )


@bp.route("/plaatsingen/<int:leg_id>/<action>", methods=["POST"])
@requires("legitimations.edit")
def act(leg_id: int, action: str):
    """Report the start (FZ823) or end (FZ825) of care; refused in Dutch when not allowed."""
    session = db_session()
    leg = session.get(Legitimation, leg_id)
    if leg is None or leg.financing != placements.CODE or action not in ("aanvang", "einde"):
        abort(404)
    back = redirect(url_for("fz.client", client_id=leg.client_id))
    try:
        datum = parse_date(request.form.get("datum", ""))
    except ValueError as exc:
        flash(f"Ongeldige datum: {exc}", "error")
        return back
    if datum is None:
        flash("Vul een datum in.", "error")
        return back
    try:
        if action == "aanvang":
            placements.report_start(
                session, leg, datum, settings=_settings(), user_id=current_user.id
            )
        else:
            placements.report_end(
                session,
                leg,
                datum,
                request.form.get("reden", ""),
                settings=_settings(),
                user_id=current_user.id,
            )
    except placements.ChainError as exc:
        session.rollback()
        for issue in exc.issues:
            flash(issue.message, "error")
        return back
    session.commit()
    what = "aanvang zorg (FZ823)" if action == "aanvang" else "einde zorg (FZ825)"
    flash(f"Melding {what} voor plaatsing {leg.referentienummer} is verstuurd naar DJI.", "success")
    return back
