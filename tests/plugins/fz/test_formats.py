"""DJI's formats are data: each message's provisional format is marked as such, and installing
an official one is adding a version folder (schema or layout + field mapping), nothing else —
exactly as docs/fz.md describes it."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from plugins.fz import formats, placements
from portal.models import Message
from portal.services import declarations as svc
from tests.plugins.fz.conftest import answer, approved, place, started

XML_MESSAGES = ("FZ821", "FZ823", "FZ824", "FZ825", "FZ826", "GDS801", "GDS802")


def test_every_message_has_a_provisional_format_marked_as_such():
    for message in (*XML_MESSAGES, "FZ303", "FZ304"):
        fmt = formats.active(message)
        assert fmt.provisional and "voorlopig formaat" in fmt.label
        assert "voorlopig" in fmt.standard_label
        for path in fmt.folder.iterdir():  # the files say so too, for whoever opens them
            if path.suffix in (".xsd", ".csv"):
                assert "VOORLOPIG FORMAAT" in path.read_text(encoding="utf-8")
        assert formats.check(fmt) == []  # every mapping fits its schema or layout


def _install_official_gds801(root, version="2.0"):
    """What docs/fz.md tells an implementer to do, on a changed copy of the provisional schema:
    a new version folder with the schema (here: other element names and namespace), its
    release.json and a mapping.json naming the new elements."""
    src = root / "gds801" / "0.1-voorlopig"
    dest = root / "gds801" / version
    dest.mkdir()
    xsd = (src / "GDS801.xsd").read_text(encoding="utf-8")
    xsd = xsd.replace("VOORLOPIG FORMAAT van Declaratieportaal", "Officieel schema (proef)")
    xsd = xsd.replace(
        "urn:declaratieportaal:fz:voorlopig:gds801:0.1-voorlopig", "urn:proef:gds801:2"
    )
    xsd = xsd.replace('name="Plaatsingsbesluit"', 'name="PlaatsingsbesluitNummer"')
    xsd = xsd.replace('name="Declaratiebericht"', 'name="GDS801Bericht"')
    (dest / "GDS801.xsd").write_text(xsd, encoding="utf-8")
    (dest / "release.json").write_text(
        json.dumps({"standaard": "gds801", "release": version, "basisschema": "geen.xsd"})
    )
    mapping = json.loads((src / "mapping.json").read_text(encoding="utf-8"))
    mapping.update({"versie": version, "status": "vastgesteld", "root": "GDS801Bericht"})
    text = json.dumps(mapping).replace('["Plaatsingsbesluit",', '["PlaatsingsbesluitNummer",')
    (dest / "mapping.json").write_text(text, encoding="utf-8")


@pytest.fixture
def own_formats(tmp_path, app, dji_settings):
    """The deployment keeps its formats in its own folder (setting ``formaten_map``)."""
    root = tmp_path / "formaten"
    shutil.copytree(formats.FORMATS_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    dji_settings["fz"]["formaten_map"] = str(root)
    formats.reload()
    yield root
    formats.reload()


def test_installing_the_official_gds801_is_a_folder_and_a_mapping(
    app, db, hooks, dji_settings, master, make_user, own_formats
):
    _install_official_gds801(own_formats)
    formats.reload()
    fmt = formats.active("GDS801", dji_settings)
    assert (fmt.version, fmt.provisional) == ("2.0", False)
    assert formats.check(fmt) == []
    assert formats.active("GDS802", dji_settings).provisional  # the answer is still ours

    worker = make_user()
    leg = place(db, hooks, dji_settings)
    started(db, hooks, dji_settings, leg, date(2026, 1, 5))
    approved(db, worker.id, leg.client_id, master["verblijf"], date(2026, 2, 2), aantal=1)
    db.commit()
    (decl,) = svc.prepare(db, master["dji"], date(2026, 2, 1), hooks=hooks).declarations
    # the official GDS801 may go to a real VECOZO environment now
    app.config["VECOZO_ENVIRONMENT"] = "acceptatie"
    try:
        (msg,) = svc.submit(db, decl.id, hooks)
    finally:
        app.config["VECOZO_ENVIRONMENT"] = "standin"
    db.commit()
    payload = bytes(msg.payload)
    assert b"urn:proef:gds801:2" in payload and b"<GDS801Bericht" in payload
    assert b"<PlaatsingsbesluitNummer>PB-2026-0001</PlaatsingsbesluitNummer>" in payload
    assert msg.standard == "DJI v2.0"
    # DJI in the stand-in reads the new version as well, and the answer is applied
    answer(db, hooks, dji_settings, msg)
    db.refresh(decl)
    assert decl.status == "beantwoord" and decl.lines[0].status == "toegekend"


def test_a_pinned_version_wins_over_the_newest(app, dji_settings, own_formats):
    _install_official_gds801(own_formats)
    formats.reload()
    dji_settings["fz"]["formaten"] = {"GDS801": "0.1-voorlopig"}
    assert formats.active("GDS801", dji_settings).provisional
    dji_settings["fz"]["formaten"] = {"GDS801": "9.9"}
    with pytest.raises(formats.FormatError, match=r"Versie 9\.9 van GDS801"):
        formats.active("GDS801", dji_settings)


def test_chain_messages_stay_refused_while_only_gds801_is_official(
    app, db, hooks, dji_settings, master, own_formats
):
    _install_official_gds801(own_formats)
    formats.reload()
    leg = place(db, hooks, dji_settings)
    app.config["VECOZO_ENVIRONMENT"] = "productie"
    try:
        with pytest.raises(placements.ChainError, match="FZ823 wordt niet verstuurd"):
            placements.report_start(db, leg, date(2026, 1, 5), settings=dji_settings)
    finally:
        app.config["VECOZO_ENVIRONMENT"] = "standin"
    db.rollback()
    assert db.query(Message).filter(Message.code == "FZ823").count() == 0


def test_check_names_what_the_mapping_gets_wrong(dji_settings, own_formats):
    _install_official_gds801(own_formats)
    mapping = own_formats / "gds801" / "2.0" / "mapping.json"
    text = mapping.read_text(encoding="utf-8")
    text = text.replace('["Referentie", "referentie"], ', "")  # forgot the reference
    text = text.replace('"PlaatsingsbesluitNummer"', '"Plaatsingsbeslu1tNummer"')  # a typing error
    mapping.write_text(text, encoding="utf-8")
    formats.reload()
    problems = formats.check(formats.active("GDS801", dji_settings))
    assert "GDS801 v2.0: element Plaatsingsbeslu1tNummer staat niet in het schema." in problems
    assert "GDS801 v2.0: de mapping noemt het veld 'referentie' niet." in problems
