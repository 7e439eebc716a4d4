"""The back office invoices a month in Chromium: one run for PGB, particulier and
onderaanneming, then the bank statement (CAMT.053) that pays them, with one payment matched
by hand."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain import Role
from portal.models import Invoice
from portal.services import invoicing
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.portal.invoices import builders as b

pytestmark = pytest.mark.browser

CAMT = Path(__file__).resolve().parents[1] / "portal" / "invoices" / "camt" / "november-2025.xml"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_multi_financing_run_and_bank_statement(
    live_server, page, make_user, db, run_jobs, tmp_path
):
    year, month = invoicing.last_month(date.today())
    b.multi_scenario(db, date(year, month, 1))
    user = make_user(Role.BACKOFFICE, naam="Bo Backoffice")
    browser_login(page, live_server, user.email, PASSWORD)

    page.goto(f"{live_server}/facturen/")
    page.get_by_role("link", name="Nieuwe factuurrun").click()
    for label in ("PGB", "Particulier", "Onderaanneming"):
        expect(page.get_by_label(label, exact=True)).to_be_checked()
    page.select_option("#f-periode", f"{year}-{month:02d}")
    page.get_by_role("button", name="Voorbeeld tonen").click()
    expect(page.locator("#voorbeeld-onderaanneming")).to_contain_text("Thuiszorg Regio Midden")
    expect(page.locator("#voorbeeld-pgb")).to_contain_text("€ 220,00")
    create = page.get_by_role("button", name="3 facturen aanmaken")
    expect(page.locator("#preview")).to_contain_text("Eén run voor 3 financieringen")
    create.click()
    expect(page.locator("h1")).to_contain_text("Factuurrun PGB, Particulier en Onderaanneming")

    run_jobs()  # the PDF worker
    page.reload()
    expect(page.locator("#versturen")).to_contain_text("3 klaar om te versturen")
    numbers = {inv.financing: inv for inv in db.scalars(select(Invoice)).all()}

    # the bank statement of the following month: the invoice numbers and payment reference
    # the payers typed are those of this run
    part, oa = numbers["particulier"], numbers["onderaanneming"]
    k = oa.betaalkenmerk
    xml = (
        CAMT.read_bytes()
        .replace(b"2025-00002", part.nummer.encode())
        .replace(b"2025 0000 310", f"{k[:4]} {k[4:8]} {k[8:]}".encode())
    )
    statement = tmp_path / "afschrift.xml"
    statement.write_bytes(xml)
    page.goto(f"{live_server}/facturen/")
    page.get_by_role("link", name="Bankafschrift inlezen").click()
    page.set_input_files("#bestand", str(statement))
    page.get_by_role("button", name="Inlezen en koppelen").click()
    expect(page.locator(".flash")).to_contain_text("2 betalingen gekoppeld, 3 nog te koppelen")
    expect(page.locator("#samenvatting")).to_contain_text("Afschrijvingen")

    svb = page.locator("article.payment", has_text="Sociale Verzekeringsbank")
    svb.locator("select").select_option(
        label=f"{numbers['pgb'].nummer} · A. de Vries · open € 220,00"
    )
    svb.get_by_role("button", name="Koppelen").click()
    expect(page.locator(".flash")).to_contain_text(f"gekoppeld aan factuur {numbers['pgb'].nummer}")
    rows = page.locator("#betalingen tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator("#betalingen")).to_contain_text("Deels betaald")
    shots = DOCS if os.environ.get("WRITE_DOCS_SCREENSHOTS") else tmp_path
    page.screenshot(path=str(shots / "bankafschrift-koppelen.png"), full_page=True)

    page.get_by_role("link", name=oa.nummer).click()
    expect(page.locator("h1")).to_contain_text("Deels betaald")
    expect(page.locator("main")).to_contain_text("nog open € 58,00")
