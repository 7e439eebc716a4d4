"""Clients screens: list, search, filters, paging, detail, create/edit, access and audit."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Client, Legitimation
from portal.services.clients import ClientFilter, clean_client, search_clients
from tests.conftest import form_errors
from tests.portal.clientdata import make_client, make_financiers, make_products, new_bsn


def _form(**kw) -> dict[str, str]:
    data = {
        "bsn": new_bsn(),
        "voorletters": "A.B.",
        "achternaam": "de Vries",
        "geboortedatum": "1960-03-14",
        "geslacht": "2",
        "postcode": "3511 ab",
        "huisnummer": "4",
        "plaats": "Utrecht",
        "email": "",
        "actief": "1",
        "budgethouder_is_client": "1",
    }
    data.update(kw)
    return data


def _count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Client))


# -- create / edit ------------------------------------------------------------------------------


def test_create_client_stores_and_normalises(client, backoffice, db):
    form = _form()
    resp = client.post("/clienten/nieuw", data=form)
    assert resp.status_code == 303
    stored = db.scalar(select(Client))
    assert stored.bsn == form["bsn"]
    assert stored.postcode == "3511AB"
    assert stored.geboortedatum == date(1960, 3, 14)
    assert resp.headers["Location"].endswith(f"/clienten/{stored.id}")
    assert form["bsn"] not in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "de Vries" in page and "Vrouw" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bsn": "123456789"}, "bsn", "11-proef"),
        ({"bsn": "12345"}, "bsn", "9 cijfers"),
        ({"achternaam": ""}, "achternaam", "Achternaam is verplicht"),
        (
            {"geboortedatum": "31-02-1960"},
            "geboortedatum",
            "Ongeldige geboortedatum: 31-02-1960 is geen datum: februari 1960 heeft 29 dagen.",
        ),
        ({"geboortedatum": ""}, "geboortedatum", "verplicht"),
        ({"geslacht": "7"}, "geslacht", "Kies een geslacht"),
        ({"postcode": "12345"}, "postcode", "vier cijfers en twee letters"),
        ({"email": "jan@"}, "email", "geen geldig e-mailadres"),
        ({"huisnummer": "12a"}, "huisnummer", "toevoeging"),
    ],
)
def test_bad_input_shows_dutch_message_and_stores_nothing(
    client, backoffice, db, changes, field, message
):
    resp = client.post("/clienten/nieuw", data=_form(**changes))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'id="e-{field}"' in html or field == "geslacht"
    assert any(message in e for e in form_errors(html)), form_errors(html)
    assert _count(db) == 0


def test_birth_date_in_future_refused(client, backoffice, db):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    resp = client.post("/clienten/nieuw", data=_form(geboortedatum=tomorrow))
    assert "De geboortedatum ligt in de toekomst." in form_errors(resp.get_data(as_text=True))
    assert _count(db) == 0


def test_duplicate_bsn_refused_and_double_click_creates_one(client, backoffice, db):
    form = _form()
    assert client.post("/clienten/nieuw", data=form).status_code == 303
    resp = client.post("/clienten/nieuw", data=form)  # the second click
    assert resp.status_code == 422
    assert "Er is al een cliënt met dit BSN." in form_errors(resp.get_data(as_text=True))
    assert _count(db) == 1


def test_budgethouder_fields_must_be_consistent(client, backoffice, db):
    # Someone else is budget holder: name, BSN or SVB number and address are needed.
    resp = client.post("/clienten/nieuw", data=_form(budgethouder_is_client="0"))
    errors = form_errors(resp.get_data(as_text=True))
    assert "Vul de achternaam van de budgethouder in." in errors
    assert "Vul het BSN van de budgethouder of het SVB-relatienummer in." in errors
    # The client is budget holder but a representative's data was filled in too.
    resp = client.post("/clienten/nieuw", data=_form(budgethouder_achternaam="Pietersen"))
    assert any("zelf budgethouder" in e for e in form_errors(resp.get_data(as_text=True)))
    assert _count(db) == 0
    ok = _form(
        budgethouder_is_client="0",
        budgethouder_voorletters="P.",
        budgethouder_achternaam="Pietersen",
        svb_relatienummer="1234567",
        budgethouder_huisnummer="3",
        budgethouder_postcode="3512CD",
    )
    assert client.post("/clienten/nieuw", data=ok).status_code == 303
    assert db.scalar(select(Client)).has_budgethouder


def test_edit_client(client, backoffice, db):
    c = make_client(db, achternaam="Bakker")
    form = _form(bsn=c.bsn, achternaam="Bakker-de Groot", team="Team Amersfoort")
    resp = client.post(f"/clienten/{c.id}/wijzigen", data=form)
    assert resp.status_code == 303
    db.expire_all()
    assert db.get(Client, c.id).achternaam == "Bakker-de Groot"
    changed = db.scalar(select(AuditEvent).where(AuditEvent.action == "client.gewijzigd"))
    assert "achternaam" in changed.detail["velden"]
    # Unchecking "actief" (a checkbox that is then not sent) makes the client inactive.
    form.pop("actief")
    client.post(f"/clienten/{c.id}/wijzigen", data=form)
    db.expire_all()
    assert db.get(Client, c.id).actief is False


def test_edit_to_existing_bsn_refused(client, backoffice, db):
    a = make_client(db)
    b = make_client(db, achternaam="Visser")
    resp = client.post(f"/clienten/{b.id}/wijzigen", data=_form(bsn=a.bsn, achternaam="Visser"))
    assert resp.status_code == 422
    db.expire_all()
    assert db.get(Client, b.id).bsn != a.bsn


# -- access and audit -----------------------------------------------------------------------------


def test_viewing_a_client_is_audited(client, lezer, db):
    c = make_client(db)
    resp = client.get(f"/clienten/{c.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert c.bsn not in html  # masked
    assert c.bsn_masked in html
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "client.bekeken"))
    assert event.client_id == c.id and event.user_id == lezer.id
    assert c.bsn not in str(event.detail)


def test_edit_form_view_is_audited(client, backoffice, db):
    c = make_client(db)
    assert client.get(f"/clienten/{c.id}/wijzigen").status_code == 200
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.client_id == c.id)).all()
    assert "client.formulier_bekeken" in actions


def test_reveal_bsn_needs_edit_permission_and_is_audited(client, login_as, db):
    c = make_client(db)
    login_as("alleen-lezen")
    assert client.post(f"/clienten/{c.id}/bsn").status_code == 403
    assert "toon BSN" not in client.get(f"/clienten/{c.id}").get_data(as_text=True)
    client.post("/logout")
    login_as("backoffice")
    resp = client.post(f"/clienten/{c.id}/bsn", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert c.bsn in resp.get_data(as_text=True)
    assert "<html" not in resp.get_data(as_text=True)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "client.bsn_getoond"))


def test_reader_can_view_but_not_edit(client, lezer, db):
    c = make_client(db)
    assert client.get("/clienten/").status_code == 200
    assert client.get(f"/clienten/{c.id}").status_code == 200
    assert client.get(f"/clienten/{c.id}/wijzigen").status_code == 403
    assert client.get("/clienten/nieuw").status_code == 403
    resp = client.post(f"/clienten/{c.id}/wijzigen", data=_form(bsn=c.bsn, achternaam="X"))
    assert resp.status_code == 403
    assert client.post("/clienten/nieuw", data=_form()).status_code == 403
    db.expire_all()
    assert db.get(Client, c.id).achternaam == "Jansen"
    assert _count(db) == 1


def test_zorgprofessional_cannot_see_client_admin(client, zorgprofessional, db):
    c = make_client(db)
    assert client.get("/clienten/").status_code == 403
    assert client.get(f"/clienten/{c.id}").status_code == 403
    assert client.get("/import/").status_code == 403
    assert "/clienten/" not in client.get("/").get_data(as_text=True)


def test_anonymous_goes_to_login(client, db):
    c = make_client(db)
    resp = client.get(f"/clienten/{c.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_post_without_csrf_refused(client, backoffice, db):
    resp = client.post("/clienten/nieuw", data=_form(), csrf=False)
    assert resp.status_code == 400
    assert _count(db) == 0


# -- list, search, filters, paging ---------------------------------------------------------------


@pytest.fixture
def population(db):
    fin = make_financiers(db)
    prod = make_products(db)
    clients = []
    for i in range(30):
        clients.append(
            make_client(
                db,
                achternaam=f"Mulder{i:02d}" if i < 28 else "Yilmaz",
                clientnummer=f"C{500 + i}",
                postcode="3811KL" if i % 2 else "3511AB",
                team="Team Amersfoort" if i % 3 == 0 else "Team Utrecht",
                actief=i != 5,
            )
        )
    leg = Legitimation(
        client_id=clients[1].id,
        financing="wlz",
        financier_id=fin["zorgkantoor"].id,
        begindatum=date.today() - timedelta(days=30),
        productcode="H126",
        volume=2,
        eenheid="uur",
        frequentie="week",
    )
    leg.products = [prod["PV-UUR"]]
    ended = Legitimation(
        client_id=clients[2].id,
        financing="wlz",
        financier_id=fin["zorgkantoor"].id,
        begindatum=date.today() - timedelta(days=300),
        einddatum=date.today() - timedelta(days=10),
        productcode="H126",
    )
    db.add_all([leg, ended])
    db.commit()
    return clients


def test_list_pages_and_orders_by_name(client, backoffice, population):
    html = client.get("/clienten/").get_data(as_text=True)
    assert "29 cliënten gevonden" in html  # one is inactive
    assert "Pagina 1 van 2" in html
    assert "Mulder00" in html and "Yilmaz" not in html
    html2 = client.get("/clienten/?pagina=2").get_data(as_text=True)
    assert "Yilmaz" in html2 and "Mulder00" not in html2
    # a page beyond the end shows the last page, not an empty one
    assert "Yilmaz" in client.get("/clienten/?pagina=99").get_data(as_text=True)


def test_search_by_name_clientnummer_postcode_and_bsn(client, backoffice, population):
    html = client.get("/clienten/?q=yilm").get_data(as_text=True)
    assert "2 cliënten gevonden" in html
    # one or two letters (the first keystrokes of live search): the start of the surname
    assert "2 cliënten gevonden" in client.get("/clienten/?q=Yi").get_data(as_text=True)
    assert "0 cliënten gevonden" in client.get("/clienten/?q=il").get_data(as_text=True)
    html = client.get("/clienten/?q=C507").get_data(as_text=True)
    assert "1 cliënt gevonden" in html and "Mulder07" in html
    html = client.get("/clienten/?q=3811 KL").get_data(as_text=True)
    assert "14 cliënten gevonden" in html  # 15 odd ones, one inactive
    target = population[3]
    resp = client.post("/clienten/", data={"q": target.bsn}, headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert "1 cliënt gevonden" in html and "Mulder03" in html
    assert resp.headers["HX-Push-Url"] == "false"  # a BSN never lands in the address bar


def test_live_search_returns_only_the_table_and_pushes_the_url(client, backoffice, population):
    resp = client.post("/clienten/", data={"q": "Yilmaz"}, headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert "<html" not in html and "<table" in html
    assert resp.headers["HX-Push-Url"] == "/clienten/?q=Yilmaz"
    # without htmx, the search form redirects to the bookmarkable address
    resp = client.post("/clienten/", data={"q": "Yilmaz"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("?q=Yilmaz")


def test_filters_team_status_and_financing(client, backoffice, population):
    html = client.get("/clienten/?team=Team+Amersfoort&status=alle").get_data(as_text=True)
    assert "10 cliënten gevonden" in html
    html = client.get("/clienten/?status=inactief").get_data(as_text=True)
    assert "1 cliënt gevonden" in html and "Mulder05" in html
    html = client.get("/clienten/?financiering=wlz").get_data(as_text=True)
    # only the client whose Wlz indicatie is current, not the one whose indicatie ended
    assert "1 cliënt gevonden" in html and "Mulder01" in html and "Mulder02" not in html
    assert "Team Amersfoort" in client.get("/clienten/").get_data(as_text=True)


def test_search_service_escapes_like_wildcards(db, population):
    page = search_clients(db, ClientFilter(q="%"))
    assert page.total == 0
    page = search_clients(db, ClientFilter(q="Mulder_1"))
    assert page.total == 0


def test_clean_client_is_usable_without_flask(db):
    values, errors = clean_client(db, _form(geboortedatum="01-02-1990"))
    assert errors == {}
    assert values["geboortedatum"] == date(1990, 2, 1)


def test_detail_shows_legitimations_with_capabilities(client, backoffice, population, db):
    c = population[1]
    html = client.get(f"/clienten/{c.id}").get_data(as_text=True)
    assert "Zorgkantoor Utrecht (5503)" in html
    assert "Persoonlijke verzorging" in html
    assert "2 uur per week" in html
    # what the Wlz plugin can do is shown per capability; it builds declarations and its chain
    capabilities = re.findall(r'<span class="badge (ok|off)"[^>]*>([^<]+)</span>', html)
    assert ("ok", "Declareren") in capabilities
    assert ("ok", "Start- en stopberichten") in capabilities
    assert "nog niet beschikbaar" not in html


def test_broad_result_is_counted_up_to_a_cap_and_still_pages(
    client, backoffice, population, monkeypatch
):
    from portal.services import clients as svc

    monkeypatch.setattr(svc, "COUNT_CAP", 10)
    html = client.get("/clienten/").get_data(as_text=True)
    assert "Meer dan 10 cliënten gevonden" in html
    assert "?pagina=2" in html  # "Volgende" is there although the total is not known
    html = client.get("/clienten/?pagina=2").get_data(as_text=True)
    assert "Yilmaz" in html and "Mulder00" not in html
    assert "?pagina=3" not in html  # nothing after the last row
    assert "Deze pagina is leeg" in client.get("/clienten/?pagina=9").get_data(as_text=True)
    # a narrow search is counted exactly
    assert "2 cliënten gevonden" in client.get("/clienten/?q=yilmaz").get_data(as_text=True)
