"""Lists people can work with: sorting, filters, CSV and Excel exports without formulas."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest

from portal.lists import csv_bytes, neutralise, xlsx_bytes
from portal.models import Client, Invoice, Organisation


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x","klik")', "+31612345678", "-2+3", "@SUM(A1)", "\tx", "\rx"],
)
def test_formula_like_text_is_neutralised(value):
    assert neutralise(value) == "'" + value


def test_plain_values_stay_as_they_are():
    assert neutralise("Jansen") == "Jansen"
    assert neutralise(-12) == -12  # a number is a number, not a formula
    assert neutralise("") == ""


def test_csv_is_semicolon_separated_utf8_with_bom_for_dutch_excel():
    data = csv_bytes(["Naam", "Bedrag"], [["=1+1", 12.5], ["Zoë", None]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Naam", "Bedrag"], ["'=1+1", "12.5"], ["Zoë", ""]]


def test_xlsx_writes_text_never_formulas():
    data = xlsx_bytes(
        "Lijst", ["Naam", "Datum", "Bedrag"], [["=cmd|' /C calc'!A0", date(2026, 1, 2), 10.5]]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet  # no formula cell anywhere
    assert "&apos;=cmd" in strings or "'=cmd" in strings


def _clients(db):
    db.add_all(
        [
            Client(bsn="111222333", achternaam="Aalders", clientnummer="C-1",
                   geboortedatum=date(1950, 1, 1), team="Noord"),
            Client(bsn="123456782", achternaam='=HYPERLINK("http://x","klik")', clientnummer="C-2",
                   geboortedatum=date(1990, 1, 1), team="Zuid"),
            Client(bsn="999999990", achternaam="Zwart", clientnummer="C-3",
                   geboortedatum=date(1970, 1, 1), team="Noord", actief=False),
        ]
    )  # fmt: skip
    db.commit()


def test_client_list_sorts_filters_and_exports_safely(client, db, backoffice):
    _clients(db)
    page = client.get("/lijsten/clienten?status=actief").get_data(as_text=True)
    assert "Aalders" in page and "Zwart" not in page and "2 regels" in page
    page = client.get("/lijsten/clienten?sorteer=geboortedatum&richting=af").get_data(as_text=True)
    assert page.index("C-2") < page.index("C-3") < page.index("C-1")
    assert 'aria-sort="descending"' in page
    resp = client.get("/lijsten/clienten?team=Noord&export=csv")
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8-sig")
    assert "Aalders" in text and "Zwart" in text and "HYPERLINK" not in text
    everyone = client.get("/lijsten/clienten?export=csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in everyone and ";=HYPERLINK" not in everyone
    assert "111222333" not in everyone  # no BSN in an export
    xlsx = client.get("/lijsten/clienten?export=xlsx")
    assert xlsx.get_data()[:2] == b"PK"


def test_an_unknown_sort_or_filter_value_is_ignored(client, db, backoffice):
    _clients(db)
    resp = client.get("/lijsten/clienten?sorteer=bsn&status=alles&pagina=abc")
    assert resp.status_code == 200 and "3 regels" in resp.get_data(as_text=True)


def test_invoice_list_filters_on_status_and_debtor(client, db, backoffice):
    org = Organisation(naam="Zorg BV")
    db.add(org)
    db.flush()
    for n, (status, debtor) in enumerate(
        [("verstuurd", "Jansen"), ("betaald", "Pietersen"), ("verstuurd", "Pietersen")]
    ):
        db.add(
            Invoice(
                organisation_id=org.id,
                financing="particulier",
                nummer=f"F-{n}",
                groep_sleutel=f"g{n}",
                factuurdatum=date(2026, 2, 1),
                vervaldatum=date(2026, 2, 15),
                periode_start=date(2026, 1, 1),
                periode_eind=date(2026, 1, 31),
                debiteur_naam=debtor,
                totaal_cents=1000 * (n + 1),
                status=status,
            )
        )
    db.commit()
    page = client.get("/lijsten/facturen?status=verstuurd&debiteur=piet").get_data(as_text=True)
    assert "F-2" in page and "F-0" not in page and "F-1" not in page
    page = client.get("/lijsten/facturen?periode=2026-01&sorteer=bedrag&richting=op").get_data(
        as_text=True
    )
    assert page.index("F-0") < page.index("F-1") < page.index("F-2")
    assert "€ 10,00" in page


def test_lists_need_their_permission(client, zorgprofessional):
    for url in ("/lijsten/clienten", "/lijsten/facturen", "/lijsten/declaraties"):
        assert client.get(url).status_code == 403
