"""One whole screen flow in headless Chromium: a back-office worker adds a client (first with a
wrong BSN), finds it with the search and opens it; and the menu works on a phone."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from portal.domain import Role
from portal.models import Client
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WRONG_BSN = "123456789"  # fails the 11-proef
GOOD_BSN = "111222333"


def test_backoffice_creates_finds_and_opens_a_client(live_server, page, make_user, db):
    for i, name in enumerate(("Aalders", "Bakker")):
        db.add(
            Client(
                bsn=f"11122{i}" + ("333" if i == 0 else "345"),
                achternaam=name,
                geboortedatum=date(1970, 1, 1),
            )
        )
    db.commit()
    assert all(len(c.bsn) == 9 for c in db.query(Client))
    user = make_user(Role.BACKOFFICE, naam="Bo Backoffice")
    browser_login(page, live_server, user.email, PASSWORD)

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Cliënten").click()
    page.wait_for_url(re.compile(r"/clienten/"))
    page.get_by_role("link", name="Nieuwe cliënt").click()
    page.wait_for_url(re.compile(r"/clienten/nieuw"))

    page.fill("#f-bsn", WRONG_BSN)
    page.fill("#f-voorletters", "T.")
    page.fill("#f-achternaam", "Testbrowser")
    page.fill("#f-geboortedatum", "1980-05-17")
    page.fill("#f-postcode", "1234 ab")
    page.get_by_role("button", name="Opslaan").click()

    error = page.locator("#e-bsn")
    error.wait_for()
    assert "11-proef" in error.inner_text()
    assert "Niet opgeslagen" in page.get_by_role("alert").inner_text()
    assert page.input_value("#f-achternaam") == "Testbrowser"  # what was typed is kept
    assert db.query(Client).filter_by(achternaam="Testbrowser").count() == 0

    page.fill("#f-bsn", "111 222 333")  # typed with spaces, as people do
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"/clienten/\d+$"))
    assert "Testbrowser, T." in page.inner_text("h1")
    db.expire_all()
    stored = db.query(Client).filter_by(achternaam="Testbrowser").one()
    assert stored.bsn == GOOD_BSN
    assert stored.postcode == "1234AB"

    # Find it again through the list's search (htmx updates the table while typing).
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Cliënten").click()
    page.wait_for_url(re.compile(r"/clienten/$"))
    assert page.locator("#client-table tbody tr").count() == 3
    page.fill("#f-q", "Testbrow")
    rows = page.locator("#client-table tbody tr")
    expect(rows).to_have_count(1)
    link = page.locator("#client-table").get_by_role("link", name="Testbrowser, T.")
    assert link.count() == 1
    page.fill("#f-q", "Bakker")
    expect(rows.first).to_contain_text("Bakker")
    # A BSN search works too, and never puts the BSN in the address bar.
    page.fill("#f-q", GOOD_BSN)
    expect(page.locator("#client-count")).to_contain_text("1 cliënt gevonden")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Testbrowser")
    assert GOOD_BSN not in page.url
    page.locator("#client-table").get_by_role("link", name="Testbrowser, T.").click()
    page.wait_for_url(re.compile(rf"/clienten/{stored.id}$"))
    assert "Testbrowser, T." in page.inner_text("h1")


def test_menu_works_on_a_phone(live_server, phone, make_user):
    user = make_user(Role.BACKOFFICE, naam="Mo Mobiel")
    browser_login(phone, live_server, user.email, PASSWORD)
    nav = phone.get_by_role("navigation", name="Hoofdmenu")
    button = phone.locator("label.menu-button")
    assert button.is_visible()
    assert not nav.is_visible()  # folded away on a small screen
    button.click()
    nav.wait_for(state="visible")
    link = nav.get_by_role("link", name="Cliënten")
    box = link.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits the screen
    link.click()
    phone.wait_for_url(re.compile(r"/clienten/"))
    assert "Cliënten" in phone.inner_text("h1")
    # No sideways scrolling on the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
