"""Financiers: create, edit, list with a filter; the code check per kind; access per role."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.domain import Role
from portal.models import AuditEvent, Financier
from tests.conftest import form_errors
from tests.portal.test_admin import own_context  # noqa: F401  (autouse fixture)


def _count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Financier))


def _post_new(client, **data):
    base = {"naam": "Gemeente Utrecht", "postcode": "3511 AA", "plaats": "Utrecht"}
    return client.post("/financiers/nieuw", data={**base, **data})


def test_create_gemeente_keeps_leading_zero_and_lists_it(client, backoffice, db):
    resp = _post_new(client, financing="wmo_jw", soort="gemeente", code="0344")
    assert resp.status_code == 302
    f = db.scalars(select(Financier)).one()
    assert (f.financing, f.soort, f.code, f.postcode) == ("wmo_jw", "gemeente", "0344", "3511AA")
    listing = client.get("/financiers/").get_data(as_text=True)
    assert "Gemeente Utrecht" in listing and "0344" in listing
    assert "financier.aangemaakt" in db.scalars(select(AuditEvent.action)).all()


def test_list_filters_on_financing(client, backoffice, db):
    _post_new(client, financing="wmo_jw", soort="gemeente", code="0344")
    _post_new(client, financing="wlz", soort="zorgkantoor", code="5503", naam="Zorgkantoor Utrecht")
    page = client.get("/financiers/?financiering=wlz").get_data(as_text=True)
    only_wlz = page.split('id="financiers-table"')[1]
    assert "Zorgkantoor Utrecht" in only_wlz and "Gemeente Utrecht" not in only_wlz
    fragment = client.get("/financiers/?financiering=wmo_jw", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html  # htmx gets only the table
    assert "Gemeente Utrecht" in html and "Zorgkantoor Utrecht" not in html


def test_kinds_fragment_narrows_to_the_financing(client, backoffice):
    html = client.get("/financiers/soorten?financing=fz", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert 'value="dji"' in html and 'value="gemeente"' not in html
    assert "UZOVI-code" in html
    html = client.get("/financiers/soorten?financing=pgb").get_data(as_text=True)
    assert 'value="budgethouder"' in html and "heeft geen code" in html
    html = client.get("/financiers/soorten?financing=wmo_jw").get_data(as_text=True)
    assert "Gemeentecode" in html


def test_budgethouder_has_no_code(client, backoffice, db):
    resp = _post_new(
        client, financing="pgb", soort="budgethouder", code="1234", naam="Budgethouder"
    )
    assert resp.status_code == 302
    assert db.scalars(select(Financier)).one().code is None


BAD_CODES = [
    ("wmo_jw", "gemeente", "344", "Gemeentecode bestaat uit precies 4 cijfers."),
    ("wmo_jw", "gemeente", "", "Gemeentecode is verplicht."),
    ("zvw_msvt", "zorgverzekeraar", "AB12", "UZOVI-code bestaat uit precies 4 cijfers."),
    ("wlz", "zorgkantoor", "55031", "Zorgkantoorcode bestaat uit precies 4 cijfers."),
    ("fz", "dji", "3311", "De Dienst Justitiële Inrichtingen heeft UZOVI-code 9992."),
    ("onderaanneming", "instelling", "1234", "AGB-code bestaat uit precies 8 cijfers."),
]


def test_bad_code_per_kind_is_refused(client, backoffice, db):
    for financing, soort, code, message in BAD_CODES:
        resp = _post_new(client, financing=financing, soort=soort, code=code)
        assert resp.status_code == 422, (soort, code)
        html = resp.get_data(as_text=True)
        assert message in form_errors(html), (soort, code)
        assert 'id="e-code"' in html  # at the code field
        assert _count(db) == 0


BAD_FIELDS = [
    ({"financing": "", "soort": "gemeente"}, "Kies een financiering."),
    ({"financing": "wlz", "soort": "gemeente"}, "Bij Wlz"),
    ({"naam": ""}, "Naam is verplicht."),
    ({"postcode": "ABCD 12"}, "Een postcode is vier cijfers en twee letters"),
    ({"kvk_nummer": "123"}, "KvK-nummer bestaat uit precies 8 cijfers."),
    ({"email": "gemeente.nl"}, "Dit is geen geldig e-mailadres."),
]


def test_bad_fields_are_refused(client, backoffice, db):
    base = {"financing": "wmo_jw", "soort": "gemeente", "code": "0344"}
    for data, message in BAD_FIELDS:
        resp = _post_new(client, **{**base, **data})
        assert resp.status_code == 422, data
        assert any(message in e for e in form_errors(resp.get_data(as_text=True))), data
        assert _count(db) == 0


def test_code_is_unique_per_financing_and_kind(client, backoffice, db):
    assert _post_new(client, financing="wmo_jw", soort="gemeente", code="0344").status_code == 302
    resp = _post_new(client, financing="wmo_jw", soort="gemeente", code="0344", naam="Dubbel")
    assert resp.status_code == 422
    assert any(
        "Er is al een financier met deze gemeentecode" in e
        for e in form_errors(resp.get_data(as_text=True))
    )
    assert _count(db) == 1


def test_edit_a_financier(client, backoffice, db):
    _post_new(client, financing="wmo_jw", soort="gemeente", code="0344")
    f = db.scalars(select(Financier)).one()
    page = client.get(f"/financiers/{f.id}").get_data(as_text=True)
    assert 'value="0344"' in page
    resp = client.post(
        f"/financiers/{f.id}",
        data={
            "financing": "wmo_jw",
            "soort": "gemeente",
            "code": "0344",
            "naam": "Gemeente Utrecht (Wmo)",
            "email": "wmo@utrecht.nl",
            "actief": "1",
        },
    )
    assert resp.status_code == 302
    db.expire_all()
    f = db.get(Financier, f.id)
    assert (f.naam, f.email, f.actief) == ("Gemeente Utrecht (Wmo)", "wmo@utrecht.nl", True)

    resp = client.post(
        f"/financiers/{f.id}",
        data={"financing": "wmo_jw", "soort": "gemeente", "code": "03a4", "naam": "X"},
    )
    assert resp.status_code == 422
    db.expire_all()
    assert db.get(Financier, f.id).code == "0344"


def test_lezer_sees_but_cannot_change(client, login_as, db):
    db.add(Financier(financing="wlz", soort="zorgkantoor", code="5503", naam="Zorgkantoor Utrecht"))
    db.commit()
    f = db.scalars(select(Financier)).one()
    login_as(Role.ALLEEN_LEZEN)
    assert "Zorgkantoor Utrecht" in client.get("/financiers/").get_data(as_text=True)
    assert client.get(f"/financiers/{f.id}").status_code == 200
    assert client.get("/financiers/nieuw").status_code == 403
    assert _post_new(client, financing="wmo_jw", soort="gemeente", code="0344").status_code == 403
    resp = client.post(
        f"/financiers/{f.id}",
        data={"financing": "wlz", "soort": "zorgkantoor", "code": "5503", "naam": "Anders"},
    )
    assert resp.status_code == 403
    db.expire_all()
    assert db.get(Financier, f.id).naam == "Zorgkantoor Utrecht"
    assert _count(db) == 1


def test_zorgprofessional_gets_403_everywhere(client, zorgprofessional):
    for url in ("/financiers/", "/financiers/nieuw", "/financiers/soorten?financing=wlz"):
        assert client.get(url).status_code == 403, url
