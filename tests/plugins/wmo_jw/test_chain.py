"""The chain through the simulated gemeente: 301→302, 305→306, 307→308, 315→316, 317→318, 319→320."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.wmo_jw import chain, financier
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IJW, IWMO
from portal.models import Client, Financier, Legitimation
from tests.plugins.wmo_jw.factories import AGB, BSN, GEMEENTE, TODAY, persoon, toewijzing


def issue(settings, toewijzingen, std=IWMO, who=None):
    return financier.issue_301(
        settings, std, GEMEENTE, AGB, who or persoon(), toewijzingen, today=TODAY
    )


def legs(db):
    return {
        leg.toewijzingnummer: leg
        for leg in db.scalars(select(Legitimation).where(Legitimation.financing == "wmo_jw"))
    }


def test_301_creates_client_gemeente_and_toewijzingen_and_answers_302(db, org, gemeente_settings):
    draft = issue(
        gemeente_settings,
        [
            toewijzing("5001"),
            # a budget for a category of its own (the same category would overlap, TR302)
            toewijzing(
                "5002",
                cat="02",
                code=None,
                volume=None,
                eenheid=None,
                frequentie=None,
                budget=150000,
            ),
        ],
    )
    outcome = chain.process(db, draft.payload, today=TODAY)
    db.commit()
    assert outcome.code == "WMO301" and "2 nieuw" in outcome.summary
    client = db.scalar(select(Client).where(Client.bsn == BSN))
    assert client.achternaam == "Jansen" and client.postcode == "1234AB"
    assert outcome.client_ids == [client.id]
    fin = db.scalar(select(Financier).where(Financier.code == GEMEENTE))
    assert fin.soort == "gemeente" and fin.financing == "wmo_jw"
    found = legs(db)
    assert found["5001"].eenheid == "uur" and found["5001"].frequentie == "week"
    assert found["5001"].volume == 4 and found["5001"].sleutels["eenheid"] == "04"
    assert found["5002"].budget_cents == 150000 and found["5002"].productcode is None
    # the 302: a valid retour on exactly this 301, header only because all is fine
    (reply,) = outcome.replies
    retour = m.parse(reply.payload)
    assert (
        retour.kind == "302"
        and retour.header.identificatie == m.parse(draft.payload).header.identificatie
    )
    assert retour.client is None and reply.geadresseerde == ("Gemeente", GEMEENTE)


def test_301_is_a_snapshot_changes_and_removals(db, org, gemeente_settings):
    chain.process(
        db,
        issue(gemeente_settings, [toewijzing("5001"), toewijzing("5002", code="07A06")]).payload,
        today=TODAY,
    )
    changed = toewijzing("5001", volume=8, toewijzingsdatum=date(2026, 5, 1))
    deleted = toewijzing(  # a deletion ends on its ingangsdatum (CS335)
        "5003", reden_wijziging="13", toewijzingsdatum=date(2026, 5, 1), end=date(2026, 4, 8)
    )
    outcome = chain.process(db, issue(gemeente_settings, [changed, deleted]).payload, today=TODAY)
    db.commit()
    found = legs(db)
    assert found["5001"].volume == 8 and found["5001"].status == "actief"
    assert found["5002"].status == "vervallen"  # no longer in the snapshot
    assert found["5003"].status == "vervallen" and found["5003"].reden_wijziging == "13"
    assert "1 bijgewerkt" in outcome.summary and "2 vervallen" in outcome.summary
    # an older toewijzing arriving late does not overwrite the newer one (IV013)
    chain.process(db, issue(gemeente_settings, [toewijzing("5001", volume=2)]).payload, today=TODAY)
    assert legs(db)["5001"].volume == 8


def test_301_for_another_provider_is_refused_with_0001(db, org, gemeente_settings):
    draft = financier.issue_301(
        gemeente_settings, IWMO, GEMEENTE, "87654321", persoon(), [toewijzing()], today=TODAY
    )
    outcome = chain.process(db, draft.payload, today=TODAY)
    assert outcome.needs_action and "87654321" in outcome.summary
    assert m.parse(outcome.replies[0].payload).header.retourcodes == ["0001"]
    assert legs(db) == {}


@pytest.mark.parametrize(
    "payload",
    [
        b"<not-xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<wmo301:Bericht xmlns:wmo301="http://www.istandaarden.nl/iwmo/3_2/wmo301/schema">&e;'
        b"</wmo301:Bericht>",
        b'<wmo301:Bericht xmlns:wmo301="http://www.istandaarden.nl/iwmo/3_2/wmo301/schema"/>',
    ],
    ids=["broken", "entity", "xsd"],
)
def test_hostile_301_is_refused_and_nothing_changes(db, org, payload):
    outcome = chain.process(db, payload, today=TODAY)
    if payload.startswith(b"<not"):
        assert outcome is None  # not recognisable as iWmo/iJw: the core keeps it as "onbekend"
        return
    assert outcome.summary.startswith("Geweigerd") and outcome.needs_action
    assert outcome.replies == [] and legs(db) == {}


def _toewijzing_in(db, settings, std=IWMO):
    t = toewijzing("5001") if std is IWMO else toewijzing("5001", cat="45", code="45A48")
    chain.process(db, issue(settings, [t], std=std).payload, today=TODAY)
    db.commit()
    return legs(db)["5001"]


@pytest.mark.parametrize("std", [IWMO, IJW], ids=lambda s: s.key)
def test_start_and_stop_round_trip(db, org, gemeente_settings, std):
    leg = _toewijzing_in(db, gemeente_settings, std)
    assert [a["action"] for a in chain.actions(leg)] == ["start"]
    draft = chain.start_draft(db, leg, date(2026, 4, 8), today=TODAY)
    assert draft.code == f"{std.prefix.upper()}305"
    assert chain.actions(leg) == []  # waiting for the 306: nothing to do twice
    (retour,) = financier.reply(draft.payload, gemeente_settings)
    outcome = chain.process(db, retour.payload, today=TODAY)
    assert "geaccepteerd" in outcome.summary
    assert outcome.answers_reference == draft.reference
    assert chain.starts(leg)[0]["status"] == "geaccepteerd"
    assert [a["action"] for a in chain.actions(leg)] == ["stop", "start_intrekken"]
    # a second start while the first is active is blocked before it leaves (TR326)
    with pytest.raises(chain.RuleError) as exc:
        chain.start_draft(db, leg, date(2026, 5, 1), today=TODAY)
    assert exc.value.issues[0].code == "9326"
    # stop with a reason of the right standard
    reden = "19" if std is IWMO else "31"
    with pytest.raises(chain.RuleError):
        chain.stop_draft(db, leg, date(2026, 10, 31), "19" if std is IJW else "32", today=TODAY)
    stop = chain.stop_draft(db, leg, date(2026, 10, 31), reden, today=TODAY)
    (retour,) = financier.reply(stop.payload, gemeente_settings)
    assert m.parse(retour.payload).kind == "308"
    outcome = chain.process(db, retour.payload, today=TODAY)
    assert "Stop zorg geaccepteerd" in outcome.summary
    assert chain.starts(leg)[0]["stop_status"] == "geaccepteerd"
    assert leg.status == "actief"  # the toewijzing itself goes on (the gemeente decides that)
    # the same 308 again (VECOZO may offer it twice): nothing changes
    again = chain.process(db, retour.payload, today=TODAY)
    assert "al verwerkt" in again.summary and chain.starts(leg)[0]["stop_status"] == "geaccepteerd"
    # stopped: only the correction of the stop is offered (withdraw it, 307 status 3)
    assert [a["action"] for a in chain.actions(leg)] == ["stop_intrekken"]


def test_gemeente_rejects_a_start_it_already_has_with_9074(db, org, gemeente_settings):
    leg = _toewijzing_in(db, gemeente_settings)
    first = chain.start_draft(db, leg, date(2026, 4, 8), today=TODAY)
    financier.reply(first.payload, gemeente_settings)
    # the portal lost track (e.g. restored backup) and sends the same start again
    leg.sleutels = {**leg.sleutels, "starts": []}
    again = chain.start_draft(db, leg, date(2026, 4, 8), today=TODAY)
    (retour,) = financier.reply(again.payload, gemeente_settings)
    outcome = chain.process(db, retour.payload, today=TODAY)
    assert outcome.needs_action and "afgewezen" in outcome.summary
    assert chain.starts(leg)[-1]["status"] == "afgewezen"
    assert chain.starts(leg)[-1]["codes"] == ["9074"]
    assert [i.code for i in outcome.issues] == ["9074"]
    # an identical identificatie is refused at header level (TR056)
    (dup,) = financier.reply(again.payload, gemeente_settings)
    assert m.parse(dup.payload).header.retourcodes == ["9056"]


def test_start_for_unknown_toewijzing_is_rejected_9019(db, org, gemeente_settings):
    leg = _toewijzing_in(db, gemeente_settings)
    leg.toewijzingnummer = "424242"
    draft = chain.start_draft(db, leg, date(2026, 4, 8), today=TODAY)
    (retour,) = financier.reply(draft.payload, gemeente_settings)
    parsed = m.parse(retour.payload)
    assert parsed.producten[0].retourcodes == ["9019"]


def test_vot_is_answered_with_316_and_a_301(db, org, gemeente_settings):
    leg = _toewijzing_in(db, gemeente_settings)
    aanvraag = m.Aanvraag(  # another product: the same one would overlap 5001 (TR302)
        referentie="VOT-77",
        categorie="07",
        code="07A06",
        ingangsdatum=date(2026, 12, 1),
        einddatum=date(2027, 11, 30),
        volume=3,
        eenheid="04",
        frequentie="2",
        verwijzer_type="01",
    )
    draft = chain.vot_draft(db, leg.client, leg.financier, IWMO, [aanvraag], today=TODAY)
    retour, toewijzing_301 = financier.reply(draft.payload, gemeente_settings)
    outcome = chain.process(db, retour.payload, today=TODAY)
    # vot_draft alone records no Verzoek: an unmatched retour asks the user to check it
    assert "goedgekeurd" in outcome.summary and outcome.needs_action
    chain.process(db, toewijzing_301.payload, today=TODAY)
    new = [x for x in legs(db).values() if x.referentienummer == "VOT-77"]
    assert len(new) == 1 and new[0].volume == 3
    assert legs(db)["5001"].status == "actief"  # the snapshot keeps the existing one
    # the same reference again: 9347
    again = chain.vot_draft(db, leg.client, leg.financier, IWMO, [aanvraag], today=TODAY)
    (retour,) = financier.reply(again.payload, gemeente_settings)
    outcome = chain.process(db, retour.payload, today=TODAY)
    assert outcome.needs_action and [i.code for i in outcome.issues] == ["9347"]


def test_vot_refused_by_gemeente_gets_319_and_we_answer_320(db, org, gemeente_settings):
    leg = _toewijzing_in(db, gemeente_settings)
    settings = {"wmo_jw": {**gemeente_settings["wmo_jw"], "vot_antwoord": "afwijzen"}}
    aanvraag = m.Aanvraag(
        referentie="VOT-9", ingangsdatum=date(2026, 12, 1), verwijzer_type="01", categorie="07"
    )
    draft = chain.vot_draft(db, leg.client, leg.financier, IWMO, [aanvraag], today=TODAY)
    _316, antwoord = financier.reply(draft.payload, settings)
    outcome = chain.process(db, antwoord.payload, today=TODAY)
    assert outcome.code == "WMO319" and outcome.needs_action
    assert "VOT-9" in outcome.summary and "afgewezen" in outcome.summary
    (reply,) = outcome.replies
    assert m.parse(reply.payload).kind == "320"
    assert financier.reply(reply.payload, settings) == []


def test_the_gemeente_refuses_a_second_request_while_one_is_in_onderzoek(
    db, org, gemeente_settings
):
    leg = _toewijzing_in(db, gemeente_settings)
    settings = {"wmo_jw": {**gemeente_settings["wmo_jw"], "vot_antwoord": "onderzoek"}}

    def ask(ref):
        aanvraag = m.Aanvraag(
            referentie=ref, ingangsdatum=date(2026, 12, 1), verwijzer_type="01", categorie="07"
        )
        draft = chain.vot_draft(db, leg.client, leg.financier, IWMO, [aanvraag], today=TODAY)
        return financier.reply(draft.payload, settings)

    retour, antwoord = ask("VOT-1")
    assert m.parse(antwoord.payload).antwoord.antwoord == "2"  # in onderzoek
    (retour,) = ask("VOT-2")  # TR374: one open request per client
    outcome = chain.process(db, retour.payload, today=TODAY)
    assert [i.code for i in outcome.issues] == ["9374"] and "onderhanden" in outcome.summary
    # the gemeente decides (a 301 for the client): a new request is taken in again
    issue(settings, [toewijzing("5001", toewijzingsdatum=date(2026, 6, 1))])
    retour, antwoord = ask("VOT-3")
    outcome = chain.process(db, retour.payload, today=TODAY)
    assert outcome.issues == [] and "goedgekeurd" in outcome.summary


def test_vow_changes_a_toewijzing_through_318_and_301(db, org, gemeente_settings):
    leg = _toewijzing_in(db, gemeente_settings)
    verzoek = m.Verzoek(
        referentie="VOW-1",
        reden="1",
        te_wijzigen=[
            m.Wijziging(
                toewijzingnummer="5001",
                ingangsdatum=date(2026, 12, 1),
                einddatum=date(2027, 4, 7),  # per week: the end date is repeated (CD076)
                volume=6,
                eenheid="04",
                frequentie="2",
            )
        ],
    )
    draft = chain.vow_draft(db, leg.client, leg.financier, IWMO, verzoek, today=TODAY)
    retour, update = financier.reply(draft.payload, gemeente_settings)
    assert "goedgekeurd" in chain.process(db, retour.payload, today=TODAY).summary
    chain.process(db, update.payload, today=TODAY)
    # the gemeente ends the current toewijzing the day before and assigns the new omvang anew,
    # carrying our ReferentieAanbieder (TR379)
    after = legs(db)
    assert (after["5001"].einddatum, after["5001"].volume) == (date(2026, 11, 30), 4)
    (new,) = [leg for nr, leg in after.items() if nr != "5001"]
    assert (new.begindatum, new.volume, new.referentienummer) == (date(2026, 12, 1), 6, "VOW-1")
    # a VOW that forgets a current toewijzing is blocked before it leaves (TR349)
    chain.process(
        db,
        issue(
            gemeente_settings,
            [
                toewijzing("5001", volume=6, toewijzingsdatum=date(2026, 6, 1)),
                toewijzing("5009", code="07A06", toewijzingsdatum=date(2026, 6, 1)),
            ],
        ).payload,
        today=TODAY,
    )
    db.commit()
    db.refresh(leg.client)
    with pytest.raises(chain.RuleError) as exc:
        chain.vow_draft(
            db,
            leg.client,
            leg.financier,
            IWMO,
            m.Verzoek(referentie="VOW-2", reden="1", te_wijzigen=verzoek.te_wijzigen),
            today=TODAY,
        )
    assert "9349" in {i.code for i in exc.value.issues}
