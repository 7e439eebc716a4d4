"""A financing from a package outside the repository appears in the portal without core changes.

The example package ``examples/declaratieportaal-voorbeeld`` is built and installed for real (pip,
offline, into a temporary folder) and a separate Python process with that folder on its path
starts the portal: the entry point brings in the financing, the start page lists it, and blocking
it by name removes it again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portal.domain import Role
from portal.plugins import BUILTIN_PLUGINS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "declaratieportaal-voorbeeld"

PROBE = textwrap.dedent(
    """
    import json, os, sys
    from portal.app import create_app

    app = create_app({
        "DATABASE_URL": os.environ["T_DATABASE_URL"],
        "REDIS_URL": os.environ["T_REDIS_URL"],
        "SECRET_KEY": "outside-plugin",
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": False,
        "PLUGIN_SETTINGS": {"voorbeeld": {"max_uren_per_week": 24}},
    })
    hooks = app.extensions["hooks"]
    out = {"financings": {c: i.label for c, i in hooks.financings.items()}}
    if "voorbeeld" in hooks.financings:
        import declaratieportaal_voorbeeld
        out["module"] = declaratieportaal_voorbeeld.__file__
        out["capabilities"] = {c.name: c.available for c in hooks.capabilities("voorbeeld")}
    # Validation through the facade, as the legitimation service calls it.
    from datetime import date
    from portal.models import Client, Financier, Legitimation
    leg = Legitimation(financing="voorbeeld", begindatum=date(2026, 1, 1), volume=30,
                       eenheid="uur", frequentie="week", sleutels={})
    fin = Financier(financing="voorbeeld", soort="instelling", code="123", naam="Inst")
    out["issues"] = [[i.code, i.message, i.severity.value]
                     for i in hooks.validate_legitimation(leg, fin, Client(achternaam="X"))]
    c = app.test_client()
    r = c.post("/login", data={"email": os.environ["T_EMAIL"], "password": os.environ["T_PASSWORD"]})
    assert r.status_code == 302, r.status_code
    out["start_page"] = c.get("/").get_data(as_text=True)
    print("RESULT" + json.dumps(out))
    """
)


DECLARE = textwrap.dedent(
    """
    import json, os
    from datetime import date, time
    from sqlalchemy import func, select
    from portal.app import create_app
    from portal.models import (Client, Contract, ContractLine, Declaration, ExportPart, Financier,
        Legitimation, Message, Organisation, OrganisationAgb, Product, Registration, User)
    from portal.services import declarations

    app = create_app({
        "DATABASE_URL": os.environ["T_DATABASE_URL"],
        "REDIS_URL": os.environ["T_REDIS_URL"],
        "SECRET_KEY": "outside-plugin",
    })
    hooks = app.extensions["hooks"]
    out = {}
    with app.app_context():
        s = app.extensions["db_sessionmaker"]()
        org = Organisation(naam="Zorg BV")
        org.agb_codes.append(OrganisationAgb(agb_code="12345678", locatie="Hoofd", hoofd=True))
        fin = Financier(financing="voorbeeld", soort="instelling", code="87654321", naam="Inst")
        product = Product(code="VB", naam="Voorbeeldzorg", eenheid="uur")
        client = Client(bsn="123456782", achternaam="Jansen", geboortedatum=date(1950, 1, 1))
        s.add_all([org, fin, product, client])
        s.flush()
        contract = Contract(financier_id=fin.id, naam="Opdracht", begindatum=date(2026, 1, 1))
        contract.lines.append(ContractLine(product_id=product.id, eenheid="uur",
                                           tarief_cents=6000, begindatum=date(2026, 1, 1)))
        leg = Legitimation(financing="voorbeeld", financier_id=fin.id, client_id=client.id,
                           begindatum=date(2026, 1, 1), referentienummer="OPD-1", volume=8,
                           eenheid="uur", frequentie="week", status="actief")
        employee = s.scalar(select(User).where(User.email == os.environ["T_EMAIL"]))
        s.add_all([contract, leg] + [
            Registration(client_id=client.id, product_id=product.id, employee_id=employee.id,
                         datum=date(2026, 10, d), starttijd=time(9), duur_minuten=90,
                         status="gefiatteerd")
            for d in (5, 12)
        ])
        s.commit()
        prepared = declarations.prepare(s, fin, date(2026, 10, 1), hooks=hooks)
        s.commit()
        decl = prepared.declaration
        out["nummer"] = decl.nummer
        out["lines"] = [[x.volume, x.eenheid, x.bedrag_cents] for x in decl.lines]
        (msg,) = declarations.submit(s, decl.id, hooks)
        s.commit()
        out["payload"] = bytes(msg.payload).decode()
        (answer,) = hooks.financier_reply(bytes(msg.payload))
        incoming = Message(payload=answer.payload)
        outcome = declarations.apply_outcome(s, hooks.parse_message(incoming, s))
        s.commit()
        out["summary"] = outcome.summary
        out["statuses"] = [x.status for x in s.get(Declaration, decl.id).lines]
        out["awarded"] = s.get(Declaration, decl.id).awarded_cents
        again = declarations.prepare(s, fin, date(2026, 10, 1), hooks=hooks).declaration
        out["again"] = again is None
        out["parts"] = s.scalar(select(func.count(ExportPart.id)).where(ExportPart.active))
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path_factory.mktemp("src") / EXAMPLE.name
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        timeout=180,
    )
    assert (target / "declaratieportaal_voorbeeld" / "hooks.py").exists()
    target.joinpath("_source").write_text(str(source))
    return target


