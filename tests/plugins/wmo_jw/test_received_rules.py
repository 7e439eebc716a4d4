"""What arrives is checked with the same rules: a broken 301 or 319 gets its retourcode in our
302/320; the simulated gemeente writes 301s that obey the rules and survives a 317 that asks a
change after the toewijzing's end."""

from __future__ import annotations

from datetime import date, timedelta

from lxml import etree
from sqlalchemy import select

from plugins.wmo_jw import chain, financier, rules
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IJW, IWMO
from portal.models import Legitimation
from tests.plugins.wmo_jw.factories import AGB, GEMEENTE, TODAY, bericht, persoon, toewijzing


def _retour_codes(reply_payload: bytes) -> tuple[list[str], dict[str, list[str]]]:
    b = m.parse(reply_payload)
    return b.header.retourcodes, {t.nummer: t.retourcodes for t in b.toewijzingen}


def test_a_301_without_landcode_gets_0001_in_our_302_naming_cd005(db, org):
    root = etree.fromstring(m.build(bericht(IWMO, "301")))
    landcode = root.find(".//{*}Adres/{*}LandCode")
    landcode.getparent().remove(landcode)  # a postcode without its country code
    payload = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    assert m.parse(payload).client.landcode is None  # valid against the XSD: the rule catches it
    outcome = chain.process(db, payload, today=TODAY)
    assert outcome.needs_action and "CD005" in outcome.summary
    assert [i.code for i in outcome.issues] == ["CD005"]
    header, per_product = _retour_codes(outcome.replies[0].payload)
    assert header == ["0001"] and per_product == {}
    assert db.scalar(select(Legitimation)) is None  # nothing taken in


def test_a_301_with_a_toewijzingnummer_twice_is_refused_with_0001_naming_tr101(db, org):
    """Within one message a repeated toewijzingnummer is TR101 (retourcode 0001, the whole
    message); TR332 (9332) is the uniqueness over messages, which the gemeente guards."""
    b = bericht(IWMO, "301")
    b.toewijzingen = [toewijzing("5001"), toewijzing("5001", code="07A06")]
    outcome = chain.process(db, m.build(b), today=TODAY)
    assert [i.code for i in outcome.issues] == ["TR101"]
    header, _ = _retour_codes(outcome.replies[0].payload)
    assert header == ["0001"]
    assert db.scalar(select(Legitimation)) is None


def test_a_broken_319_gets_0001_in_our_320(db, org):
    b = bericht(IJW, "319")
    b.antwoord.reden_afwijzing = "8"  # woonplaatsbeginsel without the responsible gemeente
    outcome = chain.process(db, m.build(b), today=TODAY)
    assert outcome.needs_action and "TR377" in outcome.summary
    (reply,) = outcome.replies
    assert m.parse(reply.payload).kind == "320"
    assert m.parse(reply.payload).header.retourcodes == ["0001"]


def test_the_gemeente_s_301_obeys_the_address_rules(gemeente_settings):
    p = persoon()
    p.landcode = p.contact_soort = None  # what a 315 tells the gemeente: no country, no kind
    draft = financier.issue_301(
        gemeente_settings, IWMO, GEMEENTE, AGB, p, [toewijzing()], today=TODAY
    )
    root = etree.fromstring(draft.payload)
    assert root.findtext(".//{*}Contact/{*}Soort") == "01"
    assert root.findtext(".//{*}Contact/{*}Adres/{*}LandCode") == "NL"
    assert rules.check_message(m.parse(draft.payload), TODAY) == []
    # without an address the contact is not a BRP contact (CD034)
    bare = m.Persoon(  # no address: a phone number then (TR006)
        bsn=p.bsn, geboortedatum=p.geboortedatum, achternaam="Jansen", telefoon="0201234567"
    )
    draft = financier.issue_301(
        gemeente_settings, IWMO, GEMEENTE, AGB, bare, [toewijzing()], today=TODAY
    )
    parsed = m.parse(draft.payload)
    assert parsed.client.contact_soort is None and rules.check_message(parsed, TODAY) == []
    root = etree.fromstring(draft.payload)
    assert root.findtext(".//{*}Contact/{*}Soort") == "02"


def test_the_gemeente_survives_a_317_asking_a_change_after_the_toewijzing_s_end(
    db, org, gemeente_settings
):
    end = TODAY + timedelta(days=20)
    draft = financier.issue_301(
        gemeente_settings, IWMO, GEMEENTE, AGB, persoon(), [toewijzing(end=end)], today=TODAY
    )
    chain.process(db, draft.payload, today=TODAY)
    db.commit()
    b = bericht(IWMO, "317")
    (w,) = b.verzoek.te_wijzigen
    w.ingangsdatum = end + timedelta(days=10)  # after the toewijzing's end
    w.einddatum = end + timedelta(days=100)
    replies = financier.reply(m.build(b), gemeente_settings, today=TODAY)
    retour, update = (m.parse(r.payload) for r in replies)
    assert retour.kind == "318" and update.kind == "301"
    assert rules.check_message(update, TODAY) == []
    by_nr = {t.nummer: t for t in update.toewijzingen}
    assert by_nr["5001"].einddatum == end  # never lengthened
    (new,) = [t for nr, t in by_nr.items() if nr != "5001"]
    assert new.ingangsdatum == w.ingangsdatum and new.einddatum == w.einddatum


