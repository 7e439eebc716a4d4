"""Sending all invoices of a run by e-mail at once, and reminders in bulk: per invoice status,
failures shown and retryable, nothing sent twice on a double click."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime, timedelta
from email import policy

from sqlalchemy import select

from portal.models import BackgroundJob, Invoice, InvoiceRun
from portal.services import invoicing
from tests.portal import smtp_server
from tests.portal.invoices import builders as b

ALL = ["pgb", "particulier", "onderaanneming"]


def _run(db, hooks, run_jobs, today=date(2025, 11, 5)):
    s = b.multi_scenario(db)
    # a second private client whose mailbox does not exist, and a third without e-mail
    c = b.client(db, "100000022", "Bos", email="weg@kapot.example", voorletters="T.")
    c2 = b.client(db, "100000034", "Post", voorletters="Q.")
    fin = db.scalars(select(b.Financier).where(b.Financier.financing == "particulier")).first()
    prod = db.scalars(select(b.Product).where(b.Product.code == "HH-UUR")).one()
    for cl in (c, c2):
        b.legitimation(db, cl, fin, "particulier", prod, volume=6, tarief_cents=3500)
        b.register(db, cl, prod, b.employee(db), date(2025, 10, 8), 60)
    db.commit()
    run = invoicing.create_run(db, hooks, ALL, b.OCT_START, b.OCT_END, today=today)
    run_jobs()
    db.expire_all()
    return db.get(InvoiceRun, run.id), s


def _smtp(app, monkeypatch, reject=()):
    record, server = smtp_server.start(None, offer_starttls=False, reject_rcpt=reject)
    monkeypatch.setitem(app.config, "SMTP_HOST", record.host)
    monkeypatch.setitem(app.config, "SMTP_PORT", record.port)
    monkeypatch.setitem(app.config, "SMTP_SECURITY", "none")
    return record, server


def _recipients(record) -> list[str]:
    return sorted(
        email.message_from_bytes(r.data, policy=policy.default)["To"] for r in record.received
    )


def test_send_all_invoices_of_a_run_with_failures_shown_and_retried(
    app, client, db, hooks, backoffice, run_jobs, monkeypatch
):
    run, _s = _run(db, hooks, run_jobs)
    assert run.n_invoices == 5
    record, server = _smtp(app, monkeypatch, reject=("weg@kapot.example",))
    try:
        page = client.get(f"/facturen/run/{run.id}").get_data(as_text=True)
        assert "4 klaar om te versturen" in page and "1 zonder e-mailadres" in page
        assert "Alle 4 facturen per e-mail versturen" in page

        # a double click: two posts, one job, every invoice mailed once
        first = client.post(f"/facturen/run/{run.id}/versturen")
        second = client.post(f"/facturen/run/{run.id}/versturen")
        assert first.status_code == second.status_code == 302
        jobs = db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "facturen-mail"))
        assert len(jobs.all()) == 1
        run_jobs()
        assert _recipients(record) == [
            "budget@example.nl",
            "crediteuren@trm.example",
            "jansen@example.nl",
        ]
        db.expire_all()
        job = db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "facturen-mail")).one()
        assert job.status == "klaar" and job.result == {"Verstuurd": 3, "Mislukt": 1}
        bad = db.scalars(select(Invoice).where(Invoice.debiteur_email == "weg@kapot.example")).one()
        assert bad.sent_at is None and bad.status == "definitief"
        assert "weigerde" in bad.mail_fout

        page = client.get(f"/facturen/run/{run.id}").get_data(as_text=True)
        assert page.count('badge ok">verstuurd') == 3
        assert "mislukt</span>" in page and "Mailbox unavailable" in page
        assert "geen e-mailadres: per post" in page
        assert "Opnieuw proberen (1 mislukt)" in page

        # the mailbox was fixed: retrying sends only the one that failed
        server.reject_rcpt = ()
        client.post(f"/facturen/run/{run.id}/versturen")
        run_jobs()
        assert len(record.received) == 4
        db.expire_all()
        bad = db.get(Invoice, bad.id)
        assert bad.sent_at is not None and bad.mail_fout is None and bad.status == "verstuurd"
        resp = client.post(f"/facturen/run/{run.id}/versturen", follow_redirects=True)
        assert "niets (meer) per e-mail te versturen" in resp.get_data(as_text=True)
        run_jobs()
        assert len(record.received) == 4  # nothing went out twice
    finally:
        server.shutdown()


def test_reminders_in_bulk_after_a_confirmation(
    app, client, db, hooks, backoffice, run_jobs, monkeypatch
):
    run, _s = _run(db, hooks, run_jobs, today=date.today() - timedelta(days=60))
    for inv in run.invoices:  # all sent on the day of the run
        inv.sent_at = datetime.now(UTC) - timedelta(days=60)
        inv.status = "verstuurd"
    part = next(i for i in run.invoices if i.debiteur_email == "jansen@example.nl")
    part.betaald_cents = 5000  # partly paid: the reminder asks for the rest
    db.commit()
    record, server = _smtp(app, monkeypatch)
    try:
        page = client.get("/facturen/vervallen").get_data(as_text=True)
        overdue = invoicing.overdue(db)
        assert len(overdue) == 5 and "Herinneringen versturen…" in page
        ids = [str(i.id) for i in overdue]

        confirm = client.post(
            "/facturen/vervallen/herinneringen", data={"factuur": ids, "action": "bevestigen"}
        ).get_data(as_text=True)
        assert "5 herinneringen per e-mail" not in confirm
        assert "4 herinneringen per e-mail" in confirm  # one has no address
        assert "1 zonder e-mailadres" in confirm
        assert record.received == []  # a confirmation sends nothing

        for _ in range(2):  # double click on "versturen"
            client.post(
                "/facturen/vervallen/herinneringen", data={"factuur": ids, "action": "versturen"}
            )
        run_jobs()
        assert len(record.received) == 4
        msg = next(
            email.message_from_bytes(r.data, policy=policy.default)
            for r in record.received
            if b"jansen@example.nl" in r.data
        )
        assert msg["Subject"].startswith("Herinnering: factuur")
        files = {p.get_filename(): p.get_payload(decode=True) for p in msg.walk()}
        reminder = files[f"herinnering-{part.nummer}.pdf"]
        assert files[f"factuur-{part.nummer}.pdf"] == db.get(Invoice, part.id).pdf
        text = b.squash(b.pdf_text(reminder))
        open_cents = part.totaal_cents - 5000
        assert f"Nog te betalen {invoicing.euro(open_cents)}" in text
        assert "Al ontvangen € 50,00" in text and "Betalen met uw bank-app" in text
        # the PGB budget holder gets a reminder without a QR code: the SVB pays, not them
        pgb = next(
            email.message_from_bytes(r.data, policy=policy.default)
            for r in record.received
            if b"budget@example.nl" in r.data
        )
        pgb_pdf = next(
            p.get_payload(decode=True)
            for p in pgb.walk()
            if (p.get_filename() or "").startswith("herinnering-")
        )
        assert "Betalen met uw bank-app" not in b.squash(b.pdf_text(pgb_pdf))

        db.expire_all()
        reminded = [i for i in invoicing.overdue(db) if i.reminder_count == 1]
        assert len(reminded) == 4 and all(i.status == "herinnering" for i in reminded)
        # the same day again: the confirmation says they are skipped, nothing is sent
        confirm = client.post(
            "/facturen/vervallen/herinneringen", data={"factuur": ids, "action": "bevestigen"}
        ).get_data(as_text=True)
        assert "4 kregen vandaag al een herinnering" in confirm
        client.post(
            "/facturen/vervallen/herinneringen", data={"factuur": ids, "action": "versturen"}
        )
        run_jobs()
        assert len(record.received) == 4
    finally:
        server.shutdown()


def test_two_senders_at_once_mail_each_invoice_once(app, db, hooks, run_jobs, monkeypatch):
    """Two jobs (or a job and the button on the invoice page) sending the same invoices at the
    same moment: the row lock and the sent check let each invoice out once."""
    from tests.concurrency import parallel_calls

    run, _s = _run(db, hooks, run_jobs)
    ids = [inv.id for inv in run.invoices if inv.debiteur_email]
    record, server = _smtp(app, monkeypatch)
    sm = app.extensions["db_sessionmaker"]

    def send_all(_i):
        sent = 0
        with app.app_context(), sm() as s:
            for invoice_id in ids:
                try:
                    invoicing.send_invoice(s, app.config, invoice_id)
                    sent += 1
                except invoicing.AlreadySent:
                    s.rollback()
        return sent

    try:
        results = parallel_calls(3, send_all)
    finally:
        server.shutdown()
    assert sum(results) == len(ids) == 4, results
    assert sorted(_recipients(record)) == sorted(db.get(Invoice, i).debiteur_email for i in ids)
