"""PDF rendering of invoices, on the "pdf" queue.

A run is split into chunks (one RQ job each), so every worker on the "pdf" queue helps. The run
has one progress row (``BackgroundJob`` ``invoice-run-<id>``) that the screens poll through
``/taken/<id>``; each chunk brings it up to date from the database (how many invoices of the run
have their PDF), so the figure is right whichever worker finishes last. Safe to run twice: an
invoice that has its PDF is skipped, and each PDF is committed on its own.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.models import BackgroundJob, Invoice, InvoiceRun
from portal.models._base import utcnow
from portal.services import invoicing

CHUNK = 20


def _hooks(ctx):
    return ctx.app.extensions["hooks"]


def progress_row_id(run_id: int, app=None) -> str:
    from portal.jobs import job_key

    return job_key(f"invoice-run-{run_id}", app)


def render_chunk(ctx, run_id: int, invoice_ids: list[int]) -> dict:
    session = ctx.session
    made = 0
    for i, invoice_id in enumerate(invoice_ids, 1):
        inv = session.get(Invoice, invoice_id)
        if inv is not None and invoicing.render_invoice(session, _hooks(ctx), inv):
            made += 1
        session.commit()
        session.expunge_all()  # keep memory flat
        if i % 5 == 0 or i == len(invoice_ids):
            _update_run_progress(ctx, run_id)
    return {"PDF's gemaakt": made}


def _update_run_progress(ctx, run_id: int) -> None:
    sm = ctx.app.extensions["db_sessionmaker"]
    with sm() as s:
        total = s.scalar(select(func.count()).select_from(Invoice).where(Invoice.run_id == run_id))
        done = s.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.run_id == run_id, Invoice.pdf_sha256.is_not(None))
        )
        row = s.get(BackgroundJob, progress_row_id(run_id, ctx.app))
        if row is not None:
            row.progress, row.total = done, total
            row.message = f"{done} van {total} PDF's gemaakt"
            if done >= total and row.status != "klaar":
                row.status, row.finished_at = "klaar", utcnow()
                row.result = {"Facturen": total}
        if done >= total:
            run = s.get(InvoiceRun, run_id)
            if run is not None:
                run.status = "klaar"
        s.commit()


def render_one(ctx, invoice_id: int) -> dict:
    session = ctx.session
    inv = session.get(Invoice, invoice_id)
    if inv is None:
        return {"Facturen": 0}
    ctx.progress(0, 1)
    invoicing.render_invoice(session, _hooks(ctx), inv)
    session.commit()
    return {"Factuur": inv.nummer}


def send_many(ctx, invoice_ids: list[int], reminder: bool = False) -> dict:
    """E-mail each invoice (or a reminder for it), one transaction each. An invoice that went
    out before (a second job, a double click) is skipped; a failure is kept on the invoice
    (``mail_fout``) and counted, and the others go on."""
    from flask import current_app

    session = ctx.session
    sent = skipped = failed = 0
    total = len(invoice_ids)
    for i, invoice_id in enumerate(invoice_ids, 1):
        try:
            invoicing.send_invoice(session, current_app.config, invoice_id, reminder=reminder)
            sent += 1
        except invoicing.AlreadySent:
            session.rollback()
            skipped += 1
        except invoicing.InvoiceError as exc:
            session.rollback()
            failed += 1
            inv = session.get(Invoice, invoice_id)
            if inv is not None:
                inv.mail_fout = str(exc)[:300]
                session.commit()
        session.expunge_all()
        ctx.progress(i, total, f"{sent} verstuurd, {failed} mislukt, {skipped} al verstuurd")
    result = {"Verstuurd": sent, "Mislukt": failed}
    if skipped:
        result["Al verstuurd (overgeslagen)"] = skipped
    return result
