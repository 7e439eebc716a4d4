"""A year of the whole chain through the services and the simulated gemeente: a 315 answered by
a 316 and a 301, a start (305/306), every month of 2028 declared on its last day (323/325, with
29 February and December), two requests for a change (317 answered by a 318 and a 301: in June
the toewijzing is lengthened into 2029, in November shortened back to the year's end), a stop
(307/308). Every message either side writes obeys every rule;
the gemeente awards every month. "Today" is driven through the services' date parameters."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import object_session

from plugins.wmo_jw import chain, financier, rules, verzoeken
from plugins.wmo_jw import declaration as declaring
from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import IWMO
from portal.app import hooks
from portal.models import Client, Contract, ContractLine, Financier, Legitimation, Message, Product
from portal.services import declarations as svc
from tests.plugins.wmo_jw.factories import BSN, GEMEENTE

RULED = {"301", "305", "307", "315", "317", "319", "323", "325"}
RETOURS = {"302", "306", "308", "316", "318"}


class DayHooks:
    """The portal's hooks, with the two a 323 is checked and built by run on a given day."""

    def __init__(self, day: date):
        self.day = day

    def __getattr__(self, name):
        return getattr(hooks(), name)

    def validate_declaration(self, decl):
        return declaring.issues(decl, object_session(decl), today=self.day)

    def build_declaration(self, decl, session):
        return declaring.drafts(decl, session, today=self.day)


