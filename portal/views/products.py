"""Own products and uursoorten, with the uursoort's financing priority (reorderable with htmx)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.app import hooks
from portal.auth import has_permission, requires
from portal.db import db_session
from portal.domain import Unit
from portal.models import Product, Uursoort
from portal.services import products as svc
from portal.services.organisation_admin import FormErrors
from portal.web import render, wants_fragment

bp = Blueprint("products", __name__, url_prefix="/producten")

UNIT_CHOICES = [(u.value, u.label) for u in Unit]


@bp.route("/")
@requires("products.view")
def index():
    s = db_session()
    return render(
        "products/index.html",
        products=svc.list_products(s),
        uursoorten=svc.list_uursoorten(s),
    )


# -- products -------------------------------------------------------------------------------


def _product_page(product: Product | None, values: dict, errors: dict, status: int = 200):
    uursoorten = [(u.id, f"{u.code} – {u.naam}") for u in svc.list_uursoorten(db_session())]
    return (
        render(
            "products/product_form.html",
            product=product,
            values=values,
            errors=errors,
            units=UNIT_CHOICES,
            uursoorten=uursoorten,
        ),
        status,
    )


def _save_product(product: Product | None):
    s = db_session()
    try:
        saved = svc.save_product(s, product, request.form, user_id=current_user.id)
    except FormErrors as exc:
        s.rollback()
        values = {k: request.form.get(k, "") for k in ("code", "naam", "eenheid", "uursoort_id")}
        values["actief"] = bool(request.form.get("actief"))
        return _product_page(product, values, exc.errors, 422)
    s.commit()
    flash(f"Product {saved.code} is opgeslagen.", "success")
    return redirect(url_for("products.index"))


@bp.route("/nieuw", methods=["GET", "POST"])
@requires("products.edit")
def product_new():
    if request.method == "POST":
        return _save_product(None)
    values = {"code": "", "naam": "", "eenheid": Unit.UUR.value, "uursoort_id": "", "actief": True}
    return _product_page(None, values, {})


@bp.route("/<int:product_id>", methods=["GET", "POST"])
@requires("products.view")
def product_edit(product_id: int):
    product = db_session().get(Product, product_id) or abort(404)
    if request.method == "POST":
        if not has_permission("products.edit"):
            abort(403)
        return _save_product(product)
    values = {
        "code": product.code,
        "naam": product.naam,
        "eenheid": product.eenheid,
        "uursoort_id": product.uursoort_id or "",
        "actief": product.actief,
    }
    return _product_page(product, values, {})


# -- uursoorten -----------------------------------------------------------------------------


def _uursoort_page(uursoort: Uursoort | None, values: dict, errors: dict, status: int = 200):
    return (
        render(
            "products/uursoort_form.html",
            uursoort=uursoort,
            values=values,
            errors=errors,
            priority_errors={},
        ),
        status,
    )


def _save_uursoort(uursoort: Uursoort | None):
    s = db_session()
    try:
        saved = svc.save_uursoort(s, uursoort, request.form, user_id=current_user.id)
    except FormErrors as exc:
        s.rollback()
        values = {k: request.form.get(k, "") for k in ("code", "naam")}
        values["actief"] = bool(request.form.get("actief"))
        return _uursoort_page(uursoort, values, exc.errors, 422)
    s.commit()
    flash(f"Uursoort {saved.code} is opgeslagen.", "success")
    return redirect(url_for("products.uursoort_edit", uursoort_id=saved.id))


@bp.route("/uursoorten/nieuw", methods=["GET", "POST"])
@requires("products.edit")
def uursoort_new():
    if request.method == "POST":
        return _save_uursoort(None)
    return _uursoort_page(None, {"code": "", "naam": "", "actief": True}, {})


@bp.route("/uursoorten/<int:uursoort_id>", methods=["GET", "POST"])
@requires("products.view")
def uursoort_edit(uursoort_id: int):
    uursoort = db_session().get(Uursoort, uursoort_id) or abort(404)
    if request.method == "POST":
        if not has_permission("products.edit"):
            abort(403)
        return _save_uursoort(uursoort)
    values = {"code": uursoort.code, "naam": uursoort.naam, "actief": uursoort.actief}
    return _uursoort_page(uursoort, values, {})


def _priority_response(uursoort: Uursoort, errors: dict | None = None):
    """The priority fragment for htmx; a plain form post goes back to the page."""
    if wants_fragment():
        return render("products/_priority.html", uursoort=uursoort, priority_errors=errors or {}), (
            422 if errors else 200
        )
    if errors:
        for message in errors.values():
            flash(message, "error")
    return redirect(url_for("products.uursoort_edit", uursoort_id=uursoort.id) + "#prioriteit")


def _uursoort(uursoort_id: int) -> Uursoort:
    return db_session().get(Uursoort, uursoort_id) or abort(404)


def _change_priority(uursoort_id: int, change) -> object:
    """Apply one change to an uursoort's financing priority; commit, or roll back and show why."""
    s = db_session()
    uursoort = _uursoort(uursoort_id)
    financing = request.form.get("financing", "")
    try:
        change(s, uursoort, financing)
    except FormErrors as exc:
        s.rollback()
        return _priority_response(_uursoort(uursoort_id), exc.errors)
    s.commit()
    return _priority_response(uursoort)


@bp.route("/uursoorten/<int:uursoort_id>/prioriteit/toevoegen", methods=["POST"])
@requires("products.edit")
def priority_add(uursoort_id: int):
    return _change_priority(
        uursoort_id,
        lambda s, uursoort, financing: svc.add_financing(
            s, uursoort, financing, financings=hooks().financings, user_id=current_user.id
        ),
    )


@bp.route("/uursoorten/<int:uursoort_id>/prioriteit/verplaatsen", methods=["POST"])
@requires("products.edit")
def priority_move(uursoort_id: int):
    position = request.form.get("positie", "")
    return _change_priority(
        uursoort_id,
        lambda s, uursoort, financing: svc.move_financing(
            s,
            uursoort,
            financing,
            seen_position=int(position) if position.isdigit() else -1,
            direction=request.form.get("richting", ""),
            user_id=current_user.id,
        ),
    )


@bp.route("/uursoorten/<int:uursoort_id>/prioriteit/verwijderen", methods=["POST"])
@requires("products.edit")
def priority_remove(uursoort_id: int):
    return _change_priority(
        uursoort_id,
        lambda s, uursoort, financing: svc.remove_financing(
            s, uursoort, financing, user_id=current_user.id
        ),
    )
