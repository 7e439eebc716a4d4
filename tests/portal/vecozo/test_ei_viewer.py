"""The message viewer shows an EI file record by record, field by field, from the same layout
tables that build and check it, with the checks' findings beside their record."""

from __future__ import annotations

from pathlib import Path

from portal.vecozo.readable import readable
from tests.portal.vecozo.test_screens import _inbound

FIXTURES = Path(__file__).parents[1] / "formats" / "fixtures" / "ei"


def test_readable_names_records_and_fields():
    shown = readable((FIXTURES / "aw319_geldig.asc").read_bytes(), "AW319")
    assert shown.kind == "ei" and shown.issues == []
    assert shown.note == "Vektis EI, AW319 v1.4: 8 records."
    prestatie = shown.records[2]
    assert (prestatie.number, prestatie.name) == (3, "Prestatierecord (04)")
    assert ("0417", "PRESTATIECODE", "Z0041") in prestatie.numbered
    assert ("0429", "DECLARATIEBEDRAG (INCL. BTW)", "00045000") in prestatie.numbered


def test_readable_puts_findings_beside_their_record():
    shown = readable((FIXTURES / "aw319_letters_in_numeriek.asc").read_bytes())
    assert shown.records[2].issues == [
        "veld 0418 (AANTAL UITGEVOERDE PRESTATIES): numeriek veld bevat andere tekens dan "
        "cijfers ('00A3')"
    ]
    short = readable((FIXTURES / "aw319_recordlengte.asc").read_bytes())
    assert short.records[2].name == "" and "moet 310 zijn" in short.records[2].issues[0]
    missing = readable((FIXTURES / "aw319_zonder_sluitrecord.asc").read_bytes())
    assert missing.issues == ["regel 8: het sluitrecord ontbreekt"]


def test_message_page_shows_an_ei_file_field_by_field(client, db, backoffice, app):
    with app.app_context():
        message = _inbound(db, (FIXTURES / "aw319_verkeerd_totaal.asc").read_bytes())
    html = client.get(f"/berichten/{message.id}").get_data(as_text=True)
    assert "Vektis EI, AW319 v1.4: 8 records. 1 fout(en) gevonden" in html
    assert "<td>Prestatierecord (04)</td>" in html
    assert "<tr><td>0417</td><td>PRESTATIECODE</td><td><code>Z0041</code></td></tr>" in html
    assert "veld 9907 (TOTAAL DECLARATIEBEDRAG): totaal is € 500,00 D" in html
