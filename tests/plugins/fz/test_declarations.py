"""Declaring forensische zorg through the core run: GDS801 for zorgprestatiemodel care, FZ303
for ZZP's and extramurale parameters; DJI's GDS802/FZ304 applied line by line in Dutch."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.fz import financier, formats
from portal.models import ContractLine, Message
from portal.models.declaration import Declaration, DeclarationLine
from portal.services import declarations as svc
from tests.plugins.fz.conftest import BSN2, TODAY, answer, approved, place, started


@pytest.fixture
def month(db, hooks, dji_settings, master, make_user):
    """Two started placements and a month of approved care:
    Jansen (VI, klinisch verblijf FZV02) 3 days; De Vries (GVM, begeleiding FZ3A) 2 × 90 min;
    and one hour of begeleiding for Jansen, whose placement does not cover it."""
    worker = make_user()
    a = place(db, hooks, dji_settings)
    b = place(
        db,
        hooks,
        dji_settings,
        bsn=BSN2,
        nummer="PB-2026-0002",
        titel="GVM",
        code="FZ3A",
        naam="De Vries",
    )
    started(db, hooks, dji_settings, a, date(2026, 1, 5))
    started(db, hooks, dji_settings, b, date(2026, 1, 5))
    for day in (2, 3, 4):
        approved(db, worker.id, a.client_id, master["verblijf"], date(2026, 2, day), aantal=1)
    for day in (10, 17):
        approved(db, worker.id, b.client_id, master["begeleiding"], date(2026, 2, day), minutes=90)
    approved(db, worker.id, a.client_id, master["begeleiding"], date(2026, 2, 11), minutes=60)
    db.commit()
    return {"a": a, "b": b, "dji": master["dji"]}


def by_group(prepared):
    return {d.groep: d for d in prepared.declarations}


def test_gds801_and_fz303_from_approved_care(db, hooks, dji_settings, month):
    prepared = svc.prepare(db, month["dji"], date(2026, 2, 1), hooks=hooks)
    db.commit()
    decls = by_group(prepared)
    assert set(decls) == {"GDS801", "FZ303"}
    (klinisch,) = decls["GDS801"].lines
    assert (klinisch.productcode, klinisch.volume, klinisch.eenheid) == ("FZV02", 3, "dag")
    assert klinisch.bedrag_cents == 3 * 45000
    assert klinisch.toelichting == {"plaatsingsnummer": "PB-2026-0001", "titel": "VI"}
    (ambulant,) = decls["FZ303"].lines
    assert (ambulant.productcode, ambulant.volume, ambulant.eenheid) == ("FZ3A", 3, "uur")
    # the hour for Jansen has no placement: not declared, said in Dutch
    assert any(
        i.code == "plaatsing" and "valt niet onder een plaatsing van DJI" in i.message
        for i in prepared.skipped
    )

    sent = {}
    for groep, decl in decls.items():
        (sent[groep],) = svc.submit(db, decl.id, hooks)
    db.commit()
    assert sent["GDS801"].code == "GDS801" and "voorlopig" in sent["GDS801"].standard
    assert sent["FZ303"].code == "FZ303" and bytes(sent["FZ303"].payload)[:5] == b"01303"
    # the GDS801 is valid against its (provisional) schema and says OntvangerRol 4 (DJI)
    fmt = formats.active("GDS801")
    values = fmt.read(bytes(sent["GDS801"].payload))
    assert values["ontvanger"] == "9992" and b"<OntvangerRol>4</OntvangerRol>" in bytes(
        sent["GDS801"].payload
    )

    for groep in decls:
        (retour,) = answer(db, hooks, dji_settings, sent[groep])
        assert retour.financing == "fz"
    for decl in decls.values():
        db.refresh(decl)
        assert decl.status == "beantwoord"
        assert [x.status for x in decl.lines] == ["toegekend"]


def test_rejected_line_is_explained_corrected_and_awarded(db, hooks, dji_settings, month):
    # DJI agreed 440 euro per verblijfsdag; our contract still says 450
    financier.store_for(dji_settings).set_tarief("FZV02", 44000)
    decls = by_group(svc.prepare(db, month["dji"], date(2026, 2, 1), hooks=hooks))
    (msg,) = svc.submit(db, decls["GDS801"].id, hooks)
    db.commit()
    (retour,) = answer(db, hooks, dji_settings, msg)
    line = decls["GDS801"].lines[0]
    db.refresh(line)
    assert line.status == "afgewezen" and line.retourcodes == ["0611"]
    assert retour.needs_action
    assert "Tarief ontbreekt of is niet volgens de afspraak met DJI (Tarief 45000)" in str(
        retour.issues
    )
    assert [x.id for x in svc.rejected_lines(db, "fz")] == [line.id]

    # corrected in the contract; the next run declares the released care again
    cl = db.scalar(select(ContractLine).where(ContractLine.productcode == "FZV02"))
    cl.tarief_cents = 44000
    db.commit()
    again = by_group(svc.prepare(db, month["dji"], date(2026, 2, 1), hooks=hooks))
    (new_line,) = again["GDS801"].lines
    assert new_line.bedrag_cents == 3 * 44000
    (msg2,) = svc.submit(db, again["GDS801"].id, hooks)
    db.commit()
    answer(db, hooks, dji_settings, msg2)
    db.refresh(new_line)
    assert new_line.status == "toegekend"
    assert svc.rejected_lines(db, "fz") == []


def test_line_without_placement_is_refused_before_sending(db, hooks, dji_settings, month):
    decls = by_group(svc.prepare(db, month["dji"], date(2026, 2, 1), hooks=hooks))
    db.commit()
    # the placement loses its number (a typing error fixed the wrong way)
    month["a"].referentienummer = None
    db.commit()
    with pytest.raises(svc.DeclarationError) as exc:
        svc.submit(db, decls["GDS801"].id, hooks)
    assert any(
        "zonder plaatsingsbesluit wordt niet verstuurd" in i.message for i in exc.value.issues
    )
    db.rollback()
    assert db.scalar(select(Message.id).where(Message.code == "GDS801")) is None


def test_provisional_declaration_refused_for_real_vecozo(app, db, hooks, dji_settings, month):
    decls = by_group(svc.prepare(db, month["dji"], date(2026, 2, 1), hooks=hooks))
    db.commit()
    app.config["VECOZO_ENVIRONMENT"] = "acceptatie"
    try:
        with pytest.raises(svc.DeclarationError) as exc:
            svc.submit(db, decls["FZ303"].id, hooks)
    finally:
        app.config["VECOZO_ENVIRONMENT"] = "standin"
    (issue,) = exc.value.issues
    assert issue.code == "voorlopig-formaat" and "voorlopig formaat" in issue.message
    db.rollback()
    assert db.get(Declaration, decls["FZ303"].id).status == "concept"


def test_dji_checks_each_prestatie(dji_settings):
    store = financier.store_for(dji_settings)
    financier.register_placement(
        dji_settings,
        nummer="P1",
        bsn=BSN2,
        agb="73730001",
        titel="P15",
        prestatiecode="FZV03",
        begin=date(2026, 1, 1),
        eind=date(2026, 3, 31),
    )
    line = {
        "plaatsingsnummer": "P1",
        "bsn": BSN2,
        "prestatiecode": "FZV03",
        "referentie": "R1",
        "begindatum": "2026-02-01",
        "einddatum": "2026-02-28",
        "tarief": 1,
    }
    assert (
        financier.check_line(store, "73730001", {**line, "plaatsingsnummer": "P9"})[0][0] == "9501"
    )
    assert financier.check_line(store, "73730002", line)[0][0] == "9509"
    # an ambulant consult is not allowed under a placement from detention (art. 15 Pbw)
    assert (
        financier.check_line(store, "73730001", {**line, "prestatiecode": "FZC01"})[0][0] == "9503"
    )
    outside = {**line, "begindatum": "2026-04-01", "einddatum": "2026-04-30"}
    assert financier.check_line(store, "73730001", outside)[0][0] == "9502"
    assert financier.check_line(store, "73730001", line)[0][0] == "9504"  # no start reported
    store.q("INSERT INTO aanvang VALUES ('P1', '2026-01-02')")
    assert financier.check_line(store, "73730001", line) == []


def test_an_answer_for_unknown_lines_changes_nothing(db, hooks, dji_settings, month):
    decls = by_group(svc.prepare(db, month["dji"], date(2026, 2, 1), hooks=hooks))
    (msg,) = svc.submit(db, decls["GDS801"].id, hooks)
    db.commit()
    (draft,) = financier.reply(bytes(msg.payload), dji_settings, today=TODAY)
    fmt = formats.active("GDS802")
    values = fmt.read(draft.payload)
    values["prestaties"][0]["referentie"] = "ONBEKEND-1"
    forged = type(draft)(**{**draft.__dict__, "payload": fmt.build(values)})
    from tests.plugins.fz.conftest import receive

    retour = receive(db, hooks, forged, answers_to=msg.traceer_id)
    assert "niets is gewijzigd" in retour.summary or "er is niets gewijzigd" in retour.summary
    line = db.scalar(
        select(DeclarationLine).where(DeclarationLine.declaration_id == decls["GDS801"].id)
    )
    assert line.status == "ingediend"
    assert db.get(Declaration, decls["GDS801"].id).status == "ingediend"


def test_hostile_or_huge_retour_is_refused_and_logged(db, hooks, dji_settings, month, caplog):
    from portal.domain import MessageDraft
    from tests.plugins.fz.conftest import receive

    ns = formats.active("GDS802").namespace.encode()
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Retourbericht xmlns="' + ns + b'"><Header>&x;</Header></Retourbericht>'
    )
    huge = b'<?xml version="1.0"?><Retourbericht xmlns="' + ns + b'">' + b" " * (11 * 1024 * 1024)
    for payload in (hostile, huge):
        caplog.clear()
        msg = receive(db, hooks, MessageDraft(standard="x", code="GDS802", payload=payload))
        assert msg.financing == "fz" and msg.needs_action
        assert "geweigerd" in msg.summary and "niets gewijzigd" in msg.summary
        assert any("geweigerd" in r.getMessage() for r in caplog.records)
        assert msg.issues and msg.issues[0]["code"] == "formaat"
    assert db.scalar(select(DeclarationLine.id).where(DeclarationLine.status != "concept")) is None


def test_a_malformed_fz304_changes_nothing(db, hooks, dji_settings, month):
    from portal.domain import MessageDraft
    from tests.plugins.fz.conftest import receive

    decls = by_group(svc.prepare(db, month["dji"], date(2026, 2, 1), hooks=hooks))
    (msg,) = svc.submit(db, decls["FZ303"].id, hooks)
    db.commit()
    (draft,) = financier.reply(bytes(msg.payload), dji_settings, today=TODAY)
    lines = bytes(draft.payload).split(b"\r\n")
    detail = next(i for i, x in enumerate(lines) if x[:2] == b"04")
    lines[detail] = lines[detail][:319] + b"12X45678" + lines[detail][327:]  # toegekend bedrag
    retour = receive(
        db,
        hooks,
        MessageDraft(standard="x", code="FZ304", payload=b"\r\n".join(lines)),
        answers_to=msg.traceer_id,
    )
    assert retour.needs_action and "FZ304 geweigerd" in retour.summary
    line = decls["FZ303"].lines[0]
    db.refresh(line)
    assert line.status == "ingediend"
