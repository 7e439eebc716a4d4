"""Beheer: organisation settings (with AGB codes and logo) and user accounts. Beheerder only."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.auth import requires
from portal.db import db_session
from portal.domain import Role
from portal.models import OrganisationAgb, User
from portal.services import invitations
from portal.services import organisation_admin as svc
from portal.services.mail import MailError
from portal.services.organisation_admin import FormErrors
from portal.web import render

bp = Blueprint("admin", __name__, url_prefix="/beheer")

ROLE_CHOICES = [(r.value, r.label) for r in Role]
ORG_FIELDS = (
    "naam",
    "kvk_nummer",
    "iban",
    "btw_nummer",
    "straat",
    "huisnummer",
    "postcode",
    "plaats",
    "email",
    "telefoon",
)


def _actor() -> int:
    return current_user.id


# -- organisation ---------------------------------------------------------------------------


def _organisation_page(
    errors=None, form=None, agb_errors=None, agb_form=None, status=200, edit_agb_id=None
):
    s = db_session()
    org = svc.ensure_organisation(s)
    s.commit()
    edit_agb = None
    if edit_agb_id is None and (raw := request.args.get("agb", "")).isdigit():
        edit_agb_id = int(raw)
    if edit_agb_id is not None:
        edit_agb = s.get(OrganisationAgb, edit_agb_id)
    fields = ORG_FIELDS
    values = (
        {k: form.get(k, "") for k in (*fields, "require_2fa")}
        if form
        else {k: getattr(org, k) or "" for k in (*fields, "require_2fa")}
    )
    return (
        render(
            "admin/organisation.html",
            org=org,
            values=values,
            errors=errors or {},
            agb_errors=agb_errors or {},
            agb_form=agb_form or {},
            edit_agb=edit_agb,
        ),
        status,
    )


@bp.route("/organisatie", methods=["GET", "POST"])
@requires("organisation")
def organisation():
    if request.method == "GET":
        return _organisation_page()
    s = db_session()
    org = svc.ensure_organisation(s)
    try:
        changed = svc.update_organisation(s, org, request.form, user_id=_actor())
    except FormErrors as exc:
        s.rollback()
        return _organisation_page(errors=exc.errors, form=request.form, status=422)
    s.commit()
    flash(
        "De organisatiegegevens zijn opgeslagen." if changed else "Er was niets gewijzigd.",
        "success",
    )
    return redirect(url_for("admin.organisation"))


@bp.route("/organisatie/agb", methods=["POST"])
@requires("organisation")
def agb_add():
    s = db_session()
    org = svc.ensure_organisation(s)
    try:
        agb = svc.add_agb(
            s,
            org,
            agb_code=request.form.get("agb_code", ""),
            locatie=request.form.get("locatie", ""),
            hoofd=bool(request.form.get("hoofd")),
            user_id=_actor(),
        )
    except FormErrors as exc:
        s.rollback()
        return _organisation_page(agb_errors=exc.errors, agb_form=request.form, status=422)
    s.commit()
    flash(f"AGB-code {agb.agb_code} is toegevoegd.", "success")
    return redirect(url_for("admin.organisation") + "#agb")


@bp.route("/organisatie/agb/<int:agb_id>", methods=["POST"])
@requires("organisation")
def agb_edit(agb_id: int):
    s = db_session()
    agb = s.get(OrganisationAgb, agb_id) or abort(404)
    try:
        svc.update_agb(
            s,
            agb,
            agb_code=request.form.get("agb_code", agb.agb_code),
            locatie=request.form.get("locatie", agb.locatie),
            hoofd=bool(request.form.get("hoofd")),
            user_id=_actor(),
        )
    except FormErrors as exc:
        s.rollback()
        return _organisation_page(
            agb_errors=exc.errors, agb_form=request.form, status=422, edit_agb_id=agb_id
        )
    s.commit()
    flash(f"AGB-code {agb.agb_code} is bijgewerkt.", "success")
    return redirect(url_for("admin.organisation") + "#agb")


@bp.route("/organisatie/agb/<int:agb_id>/verwijderen", methods=["POST"])
@requires("organisation")
def agb_remove(agb_id: int):
    s = db_session()
    agb = s.get(OrganisationAgb, agb_id)
    if agb is None:  # already removed (a second click): nothing to do
        return redirect(url_for("admin.organisation") + "#agb")
    code = agb.agb_code
    try:
        svc.remove_agb(s, agb, user_id=_actor())
    except FormErrors as exc:
        s.rollback()
        return _organisation_page(agb_errors=exc.errors, status=422)
    s.commit()
    flash(f"AGB-code {code} is verwijderd.", "success")
    return redirect(url_for("admin.organisation") + "#agb")


@bp.route("/organisatie/logo", methods=["POST"])
@requires("organisation")
def logo_upload():
    s = db_session()
    org = svc.ensure_organisation(s)
    upload = request.files.get("logo")
    data = upload.read(svc.LOGO_MAX_BYTES + 1) if upload else b""
    try:
        svc.set_logo(s, org, data, user_id=_actor())
    except FormErrors as exc:
        s.rollback()
        return _organisation_page(errors=exc.errors, status=422)
    s.commit()
    flash("Het logo is opgeslagen. Het staat voortaan op de facturen.", "success")
    return redirect(url_for("admin.organisation") + "#logo")


@bp.route("/organisatie/logo/verwijderen", methods=["POST"])
@requires("organisation")
def logo_remove():
    s = db_session()
    org = svc.ensure_organisation(s)
    svc.remove_logo(s, org, user_id=_actor())
    s.commit()
    flash("Het logo is verwijderd.", "success")
    return redirect(url_for("admin.organisation") + "#logo")


@bp.route("/organisatie/logo.png")
@requires("organisation")
def logo():
    org = svc.get_organisation(db_session())
    if org is None or not org.logo_png:
        abort(404)
    return Response(org.logo_png, mimetype="image/png")


# -- users ----------------------------------------------------------------------------------


@bp.route("/gebruikers")
@requires("users")
def users():
    s = db_session()
    show = request.args.get("toon", "alle")
    people = svc.list_users(s, show_inactive=show != "actief")
    return render("admin/users.html", "admin/_users_table.html", users=people, show=show)


@bp.route("/gebruikers/nieuw", methods=["GET", "POST"])
@requires("users")
def user_new():
    errors: dict[str, str] = {}
    if request.method == "POST":
        s = db_session()
        try:
            user = svc.create_user(s, request.form, actor_id=_actor())
        except FormErrors as exc:
            s.rollback()
            errors = exc.errors
        else:
            s.commit()
            if request.form.get("uitnodigen"):
                return _invite(user, new=True)
            flash(f"{user.naam} kan nu inloggen met {user.email}.", "success")
            return redirect(url_for("admin.users"))
    return (
        render(
            "admin/user_new.html",
            form=request.form,
            errors=errors,
            roles=ROLE_CHOICES,
        ),
        422 if errors else 200,
    )


def _user_page(user: User, errors=None, section=None, status=200):
    return (
        render(
            "admin/user_edit.html",
            user=user,
            errors=errors or {},
            section=section,
            form=request.form if errors else None,
            roles=ROLE_CHOICES,
        ),
        status,
    )


def _get_user(user_id: int) -> User:
    return db_session().get(User, user_id) or abort(404)


@bp.route("/gebruikers/<int:user_id>", methods=["GET", "POST"])
@requires("users")
def user_edit(user_id: int):
    s = db_session()
    user = _get_user(user_id)
    if request.method == "GET":
        return _user_page(user)
    try:
        svc.update_user(s, user, request.form, actor_id=_actor())
    except FormErrors as exc:
        s.rollback()
        return _user_page(user, exc.errors, "gegevens", 422)
    s.commit()
    flash(f"De gegevens van {user.naam} zijn opgeslagen.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/gebruikers/<int:user_id>/actief", methods=["POST"])
@requires("users")
def user_active(user_id: int):
    s = db_session()
    user = _get_user(user_id)
    active = request.form.get("actief") == "1"
    try:
        svc.set_active(s, user, active, actor_id=_actor())
    except FormErrors as exc:
        s.rollback()
        return _user_page(user, exc.errors, "actief", 422)
    s.commit()
    if active:
        flash(f"{user.naam} kan weer inloggen.", "success")
    else:
        flash(f"{user.naam} is uitgeschakeld en overal uitgelogd.", "success")
    if user.id == _actor() and not active:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/gebruikers/<int:user_id>/wachtwoord", methods=["POST"])
@requires("users")
def user_password(user_id: int):
    s = db_session()
    user = _get_user(user_id)
    try:
        svc.reset_password(s, user, request.form.get("password", ""), actor_id=_actor())
    except FormErrors as exc:
        s.rollback()
        return _user_page(user, exc.errors, "wachtwoord", 422)
    s.commit()
    flash(
        f"Het wachtwoord van {user.naam} is vervangen; {user.naam} is overal uitgelogd. "
        "Geef het nieuwe wachtwoord op een veilige manier door.",
        "success",
    )
    if user.id == _actor():
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/gebruikers/<int:user_id>/tweestaps", methods=["POST"])
@requires("users")
def user_2fa(user_id: int):
    s = db_session()
    user = _get_user(user_id)
    svc.reset_2fa(s, user, actor_id=_actor())
    s.commit()
    flash(
        f"Inloggen in twee stappen van {user.naam} is gewist; bij de volgende keer inloggen "
        "wordt een nieuwe app ingesteld als de organisatie dat verplicht.",
        "success",
    )
    if user.id == _actor():
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.user_edit", user_id=user.id))


def _invite(user: User, new: bool = False):
    s = db_session()
    org = svc.get_organisation(s)
    try:
        invitations.send(
            s,
            current_app.config,
            user,
            link_for=lambda token: url_for("auth.invitation", token=token, _external=True),
            organisation=org.naam if org else "Declaratieportaal",
            actor_id=_actor(),
        )
    except MailError as exc:
        s.rollback()
        flash(
            f"{'De gebruiker is aangemaakt, maar de' if new else 'De'} uitnodiging kon niet "
            f"worden verstuurd: {exc}",
            "error",
        )
        return redirect(url_for("admin.user_edit", user_id=user.id))
    s.commit()
    flash(
        f"{user.naam} krijgt een uitnodiging op {user.email} om zelf een wachtwoord te kiezen "
        f"(de link werkt {invitations.VALID_HOURS} uur).",
        "success",
    )
    return redirect(url_for("admin.users") if new else url_for("admin.user_edit", user_id=user.id))


@bp.route("/gebruikers/<int:user_id>/uitnodigen", methods=["POST"])
@requires("users")
def user_invite(user_id: int):
    """Send (again) an invitation; earlier links and the user's sessions end."""
    return _invite(_get_user(user_id))
