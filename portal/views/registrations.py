"""Registering delivered care (zorgprofessional): quick form, day and week views, copy last week,
and the registration import (CSV, back office). Thin: the rules live in
``portal.services.registrations`` and ``registration_import``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.models import Client, Registration
from portal.services import client_access as access
from portal.services import registration_import as importsvc
from portal.services import registrations as svc
from portal.services.stacking import iso_week_label, parse_iso_week, week_start
from portal.web import AMSTERDAM, render

bp = Blueprint("registrations", __name__, url_prefix="/registreren")

DAYS = ["ma", "di", "wo", "do", "vr", "za", "zo"]


def today() -> date:
    return datetime.now(AMSTERDAM).date()


def _validate(reg: Registration):
    return hooks().validate_registration(reg)


def _may_register_for(client_id: int) -> bool:
    return access.may_register_for(db_session(), current_user, client_id)


def _scope():
    return access.visible_clause(current_user.id, current_user.team)


def _form_context(session, values=None, errors=None, registration=None):
    values = dict(values or {})
    client = None
    raw = str(values.get("client_id") or "")
    if raw.isdigit() and len(raw) <= 18 and _may_register_for(int(raw)):
        client = session.get(Client, int(raw))
        access.record_lookup(
            session,
            current_user.id,
            [client.id],
            "zorg.client-getoond",
            ip=request.remote_addr,
            path=request.path,
        )
        session.commit()
    return dict(
        values=values,
        errors=errors or {},
        products=svc.registrable_products(session, client.id if client else None),
        chosen_client=client,
        registration=registration,
    )


def _day_context(session, day: date):
    regs = svc.of_employee(session, current_user.id, day, day)
    return dict(
        day=day,
        regs=regs,
        total=svc.total_minutes(regs),
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1) if day < today() else None,
        week=iso_week_label(day),
        label=svc.quantity_label,
        duration=svc.duration_label,
    )


@bp.route("/")
@requires("registration")
def index():
    session = db_session()
    day = svc.parse_date(request.args.get("dag", "")) or today()
    values = {"datum": day.strftime("%d-%m-%Y")}
    # the client of the last registration stays chosen: the next visit is often the same client
    kept = request.args.get("client", "")
    if kept.isdigit():
        values["client_id"] = kept
    return render(
        "registrations/index.html",
        "registrations/_day.html",
        **_form_context(session, values),
        **_day_context(session, day),
    )


@bp.route("/clienten")
@requires("registration")
def client_search():
    """htmx: client choices for the search box. Names and birth dates only, nothing else."""
    session = db_session()
    found = svc.search_clients(session, request.args.get("q", ""), scope=_scope())
    access.record_lookup(
        session,
        current_user.id,
        [c.id for c in found],
        "zorg.client-gezocht",
        ip=request.remote_addr,
        path=request.path,
    )
    session.commit()
    return render(
        "registrations/_clients.html",
        "registrations/_clients.html",
        found=found,
        q=request.args.get("q", ""),
    )


@bp.route("/nieuw", methods=["POST"])
@requires("registration")
def create():
    session = db_session()
    data = svc.parse_form(session, request.form, _may_register_for)
    result = svc.save(session, data, current_user.id, today=today(), validate=_validate)
    if not result.ok:
        day = data.datum if data.datum and data.datum <= today() else today()
        return render(
            "registrations/index.html",
            None,
            **_form_context(session, request.form, result.errors),
            **_day_context(session, day),
        ), 422
    reg = result.registration
    when = f"{reg.datum:%d-%m-%Y}" + (f" {reg.starttijd:%H:%M}" if reg.starttijd else "")
    flash(f"Opgeslagen: {reg.client.naam}, {when}, {svc.quantity_label(reg)}.", "info")
    for w in result.warnings:
        flash(w.message, "warning")
    return redirect(
        url_for("registrations.index", dag=reg.datum.isoformat(), client=reg.client_id), 303
    )


@bp.route("/producten")
@requires("registration")
def products():
    """htmx: the product field for the chosen client (only what its legitimations hold)."""
    session = db_session()
    raw = request.args.get("client_id", "")
    client_id = int(raw) if raw.isdigit() else None
    if client_id is not None and session.get(Client, client_id) is None:
        client_id = None
    return render(
        "registrations/_product.html",
        "registrations/_product.html",
        products=svc.registrable_products(session, client_id),
        values={"product_id": request.args.get("product_id", "")},
        errors={},
    )


def _own(reg_id: int) -> Registration:
    reg = db_session().get(Registration, reg_id)
    if reg is None or reg.employee_id != current_user.id:
        abort(404)
    return reg


@bp.route("/<int:reg_id>/wijzigen", methods=["GET", "POST"])
@requires("registration")
def edit(reg_id: int):
    session = db_session()
    reg = _own(reg_id)
    if request.method == "POST":
        data = svc.parse_form(session, request.form, _may_register_for)
        result = svc.save(
            session, data, current_user.id, today=today(), registration=reg, validate=_validate
        )
        if result.ok:
            flash("Wijziging opgeslagen.", "info")
            for w in result.warnings:
                flash(w.message, "warning")
            return redirect(url_for("registrations.index", dag=reg.datum.isoformat()), 303)
        return render(
            "registrations/edit.html",
            None,
            **_form_context(session, request.form, result.errors, reg),
        ), 422
    values = {
        "client_id": reg.client_id,
        "product_id": reg.product_id,
        "datum": reg.datum.strftime("%d-%m-%Y"),
        "starttijd": reg.starttijd.strftime("%H:%M") if reg.starttijd else "",
        "duur": svc.duration_label(reg.duur_minuten),
        "aantal": reg.aantal or "",
        "opmerking": reg.opmerking or "",
    }
    return render("registrations/edit.html", None, **_form_context(session, values, None, reg))


@bp.route("/<int:reg_id>/verwijderen", methods=["POST"])
@requires("registration")
def delete(reg_id: int):
    session = db_session()
    reg = _own(reg_id)
    day = reg.datum
    if svc.delete(session, reg, current_user.id):
        flash("Registratie verwijderd.", "info")
    else:
        flash("Deze registratie is gefiatteerd en kan niet meer worden verwijderd.", "error")
    return redirect(url_for("registrations.index", dag=day.isoformat()), 303)


def _week_param() -> date:
    raw = request.values.get("week", "")
    try:
        return parse_iso_week(raw)
    except ValueError:
        return week_start(today())


@bp.route("/week")
@requires("registration")
def week():
    session = db_session()
    start = _week_param()
    days = svc.week_days(start)
    regs = svc.of_employee(session, current_user.id, days[0], days[-1])
    per_day = {d: [r for r in regs if r.datum == d] for d in days}
    return render(
        "registrations/week.html",
        None,
        start=start,
        days=days,
        per_day=per_day,
        day_totals={d: svc.total_minutes(rows) for d, rows in per_day.items()},
        names=DAYS,
        total=svc.total_minutes(regs),
        week=iso_week_label(start),
        prev_week=iso_week_label(start - timedelta(days=7)),
        next_week=iso_week_label(start + timedelta(days=7))
        if start + timedelta(days=7) <= today()
        else None,
        label=svc.quantity_label,
        duration=svc.duration_label,
    )


@bp.route("/week/kopieren", methods=["POST"])
@requires("registration")
def copy_week():
    session = db_session()
    start = _week_param()
    created, skipped = svc.copy_last_week(
        session,
        current_user.id,
        start,
        today=today(),
        validate=_validate,
        client_allowed=_may_register_for,
    )
    flash(f"{len(created)} registratie(s) van vorige week overgenomen.", "info")
    for reason in skipped[:10]:
        flash(f"Niet overgenomen: {reason}", "warning")
    return redirect(url_for("registrations.week", week=iso_week_label(start)), 303)


# -- import (back office) ----------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("import")
def import_csv():
    session = db_session()
    report = None
    if request.method == "POST":
        upload = request.files.get("bestand")
        if upload is None or not upload.filename:
            flash("Kies een CSV-bestand.", "error")
        else:
            raw = upload.stream.read(importsvc.MAX_BYTES + 1)
            report = importsvc.import_csv(
                session,
                raw,
                filename=upload.filename,
                user_id=current_user.id,
                today=today(),
                validate=_validate,
            )
    return render("registrations/import.html", None, report=report, columns=importsvc.COLUMNS)
