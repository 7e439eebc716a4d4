"""The example client in examples/api_client, run as its user would: a CSV in, over real HTTP
to the portal, the statuses printed; the same file again stores nothing twice."""

from __future__ import annotations

import importlib.util
import io
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal.models import Registration

ROOT = Path(__file__).resolve().parents[3]
spec = importlib.util.spec_from_file_location(
    "portaal_client", ROOT / "examples" / "api_client" / "portaal_client.py"
)
portaal_client = importlib.util.module_from_spec(spec)
spec.loader.exec_module(portaal_client)


@pytest.fixture
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def test_push_a_csv_and_print_statuses(server, db, care, make_token, tmp_path, capsys):
    token, _k = make_token(["registraties:schrijven", "statussen:lezen"])
    day = date.today() - timedelta(days=3)
    csv_file = tmp_path / "registraties.csv"
    csv_file.write_text(
        "extern_id;medewerker;client;product;datum;starttijd;duur_minuten\n"
        f"e-1;wijkzorg@test.nl;C-001;PV01;{day};09:00;60\n"
        f"e-2;wijkzorg@test.nl;C-001;PV01;{day};09:30;30\n"
        f"e-3;wijkzorg@test.nl;C-001;PV01;{day + timedelta(days=9)};10:00;30\n",
        encoding="utf-8",
    )
    code = portaal_client.main(["--url", server, "--token", token, str(csv_file)])
    out = capsys.readouterr().out
    assert code == 1  # two refusals
    assert "Regels 1-3: 1 opgeslagen, 0 al ontvangen, 2 geweigerd" in out
    assert "e-2: starttijd: Deze tijd overlapt met je registratie" in out
    assert "e-3: datum: Je kunt geen zorg registreren op een datum na vandaag." in out
    assert "e-1: Nog niet gefiatteerd" in out and "e-2: onbekend bij het portaal" in out

    code = portaal_client.main(["--url", server, "--token", token, str(csv_file)])
    out = capsys.readouterr().out
    assert "Regels 1-3: 0 opgeslagen, 1 al ontvangen, 2 geweigerd" in out
    assert db.scalar(select(func.count(Registration.id))) == 1


def test_the_shipped_csv_reads():
    rows = portaal_client.read_csv(
        (ROOT / "examples" / "api_client" / "registraties.csv").read_text(encoding="utf-8")
    )
    assert [r["extern_id"] for r in rows] == ["ecd-1001", "ecd-1002"]
    assert rows[0]["duur_minuten"] == 60 and "opmerking" not in rows[0]
    assert rows[1]["opmerking"] == "ochtendzorg"
    assert io  # the client prints to any stream
