"""Beheer → API-koppelingen: connected systems and their tokens (Beheerder only).

A token is shown once, right after it is made; the portal keeps only its SHA-256.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.auth import requires
from portal.db import db_session
from portal.models import ApiKoppeling, ApiToken
from portal.models._base import utcnow
from portal.models.api import SCOPES
from portal.services import api_tokens as svc
from portal.web import render

bp = Blueprint("api_koppelingen", __name__, url_prefix="/beheer/api-koppelingen")

PERMISSION = "api_tokens"


def _page(koppeling: ApiKoppeling | None = None, **context):
    s = db_session()
    return render(
        "api_koppelingen/index.html",
        koppelingen=svc.koppelingen(s),
        scopes=SCOPES,
        now=utcnow(),
        errors=context.pop("errors", {}),
        form=context.pop("form", {}),
        new_token=context.pop("new_token", None),
        selected=koppeling,
        **context,
    )


@bp.get("/")
@requires(PERMISSION)
def index():
    return _page()


@bp.post("/")
@requires(PERMISSION)
def create():
    s = db_session()
    try:
        koppeling = svc.create_koppeling(
            s,
            naam=request.form.get("naam", ""),
            omschrijving=request.form.get("omschrijving", ""),
            webhook_url=request.form.get("webhook_url", ""),
            user_id=current_user.id,
        )
    except svc.TokenInvalid as exc:
        s.rollback()
        return _page(errors=exc.errors, form=request.form), 422
    s.commit()
    flash(f"Koppeling '{koppeling.naam}' is aangemaakt. Maak er nu een token bij.", "success")
    return redirect(url_for("api_koppelingen.index"))


def _koppeling(koppeling_id: int) -> ApiKoppeling:
    koppeling = db_session().get(ApiKoppeling, koppeling_id)
    if koppeling is None:
        abort(404)
    return koppeling


@bp.post("/<int:koppeling_id>/tokens")
@requires(PERMISSION)
def token_create(koppeling_id: int):
    s = db_session()
    koppeling = _koppeling(koppeling_id)
    try:
        made = svc.create_token(
            s,
            koppeling,
            naam=request.form.get("naam", ""),
            scopes=request.form.getlist("scopes"),
            days=request.form.get("dagen", ""),
            user_id=current_user.id,
        )
    except svc.TokenInvalid as exc:
        s.rollback()
        return _page(koppeling, errors=exc.errors, form=request.form), 422
    s.commit()
    return _page(koppeling, new_token=made.token)


@bp.post("/tokens/<int:token_id>/intrekken")
@requires(PERMISSION)
def token_revoke(token_id: int):
    s = db_session()
    token = s.get(ApiToken, token_id)
    if token is None:
        abort(404)
    if svc.revoke_token(s, token, user_id=current_user.id):
        flash(f"Token {token.prefix}… is ingetrokken; het werkt vanaf nu niet meer.", "success")
    s.commit()
    return redirect(url_for("api_koppelingen.index"))


@bp.post("/<int:koppeling_id>/webhook")
@requires(PERMISSION)
def webhook(koppeling_id: int):
    s = db_session()
    koppeling = _koppeling(koppeling_id)
    try:
        svc.set_webhook(s, koppeling, request.form.get("webhook_url", ""), user_id=current_user.id)
    except svc.TokenInvalid as exc:
        s.rollback()
        return _page(koppeling, errors=exc.errors, form=request.form), 422
    s.commit()
    flash("Webhook opgeslagen.", "success")
    return redirect(url_for("api_koppelingen.index"))
