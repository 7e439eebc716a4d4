"""Invoice runs: periods, stacking, numbering, PDFs through the worker, credit notes, payments,
e-mail and reminders."""

from __future__ import annotations

import email
import hashlib
import io
import zipfile
from datetime import date, timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import BackgroundJob, ExportPart, Invoice, InvoiceRun
from portal.models.registration import Registration
from portal.services import invoicing
from portal.services.invoicing import InvoiceError
from tests.portal.invoices import builders as b


@pytest.fixture
def hooks(app):
    return app.extensions["hooks"]


def test_only_the_plugins_that_build_invoices_are_offered(hooks):
    codes = [code for code, _label in invoicing.invoice_financings(hooks)]
    assert sorted(codes) == ["onderaanneming", "particulier", "pgb"]


def test_a_month_is_invoiced_only_after_it_has_ended():
    today = date(2026, 11, 23)
    with pytest.raises(InvoiceError, match="November 2026 is nog niet voorbij"):
        invoicing.check_period(2026, 11, today)
    with pytest.raises(InvoiceError, match="nog niet voorbij"):
        invoicing.check_period(2027, 1, today)
    with pytest.raises(InvoiceError, match="Kies een maand"):
        invoicing.check_period(2026, 13, today)
    assert invoicing.check_period(2026, 10, today) == (date(2026, 10, 1), date(2026, 10, 31))
    assert invoicing.check_period(2024, 2, today) == (date(2024, 2, 1), date(2024, 2, 29))


def test_a_stacked_week_invoices_exactly_the_private_two_hours(db, hooks):
    s = b.stacked_scenario(db)
    pv = invoicing.preview(db, hooks, "particulier", b.OCT_START, b.OCT_END)
    assert len(pv.groups) == 1
    group = pv.groups[0]
    assert group.legitimation.id == s["private"].id
    assert group.minutes == 120  # 4 h delivered, 2 h on Wlz, 2 h private
    # chronological filling: Monday and Tuesday fill the Wlz legitimation, Wed and Thu are private
    assert [(line.day, line.minutes) for line in group.lines] == [
        (s["week"][2], 60),
        (s["week"][3], 60),
    ]
    assert group.total_cents == 2 * 6200
    assert not group.issues

    run = invoicing.create_run(
        db, hooks, "particulier", b.OCT_START, b.OCT_END, enqueue_render=False
    )
    inv = run.invoices[0]
    assert inv.totaal_cents == 12400
    assert sum(line.minuten for line in inv.lines) == 120
    # the invoiced registrations can no longer be withdrawn from approval
    declared = db.scalars(
        select(Registration)
        .join(ExportPart, ExportPart.registration_id == Registration.id)
        .where(ExportPart.active.is_(True), ExportPart.kind == "factuur")
    ).all()
    assert {r.datum for r in declared} == set(s["week"][2:])


def test_a_run_numbers_invoices_renders_pdfs_in_the_worker_and_never_twice(
    db, hooks, run_jobs, monkeypatch
):
    from portal.jobs import invoices as invoice_jobs

    monkeypatch.setattr(invoice_jobs, "CHUNK", 1)  # one job per invoice: workers share a run
    s = b.pgb_scenario(db)
    second = b.client(db, "100000009", "Mulder")
    other = b.financier(db, "pgb", "budgethouder", "BH 2")
    b.legitimation(
        db, second, other, "pgb", s["product"], volume=5, tarief_cents=6000, sleutels={"wet": "wmo"}
    )
    b.register(db, second, s["product"], b.employee(db), date(2025, 10, 15), 60)
    db.commit()

    run = invoicing.create_run(db, hooks, "pgb", b.OCT_START, b.OCT_END, today=date(2025, 11, 5))
    assert run.n_invoices == 2
    numbers = sorted(inv.nummer for inv in run.invoices)
    assert numbers == ["2025-00001", "2025-00002"]
    job = db.get(BackgroundJob, run.job_id)
    assert job.queue == "pdf" and job.status == "bezig" and job.total == 2
    parts = db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "facturen-deel")).all()
    assert len(parts) == 2 and {p.queue for p in parts} == {"pdf"}

    run_jobs()
    db.expire_all()
    job = db.get(BackgroundJob, run.job_id)
    assert job.status == "klaar", job.error
    assert job.progress == 2
    run = db.get(InvoiceRun, run.id)
    assert run.status == "klaar"
    for inv in run.invoices:
        assert inv.pdf[:5] == b"%PDF-"
        assert hashlib.sha256(inv.pdf).hexdigest() == inv.pdf_sha256
        assert inv.vervaldatum == date(2025, 12, 5)  # PGB: 30 days

    # a double click / second run: nothing more to invoice, nothing numbered twice
    with pytest.raises(InvoiceError, match="niets \\(meer\\) te factureren"):
        invoicing.create_run(db, hooks, "pgb", b.OCT_START, b.OCT_END, today=date(2025, 11, 5))
    assert db.scalar(select(func.count()).select_from(Invoice)) == 2

    data = invoicing.run_zip(db, run)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == [f"factuur-{n}.pdf" for n in numbers]
        assert all(zf.read(n)[:5] == b"%PDF-" for n in zf.namelist())


