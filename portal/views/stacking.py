"""Stacking shown to people: per client a week view of how hours split over financings, the
"niet gedekt" actions, and the stack configuration (refusing what DESIGN §6 forbids)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.models import Client, Legitimation, Product, Registration, StackRule
from portal.services import stacking as svc
from portal.services.registrations import duration_label
from portal.services.stacking import exports
from portal.web import audit_client_view, render

bp = Blueprint("stacking", __name__, url_prefix="/stapelen")


@bp.route("/")
@requires("registrations.view")
def index():
    session = db_session()
    rules = list(
        session.scalars(
            select(StackRule).options(
                joinedload(StackRule.product), joinedload(StackRule.onto_product)
            )
        )
    )
    products = list(
        session.scalars(select(Product).where(Product.actief.is_(True)).order_by(Product.naam))
    )
    end = date.today()
    start = svc.week_start(end) - timedelta(weeks=8)
    result = svc.allocate(session, hooks=hooks(), start=start, end=end, with_allocations=False)
    clients = {
        c.id: c
        for c in session.scalars(
            select(Client).where(Client.id.in_({w.client_id for w in result.not_covered}))
        )
    }
    return render(
        "stacking/index.html",
        None,
        rules=rules,
        products=products,
        actions=sorted(result.not_covered, key=lambda w: (w.week_start, w.client_id)),
        clients=clients,
        active=bool(rules),
        label=duration_label,
        iso=svc.iso_week_label,
        start=start,
    )


@bp.route("/regels", methods=["POST"])
@requires("products.edit")
def add_rule():
    session = db_session()
    p, q = request.form.get("product_id", ""), request.form.get("onto_product_id", "")
    if not (p.isdigit() and q.isdigit()):
        flash("Kies het product en het product waarnaar het overloopt.", "error")
        return redirect(url_for("stacking.index"), 303)
    try:
        svc.add_stack_rule(session, hooks(), int(p), int(q), user_id=current_user.id)
        session.commit()
        flash(
            "Stapelregel opgeslagen. Stapelen staat nu aan: fiatteren gaat per hele week.", "info"
        )
    except svc.StackingError as exc:
        session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stacking.index"), 303)


@bp.route("/regels/<int:rule_id>/verwijderen", methods=["POST"])
@requires("products.edit")
def remove_rule(rule_id: int):
    session = db_session()
    svc.remove_stack_rule(session, rule_id, user_id=current_user.id)
    session.commit()
    flash("Stapelregel verwijderd.", "info")
    return redirect(url_for("stacking.index"), 303)


@bp.route("/client/<int:client_id>")
@requires("registrations.view")
def client_week(client_id: int):
    session = db_session()
    client = session.get(Client, client_id)
    if client is None:
        abort(404)
    try:
        wk = svc.parse_iso_week(request.args.get("week", ""))
    except ValueError:
        wk = svc.week_start(date.today())
    audit_client_view(client_id, "stacking.week_bekeken")
    result = svc.allocate(session, hooks=hooks(), start=wk, end=wk, client_ids=[client_id])
    legits = {
        lg.id: lg
        for lg in session.scalars(select(Legitimation).where(Legitimation.client_id == client_id))
    }
    regs = {
        r.id: r
        for r in session.scalars(
            select(Registration)
            .options(joinedload(Registration.product))
            .where(Registration.id.in_({a.registration_id for a in result.allocations}))
        )
    }
    per_reg = defaultdict(list)
    for a in result.allocations:
        per_reg[a.registration_id].append(a)
    delivered = sum(r.duur_minuten or 0 for r in regs.values())
    # exported: a part of it went into a declaration or invoice, or its week was counted
    exported = (
        set(regs)
        if svc.is_week_exported(session, client_id, wk)
        else exports.exported_registration_ids(session, regs)
    )
    return render(
        "stacking/client_week.html",
        None,
        client=client,
        week=svc.iso_week_label(wk),
        wk=wk,
        week_end=wk + timedelta(days=6),
        prev=svc.iso_week_label(wk - timedelta(days=7)),
        next=svc.iso_week_label(wk + timedelta(days=7)),
        result=result,
        legits=legits,
        regs=regs,
        per_reg=per_reg,
        delivered=delivered,
        exported=exported,
        label=duration_label,
        financing_label=hooks().financing_label,
    )
