"""The placement as legitimation and the chain around it: FZ821 in, FZ823/FZ825 out only when
allowed, DJI's FZ824/FZ826 applied; a provisional format never goes to a real VECOZO."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.fz import placements, worklist
from portal.models import Client, Legitimation, Message
from tests.plugins.fz.conftest import BSN, TODAY, answer, place


def test_fz821_creates_client_and_placement(db, hooks, dji_settings, master):
    leg = place(db, hooks, dji_settings)
    client = db.get(Client, leg.client_id)
    assert client.bsn == BSN and client.achternaam == "Jansen"
    assert leg.financing == "fz" and leg.financier.code == "9992"
    assert leg.bron == "FZ821"
    assert (leg.begindatum, leg.einddatum) == (date(2026, 1, 1), date(2026, 12, 31))
    assert leg.productcode == "FZV02"
    assert leg.sleutels["titel"] == "VI" and leg.sleutels["instelling"] == "73730001"
    # the placement's contract product is linked, so care on it can be declared
    assert [p.code for p in leg.products] == ["FZ-VERBLIJF"]
    msg = db.scalar(select(Message).where(Message.code == "FZ821"))
    assert "Plaatsing PB-2026-0001" in msg.summary and "voorlopig" in msg.standard
    # it needs a start now
    assert db.scalar(select(Legitimation.id).where(worklist.without_start(TODAY))) == leg.id
    assert placements.actions(leg, TODAY)[0]["kind"] == "aanvang"


def test_end_needs_a_start_and_start_needs_the_placement_period(db, hooks, dji_settings, master):
    leg = place(db, hooks, dji_settings, begin=date(2026, 2, 1), eind=date(2026, 6, 30))
    with pytest.raises(placements.ChainError) as exc:
        placements.report_end(db, leg, date(2026, 3, 1), "01", settings=dji_settings, today=TODAY)
    assert "aanvang van de zorg heeft geaccepteerd" in str(exc.value)
    with pytest.raises(placements.ChainError) as exc:
        placements.report_start(db, leg, date(2026, 1, 15), settings=dji_settings, today=TODAY)
    assert "buiten de plaatsing" in str(exc.value)
    with pytest.raises(placements.ChainError) as exc:
        placements.report_start(db, leg, date(2026, 3, 20), settings=dji_settings, today=TODAY)
    assert "pas als de zorg is begonnen" in str(exc.value)
    db.rollback()
    assert db.scalar(select(Message.id).where(Message.code.in_(("FZ823", "FZ825")))) is None


def test_start_and_end_roundtrip_with_dji(db, hooks, dji_settings, master):
    leg = place(db, hooks, dji_settings)
    sent = placements.report_start(db, leg, date(2026, 1, 5), settings=dji_settings, today=TODAY)
    db.commit()
    assert sent.code == "FZ823" and sent.financing == "fz"
    assert leg.keten_stand == placements.AANVANG_VERZONDEN
    # a second click: the start is pending, nothing new is built
    with pytest.raises(placements.ChainError, match="al gemeld"):
        placements.report_start(db, leg, date(2026, 1, 5), settings=dji_settings, today=TODAY)
    db.rollback()
    (retour,) = answer(db, hooks, dji_settings, sent)
    db.refresh(leg)
    assert retour.code == "FZ824" and "geaccepteerd" in retour.summary
    assert leg.keten_stand == placements.GESTART
    assert placements.started_on(leg) == date(2026, 1, 5)
    assert placements.actions(leg, TODAY)[0]["kind"] == "einde"
    # the placement is ended in the portal (Beëindigen): the end of care is still to be reported
    leg.status, leg.einddatum = "beeindigd", date(2026, 3, 1)
    db.commit()
    assert db.scalar(select(Legitimation.id).where(worklist.end_to_report(TODAY))) == leg.id
    assert placements.actions(leg, TODAY)[0]["kind"] == "einde"

    ended = placements.report_end(
        db, leg, date(2026, 3, 1), "01", settings=dji_settings, today=TODAY
    )
    db.commit()
    (retour,) = answer(db, hooks, dji_settings, ended)
    db.refresh(leg)
    assert retour.code == "FZ826" and leg.keten_stand == placements.BEEINDIGD
    assert placements.actions(leg, TODAY) == []


def test_dji_rejects_a_start_for_a_placement_it_does_not_know(db, hooks, dji_settings, master):
    leg = place(db, hooks, dji_settings)
    # the placement number was typed wrongly by hand
    leg.referentienummer = "PB-2026-9999"
    db.commit()
    sent = placements.report_start(db, leg, date(2026, 1, 5), settings=dji_settings, today=TODAY)
    db.commit()
    (retour,) = answer(db, hooks, dji_settings, sent)
    db.refresh(leg)
    assert leg.keten_stand == placements.GEPLAATST  # back in the worklist, to be fixed
    assert leg.sleutels["aanvang"]["status"] == "afgewezen"
    assert leg.sleutels["aanvang"]["codes"] == ["9501"]
    assert retour.needs_action and "Geen plaatsingsbesluit van DJI bekend" in retour.summary


def test_an_unknown_retour_changes_nothing(db, hooks, dji_settings, master):
    leg = place(db, hooks, dji_settings)
    sent = placements.report_start(db, leg, date(2026, 1, 5), settings=dji_settings, today=TODAY)
    db.commit()
    answer(db, hooks, dji_settings, sent)
    # the same retour once more (another traceerId): already processed, nothing changes
    again = answer(db, hooks, dji_settings, sent)[0]
    db.refresh(leg)
    assert leg.keten_stand == placements.GESTART
    assert "niets gewijzigd" in again.summary or "9507" in again.summary


def test_provisional_format_is_never_sent_to_real_vecozo(app, db, hooks, dji_settings, master):
    leg = place(db, hooks, dji_settings)
    app.config["VECOZO_ENVIRONMENT"] = "productie"
    try:
        with pytest.raises(placements.ChainError) as exc:
            placements.report_start(db, leg, date(2026, 1, 5), settings=dji_settings, today=TODAY)
    finally:
        app.config["VECOZO_ENVIRONMENT"] = "standin"
    assert "voorlopig formaat" in str(exc.value) and "niet verstuurd naar VECOZO" in str(exc.value)
    db.rollback()
    assert db.scalar(select(Message.id).where(Message.code == "FZ823")) is None


def test_a_placement_whose_prestatie_does_not_fit_the_titel_is_stored_and_flagged(
    db, hooks, dji_settings, master
):
    leg = place(db, hooks, dji_settings, titel="P15", code="FZC01")  # ambulant from detention
    assert leg is not None  # DJI decided it: stored
    msg = db.scalar(select(Message).where(Message.code == "FZ821"))
    assert msg.needs_action and "Controleer:" in msg.summary
    assert "niet toegestaan bij de titel P15" in msg.summary
