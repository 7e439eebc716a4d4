"""Products and uursoorten, with the financing priority list reordered through htmx."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.domain import Role
from portal.models import Product, Uursoort, UursoortFinancing
from tests.conftest import form_errors
from tests.portal.test_admin import own_context  # noqa: F401  (autouse fixture)

HTMX = {"HX-Request": "true"}


def _uursoort(db, code="PV", financings=("wlz", "zvw_msvt", "pgb")) -> Uursoort:
    u = Uursoort(code=code, naam="Persoonlijke verzorging")
    u.financings = [
        UursoortFinancing(financing=f, position=i + 1) for i, f in enumerate(financings)
    ]
    db.add(u)
    db.commit()
    return u


def _order(db, uursoort_id: int) -> list[tuple[int, str]]:
    db.expire_all()
    rows = db.scalars(
        select(UursoortFinancing)
        .where(UursoortFinancing.uursoort_id == uursoort_id)
        .order_by(UursoortFinancing.position)
    )
    return [(r.position, r.financing) for r in rows]


def _shown_order(html: str) -> list[str]:
    return re.findall(r'<li data-financing="([^"]+)"', html)


# -- products ---------------------------------------------------------------------------------


def test_create_edit_and_list_a_product(client, backoffice, db):
    u = _uursoort(db)
    resp = client.post(
        "/producten/nieuw",
        data={
            "code": "pv-uur",
            "naam": "Persoonlijke verzorging",
            "eenheid": "uur",
            "uursoort_id": u.id,
        },
    )
    assert resp.status_code == 302
    p = db.scalars(select(Product)).one()
    assert (p.code, p.eenheid, p.uursoort_id, p.actief) == ("PV-UUR", "uur", u.id, True)
    listing = client.get("/producten/").get_data(as_text=True)
    assert "PV-UUR" in listing and "Persoonlijke verzorging" in listing

    resp = client.post(
        f"/producten/{p.id}",
        data={"code": "PV-UUR", "naam": "PV thuis", "eenheid": "minuut", "uursoort_id": ""},
    )
    assert resp.status_code == 302
    db.expire_all()
    p = db.get(Product, p.id)
    assert (p.naam, p.eenheid, p.uursoort_id, p.actief) == ("PV thuis", "minuut", None, False)


BAD_PRODUCTS = [
    ({"code": ""}, "Code is verplicht."),
    ({"code": "PV UUR!"}, "Een code heeft hooguit 20 letters"),
    ({"naam": ""}, "Naam is verplicht."),
    ({"eenheid": "liter"}, "Kies een eenheid."),
    ({"uursoort_id": "999"}, "Kies een bestaande uursoort."),
    ({"code": "bestaat"}, "Er is al een product met code BESTAAT."),
]


def test_bad_product_input_is_refused(client, backoffice, db):
    db.add(Product(code="BESTAAT", naam="Er al", eenheid="uur"))
    db.commit()
    for data, message in BAD_PRODUCTS:
        resp = client.post(
            "/producten/nieuw", data={"code": "NIEUW", "naam": "Nieuw", "eenheid": "uur", **data}
        )
        assert resp.status_code == 422, data
        assert any(message in e for e in form_errors(resp.get_data(as_text=True))), data
        assert db.scalar(select(func.count()).select_from(Product)) == 1


# -- uursoorten -------------------------------------------------------------------------------


def test_create_uursoort_and_refuse_duplicates(client, backoffice, db):
    resp = client.post("/producten/uursoorten/nieuw", data={"code": "bg", "naam": "Begeleiding"})
    assert resp.status_code == 302
    u = db.scalars(select(Uursoort)).one()
    assert u.code == "BG" and u.financings == []
    resp = client.post("/producten/uursoorten/nieuw", data={"code": "BG", "naam": "Nog eens"})
    assert resp.status_code == 422
    assert "Er is al een uursoort met code BG." in form_errors(resp.get_data(as_text=True))
    resp = client.post("/producten/uursoorten/nieuw", data={"code": "B G", "naam": ""})
    errors = form_errors(resp.get_data(as_text=True))
    assert "Naam is verplicht." in errors and any("hooguit 10" in e for e in errors)
    assert db.scalar(select(func.count()).select_from(Uursoort)) == 1


def test_move_financing_up_and_down_persists(client, backoffice, db):
    u = _uursoort(db)
    url = f"/producten/uursoorten/{u.id}/prioriteit/verplaatsen"
    resp = client.post(
        url, data={"financing": "pgb", "positie": "3", "richting": "omhoog"}, headers=HTMX
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<html" not in html  # the fragment only, swapped by htmx
    assert _shown_order(html) == ["wlz", "pgb", "zvw_msvt"]
    assert _order(db, u.id) == [(1, "wlz"), (2, "pgb"), (3, "zvw_msvt")]

    client.post(url, data={"financing": "wlz", "positie": "1", "richting": "omlaag"}, headers=HTMX)
    assert _order(db, u.id) == [(1, "pgb"), (2, "wlz"), (3, "zvw_msvt")]

    # The page, reloaded, shows the saved order.
    page = client.get(f"/producten/uursoorten/{u.id}").get_data(as_text=True)
    assert _shown_order(page) == ["pgb", "wlz", "zvw_msvt"]


def test_double_click_on_move_moves_once(client, backoffice, db):
    u = _uursoort(db)
    url = f"/producten/uursoorten/{u.id}/prioriteit/verplaatsen"
    data = {"financing": "pgb", "positie": "3", "richting": "omhoog"}
    client.post(url, data=data, headers=HTMX)
    client.post(url, data=data, headers=HTMX)  # same click again, from the same (old) page
    assert _order(db, u.id) == [(1, "wlz"), (2, "pgb"), (3, "zvw_msvt")]
    # Moving the top one further up does nothing either.
    client.post(url, data={"financing": "wlz", "positie": "1", "richting": "omhoog"}, headers=HTMX)
    assert _order(db, u.id) == [(1, "wlz"), (2, "pgb"), (3, "zvw_msvt")]


def test_plain_form_post_without_htmx_redirects_back(client, backoffice, db):
    u = _uursoort(db)
    resp = client.post(
        f"/producten/uursoorten/{u.id}/prioriteit/verplaatsen",
        data={"financing": "zvw_msvt", "positie": "2", "richting": "omlaag"},
    )
    assert resp.status_code == 302
    assert _order(db, u.id) == [(1, "wlz"), (2, "pgb"), (3, "zvw_msvt")]


def test_add_and_remove_financing_keeps_positions_without_gaps(client, backoffice, db):
    u = _uursoort(db)
    base = f"/producten/uursoorten/{u.id}/prioriteit"
    resp = client.post(f"{base}/verwijderen", data={"financing": "zvw_msvt"}, headers=HTMX)
    assert _shown_order(resp.get_data(as_text=True)) == ["wlz", "pgb"]
    assert _order(db, u.id) == [(1, "wlz"), (2, "pgb")]

    client.post(f"{base}/toevoegen", data={"financing": "particulier"}, headers=HTMX)
    client.post(f"{base}/toevoegen", data={"financing": "particulier"}, headers=HTMX)  # twice
    assert _order(db, u.id) == [(1, "wlz"), (2, "pgb"), (3, "particulier")]

    resp = client.post(f"{base}/toevoegen", data={"financing": "bestaat_niet"}, headers=HTMX)
    assert resp.status_code == 422
    assert "Kies een financiering die in het portaal beschikbaar is." in resp.get_data(as_text=True)
    assert _order(db, u.id) == [(1, "wlz"), (2, "pgb"), (3, "particulier")]


def test_add_form_offers_only_loaded_financings_not_yet_in_the_list(client, backoffice, db, app):
    u = _uursoort(db, financings=("wlz",))
    html = client.get(f"/producten/uursoorten/{u.id}").get_data(as_text=True)
    add_form = html.split('id="f-add-financing"')[1].split("</select>")[0]
    offered = set(re.findall(r'<option value="([^"]+)"', add_form))
    loaded = set(app.extensions["hooks"].financings)
    assert offered == loaded - {"wlz"}


# -- access -----------------------------------------------------------------------------------


def test_lezer_sees_but_gets_403_on_changes(client, login_as, db):
    u = _uursoort(db)
    login_as(Role.ALLEEN_LEZEN)
    assert client.get("/producten/").status_code == 200
    page = client.get(f"/producten/uursoorten/{u.id}").get_data(as_text=True)
    assert _shown_order(page) == ["wlz", "zvw_msvt", "pgb"]
    assert "verplaatsen" not in page  # no move buttons for a reader
    resp = client.post(
        f"/producten/uursoorten/{u.id}/prioriteit/verplaatsen",
        data={"financing": "pgb", "positie": "3", "richting": "omhoog"},
    )
    assert resp.status_code == 403
    assert (
        client.post(
            "/producten/nieuw", data={"code": "X", "naam": "X", "eenheid": "uur"}
        ).status_code
        == 403
    )
    assert (
        client.post(f"/producten/uursoorten/{u.id}", data={"code": "PV", "naam": "Y"}).status_code
        == 403
    )
    assert _order(db, u.id) == [(1, "wlz"), (2, "zvw_msvt"), (3, "pgb")]
    assert db.scalar(select(func.count()).select_from(Product)) == 0


def test_zorgprofessional_gets_403(client, zorgprofessional, db):
    u = _uursoort(db)
    for url in ("/producten/", "/producten/nieuw", f"/producten/uursoorten/{u.id}"):
        assert client.get(url).status_code == 403, url
