"""Builders of valid iWmo/iJw messages from plain data, shared by the tests of this plugin."""

from __future__ import annotations

from datetime import date

from plugins.wmo_jw import messages as m
from plugins.wmo_jw.standard import Standard

AGB = "12345678"
GEMEENTE = "0363"
BSN = "999900006"
BSN2 = "999900018"
TODAY = date(2026, 11, 5)


def header(sender=AGB, receiver=GEMEENTE, ident="ID0001", day=TODAY) -> m.Header:
    return m.Header(afzender=sender, ontvanger=receiver, identificatie=ident, dagtekening=day)


def persoon(bsn=BSN) -> m.Persoon:
    return m.Persoon(
        bsn=bsn,
        geboortedatum=date(1950, 3, 1),
        geslacht="2",
        achternaam="Jansen",
        voorvoegsel="de",
        voorletters="A",
        straat="Dorpsstraat",
        huisnummer="12",
        postcode="1234AB",
        plaats="Amsterdam",
        landcode="NL",
        contact_soort="01",
    )


def toewijzing(
    nummer="5001", code="07A05", cat="07", begin=date(2026, 4, 8), end=date(2027, 4, 7), **kw
):
    """4 hours a week for a year (an omvang per week has an end date, CD076)."""
    data = dict(
        nummer=nummer,
        categorie=cat,
        code=code,
        toewijzingsdatum=date(2026, 4, 1),
        toewijzingstijd="10:00:00",
        ingangsdatum=begin,
        einddatum=end,
        volume=4,
        eenheid="04",
        frequentie="2",
    )
    data.update(kw)
    return m.Toewijzing(**data)


def bericht(std: Standard, kind: str, **kw) -> m.Bericht:
    gemeente_sends = kind in ("301", "319", "325")
    h = header(GEMEENTE, AGB) if gemeente_sends else header()
    b = m.Bericht(std=std, kind=kind, header=h)
    if kind == "301":
        b.client = persoon()
        b.toewijzingen = [toewijzing()]
    elif kind in ("305", "307"):
        b.client = persoon()
        sp = m.StartStop(
            toewijzingnummer="5001",
            categorie="07",
            code="07A05",
            toewijzing_ingangsdatum=date(2026, 4, 8),
            begindatum=date(2026, 4, 8),
            status="1",
        )
        if kind == "307":
            sp.einddatum = date(2026, 10, 31)
            sp.reden = "02"
        b.producten = [sp]
    elif kind == "315":
        b.client = persoon()
        b.aanvragen = [
            m.Aanvraag(
                referentie="VOT-1",
                categorie="07",
                code="07A05",
                ingangsdatum=date(2026, 12, 1),
                einddatum=date(2027, 5, 31),
                volume=2,
                eenheid="04",
                frequentie="2",
                verwijzer_type="01",
            )
        ]
    elif kind == "317":
        b.client = persoon()
        b.verzoek = m.Verzoek(
            referentie="VOW-1",
            reden="1",
            te_wijzigen=[
                m.Wijziging(
                    toewijzingnummer="5001",
                    ingangsdatum=date(2026, 12, 1),
                    einddatum=date(2027, 5, 31),
                    volume=6,
                    eenheid="04",
                    frequentie="2",
                )
            ],
        )
    elif kind == "319":
        b.antwoord = m.Antwoord(referentie="VOT-1", antwoord="1", reden_afwijzing="1")
    elif kind in ("323", "325"):
        b.declaratie = declaratie()
        if kind == "325":
            b.header.declaratie_identificatie = "ID0001"
            b.header.declaratie_dagtekening = TODAY
            b.declaratie.toegekend_totaal = b.declaratie.totaal
            b.declaratie.toegekend_debet_credit = "D"
            b.declaratie.prestaties = []
            b.declaratie.retourcodes = ["8001"]
    for k, v in kw.items():
        setattr(b, k, v)
    if std.key == "ijw":  # youth categories come from another list
        items = b.toewijzingen + b.producten + b.aanvragen
        items += b.declaratie.prestaties if b.declaratie else []
        items += b.verzoek.te_wijzigen + b.verzoek.nieuw if b.verzoek else []
        for item in items:
            if getattr(item, "categorie", None) == "07":
                item.categorie, item.code = "45", "45A48"
    return b


def prestatie(ref="R1", bsn=BSN, begin=date(2026, 10, 1), end=date(2026, 10, 31), **kw):
    data = dict(
        referentie=ref,
        bsn=bsn,
        toewijzingnummer="5001",
        categorie="07",
        code="07A05",
        begindatum=begin,
        einddatum=end,
        volume=10,
        eenheid="04",
        tarief=5000,
        bedrag=50000,
        debet_credit="D",
    )
    data.update(kw)
    return m.Prestatie(**data)


def declaratie(prestaties=None) -> m.Declaratie:
    prestaties = (
        prestaties
        if prestaties is not None
        else [prestatie("R1"), prestatie("R2", BSN2, toewijzingnummer="5002")]
    )
    total = sum(p.signed_cents for p in prestaties)
    return m.Declaratie(
        nummer="202610001",
        periode_begin=date(2026, 10, 1),
        periode_eind=date(2026, 10, 31),
        dagtekening=TODAY,
        totaal=abs(total),
        debet_credit="C" if total < 0 else "D",
        prestaties=prestaties,
    )
