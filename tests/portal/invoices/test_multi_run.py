"""One invoice run for several financings of a month: one task page, each invoice with its own
financing and number from the one series, and money counted once when runs race."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import BackgroundJob, ExportPart, Invoice, InvoiceRun
from portal.services import invoicing
from portal.services.invoicing import InvoiceError
from tests.concurrency import parallel_calls
from tests.portal.invoices import builders as b

ALL = ["pgb", "particulier", "onderaanneming"]
TODAY = date(2025, 11, 5)


def test_one_run_invoices_three_financings_with_one_task_page(db, hooks, run_jobs):
    b.multi_scenario(db)
    run = invoicing.create_run(db, hooks, ALL, b.OCT_START, b.OCT_END, today=TODAY)
    assert run.financings == ALL
    by_fin = {inv.financing: inv for inv in run.invoices}
    assert sorted(by_fin) == sorted(ALL) and run.n_invoices == 3
    # one gap-free series, whatever the financing
    assert sorted(inv.nummer for inv in run.invoices) == [
        "2025-00001",
        "2025-00002",
        "2025-00003",
    ]
    assert by_fin["pgb"].totaal_cents == 4 * 5500  # 2 × 2 h at 55,00
    assert by_fin["particulier"].totaal_cents == 3 * 7875  # 3 × 2:15 at 35,00
    assert by_fin["onderaanneming"].totaal_cents == 2 * 5400  # one invoice to the contractor
    assert by_fin["pgb"].vervaldatum == date(2025, 12, 5)  # each financing keeps its term
    assert run.total_cents == sum(inv.totaal_cents for inv in run.invoices)
    assert invoicing.run_label(hooks, run) == "PGB, Particulier en Onderaanneming"

    # one task page: one progress row for all PDFs of the run
    run_jobs()
    db.expire_all()
    job = db.get(BackgroundJob, run.job_id)
    assert job.status == "klaar" and job.progress == 3
    assert all(inv.pdf[:5] == b"%PDF-" for inv in db.get(InvoiceRun, run.id).invoices)

    # the same month again: nothing left for any of them
    with pytest.raises(InvoiceError, match="niets \\(meer\\) te factureren voor PGB, Partic"):
        invoicing.create_run(db, hooks, ALL, b.OCT_START, b.OCT_END, today=TODAY)
    assert db.scalar(select(func.count()).select_from(Invoice)) == 3


def test_parallel_runs_of_overlapping_financings_count_the_money_once(app, db, hooks):
    b.multi_scenario(db)
    sm = app.extensions["db_sessionmaker"]
    choices = [ALL, ["particulier", "pgb"], ["onderaanneming"], ALL]

    def make(i: int):
        with app.app_context(), sm() as s:
            try:
                r = invoicing.create_run(
                    s, hooks, choices[i], b.OCT_START, b.OCT_END, today=TODAY,
                    enqueue_render=False,
                )  # fmt: skip
                return sorted(inv.financing for inv in r.invoices)
            except InvoiceError as exc:
                return str(exc)

    results = parallel_calls(len(choices), make)
    made = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, str)]
    assert made, results
    assert all("niets" in r or "zojuist al aangemaakt" in r for r in refused), results
    # whatever won, every debtor is invoiced exactly once and every care part exported once
    db.expire_all()
    rows = db.execute(select(Invoice.financing, func.count()).group_by(Invoice.financing)).all()
    assert dict(rows) == {"pgb": 1, "particulier": 1, "onderaanneming": 1}
    assert sorted(f for r in made for f in r) == sorted(ALL)
    numbers = sorted(db.scalars(select(Invoice.nummer)))
    assert numbers == ["2025-00001", "2025-00002", "2025-00003"]  # no gaps, no doubles
    parts = db.scalar(select(func.count()).select_from(ExportPart))
    assert parts == 2 + 3 + 2


def test_the_screen_offers_all_financings_and_makes_one_run(client, db, backoffice):
    b.multi_scenario(db)
    page = client.get("/facturen/nieuw").get_data(as_text=True)
    for label in ("PGB", "Particulier", "Onderaanneming"):
        assert f"> {label}</label>" in page
    assert page.count("checked") == 3  # all chosen by default

    html = client.post(
        "/facturen/nieuw", data={"financing": ALL, "periode": "2025-10", "action": "voorbeeld"}
    ).get_data(as_text=True)
    assert "Voorbeeld: PGB, oktober 2025" in html
    assert "Voorbeeld: Onderaanneming, oktober 2025" in html
    assert "3 facturen aanmaken" in html and "Eén run voor 3 financieringen" in html

    html = client.post("/facturen/nieuw", data={"periode": "2025-10", "action": "voorbeeld"})
    assert "Kies minstens één financiering" in html.get_data(as_text=True)

    resp = client.post(
        "/facturen/nieuw", data={"financing": ALL, "periode": "2025-10", "action": "aanmaken"}
    )
    assert resp.status_code == 302
    run = db.scalars(select(InvoiceRun)).one()
    page = client.get(f"/facturen/run/{run.id}").get_data(as_text=True)
    assert "Factuurrun PGB, Particulier en Onderaanneming" in page
    assert page.count(f'hx-get="/taken/{run.job_id}"') == 1