@pytest.fixture
def db(app):
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


def probe(app, user, site: Path, script: str = PROBE, **env) -> dict:
    from tests.conftest import PASSWORD

    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        "T_DATABASE_URL": app.config["DATABASE_URL"],
        "T_REDIS_URL": app.config["REDIS_URL"],
        "T_EMAIL": user.email,
        "T_PASSWORD": PASSWORD,
        "PORTAL_INSTANCE": str(site.parent / "instance"),
        **env,
    }
    if "PORTAL_PLUGINS_BLOCKED" not in env:
        full_env.pop("PORTAL_PLUGINS_BLOCKED", None)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(site.parent),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


def test_the_example_is_not_part_of_the_core():
    assert not any("voorbeeld" in name for name in BUILTIN_PLUGINS)
    import importlib.util

    assert importlib.util.find_spec("declaratieportaal_voorbeeld") is None


def test_outside_plugin_appears_in_hooks_and_on_the_start_page(app, installed, make_user):
    user = make_user(Role.BACKOFFICE)
    out = probe(app, user, installed)
    assert out["financings"]["voorbeeld"] == "Voorbeeldfinanciering"
    assert len(out["financings"]) == 8  # the seven built-ins plus the outside one
    assert out["module"].startswith(str(installed))  # loaded from the installed package
    # Its validation runs through the facade, with its own setting (24 uur per week).
    issues = {code: (msg, sev) for code, msg, sev in out["issues"]}
    assert set(issues) == {"financier-code", "referentienummer", "omvang-hoog"}
    assert issues["omvang-hoog"] == (
        "Meer dan 24 uur per week is ongebruikelijk; controleer de opdracht.",
        "waarschuwing",
    )
    # What it does not implement shows as not available, never faked (a financing that
    # declares by message is not asked for PDF invoices).
    assert out["capabilities"] == {
        "build_declaration": True,
        "parse_message": True,
        "chain_actions": False,
    }
    page = out["start_page"]
    assert "Voorbeeldfinanciering" in page
    assert "Een voorbeeld van een financiering uit een eigen pakket" in page


def test_blocking_the_outside_plugin_by_name_removes_it(app, installed, make_user):
    user = make_user(Role.BACKOFFICE)
    out = probe(app, user, installed, PORTAL_PLUGINS_BLOCKED="voorbeeld")
    assert "voorbeeld" not in out["financings"]
    assert len(out["financings"]) == 7
    assert "Voorbeeldfinanciering" not in out["start_page"]
    assert out["issues"] == []  # nobody validates a financing that is not loaded


def test_the_outside_plugin_declares_its_own_fixed_width_format_through_the_run(
    app, installed, make_user
):
    """Point 9 of issue 10: an outside package declares through the portal's run: approved care
    chosen by the core, lines made by the plugin, a layout table shipped in its own package built
    and checked by portal.formats.ei, the institution's retour read by the plugin and applied by
    the core. Installed for real and found through its entry point."""
    user = make_user(Role.BACKOFFICE)
    out = probe(app, user, installed, DECLARE)
    # two registrations of 90 minutes in October: one line of 180 minutes at 100 cents a minute
    assert out["lines"] == [[180, "minuut", 18000]]
    records = [r for r in out["payload"].split("\r\n") if r]
    assert records[0].startswith("01VB011234567887654321" + out["nummer"])
    assert records[1].startswith("04000001123456782OPD-1")
    assert records[2].startswith("99000001") and len({len(r) for r in records}) == 1
    assert out["summary"] == f"Declaratie {out['nummer']} is volledig toegekend."
    assert out["statuses"] == ["toegekend"] and out["awarded"] == 18000
    assert out["again"] is True and out["parts"] == 2  # each registration exported once


def test_the_examples_own_tests_pass(installed):
    source = Path(installed.joinpath("_source").read_text())  # the copy, so nothing lands in git
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(source),
            str(source / "tests"),
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(source),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "5 passed" in proc.stdout
