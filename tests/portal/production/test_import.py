"""Registration import: per-row report, all or nothing per file, duplicates refused; CSV upload
and the CLI."""

from __future__ import annotations

import io
from datetime import date

import pytest

from portal.models import Registration
from portal.services import registration_import as imp
from tests.portal.production.factory import organisation, seed_client

HEADER = "medewerker;client;product;datum;starttijd;duur;aantal;opmerking\n"


@pytest.fixture
def setup(db, make_user):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    client.clientnummer = "C-1001"
    employee = make_user("zorgprofessional", email="anna@example.org")
    db.commit()
    return org, client, employee


def run(db, text: str):
    return imp.import_csv(
        db, text.encode(), filename="planning.csv", user_id=None, today=date(2019, 3, 1)
    )


def test_good_file_is_stored(db, setup):
    _org, client, _employee = setup
    report = run(
        db,
        HEADER
        + "anna@example.org;C-1001;PV01;28-01-2019;09:00;1:00;;ochtendzorg\n"
        + f"ANNA@example.org;{client.bsn};PV01;2019-01-29;09:00;90;;\n"
        + "anna@example.org;C-1001;DB01;30-01-2019;13:00;;1;\n",
    )
    assert report.ok and report.stored == 3
    rows = db.query(Registration).order_by(Registration.datum).all()
    assert [(r.duur_minuten, r.aantal, r.bron) for r in rows] == [
        (60, None, "import"),
        (90, None, "import"),
        (None, 1, "import"),
    ]
    # the dagbesteding row has no covering legitimation: a warning, not a refusal
    assert any("legitimatie" in w for w in report.rows[2].warnings)


def test_one_bad_row_stores_nothing_and_reports_per_row(db, setup):
    report = run(
        db,
        HEADER
        + "anna@example.org;C-1001;PV01;28-01-2019;09:00;1:00;;\n"
        + "onbekend@example.org;C-1001;PV01;28-01-2019;11:00;1:00;;\n"
        + "anna@example.org;C-9999;XX;28-01-2019;12:00;0;;\n"
        + "anna@example.org;C-1001;PV01;28-01-2019;09:30;1:00;;\n",
    )
    assert not report.ok and report.stored == 0
    errors = {r.line: r.errors for r in report.rows if r.errors}
    assert "Medewerker 'onbekend@example.org' is onbekend of niet actief." in errors[3]
    assert "Cliënt niet gevonden (gebruik cliëntnummer of BSN)." in errors[4]
    assert "Product 'XX' bestaat niet." in errors[4]
    assert any("overlapt" in e for e in errors[5])
    assert 2 not in errors
    assert db.query(Registration).count() == 0


def test_duplicates_in_file_and_against_the_database(db, setup):
    line = "anna@example.org;C-1001;PV01;28-01-2019;09:00;1:00;;\n"
    report = run(db, HEADER + line + line)
    assert not report.ok
    assert report.rows[1].errors == [
        "Dubbel: regel 2 heeft dezelfde medewerker, cliënt, datum en starttijd."
    ]
    assert db.query(Registration).count() == 0
    assert run(db, HEADER + line).ok
    again = run(db, HEADER + line)
    assert not again.ok and "bestaat al" in again.rows[0].errors[0]
    assert db.query(Registration).count() == 1


def test_bad_files(db, setup):
    assert (
        "Kolommen ontbreken: starttijd" in run(db, "medewerker;client;product;datum\n").problems[0]
    )
    binary = imp.import_csv(db, b"\x00\x01PK", filename="x.xlsx", user_id=None, today=date.today())
    assert binary.problems and "CSV" in binary.problems[0]


def test_upload_needs_import_permission(client, db, setup, login_as):
    login_as("zorgprofessional")
    r = client.post(
        "/registreren/import",
        data={"bestand": (io.BytesIO(HEADER.encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 403


def test_upload_as_backoffice(client, db, setup, backoffice):
    data = HEADER + "anna@example.org;C-1001;PV01;28-01-2019;09:00;1:00;;\n"
    r = client.post(
        "/registreren/import",
        data={"bestand": (io.BytesIO(data.encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200
    assert "1 registratie(s) geïmporteerd" in r.get_data(as_text=True)
    assert db.query(Registration).count() == 1


def test_cli(app, db, setup, tmp_path):
    good = tmp_path / "goed.csv"
    good.write_text(HEADER + "anna@example.org;C-1001;PV01;28-01-2019;09:00;1:00;;\n")
    bad = tmp_path / "fout.csv"
    bad.write_text(HEADER + "anna@example.org;C-1001;PV01;28-01-2019;09:00;0;;\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-registrations", str(bad)])
    assert result.exit_code == 1
    assert "Regel 2: Duur: De duur moet meer dan 0 minuten zijn." in result.output
    result = runner.invoke(args=["import-registrations", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 registratie(s) geïmporteerd." in result.output
    db.expire_all()
    assert db.query(Registration).count() == 1
