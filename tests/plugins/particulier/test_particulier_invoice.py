"""The private invoice: to the client or the payer, with payment term, IBAN and reference."""

from __future__ import annotations

from datetime import date

import pytest

from portal.models import Invoice, InvoiceRun
from portal.services import invoicing
from tests.portal.invoices import builders as b


@pytest.fixture
def hooks(app):
    return app.extensions["hooks"]


def _invoice(db, hooks, run_jobs) -> Invoice:
    run = invoicing.create_run(
        db, hooks, "particulier", b.OCT_START, b.OCT_END, today=date(2025, 11, 3)
    )
    run_jobs()
    db.expire_all()
    return db.get(InvoiceRun, run.id).invoices[0]


def test_private_invoice_to_the_client(db, hooks, run_jobs):
    b.particulier_scenario(db)
    inv = _invoice(db, hooks, run_jobs)
    flat = b.squash(b.pdf_text(inv.pdf))
    reading = b.squash(b.pdf_text(inv.pdf, layout=False))  # blocks in reading order
    assert "FACTUUR AAN P. Jansen Dorpsstraat 5 3511AA Utrecht" in reading
    assert f"Factuurnummer {inv.nummer}" in flat
    assert "Factuurdatum 03-11-2025" in flat
    assert "Vervaldatum 17-11-2025" in flat  # payment term 14 days
    assert f"Betalingskenmerk {inv.betaalkenmerk}" in flat
    assert "Cliëntnummer C6782" in flat
    for day in ("07-10-2025", "14-10-2025", "21-10-2025"):
        assert f"{day} Persoonlijke verzorging 2:15 € 35,00 per uur € 78,75" in flat
    assert inv.totaal_cents == 3 * 7875
    assert "Totaal € 236,25" in flat
    assert (
        f"Wilt u € 236,25 uiterlijk 17-11-2025 overmaken naar NL91ABNA0417164300 ten name van "
        f"Zorggroep De Linde, onder vermelding van betalingskenmerk {inv.betaalkenmerk}?" in flat
    )
    assert "Vrijgesteld van btw op grond van art. 11 lid 1 sub g Wet OB 1968" in flat
    assert inv.debiteur_email == "jansen@example.nl"


def test_private_invoice_to_the_person_who_pays(db, hooks, run_jobs):
    b.particulier_scenario(db, payer=True)
    inv = _invoice(db, hooks, run_jobs)
    flat = b.squash(b.pdf_text(inv.pdf))
    reading = b.squash(b.pdf_text(inv.pdf, layout=False))
    assert "FACTUUR AAN K. Jansen-de Boer Molenlaan 3 1211AB Hilversum" in reading
    assert "aan P. Jansen, op uw verzoek aan u gefactureerd" in flat
    assert inv.debiteur_email == "dochter@example.nl"
    assert inv.debiteur_adres == "Molenlaan 3\n1211AB Hilversum"


def test_the_printed_debtor_is_a_snapshot(db, hooks, run_jobs):
    s = b.particulier_scenario(db)
    inv = _invoice(db, hooks, run_jobs)
    s["client"].straat = "Nieuwe Weg"
    db.commit()
    # rendering again (e.g. after a lost PDF) prints what was sent, not today's address
    invoicing.render_invoice(db, hooks, inv, force=True)
    flat = b.squash(b.pdf_text(inv.pdf))
    assert "Dorpsstraat 5" in flat and "Nieuwe Weg" not in flat


def test_missing_address_blocks_with_a_dutch_reason(db, hooks):
    s = b.particulier_scenario(db)
    s["client"].postcode = None
    s["client"].plaats = None
    db.commit()
    pv = invoicing.preview(db, hooks, "particulier", b.OCT_START, b.OCT_END)
    assert [i.message for i in pv.groups[0].issues] == [
        "Het adres van de ontvanger van de factuur is niet compleet."
    ]
    assert not pv.to_invoice
