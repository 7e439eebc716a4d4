"""Fiatteren (back office): choose a period and filters, see the preview with every warning,
approve; withdraw an approval; credit an exported registration. Rules: portal.services.approval."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.models import Client, Product, Registration, User
from portal.services import approval as svc
from portal.services import registrations as regsvc
from portal.services.stacking import stacking_active, week_start
from portal.web import render

bp = Blueprint("approval", __name__, url_prefix="/fiatteren")

SHOWN = 500  # preview lines on the page


def _filters(args) -> tuple[svc.Filters | None, dict[str, str]]:
    errors = {}
    start = regsvc.parse_date(args.get("van", ""))
    end = regsvc.parse_date(args.get("tot", ""))
    if start is None:
        errors["van"] = "Vul een geldige begindatum in (dd-mm-jjjj)."
    if end is None:
        errors["tot"] = "Vul een geldige einddatum in (dd-mm-jjjj)."
    client_id = args.get("client_id", "")
    exclude = frozenset(int(v) for v in args.getlist("uitsluiten") if v.isdigit())
    if errors:
        return None, errors
    return (
        svc.Filters(
            start=start,
            end=end,
            team=(args.get("team") or "").strip() or None,
            financing=(args.get("financiering") or "").strip() or None,
            client_id=int(client_id) if client_id.isdigit() else None,
            exclude=exclude,
        ),
        {},
    )


def _names(session, lines):
    ids = {ln.client_id for ln in lines}
    emp = {ln.employee_id for ln in lines}
    prods = {ln.product_id for ln in lines}
    clients = {c.id: c.naam for c in session.scalars(select(Client).where(Client.id.in_(ids)))}
    users = {u.id: u.naam for u in session.scalars(select(User).where(User.id.in_(emp)))}
    products = {p.id: p.naam for p in session.scalars(select(Product).where(Product.id.in_(prods)))}
    return clients, users, products


@bp.route("/")
@requires("approval")
def index():
    session = db_session()
    last_monday = week_start(date.today()) - timedelta(days=7)
    values = {
        "van": request.args.get("van") or last_monday.strftime("%d-%m-%Y"),
        "tot": request.args.get("tot") or (last_monday + timedelta(days=6)).strftime("%d-%m-%Y"),
        "team": request.args.get("team", ""),
        "financiering": request.args.get("financiering", ""),
        "client_id": request.args.get("client_id", ""),
    }
    pv, errors, names, shown = None, {}, ({}, {}, {}), []
    choices, summary = [], []
    if "van" in request.args:
        f, errors = _filters(request.args)
        if f is not None:
            pv = svc.preview(session, f, hooks())
            if pv.problems:  # not whole weeks while stacking: offer the nearest ones
                choices = svc.whole_week_choices(f.start, f.end)
            summary = svc.warning_summary(pv)
            # the lines with a warning first; a month of a large organisation is not one table
            shown = sorted(pv.lines, key=lambda ln: not ln.warnings)[:SHOWN]
            names = _names(session, shown)
    teams = sorted(
        t for t in session.scalars(select(Client.team).where(Client.team.is_not(None)).distinct())
    )
    return render(
        "approval/index.html",
        None,
        values=values,
        errors=errors,
        pv=pv,
        shown=shown,
        names=names,
        teams=teams,
        financings=hooks().choices(),
        runs=svc.runs(session),
        choices=choices,
        summary=summary,
        stacking_on=stacking_active(session),
        token=secrets.token_urlsafe(16),
        label=regsvc.duration_label,
    )


@bp.route("/", methods=["POST"])
@requires("approval")
def approve():
    session = db_session()
    f, errors = _filters(request.form)
    back = {k: request.form.get(k, "") for k in ("van", "tot", "team", "financiering", "client_id")}
    if f is None:
        flash(next(iter(errors.values())), "error")
        return redirect(url_for("approval.index", **back), 303)
    try:
        run = svc.approve(
            session, f, hooks(), user_id=current_user.id, token=request.form.get("token")
        )
    except svc.ApprovalError as exc:
        flash(str(exc), "error")
        return redirect(url_for("approval.index", **back), 303)
    left_out = (
        f" {len(f.exclude)} registratie(s) uitgesloten; die blijven concept." if f.exclude else ""
    )
    flash(
        f"{run.aantal} registratie(s) gefiatteerd ({run.periode_start:%d-%m-%Y} t/m "
        f"{run.periode_eind:%d-%m-%Y}), waarvan {run.aantal_waarschuwingen} met een waarschuwing."
        + left_out,
        "info",
    )
    return redirect(url_for("approval.index"), 303)


@bp.route("/<int:run_id>/intrekken", methods=["POST"])
@requires("approval")
def withdraw(run_id: int):
    session = db_session()
    try:
        run = svc.withdraw(session, run_id, user_id=current_user.id)
        flash(
            f"Fiattering {run.periode_start:%d-%m-%Y} t/m {run.periode_eind:%d-%m-%Y} "
            "ingetrokken; de registraties kunnen weer worden gewijzigd.",
            "info",
        )
    except svc.ApprovalError as exc:
        flash(str(exc), "error")
    return redirect(url_for("approval.index"), 303)


@bp.route("/registratie/<int:reg_id>/crediteren", methods=["POST"])
@requires("approval")
def credit(reg_id: int):
    session = db_session()
    reg = session.get(Registration, reg_id)
    try:
        svc.credit(session, reg_id, user_id=current_user.id, reden=request.form.get("reden", ""))
        flash("De registratie is gecrediteerd.", "info")
    except svc.ApprovalError as exc:
        flash(str(exc), "error")
    if reg is not None:
        return redirect(
            url_for(
                "stacking.client_week", client_id=reg.client_id, week=request.form.get("week", "")
            ),
            303,
        )
    return redirect(url_for("approval.index"), 303)


@bp.route("/registratie/<int:reg_id>/corrigeren", methods=["GET", "POST"])
@requires("approval")
def correct(reg_id: int):
    """The back office corrects a concept registration before approving it (date, time,
    duration or count, product, remark), with a reason; the care worker stays who delivered it."""
    session = db_session()
    reg = session.get(Registration, reg_id)
    if reg is None or reg.credit_of_id is not None:
        abort(404)
    back = request.values.get("terug", "")
    back = back if back.startswith("/fiatteren/") else url_for("approval.index")
    errors: dict[str, str] = {}
    if request.method == "POST" and reg.editable:
        reden = (request.form.get("reden") or "").strip()
        form = dict(request.form.items(), client_id=str(reg.client_id))
        data = regsvc.parse_form(session, form)
        if not reden:
            data.errors["reden"] = "Geef een reden voor de correctie."
        result = (
            regsvc.SaveResult(None, data.errors, [])
            if data.errors
            else regsvc.save(
                session,
                data,
                reg.employee_id,
                today=date.today(),
                registration=reg,
                validate=lambda r: hooks().validate_registration(r),
                actor_id=current_user.id,
                reden=reden[:300],
            )
        )
        if result.ok:
            flash("Registratie gecorrigeerd.", "info")
            for w in result.warnings:
                flash(w.message, "warning")
            return redirect(back, 303)
        errors = result.errors
        values = dict(request.form.items())
    else:
        values = {
            "product_id": reg.product_id,
            "datum": reg.datum.strftime("%d-%m-%Y"),
            "starttijd": reg.starttijd.strftime("%H:%M") if reg.starttijd else "",
            "duur": regsvc.duration_label(reg.duur_minuten),
            "aantal": reg.aantal or "",
            "opmerking": reg.opmerking or "",
        }
    return render(
        "approval/correct.html",
        None,
        registration=reg,
        client=session.get(Client, reg.client_id),
        employee=session.get(User, reg.employee_id),
        products=regsvc.registrable_products(session, reg.client_id),
        values=values,
        errors=errors,
        back=back,
    ), (422 if errors else 200)
