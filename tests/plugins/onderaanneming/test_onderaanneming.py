"""Onderaanneming: verkoop (invoice the main contractor with a specification per client and
product) and inkoop (a subcontractor's CSV becomes our production; their invoice is checked)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import InvoiceRun, PurchaseInvoice
from portal.models.registration import REG_APPROVED, Registration
from portal.services import invoicing, purchases, stacking
from tests.portal.invoices import builders as b


@pytest.fixture
def hooks(app):
    return app.extensions["hooks"]


def test_verkoop_one_invoice_to_the_main_contractor_with_a_specification(db, hooks, run_jobs):
    s = b.onderaanneming_scenario(db)
    run = invoicing.create_run(
        db, hooks, "onderaanneming", b.OCT_START, b.OCT_END, today=date(2025, 11, 2)
    )
    run_jobs()
    db.expire_all()
    (inv,) = db.get(InvoiceRun, run.id).invoices
    assert inv.financier_id == s["hoofd"].id and inv.client_id is None
    flat = b.squash(b.pdf_text(inv.pdf))
    reading = b.squash(b.pdf_text(inv.pdf, layout=False))
    assert (
        "HOOFDAANNEMER Thuiszorg Regio Midden Zorgplein 1 3811BB Amersfoort AGB 73999991" in reading
    )
    assert re.search(r"Uw opdrachtnummer ORD-2025-110,( \S+)* ORD-2025-111", flat)
    assert "Onze AGB-code 73730001" in flat
    # per client: name, BSN, birth date, product with hours, tariff and amount
    assert "Smit, H. 123456782 17-05-1948 3:00 € 54,00 per uur € 162,00" in flat
    assert "Visser, G. 111222333 01-02-1939 4:30 € 54,00 per uur € 243,00" in flat
    assert flat.count("Persoonlijke verzorging in onderaanneming") == 2 + 6  # spec + days
    assert inv.totaal_cents == 16200 + 24300 and "Totaal € 405,00" in flat
    # the day-by-day appendix
    assert "Bijlage: geleverde zorg per dag" in flat
    assert inv.vervaldatum == date(2025, 12, 2)
    assert inv.debiteur_email == "crediteuren@trm.example"


def _inkoop_setup(db):
    org = b.organisation(db)
    emp = b.employee(db)
    prod = b.product(db, "PV-UUR", ["wlz"])
    zk = b.financier(db, "wlz", "zorgkantoor", "Zorgkantoor Utrecht", code="5503")
    covered = b.client(db, "123456782", "Smit", clientnummer="C100")
    b.legitimation(db, covered, zk, "wlz", prod, volume=6)
    uncovered = b.client(db, "111222333", "Visser", clientnummer="C200")
    db.commit()
    return {"org": org, "emp": emp, "prod": prod, "covered": covered, "uncovered": uncovered}


CSV = (
    b"bsn;datum;product;minuten;tarief\n"
    b"123456782;06-10-2025;PV-UUR;60;52,00\n"
    b"123456782;08-10-2025;pv-uur;90;52,00\n"
    b";09-10-2025;PV-UUR;30;52,00\n"
)


def _load(db, s, content, nummer="INK-1", bedrag="130,00"):
    return purchases.load_specification(
        db,
        leverancier_naam="Thuiszorg Klein",
        leverancier_agb="73111111",
        factuurnummer=nummer,
        factuurdatum="2025-11-01",
        bedrag=bedrag,
        filename="spec.csv",
        content=content,
        user_id=s["emp"].id,
    )


def test_inkoop_loads_the_specification_as_our_approved_production(db, hooks):
    s = _inkoop_setup(db)
    content = CSV.replace(b"\n;09-10", b"\n;09-10").replace(b";09-10-2025", b"C200;09-10-2025")
    content = content.replace(b"bsn;", b"bsn;").replace(b"\nC200", b"\n")
    # rows by BSN; the last row names the client by cliëntnummer instead
    content = (
        b"bsn;clientnummer;datum;product;minuten;tarief\n"
        b"123456782;;06-10-2025;PV-UUR;60;52,00\n"
        b"123456782;;08-10-2025;pv-uur;90;52,00\n"
        b";C200;09-10-2025;PV-UUR;30;52,00\n"
    )
    pi = _load(db, s, content, bedrag="140,00")
    assert pi.n_rows == 3 and pi.n_registrations == 3
    assert pi.berekend_cents == 5200 + 7800 + 2600
    kinds = sorted(d["soort"] for d in pi.verschillen)
    assert kinds == ["bedrag", "niet gedekt"]
    messages = " ".join(d["melding"] for d in pi.verschillen)
    assert "Gefactureerd € 140,00 maar de specificatie komt op € 156,00" in messages
    assert "Visser" in messages and "geen legitimatie" in messages
    regs = db.scalars(select(Registration).order_by(Registration.datum)).all()
    assert [(r.datum, r.duur_minuten, r.status, r.bron) for r in regs] == [
        (date(2025, 10, 6), 60, REG_APPROVED, "inkoop"),
        (date(2025, 10, 8), 90, REG_APPROVED, "inkoop"),
        (date(2025, 10, 9), 30, REG_APPROVED, "inkoop"),
    ]
    assert all(r.import_bestand == "onderaanneming 73111111 factuur INK-1" for r in regs)
    # they flow into our own declarations: stacking puts them on the Wlz legitimation
    result = stacking.allocate(db, hooks=hooks, start=date(2025, 10, 1), end=date(2025, 10, 31))
    wlz = sum(a.minutes for a in result.allocations if a.financing == "wlz")
    assert wlz == 150
    assert sum(n.minutes for n in result.not_covered) == 30


def test_inkoop_refuses_a_bad_file_whole_with_a_message_per_row(db):
    s = _inkoop_setup(db)
    content = (
        b"bsn;datum;product;minuten;tarief\n"
        b"123456782;06-10-2025;PV-UUR;60;52,00\n"
        b"999999999;07-10-2025;PV-UUR;60;52,00\n"
        b"123456782;31-02-2025;XX;0;gratis\n"
    )
    with pytest.raises(purchases.PurchaseError) as err:
        _load(db, s, content)
    rows = err.value.rows
    assert rows[0] == "Regel 3: cliënt onbekend (BSN/cliëntnummer niet gevonden)."
    assert rows[1].startswith("Regel 4: product XX bestaat niet; datum ongeldig")
    assert "tarief ongeldig" in rows[1] and "minuten moet" in rows[1]
    assert db.scalar(select(func.count()).select_from(Registration)) == 0
    assert db.scalar(select(func.count()).select_from(PurchaseInvoice)) == 0

    with pytest.raises(purchases.PurchaseError) as err:
        _load(db, s, b"naam;datum\nx;y\n")
    assert "kolommen ontbreken" in err.value.errors["bestand"]


def test_inkoop_never_loads_a_row_twice(db):
    s = _inkoop_setup(db)
    first = _load(db, s, CSV.replace(b";09-10-2025;PV-UUR;30;52,00\n", b""))
    assert first.akkoord and first.status == "akkoord"  # 52 + 78 = 130
    with pytest.raises(purchases.PurchaseError, match="al ingelezen"):
        _load(db, s, CSV)
    # a later invoice that repeats a row: that row is flagged, not loaded again
    second = _load(
        db,
        s,
        b"bsn;datum;product;minuten;tarief\n"
        b"123456782;06-10-2025;PV-UUR;60;52,00\n"
        b"123456782;13-10-2025;PV-UUR;60;52,00\n",
        nummer="INK-2",
        bedrag="52,00",
    )
    assert second.n_registrations == 1
    assert [d["soort"] for d in second.verschillen] == ["dubbel"]
    assert db.scalar(select(func.count()).select_from(Registration)) == 3
