"""The invoice PDF holds its layout with many lines: the total sits on the page of the last
line, no near-empty last page, no text printed over other text (the PGB signature labels), and
the payment QR code where the debtor pays themselves."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from portal.services import invoicing
from tests.portal.invoices import builders as b

TODAY = date(2025, 11, 5)
DOCS = Path(__file__).resolve().parents[3] / "docs"


def forty_lines(db, financing: str):
    """A client with 40 invoice lines in October 2025: two products on 20 weekdays."""
    org = b.organisation(db)
    emp = b.employee(db)
    products = [b.product(db, "PV-UUR", [financing]), b.product(db, "BG-UUR", [financing])]
    products[1].naam = "Begeleiding individueel"
    fin = b.financier(db, financing, "budgethouder" if financing == "pgb" else "client", "BH")
    extra = dict(budgethouder_is_client=True) if financing == "pgb" else {}
    c = b.client(db, "123456782", "Vries", tussenvoegsel="de", email="budget@example.nl", **extra)
    leg = b.legitimation(
        db, c, fin, financing, products[0], volume=40, tarief_cents=5500,
        sleutels={"wet": "wlz"}, referentienummer="ZO-2025-014",
    )  # fmt: skip
    leg.products = products
    days = list(b.weekdays(b.OCT_START, b.OCT_END))[:20]
    for d in days:
        for p in products:
            b.register(db, c, p, emp, d, 75)
    db.commit()
    return org, days


def _render(db, hooks, financing):
    _org, days = forty_lines(db, financing)
    run = invoicing.create_run(
        db, hooks, financing, b.OCT_START, b.OCT_END, today=TODAY, enqueue_render=False
    )
    (inv,) = run.invoices
    assert len(inv.lines) == 40
    invoicing.render_invoice(db, hooks, inv)
    db.commit()
    return inv, days


def _pages(pdf: bytes) -> list[str]:
    return b.pdf_text(pdf).split("\f")[: int(b.pdf_info(pdf)["Pages"])]


def _words(pdf: bytes) -> list[tuple[int, float, float, float, float, str]]:
    """Every word with its box per page (pdftotext -bbox)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
        check=True,
    ).stdout.decode()  # fmt: skip
    words = []
    for page_no, page in enumerate(html.split("<page ")[1:], 1):
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            page,
        ):
            x0, y0, x1, y1 = map(float, m.groups()[:4])
            words.append((page_no, x0, y0, x1, y1, m.group(5)))
    return words


def _overlaps(words) -> list[tuple[str, str]]:
    found = []
    for i, (p, x0, y0, x1, y1, w) in enumerate(words):
        for q, a0, b0, a1, b1, v in words[i + 1 :]:
            if p != q:
                continue
            # more than a sliver in both directions: one word printed over another
            dx = min(x1, a1) - max(x0, a0)
            dy = min(y1, b1) - max(y0, b0)
            if dx > 1.0 and dy > 1.5:
                found.append((w, v))
    return found


@pytest.mark.parametrize("financing", ["pgb", "particulier"])
def test_forty_lines_keep_the_total_with_the_last_line(db, hooks, financing):
    inv, days = _render(db, hooks, financing)
    pages = _pages(inv.pdf)
    assert len(pages) == 2, [len(p) for p in pages]
    last_day = f"{days[-1]:%d-%m-%Y}"
    total = b.squash(pages[-1])
    # the last line, the total and the payment text are on the same (last) page
    assert last_day in total
    assert f"Totaal {invoicing.euro(inv.totaal_cents)}" in total
    # the last page is not a near-empty page holding only the total: lines moved with it
    lines_on_last = sum(1 for d in days if f"{d:%d-%m-%Y}" in pages[-1])
    assert lines_on_last >= 3, lines_on_last
    # every day of the invoice is printed (no line lost between the pages)
    everything = b.squash(" ".join(pages))
    assert all(f"{d:%d-%m-%Y}" in everything for d in days)
    assert _overlaps(_words(inv.pdf)) == []
    if financing == "pgb":
        assert "HANDTEKENING BUDGETHOUDER" in total  # the signature block came along
        assert "Betalen met uw bank-app" not in everything  # the SVB pays, not the holder
    else:
        assert "Betalen met uw bank-app" in total
        assert "pagina 2 van 2" in total

    if os.environ.get("WRITE_DOCS_SCREENSHOTS") and financing == "pgb":
        for n in (1, 2):
            subprocess.run(
                ["pdftoppm", "-png", "-r", "70", "-f", str(n), "-l", str(n), "-singlefile", "-",
                 str(DOCS / f"factuur-40-regels-pagina-{n}")],
                input=inv.pdf, check=True,
            )  # fmt: skip


def test_short_invoice_is_one_page_with_the_payment_qr_code(db, hooks):
    b.particulier_scenario(db)
    run = invoicing.create_run(
        db, hooks, "particulier", b.OCT_START, b.OCT_END, today=TODAY, enqueue_render=False
    )
    (inv,) = run.invoices
    invoicing.render_invoice(db, hooks, inv)
    assert b.pdf_info(inv.pdf)["Pages"] == "1"
    payload = invoicing.epc_payload(inv).split("\n")
    assert payload[:5] == ["BCD", "002", "1", "SCT", ""]
    assert payload[5:8] == ["Zorggroep De Linde", "NL91ABNA0417164300", "EUR236.25"]
    assert payload[10] == f"Factuur {inv.nummer} kenmerk {inv.betaalkenmerk}"
    qr = invoicing.epc_qr(inv)
    assert qr.error == "M" and qr.version <= 13
    # the QR code is an image in the PDF (pdfimages lists it; the logo is the other one)
    images = subprocess.run(
        ["pdfimages", "-list", "-"], input=inv.pdf, capture_output=True, check=True
    ).stdout.decode()
    assert len(images.strip().splitlines()) - 2 == 2

    # no IBAN: no QR code; a partly paid invoice asks only what is still due
    inv.betaald_cents = 10000
    assert invoicing.epc_payload(inv).split("\n")[7] == "EUR136.25"
    inv.organisation.iban = None
    assert invoicing.epc_payload(inv) is None
