"""Declaring: gemeente (financier) → month → preview with totals and every issue → send.

Thin: the rules live in ``portal.services.declarations`` and in the financing's plugin (through
the hooks ``validate_declaration`` and ``build_declaration``).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session, lock_row
from portal.models import Financier
from portal.models.declaration import Declaration, DeclarationLine
from portal.services import declarations as svc
from portal.validators import month_label
from portal.web import audit_view, render

bp = Blueprint("declarations", __name__, url_prefix="/declareren")


def _months(today: date, n: int = 13) -> list[tuple[str, str]]:
    out = []
    year, month = today.year, today.month
    for _ in range(n):
        out.append((f"{year}-{month:02d}", month_label(date(year, month, 1))))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _period_choices(session, fin: Financier, today: date) -> tuple[list[tuple[str, str]], str]:
    """The months this financier may be declared for (the financing's plugin narrows them, e.g.
    never before the last declared period) and the month to preselect: the one after the last
    declared period, else last month."""
    last = svc.last_period(session, fin)
    selected = {
        "financier_id": str(fin.id),
        "laatste_periode": f"{last:%Y-%m}" if last else "",
        "vandaag": today.isoformat(),
    }
    choices = hooks().declaration_choices(fin.financing, "periode", selected) or _months(today)
    values = [value for value, _label in choices]
    preferred = []
    if last:
        nxt = date(last.year + last.month // 12, last.month % 12 + 1, 1)
        preferred.append(f"{nxt:%Y-%m}")
    previous = today.replace(day=1) - timedelta(days=1)
    preferred.append(f"{previous:%Y-%m}")
    default = next((v for v in preferred if v in values), values[0] if values else "")
    return choices, default


def _financiers(session) -> list[Financier]:
    h = hooks()
    codes = [code for code in h.financings if h.can(code, "build_declaration")]
    return list(
        session.scalars(
            select(Financier)
            .where(Financier.financing.in_(codes), Financier.actief.is_(True))
            .order_by(Financier.naam)
        )
    )


@bp.route("/")
@requires("declarations.view")
def index():
    session = db_session()
    recent = session.scalars(select(Declaration).order_by(Declaration.id.desc()).limit(50)).all()
    financiers = _financiers(session)
    months, default = (
        _period_choices(session, financiers[0], date.today()) if financiers else ([], "")
    )
    return render(
        "declarations/index.html",
        declarations=recent,
        financiers=financiers,
        months=months,
        default_month=default,
        rejected=svc.count_rejected(session),
        followup_financings=sorted({f.financing for f in financiers}),
        errors={},
    )


@bp.route("/maanden")
@requires("declarations.edit")
def months():
    """The month field for the chosen financier (HTMX: choosing the financier narrows it)."""
    session = db_session()
    today = date.today()
    fin_id = request.args.get("financier_id", type=int)
    if fin_id is None:  # no financier chosen (yet): the recent months
        choices = _months(today)
        return render("declarations/_months.html", months=choices, default_month=choices[1][0])
    fin = session.get(Financier, fin_id)
    if fin is None or fin not in _financiers(session):
        abort(404)
    choices, default = _period_choices(session, fin, today)
    return render("declarations/_months.html", months=choices, default_month=default)


@bp.route("/voorbereiden", methods=["POST"])
@requires("declarations.edit")
def prepare():
    session = db_session()
    fin = session.get(Financier, request.form.get("financier_id", type=int) or 0)
    try:
        year, month = (int(x) for x in request.form.get("maand", "").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = None
    if fin is None or fin not in _financiers(session) or first is None:
        flash("Kies een financier en een maand.", "error")
        return redirect(url_for("declarations.index"), 303)
    choices, _default = _period_choices(session, fin, date.today())
    if f"{first:%Y-%m}" not in {value for value, _label in choices}:
        last = svc.last_period(session, fin)
        why = (
            f" Aan {fin.naam} is al gedeclareerd tot en met {month_label(last)}; een eerdere "
            "maand kan niet meer (zorg uit eerdere maanden gaat mee in de volgende declaratie)."
            if last and first < last
            else ""
        )
        flash(f"Deze maand kan niet gekozen worden.{why}", "error")
        return redirect(url_for("declarations.index"), 303)
    try:
        prepared = svc.prepare(
            session, fin, first, user_id=current_user.id, hooks=hooks(), replace=False
        )
    except svc.DeclarationError as exc:
        session.rollback()
        flash(str(exc), "error")
        existing = svc.concepts(session, fin)
        if existing:
            return redirect(url_for("declarations.show", declaration_id=existing[0].id), 303)
        return redirect(url_for("declarations.index"), 303)
    session.commit()
    for issue in prepared.skipped[:20]:
        flash(f"Niet gedeclareerd: {issue.message}", "warning")
    if prepared.declaration is None:
        flash(f"Er is voor {fin.naam} tot en met deze maand niets (meer) te declareren.", "info")
        return redirect(url_for("declarations.index"), 303)
    if len(prepared.declarations) > 1:
        flash(
            f"Voor {fin.naam} zijn {len(prepared.declarations)} declaraties voorbereid, één per "
            "soort bericht (bijvoorbeeld Wmo en Jeugdwet): "
            + ", ".join(d.nummer for d in prepared.declarations)
            + ". Controleer en verstuur ze elk.",
            "info",
        )
    return redirect(url_for("declarations.show", declaration_id=prepared.declaration.id), 303)


@bp.route("/<int:declaration_id>/opnieuw", methods=["POST"])
@requires("declarations.edit")
def redo(declaration_id: int):
    """Prepare a concept again (after a fix in a contract or a legitimation): the concept is
    replaced by a new one for the same financier and month."""
    session = db_session()
    decl = _declaration_or_404(declaration_id)
    lock_row(session, Financier, decl.financier_id)
    session.refresh(decl)
    if decl.status != "concept":
        flash("Deze declaratie is geen concept meer; opnieuw voorbereiden kan niet.", "error")
        return redirect(url_for("declarations.show", declaration_id=declaration_id), 303)
    fin = decl.financier
    try:
        prepared = svc.prepare(
            session, fin, decl.periode_begin, user_id=current_user.id, hooks=hooks()
        )
    except svc.DeclarationError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("declarations.index"), 303)
    session.commit()
    if prepared.declaration is None:
        flash(f"Er is voor {fin.naam} tot en met deze maand niets (meer) te declareren.", "info")
        return redirect(url_for("declarations.index"), 303)
    flash("Het concept is opnieuw voorbereid.", "success")
    return redirect(url_for("declarations.show", declaration_id=prepared.declaration.id), 303)


@bp.route("/<int:declaration_id>/verwijderen", methods=["POST"])
@requires("declarations.edit")
def discard(declaration_id: int):
    session = db_session()
    decl = _declaration_or_404(declaration_id)
    lock_row(session, Financier, decl.financier_id)
    session.refresh(decl)
    try:
        svc.discard(session, decl)
    except svc.DeclarationError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("declarations.show", declaration_id=declaration_id), 303)
    session.commit()
    flash("Het concept is verwijderd; de zorg gaat mee in een volgende declaratie.", "success")
    return redirect(url_for("declarations.index"), 303)


def _declaration_or_404(declaration_id: int) -> Declaration:
    decl = db_session().get(Declaration, declaration_id)
    if decl is None:
        abort(404)
    return decl


@bp.route("/<int:declaration_id>")
@requires("declarations.view")
def show(declaration_id: int):
    session = db_session()
    decl = _declaration_or_404(declaration_id)
    issues = hooks().validate_declaration(decl) if decl.status == "concept" else []
    lines = session.scalars(
        select(DeclarationLine)
        .where(DeclarationLine.declaration_id == decl.id)
        .order_by(DeclarationLine.id)
        .limit(500)
    ).all()
    totals = session.execute(
        select(
            func.count(DeclarationLine.id),
            func.count(func.distinct(DeclarationLine.client_id)),
        ).where(DeclarationLine.declaration_id == decl.id)
    ).one()
    audit_view(
        "declaratie.bekeken",
        object_type="declaration",
        object_id=decl.id,
        client_ids=[line.client_id for line in lines if line.client_id],
    )
    rejected_endpoint = f"{decl.financing}.rejected"
    message, answers = _messages_of(session, decl)
    return render(
        "declarations/show.html",
        declaration=decl,
        message=message,
        answers=answers,
        issues=issues,
        blocking=[i for i in issues if i.blocking],
        lines=lines,
        n_lines=totals[0],
        n_clients=totals[1],
        rejected_url=url_for(rejected_endpoint) if _has_endpoint(rejected_endpoint) else None,
    )


def _messages_of(session, decl):
    """The declaration's outgoing message (323, AW319…) and the answers to it (325, AW320…)."""
    from portal.models import Message

    if not decl.message_id:
        return None, []
    message = session.get(Message, decl.message_id)
    if message is None:
        return None, []
    answers = session.scalars(
        select(Message).where(Message.answers_id == message.id).order_by(Message.id)
    ).all()
    return message, answers