def test_blocking_issues_leave_a_debtor_out_until_fixed(db, hooks):
    s = b.pgb_scenario(db)
    s["leg"].sleutels = {}  # which budget pays is unknown
    db.commit()
    pv = invoicing.preview(db, hooks, "pgb", b.OCT_START, b.OCT_END)
    (group,) = pv.groups
    assert group.blocking and not pv.to_invoice
    assert any("welke wet" in i.message for i in group.issues)
    with pytest.raises(InvoiceError, match="niets"):
        invoicing.create_run(db, hooks, "pgb", b.OCT_START, b.OCT_END, enqueue_render=False)
    s["leg"].sleutels = {"wet": "wlz"}
    db.commit()
    run = invoicing.create_run(db, hooks, "pgb", b.OCT_START, b.OCT_END, enqueue_render=False)
    assert run.n_invoices == 1


def test_credit_note_reverses_the_original_which_stays_unchanged(db, hooks, run_jobs):
    b.particulier_scenario(db)
    run = invoicing.create_run(db, hooks, "particulier", b.OCT_START, b.OCT_END)
    run_jobs()
    original = db.get(Invoice, run.invoices[0].id)
    db.refresh(original)
    before = (
        original.totaal_cents,
        original.pdf_sha256,
        [ln.bedrag_cents for ln in original.lines],
    )

    credit = invoicing.credit_invoice(db, hooks, original.id, reden="Verkeerd tarief")
    run_jobs()
    db.expire_all()
    credit = db.get(Invoice, credit.id)
    original = db.get(Invoice, original.id)
    assert credit.nummer.endswith("-00002")  # the same gap-free series
    assert credit.credit_of_id == original.id
    assert credit.totaal_cents == -original.totaal_cents < 0
    assert [ln.bedrag_cents for ln in credit.lines] == [-x for x in before[2]]
    assert (original.totaal_cents, original.pdf_sha256) == before[:2]
    assert original.status == "gecrediteerd"
    text = b.squash(b.pdf_text(credit.pdf))
    assert f"Creditnota {credit.nummer}" in text
    assert f"Creditering van factuur {original.nummer}" in text
    assert "Verkeerd tarief" in text
    assert "€ -" in text

    with pytest.raises(InvoiceError, match="al gecrediteerd"):
        invoicing.credit_invoice(db, hooks, original.id, reden="nog eens")
    with pytest.raises(InvoiceError, match="niet zelf"):
        invoicing.credit_invoice(db, hooks, credit.id, reden="x")
    # after the credit the period can be invoiced again, under a new number
    again = invoicing.create_run(
        db, hooks, "particulier", b.OCT_START, b.OCT_END, enqueue_render=False
    )
    assert again.invoices[0].nummer.endswith("-00003")


def test_send_by_mail_payment_and_reminders(app, db, hooks, run_jobs):
    b.particulier_scenario(db)
    run = invoicing.create_run(
        db, hooks, "particulier", b.OCT_START, b.OCT_END, today=date(2025, 11, 3)
    )
    run_jobs()
    inv = db.get(Invoice, run.invoices[0].id)
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(outbox.glob("*.eml"))

    path = invoicing.send_invoice(db, app.config, inv.id)
    msg = email.message_from_bytes(Path(path).read_bytes(), policy=policy.default)
    assert msg["To"] == "jansen@example.nl"
    assert inv.nummer in msg["Subject"]
    (att,) = [p for p in msg.walk() if p.get_filename()]
    assert att.get_filename() == f"factuur-{inv.nummer}.pdf"
    assert att.get_payload(decode=True) == inv.pdf
    assert inv.status == "verstuurd"
    with pytest.raises(InvoiceError, match="al verstuurd"):
        invoicing.send_invoice(db, app.config, inv.id)
    assert len(set(outbox.glob("*.eml")) - before) == 1

    # vervaldatum 17-11-2025 has passed: it is overdue and gets a reminder
    assert inv.vervaldatum == date(2025, 11, 17)
    assert [i.id for i in invoicing.overdue(db)] == [inv.id]
    path = invoicing.send_invoice(db, app.config, inv.id, reminder=True)
    msg = email.message_from_bytes(Path(path).read_bytes(), policy=policy.default)
    assert msg["Subject"].startswith("Herinnering")
    body = msg.get_body(("plain",)).get_content()
    assert inv.betaalkenmerk in body and "NL91ABNA0417164300" in body
    assert inv.status == "herinnering" and inv.reminder_count == 1
    with pytest.raises(InvoiceError, match="Vandaag is al een herinnering"):
        invoicing.send_invoice(db, app.config, inv.id, reminder=True)

    with pytest.raises(InvoiceError, match="toekomst"):
        invoicing.mark_paid(db, inv.id, date.today() + timedelta(days=3))
    invoicing.mark_paid(db, inv.id, date(2025, 11, 28))
    assert inv.status == "betaald" and inv.paid_at == date(2025, 11, 28)
    assert invoicing.overdue(db) == []
    invoicing.mark_paid(db, inv.id, date(2025, 11, 28))  # a double click changes nothing
    assert inv.status == "betaald"


def test_payment_reference_has_a_check_pair():
    ref = invoicing.payment_reference("2025-00012")
    assert ref.startswith("202500012")
    assert (int(ref[:-2]) + int(ref[-2:])) % 97 == 0
