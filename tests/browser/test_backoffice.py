"""The back office's day in Chromium: the start page with its plots, the search box, the dossier
tabs, a list that sorts, filters and exports, and the confirmation of an irreversible action."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.domain import Role
from portal.models import Legitimation
from portal.models.declaration import Declaration
from portal.models.registration import REG_APPROVED, REG_CONCEPT
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.portal.production import factory

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
TODAY = date.today()


def _day(db):
    """A small organisation with some of everything: care, declarations, a formula-like name."""
    org = factory.organisation(db)
    emp_id = None
    from portal.services.users import create_user

    emp = create_user(
        db, email="zorg@test.nl", naam="Zorg Medewerker", role="zorgprofessional", password=PASSWORD
    )
    emp_id = emp.id
    boer = factory.new_client(db, achternaam="Boer")
    boer.tussenvoegsel, boer.voorletters, boer.clientnummer = "de", "F.", "C-100"
    factory.legitimation(db, boer, org.gemeente, [org.bg])
    evil = factory.new_client(db, achternaam='=HYPERLINK("http://x","klik")')
    evil.clientnummer = "C-666"
    last_week = TODAY - timedelta(days=7)
    factory.registration(db, boer, org.bg, emp_id, last_week, 90, status=REG_CONCEPT)
    factory.registration(db, evil, org.pv, emp_id, last_week, 60, status=REG_CONCEPT)
    c2, _, _ = factory.seed_client(db, org)
    factory.registration(db, c2, org.pv, emp_id, last_week, 120, status=REG_APPROVED)
    y, m = TODAY.year, TODAY.month
    for i, (status, total, awarded) in enumerate(
        [("beantwoord", 120000, 110000), ("beantwoord", 90000, 60000), ("ingediend", 70000, None)]
        * 3
    ):
        mm, yy = m - 1 - i, y
        while mm < 1:
            mm, yy = mm + 12, yy - 1
        start = date(yy, mm, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        db.add(
            Declaration(
                financing="wmo_jw",
                financier_id=org.gemeente.id,
                periode_begin=start,
                periode_eind=end,
                nummer=f"2026{i:06d}",
                status=status,
                total_cents=total,
                awarded_cents=awarded,
                dagtekening=end + timedelta(days=3),
                answered_at=datetime.combine(end + timedelta(days=10 + i), datetime.min.time(), UTC)
                if awarded
                else None,
            )
        )
    db.commit()
    return boer, evil


def test_start_page_search_and_dossier(live_server, page, make_user, db, tmp_path):
    boer, _evil = _day(db)
    user = make_user(Role.BACKOFFICE, naam="Bo Backoffice")
    browser_login(page, live_server, user.email, PASSWORD)

    actions = page.get_by_test_id("vraagt-actie")
    expect(actions).to_contain_text("Zorg wacht op fiattering")
    expect(actions).to_contain_text("niet gedekt")
    for key in ("omzet", "afwijzingen", "openstaand", "doorlooptijd"):
        plot = page.get_by_test_id(f"plot-{key}")
        expect(plot.locator("svg[role=img]")).to_be_visible()
    # the numbers behind a plot, one click away
    omzet = page.get_by_test_id("plot-omzet")
    omzet.get_by_text("Cijfers").click()
    expect(omzet.locator("table")).to_contain_text("€ 1.200,00")
    omzet.get_by_text("Cijfers").click()
    page.set_viewport_size({"width": 1100, "height": 900})
    # the screenshot in docs/ is refreshed on request only (a test run leaves the tree clean)
    shots = DOCS if os.environ.get("WRITE_DOCS_SCREENSHOTS") else tmp_path
    page.screenshot(path=str(shots / "start-page.png"), type="png")

    # the count leads to its list
    actions.get_by_role("link", name=re.compile("niet gedekt")).click()
    page.wait_for_url(re.compile(r"/lijsten/niet-gedekt"))
    expect(page.get_by_test_id("lijst")).to_contain_text("C-666")

    # one search box: a name typed as people do
    page.fill("#topzoek", "F. de Boer")
    page.press("#topzoek", "Enter")
    page.wait_for_url(re.compile(rf"/clienten/{boer.id}$"))  # one hit: straight to the dossier
    tabs = page.get_by_test_id("dossier-tabs")
    expect(tabs.get_by_role("link", name="Legitimaties")).to_have_attribute("aria-current", "page")
    tabs.get_by_role("link", name="Geregistreerde zorg").click()
    page.wait_for_url(re.compile(r"/dossier/zorg"))
    expect(page.locator("#dossier-paneel")).to_contain_text("1,5 uur")
    page.get_by_role("link", name="maand", exact=True).click()
    expect(page.locator("#dossier-paneel")).to_contain_text("Maand")
    tabs.get_by_role("link", name="Declaraties").click()
    page.wait_for_url(re.compile(r"/dossier/declaraties"))
    expect(page.locator("#dossier-paneel")).to_contain_text("Nog geen declaratieregels")


def test_a_list_sorts_filters_and_exports_safely(live_server, page, make_user, db):
    _day(db)
    user = make_user(Role.BACKOFFICE)
    browser_login(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server}/lijsten/declaraties")
    listing = page.get_by_test_id("lijst")
    expect(listing.get_by_test_id("aantal")).to_have_text("9 regels")
    first = listing.locator("tbody tr").first
    expect(first).to_contain_text("2026000008")  # newest number first
    listing.get_by_role("link", name="Nummer").click()  # sort: now ascending
    expect(page.get_by_test_id("lijst").locator("tbody tr").first).to_contain_text("2026000000")
    expect(page.get_by_test_id("lijst").locator("th[aria-sort]")).to_have_attribute(
        "aria-sort", "ascending"
    )
    page.get_by_label("Status").select_option(label="Ingediend")  # filters as it changes
    expect(page.get_by_test_id("lijst").get_by_test_id("aantal")).to_have_text("3 regels")
    assert "status=ingediend" in page.url

    with page.expect_download() as dl:
        page.get_by_test_id("export-csv").click()
    rows = list(
        csv.reader(io.StringIO(Path(dl.value.path()).read_text("utf-8-sig")), delimiter=";")
    )
    assert rows[0][0] == "Nummer" and len(rows) == 4
    assert {r[-1] for r in rows[1:]} == {"Ingediend"}

    # a formula-like client name is neutralised in the export
    page.goto(f"{live_server}/lijsten/niet-gedekt")
    with page.expect_download() as dl:
        page.get_by_test_id("export-csv").click()
    text = Path(dl.value.path()).read_text("utf-8-sig")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
    with page.expect_download() as dl:
        page.get_by_test_id("export-xlsx").click()
    assert Path(dl.value.path()).read_bytes()[:2] == b"PK"


def test_deleting_a_legitimation_asks_first(live_server, page, make_user, db):
    boer, _ = _day(db)
    leg_id = db.query(Legitimation).filter_by(client_id=boer.id).one().id
    user = make_user(Role.BACKOFFICE)
    browser_login(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server}/clienten/{boer.id}")
    page.get_by_role("button", name="Verwijderen").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("wordt verwijderd")
    expect(dialog).to_contain_text("Boer")
    dialog.get_by_role("button", name="Annuleren").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    db.expire_all()
    assert db.query(Legitimation).filter_by(id=leg_id).count() == 1  # nothing happened
    page.get_by_role("button", name="Verwijderen").click()
    page.get_by_role("dialog").get_by_role("button", name="Ja, verwijderen").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".flash")).to_be_visible()
    db.expire_all()
    assert db.query(Legitimation).filter_by(id=leg_id).count() == 0


def test_plots_are_readable_on_a_phone(live_server, phone, make_user, db):
    _day(db)
    user = make_user(Role.BACKOFFICE)
    browser_login(phone, live_server, user.email, PASSWORD)
    plot = phone.get_by_test_id("plot-omzet")
    expect(plot.locator("svg")).to_be_visible()
    box = plot.locator("svg").bounding_box()
    assert box["width"] <= 390  # no sideways scrolling
    label = plot.locator("svg text.axis").first.bounding_box()
    assert label["height"] >= 10  # axis labels at least 10 px high
    expect(plot.locator(".chart-legend")).to_contain_text("Gedeclareerd")
    phone.screenshot(path="/tmp/h-phone.png")