def _has_endpoint(name: str) -> bool:
    from flask import current_app

    return name in current_app.view_functions


@bp.route("/<int:declaration_id>/indienen", methods=["POST"])
@requires("declarations.edit")
def submit(declaration_id: int):
    session = db_session()
    decl = _declaration_or_404(declaration_id)
    try:
        svc.submit(session, decl.id, hooks(), user_id=current_user.id)
    except svc.DeclarationError as exc:
        session.rollback()
        flash(str(exc), "error")
        for issue in exc.issues[:20]:
            flash(f"{issue.code}: {issue.message}", "error")
        return redirect(url_for("declarations.show", declaration_id=declaration_id), 303)
    session.commit()
    flash(f"Declaratie {decl.nummer} is verstuurd.", "success")
    return redirect(url_for("declarations.show", declaration_id=declaration_id), 303)


@bp.route("/regels/<int:line_id>/crediteren", methods=["POST"])
@requires("declarations.edit")
def credit(line_id: int):
    session = db_session()
    line = session.get(DeclarationLine, line_id)
    if line is None:
        abort(404)
    back = redirect(url_for("declarations.show", declaration_id=line.declaration_id), 303)
    try:
        svc.credit(session, [line_id], hooks(), user_id=current_user.id)
    except svc.DeclarationError as exc:
        session.rollback()
        flash(str(exc), "error")
        return back
    session.commit()
    flash(
        f"Prestatie {line.referentie} wordt gecrediteerd in de volgende declaratie aan deze "
        "financier.",
        "success",
    )
    return back
