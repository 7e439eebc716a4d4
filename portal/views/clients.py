"""Clients and their legitimations: list and search, detail, create/edit, legitimation forms.

Thin: parse the request, call ``portal.services.clients`` / ``legitimations``, render. Client ids
in URLs, never BSNs: the search form posts, and a BSN search is never pushed into the address bar.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.domain import Frequency, LegitimationField, Unit
from portal.models import Client, Legitimation, Product
from portal.services import audit
from portal.services import clients as svc
from portal.services import legitimations as legsvc
from portal.web import audit_client_view, render, wants_fragment

bp = Blueprint("clients", __name__, url_prefix="/clienten")


# -- list -------------------------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@requires("clients.view")
def index():
    """The list. GET for links and paging; POST for the search form, so a BSN stays out of URLs."""
    session = db_session()
    args = request.form if request.method == "POST" else request.args
    flt = svc.ClientFilter.from_args(args)
    if request.method == "POST" and not request.htmx and not flt.looks_like_bsn:
        return redirect(url_for("clients.index", **flt.args()), 303)
    page = svc.search_clients(session, flt, current_app.config.get("PAGE_SIZE", 25))
    financings = svc.active_financings(session, [c.id for c in page.items])
    context = dict(
        flt=flt,
        page=page,
        financings=financings,
        teams=svc.teams(session),
        financing_choices=hooks().choices(),
        count_cap=f"{svc.COUNT_CAP:,}".replace(",", "."),
    )
    response = make_response(render("clients/index.html", "clients/_table.html", **context))
    if request.htmx:
        response.headers["HX-Push-Url"] = (
            "false"
            if flt.looks_like_bsn
            else url_for("clients.index", **flt.args(pagina=page.page if page.page > 1 else ""))
        )
    return response


# -- one client -------------------------------------------------------------------------------


def _client_or_404(client_id: int) -> Client:
    client = svc.get_client_with_legitimations(db_session(), client_id)
    if client is None:
        abort(404)
    return client


@bp.route("/<int:client_id>")
@requires("clients.view")
def show(client_id: int):
    client = _client_or_404(client_id)
    audit_client_view(client.id)
    return _render_show(client)


def _render_show(client: Client, revealed: bool = False):
    h = hooks()
    groups: dict[str, list[Legitimation]] = {}
    for leg in client.legitimations:
        groups.setdefault(leg.financing, []).append(leg)
    capabilities = {code: h.capabilities(code) for code in groups}
    return render(
        "clients/show.html",
        client=client,
        revealed=revealed,
        groups=groups,
        capabilities=capabilities,
        plugin_client_pages=set(current_app.view_functions),
        status_labels=legsvc.STATUS_LABELS,
        frequency_labels={f.value: f.label for f in Frequency},
        unit_labels={u.value: u.label for u in Unit},
        geslacht=svc.GESLACHT,
    )


@bp.route("/<int:client_id>/bsn", methods=["POST"])
@requires("clients.edit")
def reveal_bsn(client_id: int):
    """Show the full BSN on request; that itself is written to the audit trail.

    Never through a redirect with a flash message: those travel in the session cookie.
    """
    client = _client_or_404(client_id)
    audit_client_view(client.id, "client.bsn_getoond")
    if wants_fragment():
        return render("clients/_bsn.html", client=client, revealed=True)
    return _render_show(client, revealed=True)


def _client_form_data(client: Client | None) -> dict[str, str]:
    if client is None:
        return {"actief": "1", "budgethouder_is_client": "1", "geslacht": "0"}
    data = {}
    for name in svc.FIELDS:
        value = getattr(client, name)
        if isinstance(value, bool):
            data[name] = "1" if value else ""
        elif isinstance(value, date):
            data[name] = value.isoformat()
        else:
            data[name] = "" if value is None else str(value)
    return data


def _posted_client_form() -> dict[str, str]:
    data = {name: request.form.get(name, "") for name in svc.FIELDS}
    # Unchecked checkboxes are not sent: say "no" explicitly.
    data["actief"] = request.form.get("actief", "0")
    data["budgethouder_is_client"] = request.form.get("budgethouder_is_client", "0")
    return data


@bp.route("/nieuw", methods=["GET", "POST"])
@requires("clients.edit")
def new():
    session = db_session()
    data, errors = _client_form_data(None), {}
    if request.method == "POST":
        data = _posted_client_form()
        try:
            client = svc.create_client(session, data, user_id=current_user.id)
        except svc.ClientInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash("De cliënt is aangemaakt.", "success")
            return redirect(url_for("clients.show", client_id=client.id), 303)
    return _render_form(None, data, errors)


@bp.route("/<int:client_id>/wijzigen", methods=["GET", "POST"])
@requires("clients.edit")
def edit(client_id: int):
    session = db_session()
    client = session.get(Client, client_id)
    if client is None:
        abort(404)
    data, errors = _client_form_data(client), {}
    if request.method == "POST":
        data = _posted_client_form()
        try:
            changed = svc.update_client(session, client, data, user_id=current_user.id)
        except svc.ClientInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash(
                "De wijzigingen zijn opgeslagen." if changed else "Er was niets gewijzigd.",
                "success",
            )
            return redirect(url_for("clients.show", client_id=client.id), 303)
    else:
        audit_client_view(client.id, "client.formulier_bekeken")
    return _render_form(client, data, errors)


def _render_form(client, data, errors):
    return render(
        "clients/form.html",
        client=client,
        data=data,
        errors=errors,
        geslacht=list(svc.GESLACHT.items()),
    ), (422 if errors else 200)


# -- legitimations ----------------------------------------------------------------------------


def _leg_context(client: Client, data: dict, errors: dict, leg: Legitimation | None = None):
    session = db_session()
    h = hooks()
    info = h.financing(data.get("financing", ""))
    extra = legsvc.extra_fields(info, leg.sleutels if leg is not None else None)
    names = {f.name for f in extra}
    for key in errors:  # a plugin asked for a key the form did not show yet
        if key.startswith(legsvc.SLEUTEL_PREFIX) and key[len(legsvc.SLEUTEL_PREFIX) :] not in names:
            extra.append(LegitimationField(key[len(legsvc.SLEUTEL_PREFIX) :], "Extra gegeven"))
    shown = {"_form", *(legsvc.SLEUTEL_PREFIX + f.name for f in extra)}
    other_errors = [m for k, m in errors.items() if k in legsvc.CLIENT_FIELDS and k not in shown]
    financiers = [(f.id, f.label) for f in legsvc.financier_choices(session, info)]
    if len(financiers) == 1 and not data.get("financier_id"):
        data = {**data, "financier_id": str(financiers[0][0])}  # the only choice, chosen
    return dict(
        client=client,
        leg=leg,
        data=data,
        errors=errors,
        other_errors=other_errors,
        info=info,
        financing_choices=h.choices(),
        financiers=financiers,
        units=legsvc.unit_choices(info),
        frequencies=[(f.value, f.label) for f in Frequency],
        extra_fields=extra,
        products=list(
            session.scalars(select(Product).where(Product.actief.is_(True)).order_by(Product.code))
        ),
        locked=leg is not None and leg.bron != "handmatig",
    )


def _client_for_legitimations(client_id: int) -> Client:
    client = db_session().get(Client, client_id)
    if client is None:
        abort(404)
    return client


def _posted_leg_form() -> tuple[dict[str, str], list[str]]:
    data = {k: v for k, v in request.form.items() if k not in ("csrf_token", "product_ids")}
    return data, request.form.getlist("product_ids")


@bp.route("/<int:client_id>/legitimaties/nieuw", methods=["GET", "POST"])
@requires("legitimations.edit")
def legitimation_new(client_id: int):
    session = db_session()
    client = _client_for_legitimations(client_id)
    data = {"financing": request.args.get("financing", ""), "priority": "1"}
    data["begindatum"] = date.today().isoformat()
    errors: dict[str, str] = {}
    selected: list[str] = []
    if request.method == "POST":
        data, selected = _posted_leg_form()
        try:
            leg, warnings = legsvc.create_legitimation(
                session, hooks(), client, data, product_ids=selected, user_id=current_user.id
            )
        except legsvc.LegitimationInvalid as exc:
            session.rollback()
            errors = exc.errors
        else:
            session.commit()
            flash(
                f"De {hooks().financing(leg.financing).legitimation_label} is opgeslagen.",
                "success",
            )
            for w in warnings:
                flash(w.message, "warning")
            return redirect(url_for("clients.show", client_id=client.id), 303)
    else:
        audit_client_view(client.id, "legitimatie.formulier_bekeken")
    ctx = _leg_context(client, data, errors)
    ctx["selected"] = {str(s) for s in selected}
    return render("legitimations/form.html", **ctx), (422 if errors else 200)


@bp.route("/<int:client_id>/legitimaties/velden")
@requires("legitimations.edit")
def legitimation_fields(client_id: int):
    """htmx: the parts of the form that depend on the chosen financing."""
    client = _client_for_legitimations(client_id)
    data = {k: v for k, v in request.args.items() if k != "csrf_token"}
    leg = None
    if (leg_id := request.args.get("leg_id", "")).isdigit():
        leg = db_session().get(Legitimation, int(leg_id))
        if leg is None or leg.client_id != client.id:
            abort(404)
    ctx = _leg_context(client, data, {}, leg)
    return render("legitimations/_financing_fields.html", **ctx)


def _leg_or_404(client: Client, leg_id: int) -> Legitimation:
    leg = db_session().get(Legitimation, leg_id)
    if leg is None or leg.client_id != client.id:
        abort(404)
    return leg


@bp.route("/<int:client_id>/legitimaties/<int:leg_id>/wijzigen", methods=["GET", "POST"])
@requires("legitimations.edit")
def legitimation_edit(client_id: int, leg_id: int):
    session = db_session()
    client = _client_for_legitimations(client_id)
    leg = _leg_or_404(client, leg_id)
    data, errors = legsvc.form_data(leg), {}
    selected = [str(p.id) for p in leg.products]
    if request.method == "POST":
        data, selected = _posted_leg_form()
        try:
            warnings = legsvc.update_legitimation(
                session, hooks(), leg, data, product_ids=selected, user_id=current_user.id
            )
        except legsvc.LegitimationInvalid as exc:
            session.rollback()
            errors = exc.errors
            leg = _leg_or_404(client, leg_id)
        else:
            session.commit()
            flash("De wijzigingen zijn opgeslagen.", "success")
            for w in warnings:
                flash(w.message, "warning")
            return redirect(url_for("clients.show", client_id=client.id), 303)
    else:
        audit_client_view(client.id, "legitimatie.formulier_bekeken")
    if leg.bron != "handmatig":
        data = {**data, **{k: v for k, v in legsvc.form_data(leg).items() if k != "opmerking"}}
    ctx = _leg_context(client, data, errors, leg)
    ctx["selected"] = set(selected)
    return render("legitimations/form.html", **ctx), (422 if errors else 200)


@bp.route("/<int:client_id>/legitimaties/<int:leg_id>/beeindigen", methods=["POST"])
@requires("legitimations.edit")
def legitimation_end(client_id: int, leg_id: int):
    session = db_session()
    client = _client_for_legitimations(client_id)
    leg = _leg_or_404(client, leg_id)
    try:
        legsvc.end_legitimation(
            session, leg, request.form.get("einddatum", ""), user_id=current_user.id
        )
    except legsvc.LegitimationInvalid as exc:
        session.rollback()
        flash(" ".join(exc.errors.values()), "error")
    else:
        session.commit()
        flash(f"De legitimatie is beëindigd per {leg.einddatum:%d-%m-%Y}.", "success")
    return redirect(url_for("clients.show", client_id=client.id), 303)


@bp.route("/<int:client_id>/legitimaties/<int:leg_id>/verwijderen", methods=["POST"])
@requires("legitimations.edit")
def legitimation_delete(client_id: int, leg_id: int):
    """Only a hand-made legitimation may be removed; one from a message is ended instead."""
    session = db_session()
    client = _client_for_legitimations(client_id)
    leg = session.get(Legitimation, leg_id)
    if leg is None or leg.client_id != client.id:
        flash("Deze legitimatie bestaat niet (meer).", "info")  # a second click
        return redirect(url_for("clients.show", client_id=client.id), 303)
    if leg.bron != "handmatig":
        flash(
            "Een legitimatie uit een bericht van de financier wordt niet verwijderd: beëindig hem.",
            "error",
        )
        return redirect(url_for("clients.show", client_id=client.id), 303)
    try:
        audit.record(
            session, "legitimatie.verwijderd", user_id=current_user.id,
            object_type="legitimation", object_id=leg.id, client_id=client.id,
            detail={"financing": leg.financing},
        )  # fmt: skip
        session.delete(leg)
        session.commit()
    except IntegrityError:
        session.rollback()
        flash(
            "Deze legitimatie is al gebruikt (registraties of declaraties): beëindig hem.", "error"
        )
    else:
        flash("De legitimatie is verwijderd.", "success")
    return redirect(url_for("clients.show", client_id=client.id), 303)
