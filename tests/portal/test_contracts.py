"""Contracts and their productafspraken: create, edit, list; every bad input refused."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.domain import Role
from portal.models import Contract, ContractLine, Financier, Product
from tests.conftest import form_errors
from tests.portal.test_admin import own_context  # noqa: F401  (autouse fixture)


@pytest.fixture
def setup(db):
    gemeente = Financier(financing="wmo_jw", soort="gemeente", code="0344", naam="Gemeente Utrecht")
    verzekeraar = Financier(
        financing="zvw_msvt", soort="zorgverzekeraar", code="3311", naam="Zorgverzekeraar Midden"
    )
    bg = Product(code="BG-IND", naam="Begeleiding individueel", eenheid="uur")
    grp = Product(code="BG-GRP", naam="Begeleiding groep", eenheid="dagdeel")
    db.add_all([gemeente, verzekeraar, bg, grp])
    db.commit()
    return {"gemeente": gemeente, "verzekeraar": verzekeraar, "bg": bg, "grp": grp}


def _contract(db, financier, begin=date(2026, 1, 1), end=date(2026, 12, 31), naam="Wmo 2026"):
    c = Contract(financier_id=financier.id, naam=naam, begindatum=begin, einddatum=end)
    db.add(c)
    db.commit()
    return c


def _lines(db, contract_id) -> list[ContractLine]:
    db.expire_all()
    return list(
        db.scalars(
            select(ContractLine)
            .where(ContractLine.contract_id == contract_id)
            .order_by(ContractLine.id)
        )
    )


def _line_data(product, **kw):
    return {
        "product_id": product.id,
        "productcode": "07a05",
        "productcategorie": "07",
        "eenheid": "uur",
        "tarief": "64,50",
        "begindatum": "2026-01-01",
        "einddatum": "",
        "afronding_minuten": "15",
        "afronding_wijze": "omhoog",
        "btw_percentage": "0",
        **kw,
    }


def test_create_contract_then_add_a_line(client, backoffice, db, setup):
    resp = client.post(
        "/contracten/nieuw",
        data={
            "financier_id": setup["gemeente"].id,
            "naam": "Wmo-contract Utrecht 2026",
            "begindatum": "2026-01-01",
            "einddatum": "31-12-2026",
        },
    )
    assert resp.status_code == 302
    c = db.scalars(select(Contract)).one()
    assert (c.begindatum, c.einddatum) == (date(2026, 1, 1), date(2026, 12, 31))

    resp = client.post(f"/contracten/{c.id}/regels", data=_line_data(setup["bg"]))
    assert resp.status_code == 302
    (line,) = _lines(db, c.id)
    assert line.tarief_cents == 6450  # "64,50" -> cents
    assert (line.productcode, line.productcategorie, line.eenheid) == ("07A05", "07", "uur")
    assert (line.afronding_minuten, line.afronding_wijze, line.btw_percentage) == (15, "omhoog", 0)
    page = client.get(f"/contracten/{c.id}").get_data(as_text=True)
    assert "€ 64,50" in page and "07A05" in page

    listing = client.get("/contracten/").get_data(as_text=True)
    assert "Wmo-contract Utrecht 2026" in listing and "Gemeente Utrecht" in listing


def test_edit_a_line_and_a_dutch_thousands_tariff(client, backoffice, db, setup):
    c = _contract(db, setup["gemeente"])
    client.post(f"/contracten/{c.id}/regels", data=_line_data(setup["bg"]))
    (line,) = _lines(db, c.id)
    form = client.get(f"/contracten/{c.id}?regel={line.id}").get_data(as_text=True)
    assert 'value="64,50"' in form
    resp = client.post(
        f"/contracten/{c.id}/regels/{line.id}",
        data=_line_data(setup["bg"], tarief="1.234,56", btw_percentage="21"),
    )
    assert resp.status_code == 302
    (line,) = _lines(db, c.id)
    assert (line.tarief_cents, line.btw_percentage) == (123456, 21)


BAD_LINES = [
    ({"tarief": "abc"}, "Dit is geen bedrag. Schrijf het tarief als 64,50."),
    ({"tarief": ""}, "Tarief is verplicht."),
    ({"tarief": "-5,00"}, "Een tarief kan niet negatief zijn."),
    ({"product_id": ""}, "Kies een product."),
    (
        {"begindatum": "2026-03-01", "einddatum": "2026-02-01"},
        "De einddatum ligt vóór de begindatum.",
    ),
    ({"begindatum": "2025-12-01"}, "De afspraak begint vóór het contract"),
    ({"einddatum": "2027-01-31"}, "De afspraak loopt door na het einde van het contract"),
    ({"begindatum": "31-02-2026"}, "Begindatum: 31-02-2026 is geen datum: februari 2026 heeft 28"),
    (
        {"afronding_minuten": "7"},
        "Kies een afronding van 0, 1, 5, 6, 10, 15, 30 of 60 minuten.",
    ),
    ({"afronding_wijze": "willekeurig"}, "Kies omhoog, omlaag of dichtstbij."),
    ({"btw_percentage": "19"}, "Btw is 0% (vrijgesteld), 9% of 21%."),
    ({"eenheid": "dagdeel"}, "de afspraak moet dezelfde eenheid hebben"),
    ({"productcategorie": "0-7"}, "Een productcategorie heeft hooguit 10 letters of cijfers."),
]


def test_bad_line_input_is_refused_and_nothing_stored(client, backoffice, db, setup):
    c = _contract(db, setup["gemeente"])
    for data, message in BAD_LINES:
        resp = client.post(f"/contracten/{c.id}/regels", data=_line_data(setup["bg"], **data))
        assert resp.status_code == 422, data
        errors = form_errors(resp.get_data(as_text=True))
        assert any(message in e for e in errors), (data, errors)
        assert _lines(db, c.id) == []


def test_unit_must_be_accepted_by_the_financing(client, backoffice, db, setup):
    """zvw_msvt's plugin accepts minuut, uur and stuk only: a dagdeel line is refused."""
    c = _contract(db, setup["verzekeraar"], naam="Wijkverpleging 2026")
    resp = client.post(
        f"/contracten/{c.id}/regels", data=_line_data(setup["grp"], eenheid="dagdeel")
    )
    assert resp.status_code == 422
    assert any(
        "kent de eenheid dagdeel niet" in e for e in form_errors(resp.get_data(as_text=True))
    )
    assert _lines(db, c.id) == []
    # The unit choice on the page offers only the financing's units.
    page = client.get(f"/contracten/{c.id}").get_data(as_text=True)
    unit_select = page.split('id="f-eenheid"')[1].split("</select>")[0]
    assert 'value="uur"' in unit_select and 'value="dagdeel"' not in unit_select


