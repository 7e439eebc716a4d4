"""The demo's invoices: half a year sent, most paid, a few overdue; last month still to invoice."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.demo import INVOICE_MONTHS, _month, seed
from portal.models import Invoice
from portal.services import invoicing

TODAY = date.today()


@pytest.fixture(autouse=True)
def fresh_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))


def test_demo_invoices_were_sent_paid_and_some_are_overdue(db, hooks):
    assert seed(db, hooks=hooks)
    db.commit()
    invoices = db.scalars(select(Invoice).order_by(Invoice.nummer)).all()
    assert {i.financing for i in invoices} == {"pgb", "onderaanneming"}
    months = {i.periode_start for i in invoices}
    assert months == {_month(TODAY, -k) for k in range(2, INVOICE_MONTHS + 2)}
    assert all(i.sent_at is not None and i.factuurdatum > i.periode_eind for i in invoices)
    paid = [i for i in invoices if i.status == "betaald"]
    assert paid and all(i.paid_at <= TODAY and i.betaald_cents == i.totaal_cents for i in paid)
    late = invoicing.overdue(db, TODAY)
    assert late and all(i.status == "verstuurd" and i.vervaldatum < TODAY for i in late)
    assert len(paid) > len(late)
    # one gap-free number series, in the order the runs were made
    assert [int(i.nummer[-4:]) for i in invoices] == sorted(int(i.nummer[-4:]) for i in invoices)
    # last month is still to invoice, for all three financings, in one run
    start, end = invoicing.month_period(*invoicing.last_month(TODAY))
    for financing in ("pgb", "particulier", "onderaanneming"):
        assert invoicing.preview(db, hooks, financing, start, end, TODAY).to_invoice, financing


def test_the_demo_pdfs_are_queued_after_the_seed(db, hooks):
    from portal.demo import queue_demo_pdfs

    assert seed(db, hooks=hooks)
    db.commit()
    assert queue_demo_pdfs(db) == INVOICE_MONTHS  # one render job per invoice run
