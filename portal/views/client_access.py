"""Which care professionals may register care for a client: the client's team (set on the
client form) plus professionals the back office assigns one by one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.auth import requires
from portal.db import db_session
from portal.domain import Role
from portal.models import Client, User
from portal.services import client_access as svc
from portal.web import audit_client_view, render

bp = Blueprint("client_access", __name__, url_prefix="/clienten")


def _client(client_id: int) -> Client:
    return db_session().get(Client, client_id) or abort(404)


@bp.route("/<int:client_id>/medewerkers")
@requires("clients.view")
def index(client_id: int):
    s = db_session()
    client = _client(client_id)
    audit_client_view(client.id, "client.medewerkers-bekeken")
    assigned = svc.assigned_staff(s, client.id)
    assigned_ids = {u.id for u in assigned}
    return render(
        "clients/staff.html",
        client=client,
        team=svc.team_staff(s, client.team),
        assigned=assigned,
        candidates=[u for u in svc.care_staff(s) if u.id not in assigned_ids],
    )


@bp.route("/<int:client_id>/medewerkers", methods=["POST"])
@requires("clients.edit")
def add(client_id: int):
    s = db_session()
    client = _client(client_id)
    raw = request.form.get("user_id", "")
    user = s.get(User, int(raw)) if raw.isdigit() and len(raw) <= 9 else None
    if user is None or user.role != Role.ZORGPROFESSIONAL.value or not user.active:
        flash("Kies een zorgprofessional.", "error")
    elif svc.assign(s, client.id, user, actor_id=current_user.id):
        s.commit()
        flash(f"{user.naam} kan nu zorg registreren voor {client.naam}.", "success")
    return redirect(url_for("client_access.index", client_id=client.id), 303)


@bp.route("/<int:client_id>/medewerkers/<int:user_id>/verwijderen", methods=["POST"])
@requires("clients.edit")
def remove(client_id: int, user_id: int):
    s = db_session()
    client = _client(client_id)
    if svc.unassign(s, client.id, user_id, actor_id=current_user.id):
        s.commit()
        flash("De medewerker is niet meer aan deze cliënt toegewezen.", "success")
    return redirect(url_for("client_access.index", client_id=client.id), 303)
