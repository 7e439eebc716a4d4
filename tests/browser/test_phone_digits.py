"""Care staff on a phone: the big button, digits only for date and time, the client kept, only
the client's products, and a date that does not exist explained."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from playwright.sync_api import expect

from portal.models import Registration
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.portal.production.factory import organisation, seed_client


def test_digits_only_and_the_client_kept(live_server, phone, db, make_user):
    org = organisation(db)
    client, _wlz, _prive = seed_client(db, org)  # legitimations for persoonlijke verzorging only
    db.commit()
    # Care staff see the clients of their own team.
    worker = make_user("zorgprofessional", email="zorg2@test.nl", team=client.team)
    browser_login(phone, live_server, worker.email, PASSWORD)
    phone.get_by_test_id("zorg-registreren").click()
    phone.wait_for_url(f"{live_server}/registreren/")

    phone.fill("#f-client-q", "Jans")
    phone.locator("#client-options label.choice", has_text="Jansen, J.").first.click()
    # only what the client's legitimations hold
    expect(phone.locator("#f-product_id option", has_text="Begeleiding")).to_have_count(0)
    phone.select_option(
        "#f-product_id", label="Persoonlijke verzorging · Persoonlijke verzorging (uur)"
    )
    phone.fill("#f-datum", "3102" + str(date.today().year))  # no such day
    phone.fill("#f-starttijd", "0930")
    phone.fill("#f-duur", "45")
    phone.click("button.primary")
    february = calendar.monthrange(date.today().year, 2)[1]
    expect(phone.locator("#e-datum")).to_contain_text(f"heeft {february} dagen")

    yesterday = date.today() - timedelta(days=1)
    phone.fill("#f-datum", yesterday.strftime("%d%m%Y"))
    phone.click("button.primary")
    expect(phone.locator(".flash-info")).to_contain_text("Opgeslagen: Jansen, J.")
    expect(phone.locator("#client-options input[type=radio]:checked")).to_have_count(1)
    reg = db.query(Registration).one()
    assert (reg.datum, reg.starttijd.strftime("%H:%M"), reg.duur_minuten) == (
        yesterday,
        "09:30",
        45,
    )
