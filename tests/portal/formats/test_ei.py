"""Vektis EI files: built, parsed and checked from the layout tables; refusals name line, field
and rule in Dutch (fixtures in fixtures/ei/ are the files a financier or a test would hand us)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from portal.formats import ei
from tests.portal.formats.ei_samples import client, header, prestatie, valid_records

FIXTURES = Path(__file__).parent / "fixtures" / "ei"
AW319 = ei.load_layout("aw319", "1.4")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def refusal(name: str) -> list[ei.EiIssue]:
    with pytest.raises(ei.EiError) as exc:
        ei.parse(AW319, fixture(name))
    assert str(exc.value).startswith("Het EI-bestand is geweigerd: ")
    return exc.value.issues


def test_layout_table_gives_every_record_310_positions():
    assert AW319.record_length == 310
    assert set(AW319.records) == {"01", "02", "04", "98", "99"}
    f = AW319.field("0429")
    assert (f.name, f.type, f.length, f.start, f.obligation) == (
        "DECLARATIEBEDRAG (INCL. BTW)",
        "N",
        8,
        186,
        "M",
    )
    assert f.rules == {"teken": "0430"}
    assert AW319.field("0414").type == "DATUM"


def test_build_pads_signs_and_closes_the_file():
    data = ei.build(AW319, valid_records())
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) == 310 for line in lines[:-1])
    head, first, trailer = lines[0].decode(), lines[2].decode(), lines[-2].decode()
    assert head[:10] == "011870104T"
    assert head[80:92] == "F2026-0001  "  # AN left-aligned, space-padded
    assert head[64:72] == "20260101"  # date as CCYYMMDD
    assert first[129:133] == "0003"  # N zero-padded
    assert first[164:172] == "00015000" and first[185:194] == "00045000D"
    credit = lines[4].decode()
    assert credit[185:194] == "00015000C"  # a negative amount is written with C
    assert credit[214:234].rstrip() == "REF-0000"
    # 99: 2 clients, 3 prestaties, 1 comment, 6 detail records, 450 - 150 + 199 = 499 euro debit
    assert trailer[:45] == "99000002000000000003000001000000600000049900D"


def test_parse_reads_values_and_groups_clients():
    parsed = ei.parse(AW319, fixture("aw319_geldig.asc"))
    assert parsed.issues == []
    assert parsed.header["0116"] == "F2026-0001"
    assert parsed.header["0114"] == date(2026, 1, 1)
    groups = parsed.groups()
    assert [(g["0203"], [p["0431"] for p in ps]) for g, ps in groups] == [
        ("999999990", ["REF-0001", "REF-0002"]),
        ("111222333", ["REF-0003"]),
    ]
    assert [p.signed("0429") for _, ps in groups for p in ps] == [45000, -15000, 19900]
    assert parsed.trailer.signed("9907") == 49900


def test_the_built_file_is_the_fixture():
    assert ei.build(AW319, valid_records()) == fixture("aw319_geldig.asc")


def test_identify_by_voorlooprecord():
    assert ei.identify(fixture("aw319_geldig.asc")) is AW319
    assert ei.identify(b"not an ei file\r\n") is None
    retour = ei.load_layout("aw320", "1.4-afgeleid")
    assert retour.status == "afgeleid" and retour.record_length == 370


def test_wrong_record_length_is_refused_with_line_and_code():
    (issue,) = refusal("aw319_recordlengte.asc")
    assert (issue.line, issue.record, issue.rule, issue.retourcode) == (
        3,
        "04",
        "recordlengte",
        "0804",
    )
    assert "recordlengte is 309 posities, moet 310 zijn" in str(issue)


def test_letters_in_a_numeric_field_are_refused_by_field_number():
    (issue,) = refusal("aw319_letters_in_numeriek.asc")
    assert (issue.line, issue.record, issue.field, issue.rule) == (3, "04", "0418", "numeriek")
    assert str(issue) == (
        "regel 3, record 04, veld 0418 (AANTAL UITGEVOERDE PRESTATIES): "
        "numeriek veld bevat andere tekens dan cijfers ('00A3')"
    )


def test_missing_closing_record_is_refused():
    (issue,) = refusal("aw319_zonder_sluitrecord.asc")
    assert (issue.record, issue.rule) == ("99", "sluitrecord")
    assert "het sluitrecord ontbreekt" in str(issue)


def test_wrong_total_is_refused_with_both_amounts():
    (issue,) = refusal("aw319_verkeerd_totaal.asc")
    assert (issue.line, issue.field, issue.rule) == (8, "9907", "som")
    assert "€ 500,00 D" in issue.message and "€ 499,00 D" in issue.message


def test_wrong_counter_is_refused():
    (issue,) = refusal("aw319_verkeerd_aantal.asc")
    assert (issue.field, issue.rule) == ("9904", "aantal")
    assert "telt 4, maar het bestand heeft 3 records van type 04" in issue.message


def test_prestatie_must_equal_its_client_record():
    (issue,) = refusal("aw319_prestatie_andere_bsn.asc")
    assert (issue.line, issue.field, issue.rule) == (7, "0403", "gelijk")
    assert "veld 0203 van het verzekerdenrecord op regel 6" in issue.message


def test_line_references_are_unique():
    (issue,) = refusal("aw319_dubbele_referentie.asc")
    assert (issue.line, issue.field, issue.rule) == (7, "0431", "uniek")
    assert "komt al voor op regel 3" in issue.message


def test_bare_lf_line_ends_are_refused():
    (issue,) = refusal("aw319_lf_regeleinden.asc")
    assert (issue.rule, issue.retourcode) == ("regeleinde", "8095")
    assert "CR LF" in issue.message


def test_impossible_date_is_refused():
    (issue,) = refusal("aw319_ongeldige_datum.asc")
    assert (issue.field, issue.rule) == ("0414", "datum")


def test_size_limit_refuses_before_reading():
    with pytest.raises(ei.EiError) as exc:
        ei.parse(AW319, fixture("aw319_geldig.asc"), max_bytes=1000)
    assert exc.value.issues[0].rule == "grootte"
    assert "te groot" in str(exc.value)


def test_lenient_parse_keeps_issues_for_a_viewer():
    parsed = ei.parse(AW319, fixture("aw319_verkeerd_totaal.asc"), strict=False)
    assert [i.rule for i in parsed.issues] == ["som"]
    rows = list(parsed.rows())
    rec, name, cells = rows[2]
    assert (rec.line, name) == (3, "Prestatierecord")
    assert ("0417", "PRESTATIECODE", "Z0041") in cells
    assert all(number != "0480" for number, _, _ in cells)  # filler not shown


def test_build_refuses_values_that_do_not_fit():
    records = [
        header(**{"0116": "FACTUUR-TE-LANG"}),
        client("999999990", "Jansen"),
        prestatie("999999990", "R1", 100, **{"0418": "1A"}),
    ]
    with pytest.raises(ei.EiError) as exc:
        ei.build(AW319, records)
    found = {(i.line, i.field) for i in exc.value.issues}
    assert found == {(1, "0116"), (3, "0418")}
    assert str(exc.value).startswith("Het EI-bestand kan niet worden gemaakt: regel 1")


def test_build_checks_cross_record_rules():
    records = [
        header(),
        client("999999990", "Jansen"),
        prestatie("999999990", "R1", 100),
        prestatie("999999990", "R1", 100),
    ]
    with pytest.raises(ei.EiError) as exc:
        ei.build(AW319, records)
    assert [i.rule for i in exc.value.issues] == ["uniek"]


MINI = (
    "# standaard: MINI\n# versie: 1.0\n"
    "# record: 01 voorloop Kop\n# record: 04 detail Regel\n# record: 99 sluit Slot\n"
    "record,nummer,naam,type,lengte,start,verplicht,waarden,regels\n"
    "01,0101,KENMERK,N,2,1,M,01,kenmerk\n01,0102,CODE,AN,4,3,M,MINI,\n"
    "01,0103,RESERVE,AN,7,7,S,,\n"
    "04,0401,KENMERK,N,2,1,M,04,kenmerk\n04,0402,BEDRAG,N,7,3,M,,teken=0403\n"
    "04,0403,DC,AN,1,10,M,D|C,\n04,0404,REF,AN,3,11,M,,uniek\n"
    "99,9901,KENMERK,N,2,1,M,99,kenmerk\n99,9902,AANTAL,N,3,3,M,,aantal=04\n"
    "99,9903,TOTAAL,N,7,6,M,,som=0402;teken=9904\n99,9904,DC,AN,1,13,M,D|C,\n"
)


def test_outside_plugin_ships_its_layout_in_its_package(tmp_path, monkeypatch):
    package = tmp_path / "mijn_plugin"
    (package / "layouts").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "layouts" / "mini-1.0.csv").write_text(MINI)
    monkeypatch.syspath_prepend(str(tmp_path))
    layout = ei.Layout.from_resource("mijn_plugin", "layouts/mini-1.0.csv")
    assert layout.origin == "mijn_plugin:layouts/mini-1.0.csv"
    data = ei.build(layout, [("01", {"0102": "MINI"}), ("04", {"0402": 100, "0404": "A"})])
    assert ei.identify(data) is None  # not known until the plugin registers it
    ei.register(layout)
    try:
        assert ei.identify(data) is layout
    finally:
        ei.unregister(layout)


def test_outside_layout_from_a_file(tmp_path):
    table = tmp_path / "mini.csv"
    table.write_text(MINI)
    layout = ei.Layout.from_file(table)
    data = ei.build(layout, [("01", {"0102": "MINI"}), ("04", {"0402": -250, "0404": "A"})])
    assert data == b"01MINI       \r\n040000250CA  \r\n990010000250C\r\n"
    assert ei.parse(layout, data).trailer.signed("9903") == -250


def test_broken_layout_table_is_a_layout_error(tmp_path):
    table = tmp_path / "gat.csv"
    table.write_text(
        "# record: 01 voorloop Kop\n# record: 99 sluit Slot\n"
        "record,nummer,naam,type,lengte,start,verplicht,waarden,regels\n"
        "01,0101,KENMERK,N,2,1,M,01,kenmerk\n01,0102,X,AN,3,4,M,,\n"
        "99,9901,KENMERK,N,2,1,M,99,kenmerk\n99,9902,X,AN,3,3,M,,\n"
    )
    with pytest.raises(ei.LayoutError, match="gat of overlap"):
        ei.Layout.from_file(table)
