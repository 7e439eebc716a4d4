"""CSV import of clients and legitimations: upload and CLI, all-or-nothing, per-row report."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Client, Legitimation
from portal.services import imports
from tests.portal.clientdata import make_financiers, make_products, new_bsn

DOCS = Path(__file__).resolve().parents[2] / "docs" / "import"
CLIENTS_CSV = (DOCS / "clienten.csv").read_bytes()
LEGITIMATIONS_CSV = (DOCS / "legitimaties.csv").read_bytes()


def _count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def _upload(client, kind: str, data: bytes, name: str = "bestand.csv"):
    return client.post(
        f"/import/{kind}",
        data={"bestand": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def reference(db):
    return make_financiers(db), make_products(db)


def test_example_files_import_completely(client, backoffice, reference, db):
    assert CLIENTS_CSV.startswith(b"\xef\xbb\xbf")  # the example has a BOM and semicolons
    resp = _upload(client, "clienten", CLIENTS_CSV)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert "3 van 3 regels ingelezen" in html
    by_bsn = {c.bsn: c for c in db.scalars(select(Client))}
    assert len(by_bsn) == 3
    anna = by_bsn["620966543"]
    assert (anna.achternaam, anna.geslacht, anna.postcode) == ("Vries", "2", "3511AB")
    assert by_bsn["710282254"].budgethouder_is_client is False

    resp = _upload(client, "legitimaties", LEGITIMATIONS_CSV)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html
    assert "4 van 4 regels ingelezen" in html
    legs = db.scalars(select(Legitimation).order_by(Legitimation.id)).all()
    assert [leg.financing for leg in legs] == ["wlz", "particulier", "wmo_jw", "pgb"]
    assert legs[1].tarief_cents == 6200 and legs[1].priority == 2
    assert legs[2].financier.code == "0307"
    assert {p.code for p in legs[3].products} == {"PV-UUR", "BG-IND"}
    assert legs[3].sleutels == {"wet": "wlz"}
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"import.clienten", "import.legitimaties"} <= actions


def test_one_bad_row_imports_nothing_and_reports_row_and_field(client, backoffice, db):
    good1, good2 = new_bsn(), new_bsn()
    data = (
        "bsn,achternaam,geboortedatum,postcode\n"
        f"{good1},Jansen,01-01-1950,3511AB\n"
        "123456789,Pietersen,01-01-1950,3511AB\n"
        f"{good2},,01-01-1950,12\n"
    ).encode()
    resp = _upload(client, "clienten", data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Niets ingelezen" in html
    rows = _report_rows(html)
    assert ("3", "bsn") in {(r, f) for r, f, _m in rows}
    assert ("4", "achternaam") in {(r, f) for r, f, _m in rows}
    assert ("4", "postcode") in {(r, f) for r, f, _m in rows}
    assert any("11-proef" in m for _r, _f, m in rows)
    assert "123456789" not in html.split('id="import-errors"')[1]  # no BSN in the report
    assert _count(db, Client) == 0


def _report_rows(html: str) -> list[tuple[str, str, str]]:
    import re

    table = html.split('id="import-errors"')[1]
    return re.findall(
        r'<td class="num" data-label="Regel">(\d+)</td><td data-label="Kolom">(.*?)</td>'
        r'<td data-label="Melding">(.*?)</td>',
        table,
    )


def test_same_bsn_twice_in_one_file_refused(db):
    bsn = new_bsn()
    data = f"bsn;achternaam;geboortedatum\n{bsn};Jansen;1950-01-01\n{bsn};Jansen;1950-01-01\n"
    report = imports.import_clients(db, data.encode(), user_id=None)
    assert not report.ok
    assert [(e.row, e.field) for e in report.errors] == [(3, "bsn")]
    assert _count(db, Client) == 0


def test_bad_legitimation_row_rolls_back_the_whole_file(client, backoffice, reference, db):
    _upload(client, "clienten", CLIENTS_CSV)
    lines = LEGITIMATIONS_CSV.decode().splitlines()
    lines[3] = lines[3].replace(",07,07A05,", ",,07A05,")  # Wmo without productcategorie
    lines.append("999999990,wlz,5503,PV-UUR,01-01-2026,,2,uur,week,,,1,,H126,,,,")
    resp = _upload(client, "legitimaties", ("\n".join(lines) + "\n").encode())
    assert resp.status_code == 422
    rows = {(r, f): m for r, f, m in _report_rows(resp.get_data(as_text=True))}
    assert rows[("4", "productcategorie")] == "Een toewijzing heeft een productcategorie."
    assert "geen cliënt met dit BSN" in rows[("6", "bsn")]
    assert _count(db, Legitimation) == 0


def test_importing_legitimations_twice_stores_them_once(client, backoffice, reference, db):
    _upload(client, "clienten", CLIENTS_CSV)
    assert _upload(client, "legitimaties", LEGITIMATIONS_CSV).status_code == 200
    resp = _upload(client, "legitimaties", LEGITIMATIONS_CSV)
    assert resp.status_code == 422
    assert "Deze legitimatie bestaat al" in resp.get_data(as_text=True)
    assert _count(db, Legitimation) == 4


def test_comma_file_without_bom_and_unknown_codes(db, reference, app):
    bsn = new_bsn()
    report = imports.import_clients(
        db, f"BSN,Achternaam,Geboortedatum\n{bsn},Smit,1970-05-05\n".encode(), user_id=None
    )
    assert report.ok and report.imported == 1
    db.commit()
    with app.app_context():
        from portal.app import hooks

        data = (
            "bsn,financiering,financiercode,productcodes,begindatum\n"
            f"{bsn},wmo,0344,BG-IND,2026-01-01\n"
            f"{bsn},wmo_jw,9999,BG-IND,2026-01-01\n"
            f"{bsn},wlz,5503,XX-1,2026-01-01\n"
        ).encode()
        report = imports.import_legitimations(db, hooks(), data, user_id=None)
    fields = [(e.row, e.field) for e in report.errors]
    assert fields == [(2, "financiering"), (3, "financiercode"), (4, "productcodes")]


def test_header_problems_reported(db):
    report = imports.import_clients(db, b"bsn;achternaam;geboortedatum;schoenmaat\n", user_id=None)
    assert [(e.row, e.field) for e in report.errors] == [(1, "schoenmaat")]
    report = imports.import_clients(db, b"bsn;achternaam\n", user_id=None)
    assert [(e.row, e.field) for e in report.errors] == [(1, "geboortedatum")]


def test_file_problems_refused_with_a_dutch_message(client, backoffice, db, app, monkeypatch):
    with pytest.raises(imports.ImportFileError, match="geen UTF-8"):
        imports.read_csv("bsn;achternaam\n1;Müller\n".encode("latin-1"))
    with pytest.raises(imports.ImportFileError, match="leeg"):
        imports.read_csv(b"")
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024)
    big = b"bsn;achternaam;geboortedatum\n" + b"x" * 2000
    resp = _upload(client, "clienten", big)
    assert resp.status_code == 422
    assert "Het bestand is te groot" in resp.get_data(as_text=True)
    resp = client.post("/import/clienten", data={}, content_type="multipart/form-data")
    assert "Kies een CSV-bestand." in resp.get_data(as_text=True)
    assert _count(db, Client) == 0


def test_cli_import(app, reference, db, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "clienten.csv"
    path.write_bytes(CLIENTS_CSV)
    result = runner.invoke(args=["import-clients", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 van 3 regels ingelezen" in result.output
    path2 = tmp_path / "legitimaties.csv"
    path2.write_bytes(LEGITIMATIONS_CSV)
    result = runner.invoke(args=["import-legitimations", str(path2)])
    assert result.exit_code == 0, result.output
    assert _count(db, Legitimation) == 4
    # the same clients again: refused per row, exit code 1, nothing changed
    result = runner.invoke(args=["import-clients", str(path)])
    assert result.exit_code == 1
    assert "regel 2, bsn: Er is al een cliënt met dit BSN." in result.output
    assert _count(db, Client) == 3


def test_import_needs_permission(client, lezer, db):
    assert client.get("/import/").status_code == 403
    assert _upload(client, "clienten", CLIENTS_CSV).status_code == 403
    assert _count(db, Client) == 0