def test_a_year_of_the_chain_breaks_no_rule(db, org, gemeente_settings):
    seen: list[tuple[str, date]] = []

    def check(payload: bytes, day: date) -> m.Bericht:
        b = m.parse(payload)  # XSD first
        if b.kind in RULED:
            assert rules.check_message(b, day) == [], (b.kind, day)
        if b.kind in RETOURS:  # what a retour repeats obeys the heenbericht's rules
            assert chain.received_rule_issues(b, day) == [], (b.kind, day)
        assert b.header.xsd_versie == b.std.xsd_versions(b.kind)
        seen.append((b.kind, day))
        return b

    def gemeente_answers(payload: bytes, day: date) -> list[m.Bericht]:
        check(payload, day)
        out = []
        for answer in financier.reply(payload, gemeente_settings, today=day):
            b = check(answer.payload, day)
            # the plugin reads, the core applies (a 325 to its declaration)
            outcome = svc.apply_outcome(db, chain.process(db, answer.payload, today=day))
            for reply in outcome.replies:  # our 302/320
                check(reply.payload, day)
            out.append(b)
        db.commit()
        return out

    fin = Financier(financing="wmo_jw", soort="gemeente", code=GEMEENTE, naam="Gemeente")
    product = Product(code="BEG", naam="Begeleiding", eenheid="uur")
    person = Client(bsn=BSN, achternaam="Jansen", geboortedatum=date(1950, 3, 1))
    db.add_all([fin, product, person])
    db.flush()
    contract = Contract(financier_id=fin.id, naam="Wmo", begindatum=date(2027, 1, 1))
    contract.lines.append(
        ContractLine(
            product_id=product.id,
            productcategorie="07",
            productcode="07A05",
            eenheid="uur",
            tarief_cents=5000,
            begindatum=date(2027, 1, 1),
        )
    )
    db.add(contract)
    financier.store_for(gemeente_settings).set_tarief(GEMEENTE, "07", "07A05", 5000)
    db.commit()

    # 315 → 316 + 301 (the request is granted)
    asked = date(2028, 1, 3)
    verzoek = verzoeken.send_315(
        db,
        person,
        {
            "gemeente": str(fin.id),
            "wet": "iwmo",
            "categorie": "07",
            "productcode": "07A05",
            "ingangsdatum": "2028-01-05",
            "einddatum": "2028-12-31",
            "volume": "10",
            "eenheid": "04",
            "frequentie": "2",
            "verwijzer_type": "02",
            "verwijzer_naam": "Dr. Pietersen",
        },
        today=asked,
    )
    db.commit()
    answers = gemeente_answers(db.get(Message, verzoek.message_id).payload, asked)
    assert [b.kind for b in answers] == ["316", "301"]
    db.refresh(verzoek)
    assert verzoek.status == "toegekend"
    leg = db.scalar(select(Legitimation).where(Legitimation.referentienummer == verzoek.referentie))

    # the start cannot be reported before the toewijzing starts (TR134); on its first day it can
    assert chain.actions(leg, today=asked) == []
    first = date(2028, 1, 5)
    (start,) = [a for a in chain.actions(leg, today=first) if a["action"] == "start"]
    assert start["min"] == start["max"] == first
    gemeente_answers(chain.start_draft(db, leg, first, today=first).payload, first)
    assert chain.starts(leg)[-1]["status"] == "geaccepteerd"

    def vow(day: date, ingangsdatum: date, einddatum: date) -> None:
        """A 317 from the form: the toewijzing's end date changes, its omvang is repeated."""
        nr = leg.toewijzingnummer
        request = verzoeken.send_317(
            db,
            person,
            fin,
            IWMO,
            {
                "reden": "1",
                f"actie-{nr}": "wijzigen",
                f"t{nr}-ingangsdatum": ingangsdatum.isoformat(),
                f"t{nr}-einddatum": einddatum.isoformat(),
            },
            today=day,
        )
        db.commit()
        sent = m.parse(db.get(Message, request.message_id).payload)
        (w,) = sent.verzoek.te_wijzigen
        assert (w.volume, w.eenheid, w.frequentie) == (10, "04", "2")  # TR411: repeated
        answers = gemeente_answers(db.get(Message, request.message_id).payload, day)
        assert [b.kind for b in answers] == ["318", "301"]
        assert answers[0].verzoek is None  # all well: the 318 is its header alone (IV028)
        db.refresh(request)
        db.refresh(leg)
        assert request.status == "toegekend" and leg.einddatum == einddatum

    # every month declared on its last day: 29 February and 31 December included
    for month in range(1, 13):
        begin = date(2028, month, 1)
        if month == 6:  # lengthen the toewijzing by half a year, from after today (TR357)
            vow(date(2028, 6, 15), date(2028, 6, 16), date(2029, 6, 30))
        if month == 11:  # and back to the year's end, for the whole toewijzing
            vow(date(2028, 11, 10), first, date(2028, 12, 31))
        last = rules.month_end(begin)
        offered = [v for v, _ in declaring.period_choices({"vandaag": last.isoformat()})]
        assert offered[0] == f"{begin:%Y-%m}"
        care = [
            svc.Delivered(
                client_id=person.id,
                product_id=product.id,
                datum=begin.replace(day=d),
                minutes=60,
                registration_id=None,
            )
            for d in (10, 17, 24)
        ]
        decl = svc.prepare(db, fin, begin, care=care, hooks=DayHooks(last)).declaration
        db.commit()
        (message,) = svc.submit(db, decl.id, DayHooks(last))
        db.commit()
        (answer,) = gemeente_answers(message.payload, last)
        assert answer.declaratie.retourcodes == ["8001"], (month, answer.declaratie.retourcodes)

    # the stop on the toewijzing's last day
    end = date(2028, 12, 31)
    gemeente_answers(chain.stop_draft(db, leg, end, "19", today=end).payload, end)
    assert chain.starts(leg)[-1]["stop_status"] == "geaccepteerd"

    kinds = {k for k, _ in seen}
    assert {"315", "316", "301", "302", "305", "306", "323", "325", "307", "308"} <= kinds
    assert [d for k, d in seen if k == "317"] == [date(2028, 6, 15), date(2028, 11, 10)]
    assert len([k for k, _ in seen if k == "318"]) == 2
    assert (("323", date(2028, 2, 29)) in seen) and (("323", date(2028, 12, 31)) in seen)