def test_overlapping_lines_for_the_same_product_are_refused(client, backoffice, db, setup):
    c = _contract(db, setup["gemeente"])
    url = f"/contracten/{c.id}/regels"
    data = _line_data(setup["bg"], begindatum="2026-01-01", einddatum="2026-06-30")
    assert client.post(url, data=data).status_code == 302
    # The same click again (double submit) is refused as an overlap: still one line.
    resp = client.post(url, data=data)
    assert resp.status_code == 422
    assert any(
        "Er is al een productafspraak voor BG-IND in deze periode" in e
        for e in form_errors(resp.get_data(as_text=True))
    )
    overlapping = _line_data(setup["bg"], begindatum="2026-06-30", einddatum="")
    assert client.post(url, data=overlapping).status_code == 422
    # Another contract of the same financier overlapping the period is refused as well.
    other = _contract(db, setup["gemeente"], naam="Aanvulling 2026")
    resp = client.post(
        f"/contracten/{other.id}/regels", data=_line_data(setup["bg"], begindatum="2026-03-01")
    )
    assert resp.status_code == 422
    assert len(_lines(db, c.id)) == 1 and _lines(db, other.id) == []
    # Adjacent periods are fine; another product in the same period is fine.
    assert (
        client.post(
            url, data=_line_data(setup["bg"], begindatum="2026-07-01", tarief="66,00")
        ).status_code
        == 302
    )
    assert (
        client.post(
            url, data=_line_data(setup["grp"], eenheid="dagdeel", tarief="52,00")
        ).status_code
        == 302
    )
    assert [(x.begindatum, x.tarief_cents) for x in _lines(db, c.id)] == [
        (date(2026, 1, 1), 6450),
        (date(2026, 7, 1), 6600),
        (date(2026, 1, 1), 5200),
    ]


BAD_CONTRACTS = [
    ({"einddatum": "2025-12-31"}, "einddatum", "De einddatum ligt vóór de begindatum."),
    ({"begindatum": ""}, "begindatum", "Begindatum is verplicht."),
    ({"naam": ""}, "naam", "Naam is verplicht."),
    ({"financier_id": "9999"}, "financier_id", "Kies een financier."),
    ({"begindatum": "2026-13-01"}, "begindatum", "Begindatum: 2026-13-01 is geen datum: maand 13"),
]


def test_bad_contract_input_is_refused(client, backoffice, db, setup):
    base = {"financier_id": setup["gemeente"].id, "naam": "Wmo 2026", "begindatum": "2026-01-01"}
    for data, field, message in BAD_CONTRACTS:
        resp = client.post("/contracten/nieuw", data={**base, **data})
        assert resp.status_code == 422, data
        html = resp.get_data(as_text=True)
        assert any(message in e for e in form_errors(html)), data
        if field != "financier_id":  # selects show the error without an id
            assert f'id="e-{field}"' in html, data
        assert db.scalar(select(func.count()).select_from(Contract)) == 0


