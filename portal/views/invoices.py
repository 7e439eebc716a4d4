"""Invoice screens: runs (choose → preview → create), invoices (PDF, e-mail, payment, credit),
what is overdue, and the purchase invoices of subcontractors (inkoop onderaanneming)."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.models import BackgroundJob, Invoice, InvoiceRun, PurchaseInvoice
from portal.services import invoicing
from portal.services.invoicing import InvoiceError
from portal.validators import parse_date
from portal.web import audit_client_view, audit_view, render

bp = Blueprint("invoices", __name__, url_prefix="/facturen")


@bp.app_context_processor
def _start_page_counts():
    """``invoice_counts()`` for the start-page block: computed only when the block asks."""

    def invoice_counts() -> dict[str, int]:
        session = db_session()
        today = date.today()
        open_ = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Invoice.totaal_cents - Invoice.betaald_cents), 0),
            ).where(
                Invoice.soort == "factuur",
                Invoice.status.in_(("definitief", "verstuurd", "herinnering")),
            )
        ).one()
        overdue = session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(
                Invoice.soort == "factuur",
                Invoice.status.in_(("definitief", "verstuurd", "herinnering")),
                Invoice.vervaldatum < today,
            )
        )
        unsent = session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.status == "definitief", Invoice.sent_at.is_(None))
        )
        return {
            "open": open_[0],
            "open_cents": open_[1],
            "vervallen": overdue,
            "onverstuurd": unsent,
        }

    return {"invoice_counts": invoice_counts}


def _periods(today: date, n: int = 14) -> list[tuple[str, str]]:
    """The last ``n`` ended months as (YYYY-MM, label)."""
    year, month = invoicing.last_month(today)
    result = []
    for _ in range(n):
        start, end = invoicing.month_period(year, month)
        result.append((f"{year}-{month:02d}", invoicing.period_label(start, end)))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return result


def _parse_period(value: str | None) -> tuple[int | None, int | None]:
    try:
        y, m = (value or "").split("-")
        return int(y), int(m)
    except ValueError:
        return None, None


@bp.route("/")
@requires("invoices.view")
def index():
    session = db_session()
    runs = session.scalars(select(InvoiceRun).order_by(InvoiceRun.id.desc()).limit(50)).all()
    q = (request.args.get("q") or "").strip()
    status = request.args.get("status") or ""
    stmt = select(Invoice).where(Invoice.nummer.is_not(None))
    if q:
        stmt = stmt.where(Invoice.nummer.ilike(f"%{q}%") | Invoice.debiteur_naam.ilike(f"%{q}%"))
    if status:
        stmt = stmt.where(Invoice.status == status)
    invoices = session.scalars(stmt.order_by(Invoice.id.desc()).limit(100)).all()
    n_overdue = session.scalar(
        select(func.count())
        .select_from(Invoice)
        .where(
            Invoice.soort == "factuur",
            Invoice.status.in_(("definitief", "verstuurd", "herinnering")),
            Invoice.vervaldatum < date.today(),
        )
    )
    return render(
        "invoices/index.html",
        "invoices/_invoice_list.html",
        runs=runs,
        invoices=invoices,
        q=q,
        status=status,
        n_overdue=n_overdue,
        labels=dict(invoicing.invoice_financings(hooks())),
    )


@bp.route("/nieuw", methods=["GET", "POST"])
@requires("invoices.edit")
def new_run():
    """Choose one or more financings and an ended month; the preview shows per financing what
    would be invoiced; "aanmaken" makes them final in one run."""
    session = db_session()
    today = date.today()
    financings = invoicing.invoice_financings(hooks())
    periods = _periods(today)
    form = request.form if request.method == "POST" else request.args
    chosen = [f for f in form.getlist("financing") if f]
    if not chosen and request.method == "GET":
        chosen = [code for code, _label in financings]  # all by default: one run for the month
    periode = form.get("periode") or periods[0][0]
    errors: dict[str, str] = {}
    previews = []
    if not chosen:
        errors["financing"] = "Kies minstens één financiering die op factuur gaat."
    elif any(f not in dict(financings) for f in chosen):
        errors["financing"] = "Kies een financiering die op factuur gaat."
    year, month = _parse_period(periode)
    start = end = None
    try:
        start, end = invoicing.check_period(year, month, today)
    except InvoiceError as exc:
        errors["periode"] = str(exc)
    if request.method == "POST" and not errors:
        try:
            if request.form.get("action") == "aanmaken":
                run = invoicing.create_run(
                    session, hooks(), chosen, start, end, user_id=current_user.id, today=today
                )
                flash(
                    f"{run.n_invoices} facturen aangemaakt; de PDF's worden nu gemaakt.", "success"
                )
                return redirect(url_for("invoices.run", run_id=run.id))
            previews = [invoicing.preview(session, hooks(), f, start, end, today) for f in chosen]
        except InvoiceError as exc:
            errors["_form"] = str(exc)
    return render(
        "invoices/new_run.html",
        "invoices/_preview.html",
        financings=financings,
        periods=periods,
        chosen=chosen,
        periode=periode,
        errors=errors,
        previews=previews,
        n_to_invoice=sum(len(pv.to_invoice) for pv in previews),
        total_cents=sum(pv.total_cents for pv in previews),
        period_label=invoicing.period_label(start, end) if start else "",
    )


def _latest_job(session, key: str) -> BackgroundJob | None:
    from portal.jobs import job_key

    return session.scalars(
        select(BackgroundJob)
        .where(BackgroundJob.id.startswith(job_key(f"{key}-")))
        .order_by(BackgroundJob.created_at.desc())
        .limit(1)
    ).first()


@bp.route("/run/<int:run_id>")
@requires("invoices.view")
def run(run_id: int):
    session = db_session()
    r = session.get(InvoiceRun, run_id) or abort(404)
    job = session.get(BackgroundJob, r.job_id) if r.job_id else None
    return render(
        "invoices/run.html",
        None,
        run=r,
        job=job,
        mail_job=_latest_job(session, f"invoice-run-{r.id}-mail"),
        plan=invoicing.mailable(r.invoices),
        failed=_failed_parts(session, r),
        label=invoicing.run_label(hooks(), r),
        periode=invoicing.period_label(r.periode_start, r.periode_eind),
    )


def _failed_parts(session, r: InvoiceRun) -> int:
    if not r.job_id:
        return 0
    return session.scalar(
        select(func.count())
        .select_from(BackgroundJob)
        .where(BackgroundJob.id.startswith(f"{r.job_id}-deel-"), BackgroundJob.status == "mislukt")
    )


@bp.route("/run/<int:run_id>/pdf.zip")
@requires("invoices.view")
def run_zip(run_id: int):
    session = db_session()
    r = session.get(InvoiceRun, run_id) or abort(404)
    try:
        data = invoicing.run_zip(session, r)
    except InvoiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("invoices.run", run_id=run_id))
    audit_view(
        "factuurrun.zip",
        object_type="invoice_run",
        object_id=r.id,
        detail={"financiering": r.financing, "periode": f"{r.periode_start:%Y-%m}"},
    )
    name = f"facturen-{'-'.join(r.financings)}-{r.periode_start:%Y-%m}.zip"
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/run/<int:run_id>/opnieuw", methods=["POST"])
@requires("invoices.edit")
def rerender(run_id: int):
    """Queue the missing PDFs again after a failed part (rendered ones are skipped)."""
    session = db_session()
    r = session.get(InvoiceRun, run_id) or abort(404)
    if _failed_parts(session, r):
        invoicing.queue_render(session, r)
        flash("De ontbrekende PDF's worden opnieuw gemaakt.", "success")
    return redirect(url_for("invoices.run", run_id=run_id))


@bp.route("/run/<int:run_id>/versturen", methods=["POST"])
@requires("invoices.edit")
def send_run(run_id: int):
    """E-mail every invoice of the run that has not gone out yet, in one background job; a
    second click while it runs changes nothing, a click after it finished sends what failed."""
    session = db_session()
    r = session.get(InvoiceRun, run_id) or abort(404)
    plan = invoicing.mailable(r.invoices)
    if not plan["send"]:
        flash("Er is niets (meer) per e-mail te versturen in deze run.", "info")
        return redirect(url_for("invoices.run", run_id=run_id))
    job = invoicing.queue_sending(
        session,
        [inv.id for inv in plan["send"]],
        reminder=False,
        key=f"invoice-run-{r.id}-mail",
        label=f"Facturen versturen: {invoicing.run_label(hooks(), r)}, "
        f"{invoicing.period_label(r.periode_start, r.periode_eind)}",
        user_id=current_user.id,
    )
    flash(f"{job.total} facturen worden per e-mail verstuurd.", "success")
    return redirect(url_for("invoices.run", run_id=run_id))


def _invoice(invoice_id: int) -> Invoice:
    inv = db_session().get(Invoice, invoice_id)
    if inv is None or inv.nummer is None:
        abort(404)
    return inv


@bp.route("/<int:invoice_id>")
@requires("invoices.view")
def show(invoice_id: int):
    inv = _invoice(invoice_id)
    if inv.client_id:
        audit_client_view(inv.client_id, "factuur.bekeken")
    from portal.models import BankPayment

    credits = db_session().scalars(select(Invoice).where(Invoice.credit_of_id == inv.id)).all()
    payments = db_session().scalars(
        select(BankPayment).where(BankPayment.invoice_id == inv.id).order_by(BankPayment.boekdatum)
    )
    return render(
        "invoices/show.html",
        None,
        inv=inv,
        credits=credits,
        payments=payments.all(),
        label=hooks().financing_label(inv.financing),
        periode=invoicing.period_label(inv.periode_start, inv.periode_eind),
        today=date.today(),
    )


@bp.route("/<int:invoice_id>/pdf")
@requires("invoices.view")
def pdf(invoice_id: int):
    session = db_session()
    inv = _invoice(invoice_id)
    try:
        data = invoicing.invoice_pdf(session, inv)
    except InvoiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("invoices.show", invoice_id=invoice_id))
    if inv.client_id:
        audit_client_view(inv.client_id, "factuur.pdf")
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'{disposition}; filename="{invoicing.pdf_filename(inv)}"'},
    )


def _act(invoice_id: int, action) -> Response:
    try:
        message = action()
        flash(message, "success")
    except InvoiceError as exc:
        db_session().rollback()
        flash(str(exc), "error")
    nxt = request.form.get("next") or ""
    if not nxt.startswith("/") or nxt.startswith("//"):
        nxt = url_for("invoices.show", invoice_id=invoice_id)
    return redirect(nxt)


@bp.route("/<int:invoice_id>/versturen", methods=["POST"])
@requires("invoices.edit")
def send(invoice_id: int):
    def do():
        invoicing.send_invoice(
            db_session(), current_app.config, invoice_id, user_id=current_user.id
        )
        return "De factuur is per e-mail verstuurd."

    return _act(invoice_id, do)


@bp.route("/<int:invoice_id>/herinnering", methods=["POST"])
@requires("invoices.edit")
def remind(invoice_id: int):
    def do():
        invoicing.send_invoice(
            db_session(), current_app.config, invoice_id, user_id=current_user.id, reminder=True
        )
        return "De herinnering is verstuurd."

    return _act(invoice_id, do)


@bp.route("/<int:invoice_id>/betaald", methods=["POST"])
@requires("invoices.edit")
def paid(invoice_id: int):
    def do():
        raw = request.form.get("paid_at") or date.today().isoformat()
        try:
            paid_on = parse_date(raw)
        except ValueError:
            paid_on = None
        if paid_on is None:
            raise InvoiceError("Vul een geldige betaaldatum in (dd-mm-jjjj).")
        invoicing.mark_paid(db_session(), invoice_id, paid_on, user_id=current_user.id)
        return "De factuur staat op betaald."

    return _act(invoice_id, do)


@bp.route("/<int:invoice_id>/crediteren", methods=["POST"])
@requires("invoices.edit")
def credit(invoice_id: int):
    session = db_session()
    try:
        credit_note = invoicing.credit_invoice(
            session,
            hooks(),
            invoice_id,
            reden=request.form.get("reden", ""),
            user_id=current_user.id,
        )
    except InvoiceError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("invoices.show", invoice_id=invoice_id))
    flash(f"Creditnota {credit_note.nummer} is aangemaakt.", "success")
    return redirect(url_for("invoices.show", invoice_id=credit_note.id))


@bp.route("/vervallen")
@requires("invoices.view")
def overdue():
    session = db_session()
    today = date.today()
    rows = invoicing.overdue(session, today)
    return render(
        "invoices/overdue.html",
        None,
        invoices=rows,
        today=today,
        total_cents=sum(i.openstaand_cents for i in rows),
        plan=invoicing.mailable(rows, reminder=True, today=today),
        job=_latest_job(session, "herinneringen"),
    )


@bp.route("/vervallen/herinneringen", methods=["POST"])
@requires("invoices.edit")
def remind_many():
    """Reminders in bulk: first a confirmation of what will happen (who gets a reminder by
    e-mail, who must get one by post, who already got one today), then one background job."""
    session = db_session()
    today = date.today()
    ids = {int(i) for i in request.form.getlist("factuur") if i.isdigit() and len(i) < 10}
    chosen = [inv for inv in invoicing.overdue(session, today) if inv.id in ids]
    if not chosen:
        flash("Kies de facturen die een herinnering moeten krijgen.", "error")
        return redirect(url_for("invoices.overdue"))
    plan = invoicing.mailable(chosen, reminder=True, today=today)
    if request.form.get("action") != "versturen":
        return render(
            "invoices/remind_confirm.html",
            None,
            plan=plan,
            today=today,
            total_cents=sum(inv.openstaand_cents for inv in plan["send"]),
        )
    if not plan["send"]:
        flash("Er is geen herinnering (meer) per e-mail te versturen.", "info")
        return redirect(url_for("invoices.overdue"))
    job = invoicing.queue_sending(
        session,
        [inv.id for inv in plan["send"]],
        reminder=True,
        key="herinneringen",
        label=f"Herinneringen versturen ({len(plan['send'])})",
        user_id=current_user.id,
    )
    flash(f"{job.total} herinneringen worden per e-mail verstuurd.", "success")
    return redirect(url_for("invoices.overdue"))


@bp.route("/inkoop", methods=["GET", "POST"])
@requires("invoices.view")
def purchases():
    from portal.services import purchases as purchase_service

    session = db_session()
    errors: dict[str, str] = {}
    report = None
    if request.method == "POST":
        if not _can_edit():
            abort(403)
        upload = request.files.get("bestand")
        try:
            pi = purchase_service.load_specification(
                session,
                leverancier_naam=request.form.get("leverancier_naam", ""),
                leverancier_agb=request.form.get("leverancier_agb", ""),
                factuurnummer=request.form.get("factuurnummer", ""),
                factuurdatum=request.form.get("factuurdatum", ""),
                bedrag=request.form.get("bedrag", ""),
                filename=upload.filename if upload else "",
                content=upload.read(purchase_service.MAX_BYTES + 1) if upload else b"",
                user_id=current_user.id,
            )
            flash(
                "De specificatie is ingelezen."
                + (" De factuur klopt." if pi.akkoord else " Er zijn verschillen; zie hieronder."),
                "success" if pi.akkoord else "warning",
            )
            return redirect(url_for("invoices.purchase", purchase_id=pi.id))
        except purchase_service.PurchaseError as exc:
            errors = exc.errors
            report = exc.rows
    items = session.scalars(
        select(PurchaseInvoice).order_by(PurchaseInvoice.id.desc()).limit(50)
    ).all()
    return render(
        "invoices/purchases.html",
        None,
        items=items,
        errors=errors,
        report=report,
        form=request.form,
    )


@bp.route("/inkoop/<int:purchase_id>")
@requires("invoices.view")
def purchase(purchase_id: int):
    pi = db_session().get(PurchaseInvoice, purchase_id) or abort(404)
    return render("invoices/purchase.html", None, pi=pi)


def _can_edit() -> bool:
    from portal.auth import has_permission

    return has_permission("invoices.edit")


# ---------------------------------------------------------------------------------------------
# bank statements (CAMT.053): import, matched and unmatched payments, matching by hand
# ---------------------------------------------------------------------------------------------


@bp.route("/bank", methods=["GET", "POST"])
@requires("invoices.view")
def bank():
    from portal.models import BankStatement
    from portal.services.invoicing import bank as bank_service
    from portal.services.organisation import get_organisation

    session = db_session()
    error = None
    if request.method == "POST":
        if not _can_edit():
            abort(403)
        upload = request.files.get("bestand")
        content = upload.read(bank_service.MAX_BYTES + 1) if upload else b""
        if not content:
            error = "Kies het bankafschrift (CAMT.053, XML) dat u wilt inlezen."
        else:
            org = get_organisation(session)
            try:
                statement = bank_service.import_statement(
                    session,
                    content,
                    filename=upload.filename or "",
                    org_iban=org.iban if org else None,
                    user_id=current_user.id,
                )
            except InvoiceError as exc:
                session.rollback()
                error = str(exc)
            else:
                counts = bank_service.statement_counts(session, statement.id)
                flash(
                    f"Het bankafschrift is ingelezen: {counts['gekoppeld']} betalingen gekoppeld, "
                    f"{counts['open']} nog te koppelen.",
                    "success",
                )
                return redirect(url_for("invoices.bank_statement", statement_id=statement.id))
    statements = session.scalars(
        select(BankStatement).order_by(BankStatement.id.desc()).limit(50)
    ).all()
    return render(
        "invoices/bank.html",
        None,
        statements=statements,
        open_payments=bank_service.open_payments(session),
        error=error,
        max_mb=bank_service.MAX_BYTES // (1024 * 1024),
    )


@bp.route("/bank/<int:statement_id>")
@requires("invoices.view")
def bank_statement(statement_id: int):
    from portal.models import BankStatement
    from portal.services.invoicing import bank as bank_service

    session = db_session()
    statement = session.get(BankStatement, statement_id) or abort(404)
    open_ = [p for p in statement.payments if p.status == "open"]
    return render(
        "invoices/bank_statement.html",
        None,
        statement=statement,
        counts=bank_service.statement_counts(session, statement.id),
        open_payments=open_,
        choices={p.id: bank_service.candidates(session, p) for p in open_},
        named={p.id: bank_service.referenced_invoices(session, p) for p in open_},
    )


@bp.route("/bank/betaling/<int:payment_id>", methods=["POST"])
@requires("invoices.edit")
def bank_payment(payment_id: int):
    from portal.models import BankPayment
    from portal.services.invoicing import bank as bank_service

    session = db_session()
    payment = session.get(BankPayment, payment_id) or abort(404)
    statement_id = payment.statement_id
    action = request.form.get("action")
    try:
        if action == "koppelen":
            raw = request.form.get("factuur") or ""
            if not raw.isdigit() or len(raw) > 9:
                raise InvoiceError("Kies de factuur die met deze betaling is betaald.")
            p = bank_service.match_by_hand(session, payment_id, int(raw), user_id=current_user.id)
            flash(f"De betaling is gekoppeld aan factuur {p.invoice.nummer}.", "success")
        elif action == "negeren":
            bank_service.ignore(session, payment_id, user_id=current_user.id)
            flash("De betaling is genegeerd (geen factuur).", "success")
        elif action == "ontkoppelen":
            bank_service.unmatch(session, payment_id, user_id=current_user.id)
            flash("De betaling is ontkoppeld en staat weer bij 'nog te koppelen'.", "success")
        else:
            abort(400)
    except InvoiceError as exc:
        session.rollback()
        flash(str(exc), "error")
    nxt = request.form.get("next") or ""
    if not nxt.startswith("/") or nxt.startswith("//"):
        nxt = url_for("invoices.bank_statement", statement_id=statement_id)
    return redirect(nxt)
