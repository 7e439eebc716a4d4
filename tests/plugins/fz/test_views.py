"""The placement entered by hand on the client's legitimations form, and the fz screens."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.domain import Role
from portal.models import Client, Legitimation
from tests.conftest import form_errors, login
from tests.plugins.fz.conftest import BSN2, place


def _placement_form(master, **kw):
    data = {
        "financing": "fz",
        "financier_id": str(master["dji"].id),
        "begindatum": "2026-01-01",
        "einddatum": "2026-12-31",
        "eenheid": "dag",
        "productcode": "FZV02",
        "referentienummer": "PB-2026-0500",
        "sleutel_titel": "VI",
        "sleutel_instelling": "73730001",
        "product_ids": [str(master["verblijf"].id)],
    }
    data.update(kw)
    return data


def test_placement_entered_by_hand(db, client, backoffice, master):
    person = Client(bsn=BSN2, achternaam="Smit", geboortedatum=date(1990, 5, 5))
    db.add(person)
    db.commit()
    # choosing the financing shows the placement's own fields: the titel from DJI's list
    form = client.get(
        f"/clienten/{person.id}/legitimaties/velden?financing=fz", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'name="sleutel_titel"' in form and "TBSV Tbs met voorwaarden" in form
    assert 'name="sleutel_instelling"' in form
    # a prestatie the titel does not allow: refused at its field, in Dutch
    resp = client.post(
        f"/clienten/{person.id}/legitimaties/nieuw",
        data=_placement_form(master, sleutel_titel="GVM"),
    )
    assert resp.status_code == 422
    assert any(
        "niet toegestaan bij de titel" in e for e in form_errors(resp.get_data(as_text=True))
    )
    resp = client.post(f"/clienten/{person.id}/legitimaties/nieuw", data=_placement_form(master))
    assert resp.status_code == 303, form_errors(resp.get_data(as_text=True))
    leg = db.scalar(select(Legitimation).where(Legitimation.client_id == person.id))
    assert leg.referentienummer == "PB-2026-0500"
    assert leg.sleutels == {"titel": "VI", "instelling": "73730001"}
    page = client.get(f"/f/fz/clienten/{person.id}").get_data(as_text=True)
    assert "Plaatsing PB-2026-0500" in page and "VI Voorwaardelijke invrijheidsstelling" in page
    assert "Aanvang zorg melden (FZ823)" in page and "voorlopig formaat" in page


def test_read_only_user_sees_placements_without_actions(
    db, client, hooks, dji_settings, master, make_user
):
    leg = place(db, hooks, dji_settings)
    user = make_user(Role.ALLEEN_LEZEN)
    login(client, user.email)
    page = client.get(f"/f/fz/clienten/{leg.client_id}").get_data(as_text=True)
    assert "Plaatsing PB-2026-0001" in page and "Aanvang zorg melden" not in page
    assert (
        client.post(f"/f/fz/plaatsingen/{leg.id}/aanvang", data={"datum": "2026-01-05"}).status_code
        == 403
    )
    page = client.get("/f/fz/").get_data(as_text=True)
    assert "PB-2026-0001" in page