def test_contract_period_cannot_shrink_below_its_lines(client, backoffice, db, setup):
    c = _contract(db, setup["gemeente"], end=None)
    client.post(f"/contracten/{c.id}/regels", data=_line_data(setup["bg"], einddatum="2026-12-31"))
    resp = client.post(
        f"/contracten/{c.id}",
        data={
            "financier_id": setup["gemeente"].id,
            "naam": "Wmo 2026",
            "begindatum": "2026-01-01",
            "einddatum": "2026-06-30",
        },
    )
    assert resp.status_code == 422
    assert any("buiten de contractperiode" in e for e in form_errors(resp.get_data(as_text=True)))
    db.expire_all()
    assert db.get(Contract, c.id).einddatum is None


def test_list_filters_by_financing_financier_and_validity(client, backoffice, db, setup):
    today = date.today()
    _contract(
        db,
        setup["gemeente"],
        begin=date(today.year - 2, 1, 1),
        end=date(today.year - 2, 12, 31),
        naam="Oud Wmo",
    )
    _contract(db, setup["gemeente"], begin=date(today.year, 1, 1), end=None, naam="Huidig Wmo")
    _contract(
        db,
        setup["verzekeraar"],
        begin=date(today.year + 1, 1, 1),
        end=None,
        naam="Volgend jaar Zvw",
    )

    def table(url):
        return client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)

    html = table("/contracten/?geldigheid=actueel")
    assert "Huidig Wmo" in html and "Oud Wmo" not in html and "Volgend jaar Zvw" not in html
    html = table("/contracten/?geldigheid=verlopen")
    assert "Oud Wmo" in html and "Huidig Wmo" not in html
    html = table("/contracten/?financiering=zvw_msvt")
    assert "Volgend jaar Zvw" in html and "Wmo" not in html
    html = table(f"/contracten/?financier={setup['gemeente'].id}")
    assert "Oud Wmo" in html and "Huidig Wmo" in html and "Zvw" not in html


def test_remove_a_line(client, backoffice, db, setup):
    c = _contract(db, setup["gemeente"])
    client.post(f"/contracten/{c.id}/regels", data=_line_data(setup["bg"]))
    (line,) = _lines(db, c.id)
    assert client.post(f"/contracten/{c.id}/regels/{line.id}/verwijderen").status_code == 302
    assert client.post(f"/contracten/{c.id}/regels/{line.id}/verwijderen").status_code == 302
    assert _lines(db, c.id) == []


def test_lezer_sees_contracts_but_cannot_change_them(client, login_as, db, setup):
    c = _contract(db, setup["gemeente"])
    login_as(Role.ALLEEN_LEZEN)
    assert "Wmo 2026" in client.get("/contracten/").get_data(as_text=True)
    page = client.get(f"/contracten/{c.id}")
    assert page.status_code == 200 and "Productafspraak toevoegen" not in page.get_data(
        as_text=True
    )
    assert client.get("/contracten/nieuw").status_code == 403
    assert (
        client.post(f"/contracten/{c.id}/regels", data=_line_data(setup["bg"])).status_code == 403
    )
    resp = client.post(
        f"/contracten/{c.id}",
        data={"financier_id": setup["gemeente"].id, "naam": "Anders", "begindatum": "2026-01-01"},
    )
    assert resp.status_code == 403
    db.expire_all()
    assert db.get(Contract, c.id).naam == "Wmo 2026" and _lines(db, c.id) == []


def test_zorgprofessional_gets_403(client, zorgprofessional, db, setup):
    c = _contract(db, setup["gemeente"])
    for url in ("/contracten/", "/contracten/nieuw", f"/contracten/{c.id}"):
        assert client.get(url).status_code == 403, url


def test_overlap_rule_as_a_service_without_flask(db, setup):
    """Open-ended lines run to the end of their contract; a contract without end runs on."""
    from portal.services.contracts import overlapping_line

    c = _contract(db, setup["gemeente"], end=date(2026, 6, 30))
    db.add(
        ContractLine(
            contract_id=c.id,
            product_id=setup["bg"].id,
            eenheid="uur",
            tarief_cents=6450,
            begindatum=date(2026, 1, 1),
        )
    )
    db.commit()
    fid, pid = setup["gemeente"].id, setup["bg"].id
    assert overlapping_line(db, fid, pid, date(2026, 6, 30), None) is not None
    assert overlapping_line(db, fid, pid, date(2026, 7, 1), None) is None
    assert overlapping_line(db, fid, pid, date(2025, 1, 1), date(2025, 12, 31)) is None
    assert overlapping_line(db, setup["verzekeraar"].id, pid, date(2026, 3, 1), None) is None
