"""The SVB checklist for a PGB invoice, read back from the rendered PDF (pdftotext)."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import pytest

from portal.models import Invoice
from portal.services import invoicing
from tests.portal.invoices import builders as b


@pytest.fixture
def hooks(app):
    return app.extensions["hooks"]


def _render_run(db, hooks, run_jobs, today=date(2025, 11, 4)):
    run = invoicing.create_run(db, hooks, "pgb", b.OCT_START, b.OCT_END, today=today)
    run_jobs()
    db.expire_all()
    (inv,) = db.get(type(run), run.id).invoices
    return db.get(Invoice, inv.id)


def test_pgb_invoice_meets_the_svb_checklist(db, hooks, run_jobs):
    s = b.pgb_scenario(db, representative=True)
    inv = _render_run(db, hooks, run_jobs)
    text = b.pdf_text(inv.pdf)
    flat = b.squash(text)

    # the budget holder (here a representative): initials, surname, BSN, address
    assert "Budgethouder" in flat or "BUDGETHOUDER" in flat
    assert "M.J. van der Heijden" in flat
    assert "BSN 111222333" in flat
    assert "Kerkweg 7a" in flat and "3811BC Amersfoort" in flat
    # the client is not confused with the budget holder
    assert "Zorg verleend aan" in flat or "ZORG VERLEEND AAN" in flat
    assert "A. de Vries" in flat
    # the provider: name, address, KvK, AGB
    assert "Zorggroep De Linde" in flat
    assert "Lindelaan 12" in flat and "3511AB Utrecht" in flat
    assert "KvK 41234567" in flat and "AGB 73730001" in flat
    # number and date
    assert re.search(rf"Factuurnummer {re.escape(inv.nummer)}", flat)
    assert "Factuurdatum 04-11-2025" in flat
    # an ended period of one calendar month
    assert "Periode 01-10-2025 t/m 31-10-2025" in flat
    assert "oktober 2025" in flat
    # every day with hours and the agreed tariff
    day_lines = [ln for ln in text.splitlines() if re.match(r"\s*\d\d-10-2025\s", ln)]
    assert len(day_lines) == len(s["days"]) == 23
    for day, line in zip(s["days"], day_lines, strict=True):
        cells = b.squash(line)
        assert cells.startswith(day.strftime("%d-%m-%Y"))
        assert "1:30" in cells and "€ 55,00 per uur" in cells and cells.endswith("€ 82,50")
    assert "30-09-2025" not in flat and "03-11-2025" not in flat  # other months stay out
    # the total
    assert inv.totaal_cents == 23 * 8250
    assert "Totaal € 1.897,50" in flat
    assert "34:30" in flat  # total hours
    # which budget (law) pays
    assert "PGB Wlz" in flat
    # room for the budget holder's signature
    assert "Handtekening budgethouder" in flat or "HANDTEKENING BUDGETHOUDER" in flat
    # care is VAT-exempt: the legal ground, and no VAT number
    assert "Vrijgesteld van btw op grond van art. 11 lid 1 sub g Wet OB 1968" in flat
    assert "Btw-nummer" not in flat and "NL001234567B01" not in flat


def test_the_vat_number_is_printed_only_when_vat_is_charged(db, hooks, run_jobs):
    b.pgb_scenario(db, representative=False, vat=21)
    inv = _render_run(db, hooks, run_jobs)
    flat = b.squash(b.pdf_text(inv.pdf))
    assert "Btw-nummer NL001234567B01" in flat
    assert inv.btw_cents == 23 * 1733  # 21% of 82,50 = 17,325 → 17,33 per line
    assert "Btw 21% over € 1.897,50" in flat
    assert "Vrijgesteld van btw" not in flat
    # the budget holder is the client: their own BSN and address
    assert "A. de Vries" in flat and "BSN 123456782" in flat and "Dorpsstraat 5" in flat


def test_missing_budget_holder_data_blocks_the_invoice_with_a_dutch_reason(db, hooks):
    s = b.pgb_scenario(db, representative=True)
    c = s["client"]
    c.budgethouder_bsn = None
    c.budgethouder_postcode = None
    c.budgethouder_plaats = None
    db.commit()
    pv = invoicing.preview(db, hooks, "pgb", b.OCT_START, b.OCT_END)
    messages = [i.message for i in pv.groups[0].issues]
    assert "BSN of SVB-relatienummer van de budgethouder ontbreekt." in messages
    assert "Het adres van de budgethouder is niet compleet." in messages
    assert not pv.to_invoice
    # the SVB relatienummer is an accepted alternative to the BSN
    c.svb_relatienummer = "8812345"
    c.budgethouder_postcode, c.budgethouder_plaats = "3811BC", "Amersfoort"
    db.commit()
    pv = invoicing.preview(db, hooks, "pgb", b.OCT_START, b.OCT_END)
    assert pv.to_invoice and pv.groups[0].debtor_name == "M.J. van der Heijden"


def test_the_page_looks_like_an_a4_invoice_with_the_logo(db, hooks, run_jobs, tmp_path):
    b.pgb_scenario(db)
    inv = _render_run(db, hooks, run_jobs)
    info = b.pdf_info(inv.pdf)
    assert "595.2" in info["Page size"] and "841.8" in info["Page size"]  # A4 in points
    assert "(A4)" in info["Page size"]
    assert int(info["Pages"]) == 2  # 23 days: a full first page, totals and signature on 2
    images = subprocess.run(
        ["pdfimages", "-list", "-"], input=inv.pdf, capture_output=True, check=True
    ).stdout.decode()
    assert len(images.strip().splitlines()) == 2 + 1  # two header lines, then the one logo
    fonts = subprocess.run(
        ["pdffonts", "-"], input=inv.pdf, capture_output=True, check=True
    ).stdout.decode()
    font_rows = fonts.strip().splitlines()[2:]
    assert font_rows and all("DejaVu" in row for row in font_rows)
    assert all(row.split()[-5] == "yes" for row in font_rows)  # embedded: no font downloads

    pdf = tmp_path / "f.pdf"
    pdf.write_bytes(inv.pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "p")], check=True)
    from PIL import Image

    first = Image.open(tmp_path / "p-1.png").convert("RGB")
    w, h = first.size
    assert abs(h / w - 297 / 210) < 0.01
    # the logo's teal square sits in the top-left corner; the footer line is at the bottom
    teal = sum(
        1
        for x in range(0, w // 3)
        for y in range(0, h // 8)
        if first.getpixel((x, y)) == (15, 118, 110)
    )
    assert teal > 50
    # text fills the page but the margins stay white
    margin = [first.getpixel((x, y)) for x in range(0, 20) for y in range(0, h, 5)]
    assert all(px == (255, 255, 255) for px in margin)
