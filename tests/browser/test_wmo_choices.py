"""Guided choices in a real browser (htmx): each choice narrows the next.

* The verzoek om toewijzing (315): gemeente → wet → productcategorie of that standard → the
  product codes of that gemeente's contract in that category; then it is sent.
* The declaration flow: choosing the gemeente narrows the months (never before the last period
  that gemeente received).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from portal.domain import Role
from portal.models import (
    Client,
    Contract,
    ContractLine,
    Financier,
    Message,
    Organisation,
    OrganisationAgb,
    Product,
    Verzoek,
)
from portal.models.declaration import Declaration
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def gemeenten(db):
    org = Organisation(naam="Zorg BV")
    org.agb_codes.append(OrganisationAgb(agb_code="12345678", locatie="Hoofdlocatie", hoofd=True))
    db.add(org)
    begeleiding = Product(code="BEG", naam="Begeleiding individueel", eenheid="uur")
    huishouden = Product(code="HH", naam="Hulp bij het huishouden", eenheid="uur")
    db.add_all([begeleiding, huishouden])
    db.flush()
    made = []
    for code, naam in (("0363", "Gemeente Amsterdam"), ("0344", "Gemeente Utrecht")):
        fin = Financier(financing="wmo_jw", soort="gemeente", code=code, naam=naam)
        db.add(fin)
        db.flush()
        contract = Contract(financier_id=fin.id, naam=f"Wmo {naam}", begindatum=date(2026, 1, 1))
        lines = [("07", "07A05", begeleiding), ("01", "01A01", huishouden)]
        if code == "0344":
            lines = lines[:1]
        for cat, productcode, product in lines:
            contract.lines.append(
                ContractLine(
                    product_id=product.id,
                    productcategorie=cat,
                    productcode=productcode,
                    eenheid="uur",
                    tarief_cents=5000,
                    begindatum=date(2026, 1, 1),
                )
            )
        db.add(contract)
        made.append(fin)
    client = Client(
        bsn="999900006", achternaam="Jansen", voorletters="P.", geboortedatum=date(1950, 3, 1)
    )
    db.add(client)
    db.commit()
    return {"amsterdam": made[0], "utrecht": made[1], "client": client}


def choose(page, selector: str, value: str) -> None:
    """Select as a person does: one choice, then the page answers (htmx settles) before the
    next. (A script that selects while a swap replaces the select would select on a
    detached element.)"""
    page.evaluate(
        "() => { window.__settled = false; document.body.addEventListener("
        "'htmx:afterSettle', () => { window.__settled = true }, {once: true}) }"
    )
    page.select_option(selector, value)
    page.wait_for_function("() => window.__settled")


def _options(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(f"{selector} option", "els => els.map(e => e.value)")


def test_verzoek_om_toewijzing_narrows_each_choice(live_server, page, make_user, db, gemeenten):
    user = make_user(Role.BACKOFFICE)
    browser_login(page, live_server, user.email, PASSWORD)
    client = gemeenten["client"]
    page.goto(f"{live_server}/f/wmo_jw/clienten/{client.id}")
    page.get_by_role("link", name="Toewijzing aanvragen (315)").click()
    page.wait_for_url(re.compile(r"/verzoek-toewijzing$"))

    choose(page, "#f-gemeente", str(gemeenten["amsterdam"].id))
    choose(page, "#f-wet", "iwmo")
    # swapped in by htmx: the iWmo categories
    assert {"01", "07", "15"} <= set(_options(page, "#f-categorie"))
    assert "45" not in _options(page, "#f-categorie")  # an iJw category

    choose(page, "#f-categorie", "07")
    assert [v for v in _options(page, "#f-productcode") if v] == ["07A05"]

    # another law: the categories follow the standard, the code choice starts over
    choose(page, "#f-wet", "ijw")
    assert "45" in _options(page, "#f-categorie") and "07" not in _options(page, "#f-categorie")
    choose(page, "#f-wet", "iwmo")
    choose(page, "#f-categorie", "07")
    choose(page, "#f-productcode", "07A05")

    page.fill("#f-ingangsdatum", "2026-12-14")
    page.fill("#f-volume", "3")
    assert page.input_value("#f-eenheid") == "04"  # the contract line's unit (uur), filled in
    # a weekly omvang needs an end date (CD076): the field is marked required with its reason
    assert "CD076" not in page.inner_text("#hint-einddatum").split("Leeg laten")[0]
    page.select_option("#f-frequentie", "2")
    page.wait_for_selector("#lbl-einddatum .req")
    assert "Verplicht bij een omvang per week" in page.inner_text("#hint-einddatum")
    page.fill("#f-einddatum", "2027-06-30")
    # a huisarts is named (CD067)
    page.select_option("#f-verwijzer_type", "02")
    page.wait_for_selector("#lbl-verwijzer-naam .req")
    assert "CD067" in page.inner_text("#hint-verwijzer-naam")
    page.fill("#f-verwijzer_naam", "Dr. Pietersen")
    page.select_option("#f-verwijzer_type", "01")
    page.wait_for_selector("#lbl-verwijzer-naam:not(:has(.req))")
    assert page.input_value("#f-einddatum") == "2027-06-30"  # nothing typed is overwritten
    page.get_by_role("button", name="Verzoek versturen").click()
    page.wait_for_url(re.compile(rf"/f/wmo_jw/clienten/{client.id}$"))
    assert "is verstuurd naar Gemeente Amsterdam" in page.inner_text("body")

    db.expire_all()
    verzoek = db.scalar(select(Verzoek))
    assert verzoek.status == "verzonden" and verzoek.financier_id == gemeenten["amsterdam"].id
    assert db.get(Message, verzoek.message_id).code == "WMO315"
    assert verzoek.referentie in page.inner_text("#verzoeken")


def test_choosing_the_gemeente_narrows_the_months(live_server, page, make_user, db, gemeenten):
    # Amsterdam already received August 2026; Utrecht nothing yet
    db.add(
        Declaration(
            financing="wmo_jw",
            financier_id=gemeenten["amsterdam"].id,
            periode_begin=date(2026, 8, 1),
            periode_eind=date(2026, 8, 31),
            nummer="2026080001",
            status="beantwoord",
            retourcodes=[],
        )
    )
    db.commit()
    user = make_user(Role.BACKOFFICE)
    browser_login(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server}/declareren/")

    choose(page, "#f-financier_id", str(gemeenten["utrecht"].id))
    assert len(_options(page, "#f-maand")) == 13
    choose(page, "#f-financier_id", str(gemeenten["amsterdam"].id))
    assert _options(page, "#f-maand")[-1] == "2026-08"
    assert page.input_value("#f-maand") == "2026-09"  # the month after the last one
    label = page.inner_text("#f-maand option[value='2026-09']")
    assert "volgt op de vorige declaratie" in label
