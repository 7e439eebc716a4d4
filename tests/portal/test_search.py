"""The one search box: names as people type them, BSN, numbers and message ids."""

from __future__ import annotations

from datetime import date

from portal.models import Client, Invoice, Message, Organisation
from portal.models.declaration import Declaration
from portal.services.search import parse_name, search
from tests.portal.production import factory


def _clients(db):
    boer = Client(
        bsn="111222333",
        clientnummer="C-100",
        voorletters="F.",
        voornamen="Frank",
        tussenvoegsel="de",
        achternaam="Boer",
        geboortedatum=date(1950, 1, 2),
    )
    other = Client(
        bsn="123456782",
        clientnummer="C-101",
        voorletters="A.",
        tussenvoegsel="de",
        achternaam="Boer",
        geboortedatum=date(1962, 5, 6),
    )
    boerma = Client(
        bsn="999999990",
        voorletters="F.",
        achternaam="Boerma",
        geboortedatum=date(1970, 1, 1),
    )
    db.add_all([boer, other, boerma])
    db.commit()
    return boer, other, boerma


def test_names_in_any_order(db):
    boer, other, boerma = _clients(db)
    for q in ("de Boer", "Boer", "boer, F.", "F. de Boer", "Frank de Boer"):
        found = search(db, q).clients
        assert boer in found, q
    # initials narrow, the exact surname comes before "Boerma"
    assert search(db, "F. de Boer").clients == [boer, boerma]
    assert set(search(db, "de Boer").clients[:2]) == {boer, other}
    assert search(db, "de Boer").clients[-1] == boerma
    assert parse_name("F.J. van der Berg").initials == "FJ"
    assert parse_name("F.J. van der Berg").tussenvoegsel == "van der"


def test_bsn_client_number_and_numbers(db):
    boer, _other, _ = _clients(db)
    assert search(db, "111 222 333").clients == [boer]
    assert search(db, "c-100").clients[0] == boer
    org = factory.organisation(db)
    decl = Declaration(
        financing="wmo_jw",
        financier_id=org.gemeente.id,
        periode_begin=date(2026, 1, 1),
        periode_eind=date(2026, 1, 31),
        nummer="2026000017",
        status="ingediend",
    )
    o = Organisation(naam="Zorg BV")
    db.add_all([decl, o])
    db.flush()
    inv = Invoice(
        organisation_id=o.id,
        financing="particulier",
        nummer="F2026-0042",
        groep_sleutel="x",
        factuurdatum=date(2026, 2, 1),
        vervaldatum=date(2026, 2, 15),
        periode_start=date(2026, 1, 1),
        periode_eind=date(2026, 1, 31),
        status="verstuurd",
    )
    msg = Message(
        direction="uit",
        code="WMO323",
        payload=b"x",
        sha256="0" * 64,
        size=1,
        traceer_id="4f1c2d3e-0000-4000-8000-000000000001",
        conversatie_id="c1",
        reference="DECL-17",
        status="verzonden",
    )
    db.add_all([inv, msg])
    db.commit()
    assert search(db, "2026000017").declarations == [decl]
    assert search(db, "F2026-0042").invoices == [inv]
    assert search(db, "4f1c2d3e-0000-4000-8000-000000000001").messages == [msg]
    assert search(db, "DECL-17").messages == [msg]


def test_the_box_goes_straight_to_a_single_hit_and_keeps_bsn_out_of_urls(client, db, backoffice):
    boer, _other, _ = _clients(db)
    resp = client.post("/zoeken/", data={"q": "111222333"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/clienten/{boer.id}")
    assert "111222333" not in resp.headers["Location"]
    page = client.post("/zoeken/", data={"q": "de Boer"}).get_data(as_text=True)
    # two clients of the same name, told apart by client number and birth date
    assert "C-100" in page and "C-101" in page and "02-01-1950" in page and "06-05-1962" in page
    assert 'action="/zoeken/"' in client.get("/").get_data(as_text=True)  # in the top bar


def test_care_staff_cannot_search_clients(client, zorgprofessional):
    assert client.post("/zoeken/", data={"q": "Boer"}).status_code == 403
    assert 'action="/zoeken/"' not in client.get("/").get_data(as_text=True)
