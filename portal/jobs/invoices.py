"""PDF rendering of invoices, on the "pdf" queue. Safe to run twice: an invoice that has its PDF
is skipped, and each PDF is committed on its own so a crash loses at most one rendering."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Invoice, InvoiceRun
from portal.services import invoicing


def _hooks(ctx):
    return ctx.app.extensions["hooks"]


def render_run(ctx, run_id: int) -> dict:
    session = ctx.session
    run = session.get(InvoiceRun, run_id)
    if run is None:
        return {"Facturen": 0}
    ids = session.scalars(
        select(Invoice.id).where(Invoice.run_id == run_id).order_by(Invoice.nummer)
    ).all()
    total = len(ids)
    ctx.progress(0, total, "PDF's worden gemaakt…")
    made = 0
    for i, invoice_id in enumerate(ids, 1):
        inv = session.get(Invoice, invoice_id)
        if invoicing.render_invoice(session, _hooks(ctx), inv):
            made += 1
        session.commit()
        session.expunge_all()  # keep memory flat over a long run
        if i % 5 == 0 or i == total:
            ctx.progress(i, total, f"Factuur {inv.nummer} klaar")
    run = session.get(InvoiceRun, run_id)
    run.status = "klaar"
    session.commit()
    return {"Facturen": total, "Nieuw gemaakt": made}


def render_one(ctx, invoice_id: int) -> dict:
    session = ctx.session
    inv = session.get(Invoice, invoice_id)
    if inv is None:
        return {"Facturen": 0}
    ctx.progress(0, 1)
    invoicing.render_invoice(session, _hooks(ctx), inv)
    session.commit()
    return {"Factuur": inv.nummer}