def test_the_form_refuses_a_change_after_the_toewijzing_s_end(db, setup):
    from plugins.wmo_jw import verzoeken

    leg = setup["legs"]["5002"]
    leg.einddatum = date.today() + timedelta(days=20)
    db.commit()
    later = date.today() + timedelta(days=30)
    try:
        verzoeken.send_317(
            db,
            leg.client,
            setup["fin"],
            IWMO,
            {
                "reden": "1",
                "actie-5002": "wijzigen",
                "t5002-ingangsdatum": later.isoformat(),
                "t5002-einddatum": (later + timedelta(days=30)).isoformat(),
            },
        )
    except verzoeken.FormErrors as exc:
        assert "na het einde van de toewijzing" in exc.errors["t5002-ingangsdatum"]
    else:  # pragma: no cover - the assertion above is the test
        raise AssertionError("a change after the toewijzing's end was accepted")


def test_the_client_page_limits_dates_and_shows_what_the_301_said(client, db, setup, login_as):
    from portal.domain import Role

    login_as(Role.BACKOFFICE)
    leg = setup["legs"]["5001"]
    today = date.today()
    page = client.get(f"/f/wmo_jw/clienten/{leg.client_id}").get_data(as_text=True)
    # the start: from the toewijzing's ingangsdatum, never after today (TR134)
    assert f'min="{leg.begindatum.isoformat()}" max="{today.isoformat()}"' in page
    assert "TR134" in page
    # what the gemeente's 301 said of the client is kept and shown
    assert "Gegevens van de gemeente (301)" in page and "1234AB" in page and "(NL)" in page
    # a start after today is refused with the rule's code, nothing is sent
    resp = client.post(
        f"/f/wmo_jw/toewijzingen/{leg.id}/start",
        data={"begindatum": (today + timedelta(days=3)).isoformat()},
        follow_redirects=True,
    )
    assert "TR134" in resp.get_data(as_text=True)
    assert chain.starts(db.get(Legitimation, leg.id)) == []


def test_a_325_whose_rejected_lines_do_not_explain_the_totals_needs_a_person_tr342(db, org):
    b = bericht(IWMO, "325")
    b.declaratie.toegekend_totaal = 40000  # 1,000 submitted, 400 awarded, nothing rejected
    outcome = chain.process(db, m.build(b), today=TODAY)
    assert outcome.needs_action and [i.code for i in outcome.issues] == ["TR342"]
    assert outcome.declaration_answer is not None  # the gemeente's decision is still applied
    b.declaratie.toegekend_totaal = b.declaratie.totaal
    outcome = chain.process(db, m.build(b), today=TODAY)
    assert not outcome.needs_action and outcome.issues == []


def test_a_retour_that_repeats_a_broken_heenbericht_is_shown_with_the_rule(db, org):
    """A 308 repeats its 307: a stop whose end lies before its begin (TR018) in what the
    gemeente sends back is not what we sent; a person must look at it."""
    b = bericht(IWMO, "307")
    b.producten[0].einddatum = date(2026, 4, 1)
    retour = m.build_retour(  # with a code the retour repeats the product (IV028)
        IWMO,
        m.build(b),
        identificatie="RET1",
        dagtekening=TODAY,
        codes={("StopProduct", 0): ["9069"]},
    )
    outcome = chain.process(db, retour, today=TODAY)
    assert outcome.needs_action and "TR018" in {i.code for i in outcome.issues}
    assert "TR018" in outcome.summary
    clean = m.build_retour(
        IWMO,
        m.build(bericht(IWMO, "307")),
        identificatie="R2",
        dagtekening=TODAY,
        codes={("StopProduct", 0): ["9069"]},
    )
    assert "TR018" not in {i.code for i in chain.process(db, clean, today=TODAY).issues}


def test_a_301_deleting_a_toewijzing_with_awarded_prestaties_gets_9385(db, org, gemeente_settings):
    from portal.models.declaration import LINE_AWARDED, DeclarationLine

    first = financier.issue_301(
        gemeente_settings, IWMO, GEMEENTE, AGB, persoon(), [toewijzing("5001")], today=TODAY
    )
    chain.process(db, first.payload, today=TODAY)
    db.commit()
    leg = db.scalar(select(Legitimation))
    line = DeclarationLine(
        financing="wmo_jw",
        financier_id=leg.financier_id,
        client_id=leg.client_id,
        legitimation_id=leg.id,
        begindatum=date(2026, 10, 1),
        einddatum=date(2026, 10, 31),
        volume=10,
        eenheid="uur",
        bedrag_cents=50000,
        referentie="R-OKT",
        status=LINE_AWARDED,
    )
    db.add(line)
    db.commit()
    deleted = toewijzing(
        "5001", reden_wijziging="13", end=date(2026, 4, 8), toewijzingsdatum=date(2026, 11, 1)
    )
    b = bericht(IWMO, "301")
    b.toewijzingen = [deleted]
    outcome = chain.process(db, m.build(b), today=TODAY)
    db.commit()
    assert outcome.needs_action and [i.code for i in outcome.issues] == ["9385"]
    header, per_product = _retour_codes(outcome.replies[0].payload)
    assert header == [] and per_product == {"5001": ["9385"]}
    db.refresh(leg)
    assert leg.status == "actief" and leg.reden_wijziging is None  # it stays as it was
    # once the prestatie is credited the gemeente may delete it
    line.status = "gecrediteerd"
    db.commit()
    outcome = chain.process(db, m.build(b), today=TODAY)
    db.commit()
    db.refresh(leg)
    assert outcome.issues == [] and leg.status == "vervallen"
