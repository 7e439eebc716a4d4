"""A care worker registers a week on a phone; the back office approves it; the client's week
view shows the split over Wlz and particulier as the seed describes (2 h + 2 h)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD
from tests.portal.production.factory import organisation, seed_client


def test_register_week_on_phone_approve_and_see_split(live_server, phone, page, db, make_user):
    org = organisation(db)
    client, _wlz, _prive = seed_client(db, org)  # 2 h Wlz + 2 h particulier PV per week
    db.commit()
    worker = make_user("zorgprofessional", email="zorg@test.nl", team=client.team)
    office = make_user("backoffice", email="office@test.nl")
    monday = date.today() - timedelta(days=date.today().weekday() + 7)  # last week

    browser_login(phone, live_server, worker.email, PASSWORD)
    phone.goto(f"{live_server}/registreren/")
    # the form fits a phone: no horizontal scrolling
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
    for offset, start in ((0, "09:00"), (1, "09:00"), (3, "10:00"), (4, "08:30")):
        day = monday + timedelta(days=offset)
        phone.fill("#f-client-q", "Jans")
        phone.locator("#client-options label.choice", has_text="Jansen, J.").first.click()
        phone.select_option(
            "#f-product_id", label="Persoonlijke verzorging · Persoonlijke verzorging (uur)"
        )
        phone.fill("#f-datum", day.strftime("%d-%m-%Y"))
        phone.fill("#f-starttijd", start)
        phone.fill("#f-duur", "1:00")
        phone.click("button.primary")
        phone.wait_for_selector(".flash-info")
        assert "Opgeslagen: Jansen, J." in phone.inner_text(".flash-info")
    week = monday.strftime("%G-W%V")
    phone.goto(f"{live_server}/registreren/week?week={week}")
    assert "Totaal deze week: 4:00 uur" in phone.inner_text("main")

    browser_login(page, live_server, office.email, PASSWORD)
    sunday = monday + timedelta(days=6)
    page.goto(f"{live_server}/fiatteren/?van={monday:%d-%m-%Y}&tot={sunday:%d-%m-%Y}")
    assert "4 registratie(s), 4:00 uur" in page.inner_text("#preview")
    page.click("#preview button.primary")
    dialog = page.get_by_role("dialog")  # a summary to confirm before anything is frozen
    assert "U fiatteert 4 registratie(s) (4:00 uur)" in dialog.inner_text()
    dialog.get_by_role("button", name="Ja, fiatteren").click()
    page.wait_for_selector(".flash-info")
    assert "4 registratie(s) gefiatteerd" in page.inner_text(".flash-info")

    page.goto(f"{live_server}/stapelen/client/{client.id}?week={week}")
    rows = {
        page.locator("#verdeling tr[data-financing]")
        .nth(i)
        .get_attribute("data-financing"): page.locator("#verdeling tr[data-financing]")
        .nth(i)
        .inner_text()
        for i in range(page.locator("#verdeling tr[data-financing]").count())
    }
    assert set(rows) == {"wlz", "particulier"}
    assert "2:00" in rows["wlz"] and "2:00" in rows["particulier"]

    # the care worker can no longer change an approved registration
    phone.goto(f"{live_server}/registreren/?dag={monday.isoformat()}")
    assert "Gefiatteerd" in phone.inner_text("#day")
    assert phone.locator("#day a", has_text="Wijzigen").count() == 0
