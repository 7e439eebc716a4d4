"""Screens of the Zvw plugin, mounted at /f/zvw_msvt/: the worklist, an insurer's month at a
glance, the client's Zvw section and the contracts per insurer (with the MSVT route).

Loaded only by the ``register_blueprints`` hook; views parse input and call ``overview``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, request

from plugins.zvw_msvt import declaration as declaring
from plugins.zvw_msvt import overview
from plugins.zvw_msvt import standard as std
from portal.auth import requires
from portal.db import db_session
from portal.models import Client, Financier
from portal.web import audit_client_view, render

bp = Blueprint("zvw_msvt", __name__, template_folder="templates")


def _hooks():
    return current_app.extensions["hooks"]


@bp.route("/")
@requires("declarations.view")
def index():
    session = db_session()
    today = date.today()
    rejected, ending = overview.worklist(session, today)
    rows = [{"line": ln, "explained": overview.explain(ln.retourcodes or [])} for ln in rejected]
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return render(
        "zvw_msvt/index.html",
        rows=rows,
        ending=ending,
        today=today,
        insurers=overview.insurers(session),
        last_month=last_month,
    )


@bp.route("/afgewezen")
@requires("declarations.view")
def rejected():
    """The rejected prestaties (the worklist; the core's follow-up screen links here)."""
    return index()


def _month_arg(today: date) -> date:
    raw = request.args.get("maand", "")
    m = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if m and 2015 <= int(m[1]) <= today.year + 1 and 1 <= int(m[2]) <= 12:
        return date(int(m[1]), int(m[2]), 1)
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month


@bp.route("/verzekeraars")
@requires("declarations.view")
def insurers():
    session = db_session()
    return render("zvw_msvt/insurers.html", insurers=overview.insurers(session))


@bp.route("/verzekeraars/<int:verzekeraar_id>")
@requires("declarations.view")
def insurer_month(verzekeraar_id: int):
    session = db_session()
    fin = session.get(Financier, verzekeraar_id)
    if fin is None or fin.financing != std.CODE:
        abort(404)
    today = date.today()
    day = _month_arg(today)
    m = overview.month(session, _hooks(), fin, day)
    prev = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return render(
        "zvw_msvt/month.html",
        m=m,
        prev=prev,
        nxt=nxt if nxt <= today else None,
    )


@bp.route("/clienten/<int:client_id>")
@requires("legitimations.view")
def client(client_id: int):
    session = db_session()
    person = session.get(Client, client_id)
    if person is None:
        abort(404)
    audit_client_view(person.id)
    indicaties, lines = overview.client_section(session, person.id)
    return render(
        "zvw_msvt/client.html",
        client=person,
        indicaties=indicaties,
        lines=[(ln, overview.explain(ln.retourcodes or [])) for ln in lines],
        unit_labels=std.UNIT_LABELS,
        unit_codes=std.UNIT_CODES,
        today=date.today(),
    )


@bp.route("/contracten")
@requires("contracts.view")
def contracts():
    session = db_session()
    per, onderaanneming = overview.contracts(session, _hooks().settings, date.today())
    return render(
        "zvw_msvt/contracts.html",
        per=per,
        onderaanneming=onderaanneming,
        lists=std.lists(),
        unit_codes=std.UNIT_CODES,
        unit_labels=std.UNIT_LABELS,
        problem_of=declaring.contract_line_problem,
    )
