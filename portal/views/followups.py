"""Follow-ups of rejected declaration lines: one generic screen per financing.

``/declareren/vervolg/<financing>`` lists the rejected lines that still need action, each with its
retourcodes explained and three one-click actions; a plugin's own screen may POST to the same
action URLs with ``next`` (a path in the portal) to come back to itself. The rules live in
``portal.services.followups``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.models import Financier
from portal.models.declaration import DeclarationLine
from portal.services import followups as svc
from portal.validators import month_label
from portal.web import audit_view, render

bp = Blueprint("followups", __name__, url_prefix="/declareren/vervolg")
PAGE = 100  # lines explained per page (newest first; handled lines make room for the next)


def _financing_or_404(financing: str) -> str:
    if hooks().financing(financing) is None:
        abort(404)
    return financing


@bp.route("/<financing>")
@requires("declarations.view")
def index(financing: str):
    _financing_or_404(financing)
    session = db_session()
    h = hooks()
    total = svc.declarations.count_rejected(session, financing)
    rows = svc.open_lines(session, h, financing, limit=PAGE)
    search = request.args.get("zoek", "").strip()[:100]
    awarded = svc.awarded_lines(session, financing, search) if search else []
    handled = svc.handled_lines(session, financing)
    audit_view(
        "declaratie.vervolg.bekeken",
        object_type="financing",
        object_id=financing,
        client_ids=sorted({r.line.client_id for r in rows} | {ln.client_id for ln in awarded}),
    )
    rejected_endpoint = f"{financing}.rejected"
    from flask import current_app

    return render(
        "declarations/followups.html",
        financing=financing,
        label=h.financing_label(financing),
        rows=rows,
        total=total,
        awarded=awarded,
        handled=handled,
        search=search,
        plugin_url=url_for(rejected_endpoint)
        if rejected_endpoint in current_app.view_functions
        else None,
    )


def _line_or_404(decl_line_id: int) -> DeclarationLine:
    line = db_session().get(DeclarationLine, decl_line_id)
    if line is None:
        abort(404)
    return line


def _back(line: DeclarationLine):
    """To ``next`` (a path within the portal, from a plugin's screen) or the generic screen."""
    nxt = request.form.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt:
        return redirect(nxt, 303)
    return redirect(url_for("followups.index", financing=line.financing), 303)


def _act(decl_line_id: int, action, done):
    """Run one follow-up on a line: refused → its Dutch reason, rolled back; done → committed,
    ``done(line, result)`` flashed; back to ``next`` or the generic screen."""
    session = db_session()
    line = _line_or_404(decl_line_id)
    try:
        result = action(session, line)
    except svc.NeedsLegitimation:
        raise  # the caller offers to make one
    except svc.DeclarationError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _back(line)
    session.commit()
    flash(done(line, result), "success")
    return _back(line)


@bp.route("/regels/<int:decl_line_id>/gecorrigeerd", methods=["POST"])
@requires("declarations.edit")
def corrected(decl_line_id: int):
    return _act(
        decl_line_id,
        lambda session, line: svc.mark_corrected(session, line.id, user_id=current_user.id),
        lambda line, _r: (
            f"Prestatie {line.referentie} is gecorrigeerd: de zorg gaat mee in de "
            "volgende declaratie aan deze financier."
        ),
    )


@bp.route("/regels/<int:decl_line_id>/crediteren", methods=["POST"])
@requires("declarations.edit")
def credit(decl_line_id: int):
    return _act(
        decl_line_id,
        lambda session, line: svc.credit(session, line.id, hooks(), user_id=current_user.id),
        lambda line, _r: (
            f"Prestatie {line.referentie} wordt gecrediteerd in de volgende "
            "declaratie aan deze financier."
        ),
    )


@bp.route("/regels/<int:decl_line_id>/opnieuw-crediteren", methods=["POST"])
@requires("declarations.edit")
def credit_again(decl_line_id: int):
    return _act(
        decl_line_id,
        lambda session, line: svc.credit_again(session, line.id, hooks(), user_id=current_user.id),
        lambda _line, made: (
            "De oorspronkelijke prestatie wordt opnieuw gecrediteerd "
            f"(creditregel {made.referentie}) in de volgende declaratie aan deze financier."
        ),
    )


@bp.route("/regels/<int:decl_line_id>/particulier-terug", methods=["POST"])
@requires("declarations.edit")
def undo_move(decl_line_id: int):
    return _act(
        decl_line_id,
        lambda session, line: svc.undo_move(session, line.id, user_id=current_user.id),
        lambda line, _n: (
            f"De zorg van prestatie {line.referentie} is niet meer particulier: "
            "de prestatie vraagt weer actie."
        ),
    )


@bp.route("/regels/<int:decl_line_id>/particulier", methods=["POST"])
@requires("declarations.edit")
def particulier(decl_line_id: int):
    line = _line_or_404(decl_line_id)
    try:
        return _act(
            decl_line_id,
            lambda session, line: svc.move_to_particulier(
                session,
                line.id,
                hooks(),
                user_id=current_user.id,
                create=request.form.get("aanmaken") == "1",
            ),
            lambda line, moved: (
                f"De zorg van prestatie {line.referentie} is naar particulier "
                "verplaatst"
                + (" (nieuwe particuliere afspraak aangemaakt)" if moved.created else "")
                + ": de volgende particuliere factuurrun factureert het, één keer."
            ),
        )
    except svc.NeedsLegitimation as exc:
        db_session().rollback()
        flash(f"{exc} Kies ‘Afspraak aanmaken en naar particulier’.", "warning")
        # the generic screen has that button (a plugin's screen may not)
        return redirect(
            url_for("followups.index", financing=line.financing) + f"#regel-{line.id}", 303
        )


@bp.route("/regels/<int:decl_line_id>/nu-declareren", methods=["POST"])
@requires("declarations.edit")
def redeclare(decl_line_id: int):
    from portal.views.declarations import _period_choices

    session = db_session()
    line = _line_or_404(decl_line_id)
    fin = session.get(Financier, line.financier_id)
    _choices, default = _period_choices(session, fin, date.today())
    try:
        year, month = (int(x) for x in default.split("-"))
        prepared = svc.redeclare_now(
            session, line.id, hooks(), date(year, month, 1), user_id=current_user.id
        )
    except ValueError:
        session.rollback()
        flash("Er is geen maand waarvoor nu gedeclareerd kan worden.", "error")
        return _back(line)
    except svc.FollowupError as exc:
        session.rollback()
        flash(str(exc), "error")
        return _back(line)
    except svc.DeclarationError as exc:
        session.rollback()
        flash(str(exc), "error")
        existing = svc.declarations.concepts(session, fin)
        if existing:
            return redirect(url_for("declarations.show", declaration_id=existing[0].id), 303)
        return _back(line)
    session.commit()
    flash(
        f"Prestatie {line.referentie} is gecorrigeerd; de concept-declaratie "
        f"{prepared.declaration.nummer} ({month_label(prepared.declaration.periode_begin)}) "
        "neemt de zorg opnieuw mee. Controleer en verstuur het concept.",
        "success",
    )
    return redirect(url_for("declarations.show", declaration_id=prepared.declaration.id), 303)
