"""Financiers: list with a financing filter; create and edit with the code check per kind."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.domain import FinancierKind
from portal.models import Financier
from portal.services import financiers as svc
from portal.services.organisation_admin import FormErrors
from portal.web import render

bp = Blueprint("financiers", __name__, url_prefix="/financiers")

FIELDS = (
    "financing",
    "soort",
    "code",
    "naam",
    "straat",
    "huisnummer",
    "postcode",
    "plaats",
    "email",
    "kvk_nummer",
)


@bp.route("/")
@requires("financiers.view")
def index():
    financing = request.args.get("financiering") or None
    q = request.args.get("q", "")
    rows = svc.list_financiers(db_session(), financing=financing, q=q)
    return render(
        "financiers/index.html",
        "financiers/_table.html",
        financiers=rows,
        financing=financing or "",
        q=q,
    )


def _kind_context(values: dict) -> dict:
    info = hooks().financing(values.get("financing") or "")
    kinds = list(svc.kinds_for(info))
    soort = values.get("soort") or ""
    if soort not in {k.value for k in kinds}:
        soort = kinds[0].value if kinds else ""
    kind = FinancierKind(soort) if soort else None
    return {"kinds": kinds, "kind": kind, "soort": soort}


def _form_page(financier: Financier | None, values: dict, errors: dict, status: int = 200):
    return (
        render(
            "financiers/form.html",
            financier=financier,
            values=values,
            errors=errors,
            financings=hooks().choices(),
            **_kind_context(values),
        ),
        status,
    )


def _save(financier: Financier | None):
    s = db_session()
    try:
        saved = svc.save_financier(
            s, financier, request.form, financings=hooks().financings, user_id=current_user.id
        )
    except FormErrors as exc:
        s.rollback()
        values = {k: request.form.get(k, "") for k in FIELDS}
        values["actief"] = bool(request.form.get("actief"))
        return _form_page(financier, values, exc.errors, 422)
    s.commit()
    flash(f"Financier {saved.naam} is opgeslagen.", "success")
    return redirect(url_for("financiers.index", financiering=saved.financing))


@bp.route("/nieuw", methods=["GET", "POST"])
@requires("financiers.edit")
def new():
    if request.method == "POST":
        return _save(None)
    values = {k: "" for k in FIELDS}
    values["financing"] = request.args.get("financiering", "")
    values["actief"] = True
    return _form_page(None, values, {})


@bp.route("/<int:financier_id>", methods=["GET", "POST"])
@requires("financiers.view")
def edit(financier_id: int):
    from portal.auth import has_permission

    financier = db_session().get(Financier, financier_id) or abort(404)
    if request.method == "POST":
        if not has_permission("financiers.edit"):
            abort(403)
        return _save(financier)
    values = {k: getattr(financier, k) or "" for k in FIELDS}
    values["actief"] = financier.actief
    return _form_page(financier, values, {})


@bp.route("/soorten")
@requires("financiers.edit")
def kinds():
    """The htmx fragment with the kind choice and code field for the chosen financing."""
    values = {k: request.args.get(k, "") for k in FIELDS}
    return render("financiers/_kind_fields.html", errors={}, values=values, **_kind_context(values))
