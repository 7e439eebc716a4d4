"""Legitimations per client: core checks, plugin checks, narrowing choices, edit, end, delete."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Legitimation
from tests.conftest import form_errors
from tests.portal.clientdata import make_client, make_financiers, make_products


@pytest.fixture
def setup(db):
    fin = make_financiers(db)
    prod = make_products(db)
    client = make_client(db)
    return fin, prod, client


def _wmo(fin, prod, **kw):
    data = {
        "financing": "wmo_jw",
        "financier_id": str(fin["utrecht"].id),
        "begindatum": "2026-01-01",
        "einddatum": "2026-12-31",
        "volume": "4",
        "eenheid": "uur",
        "frequentie": "week",
        "priority": "1",
        "productcategorie": "07",
        "productcode": "07A05",
        "toewijzingnummer": "1234567",
        "product_ids": [str(prod["BG-IND"].id)],
    }
    data.update(kw)
    return data


def _legs(db) -> list[Legitimation]:
    db.expire_all()
    return list(db.scalars(select(Legitimation)))


def _post(client, c, data):
    return client.post(f"/clienten/{c.id}/legitimaties/nieuw", data=data)


def test_create_wmo_toewijzing(client, backoffice, setup, db):
    fin, prod, c = setup
    resp = _post(client, c, _wmo(fin, prod))
    assert resp.status_code == 303, form_errors(resp.get_data(as_text=True))
    (leg,) = _legs(db)
    assert (leg.financing, leg.volume, leg.eenheid, leg.frequentie) == ("wmo_jw", 4, "uur", "week")
    assert leg.begindatum == date(2026, 1, 1) and leg.einddatum == date(2026, 12, 31)
    assert [p.code for p in leg.products] == ["BG-IND"]
    assert leg.status == "actief" and leg.bron == "handmatig"
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "legitimatie.aangemaakt"))
    html = client.get(f"/clienten/{c.id}").get_data(as_text=True)
    assert "Wmo en Jeugdwet" in html and "Toewijzing 1234567" in html
    assert "4 uur per week" in html


def test_wmo_without_productcategorie_refused_with_plugin_message(client, backoffice, setup, db):
    fin, prod, c = setup
    resp = _post(client, c, _wmo(fin, prod, productcategorie=""))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="e-productcategorie"' in html
    assert "Een toewijzing heeft een productcategorie." in form_errors(html)
    assert _legs(db) == []


def test_pgb_without_budget_holder_refused(client, backoffice, setup, db):
    fin, prod, _ = setup
    c = make_client(db, achternaam="Smit", budgethouder_is_client=False)
    data = {
        "financing": "pgb",
        "financier_id": str(fin["budgethouder"].id),
        "begindatum": "2026-01-01",
        "volume": "5",
        "eenheid": "uur",
        "frequentie": "week",
        "tarief": "55,00",
        "product_ids": [str(prod["PV-UUR"].id)],
    }
    resp = _post(client, c, data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Voor PGB zijn de gegevens van de budgethouder nodig" in html
    # the plugin's own key (which law pays) gets a field of its own in the form
    assert 'name="sleutel_wet"' in html
    assert any("welke wet" in e for e in form_errors(html))
    assert _legs(db) == []
    # with the budget holder filled in and the law chosen, it is stored
    c.budgethouder_is_client = True
    db.commit()
    resp = _post(client, c, {**data, "sleutel_wet": "wlz"})
    assert resp.status_code == 303, form_errors(resp.get_data(as_text=True))
    (leg,) = _legs(db)
    assert leg.sleutels == {"wet": "wlz"} and leg.tarief_cents == 5500


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"volume": "0"}, "volume", "groter zijn dan 0"),
        ({"volume": "twee"}, "volume", "heel getal"),
        ({"frequentie": ""}, "frequentie", "Bij een omvang hoort een frequentie"),
        ({"eenheid": ""}, "eenheid", "Bij een omvang hoort een eenheid"),
        ({"eenheid": "euro"}, "eenheid", "accepteert deze eenheid niet"),
        ({"einddatum": "2025-12-31"}, "einddatum", "vóór de begindatum"),
        ({"begindatum": ""}, "begindatum", "Begindatum is verplicht"),
        ({"begindatum": "1940-01-01"}, "begindatum", "vóór de geboortedatum"),
        ({"budget": "12,3,4"}, "budget", "Ongeldig budget"),
        ({"budget": "-5"}, "budget", "groter zijn dan 0"),
        ({"product_ids": []}, "product_ids", "ten minste één eigen product"),
        ({"financier_id": ""}, "financier_id", "Kies een financier"),
        ({"financing": "onbekend"}, "financing", "kent het portaal niet"),
        ({"toewijzingnummer": ""}, "toewijzingnummer", "toewijzingnummer van de gemeente"),
    ],
)
def test_core_and_plugin_checks_at_their_field(
    client, backoffice, setup, db, changes, field, message
):
    fin, prod, c = setup
    resp = _post(client, c, _wmo(fin, prod, **changes))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    errors = form_errors(html)
    assert any(message in e for e in errors), errors
    if field not in ("financier_id", "financing", "frequentie", "eenheid", "product_ids"):
        assert f'id="e-{field}"' in html
    assert _legs(db) == []


def test_financier_of_another_financing_refused(client, backoffice, setup, db):
    fin, prod, c = setup
    resp = _post(client, c, _wmo(fin, prod, financier_id=str(fin["zorgkantoor"].id)))
    assert "Deze financier hoort bij een andere financiering." in form_errors(
        resp.get_data(as_text=True)
    )
    assert _legs(db) == []


def test_unit_not_accepted_by_zvw(client, backoffice, setup, db):
    fin, prod, c = setup
    data = {
        "financing": "zvw_msvt",
        "financier_id": str(fin["verzekeraar"].id),
        "begindatum": "2026-01-01",
        "volume": "2",
        "eenheid": "dagdeel",
        "frequentie": "week",
        "product_ids": [str(prod["VP-UUR"].id)],
        "sleutel_indicatiesteller": "W. de Vries",
    }
    resp = _post(client, c, data)
    assert any(
        "Zvw (wijkverpleging en MSVT) accepteert deze eenheid niet" in e
        for e in form_errors(resp.get_data(as_text=True))
    )
    assert _post(client, c, {**data, "eenheid": "uur"}).status_code == 303


def test_budget_amount_is_stored_in_cents(client, backoffice, setup, db):
    fin, prod, c = setup
    resp = _post(
        client, c, _wmo(fin, prod, volume="", frequentie="", eenheid="", budget="1.234,50")
    )
    assert resp.status_code == 303, form_errors(resp.get_data(as_text=True))
    assert _legs(db)[0].budget_cents == 123450
    assert "€ 1.234,50" in client.get(f"/clienten/{c.id}").get_data(as_text=True)


def test_double_submit_stores_one(client, backoffice, setup, db):
    fin, prod, c = setup
    assert _post(client, c, _wmo(fin, prod)).status_code == 303
    resp = _post(client, c, _wmo(fin, prod))
    assert resp.status_code == 422
    assert "Deze legitimatie bestaat al bij deze cliënt." in resp.get_data(as_text=True)
    assert len(_legs(db)) == 1


def test_overlap_is_a_warning_shown_after_saving(client, backoffice, setup, db):
    fin, prod, c = setup
    _post(client, c, _wmo(fin, prod))
    resp = _post(client, c, _wmo(fin, prod, toewijzingnummer="7654321", volume="2"))
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "al een legitimatie van deze financiering voor hetzelfde product" in page
    assert len(_legs(db)) == 2


def test_financing_narrows_financiers_and_units(client, backoffice, setup, db):
    _fin, _prod, c = setup
    resp = client.get(
        f"/clienten/{c.id}/legitimaties/velden?financing=wmo_jw", headers={"HX-Request": "true"}
    )
    html = resp.get_data(as_text=True)
    assert "<html" not in html
    assert "Gemeente Utrecht" in html and "Gemeente Amersfoort" in html
    assert "Zorgkantoor" not in html and "Zorgverzekeraar" not in html
    assert 'value="dagdeel"' in html
    html = client.get(
        f"/clienten/{c.id}/legitimaties/velden?financing=zvw_msvt", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "Zorgverzekeraar Midden" in html and "Gemeente" not in html
    assert 'value="dagdeel"' not in html and 'value="uur"' in html
    # the form wires the financing select to that fragment
    form = client.get(f"/clienten/{c.id}/legitimaties/nieuw").get_data(as_text=True)
    assert f'hx-get="/clienten/{c.id}/legitimaties/velden"' in form


def test_edit_end_and_delete(client, backoffice, setup, db):
    fin, prod, c = setup
    _post(client, c, _wmo(fin, prod))
    leg = _legs(db)[0]
    data = _wmo(fin, prod, volume="6", product_ids=[str(prod["BG-IND"].id), str(prod["PV-UUR"].id)])
    resp = client.post(f"/clienten/{c.id}/legitimaties/{leg.id}/wijzigen", data=data)
    assert resp.status_code == 303, form_errors(resp.get_data(as_text=True))
    leg = _legs(db)[0]
    assert leg.volume == 6 and {p.code for p in leg.products} == {"BG-IND", "PV-UUR"}

    bad = client.post(
        f"/clienten/{c.id}/legitimaties/{leg.id}/wijzigen", data={**data, "volume": "0"}
    )
    assert bad.status_code == 422
    assert _legs(db)[0].volume == 6

    url = f"/clienten/{c.id}/legitimaties/{leg.id}/beeindigen"
    assert client.post(url, data={"einddatum": "2026-06-30"}).status_code == 303
    assert client.post(url, data={"einddatum": "2026-03-31"}).status_code == 303  # second click
    leg = _legs(db)[0]
    assert leg.status == "beeindigd" and leg.einddatum == date(2026, 6, 30)
    assert "beëindigd" in client.get(f"/clienten/{c.id}").get_data(as_text=True)

    assert client.post(f"/clienten/{c.id}/legitimaties/{leg.id}/verwijderen").status_code == 303
    assert _legs(db) == []
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "legitimatie.verwijderd"))


def test_legitimation_from_a_message_is_never_deleted_and_keeps_its_keys(
    client, backoffice, setup, db
):
    fin, prod, c = setup
    leg = Legitimation(
        client_id=c.id,
        financing="wmo_jw",
        financier_id=fin["utrecht"].id,
        begindatum=date(2026, 1, 1),
        volume=4,
        eenheid="uur",
        frequentie="week",
        productcategorie="07",
        productcode="07A05",
        toewijzingnummer="5555555",
        bron="bericht",
    )
    leg.products = [prod["BG-IND"]]
    db.add(leg)
    db.commit()
    resp = client.post(f"/clienten/{c.id}/legitimaties/{leg.id}/verwijderen")
    assert "niet verwijderd" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert len(_legs(db)) == 1
    # a hand edit changes our own choices, not what the gemeente issued
    data = _wmo(fin, prod, volume="40", toewijzingnummer="1", priority="2")
    resp = client.post(f"/clienten/{c.id}/legitimaties/{leg.id}/wijzigen", data=data)
    assert resp.status_code == 303, form_errors(resp.get_data(as_text=True))
    leg = _legs(db)[0]
    assert (leg.volume, leg.toewijzingnummer, leg.priority) == (4, "5555555", 2)


def test_reader_cannot_change_legitimations(client, lezer, setup, db):
    fin, prod, c = setup
    assert client.get(f"/clienten/{c.id}/legitimaties/nieuw").status_code == 403
    assert _post(client, c, _wmo(fin, prod)).status_code == 403
    assert db.scalar(select(func.count()).select_from(Legitimation)) == 0
    assert "Legitimatie toevoegen" not in client.get(f"/clienten/{c.id}").get_data(as_text=True)


def test_begin_far_in_future_refused(client, backoffice, setup, db):
    fin, prod, c = setup
    far = (date.today() + timedelta(days=800)).isoformat()
    resp = _post(client, c, _wmo(fin, prod, begindatum=far, einddatum=""))
    assert any("toekomst" in e for e in form_errors(resp.get_data(as_text=True)))


def test_benchmark_generator_builds_valid_data(app, db):
    """bench.generate: unique valid BSNs, 2-3 legitimations each, every one passes its plugin."""
    from stdnum.nl import bsn as stdnum_bsn

    from bench.generate import generate_organisation
    from portal.app import hooks
    from portal.models import Client, Financier

    info = generate_organisation(app.extensions["db_engine"], 80, seed=5)
    assert info["n_clients"] == 80
    bsns = db.scalars(select(Client.bsn)).all()
    assert len(bsns) == len(set(bsns)) == 80
    assert all(stdnum_bsn.is_valid(b) for b in bsns)
    per_client = db.execute(
        select(Legitimation.client_id, func.count()).group_by(Legitimation.client_id)
    ).all()
    assert len(per_client) == 80 and all(2 <= n <= 3 for _c, n in per_client)
    financings = set(db.scalars(select(Financier.financing)))
    assert financings == {"wlz", "wmo_jw", "zvw_msvt", "fz", "pgb", "particulier", "onderaanneming"}
    with app.app_context():
        for leg in db.scalars(select(Legitimation)):
            client = db.get(Client, leg.client_id)
            blocking = [
                i for i in hooks().validate_legitimation(leg, leg.financier, client) if i.blocking
            ]
            assert blocking == [], (leg.financing, blocking)
            assert leg.products
    # ids keep counting after the bulk insert: the screens can add clients and legitimations
    c = make_client(db)
    assert c.id > info["client_ids"][1]
