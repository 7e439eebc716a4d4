"""The client page leads to what plugins and stacking offer for that client."""

from __future__ import annotations

from datetime import date

from portal.models import Legitimation, Product
from tests.portal.clientdata import make_client, make_financiers


def test_client_page_links_to_plugin_client_page_and_week_split(client, backoffice, db):
    fin = make_financiers(db)
    person = make_client(db)
    product = Product(code="BG-IND", naam="Begeleiding individueel", eenheid="uur")
    db.add(product)
    leg = Legitimation(
        client=person,
        financing="wmo_jw",
        financier=fin["utrecht"],
        begindatum=date(2026, 1, 1),
        productcategorie="07",
        productcode="07A05",
        toewijzingnummer="12345678",
        volume=4,
        eenheid="uur",
        frequentie="week",
        bron="bericht",
    )
    leg.products = [product]
    db.add(leg)
    db.commit()

    html = client.get(f"/clienten/{person.id}").get_data(as_text=True)
    assert f'href="/f/wmo_jw/clienten/{person.id}"' in html
    assert f'href="/stapelen/client/{person.id}"' in html
    assert client.get(f"/f/wmo_jw/clienten/{person.id}").status_code == 200


def test_pgb_form_asks_which_law_pays(client, backoffice, db):
    make_financiers(db)
    person = make_client(db)
    html = client.get(
        f"/clienten/{person.id}/legitimaties/velden?financing=pgb", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'name="sleutel_wet"' in html
    assert "Budget (wet) waaruit de SVB betaalt" in html
    assert ">Jeugdwet<" in html
