"""The Wlz part of the demo: the zorgkantoor contract's functie codes, the demo's Wlz clients
as toewijzingen from an AW33 (besluitnummer, functie, start accepted), one new AW33 waiting to be
started, and the AW33 the demo screen lets the simulated zorgkantoor send."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.wlz import chain, financier
from plugins.wlz import messages as msgs
from plugins.wlz.standard import current
from portal.models import Client, Contract, ContractLine, Financier, Legitimation

# the demo's own products → the iWlz functie they are delivered under
FUNCTIE_OF_PRODUCT = {"PV-UUR": "31", "VP-UUR": "41", "BG-IND": "81"}


def _zorgkantoor(session: Session) -> Financier | None:
    return session.scalar(
        select(Financier).where(Financier.financing == chain.CODE).order_by(Financier.id).limit(1)
    )


def _contract_lines(session: Session, fin: Financier) -> list[ContractLine]:
    return list(
        session.scalars(
            select(ContractLine)
            .join(Contract, Contract.id == ContractLine.contract_id)
            .where(Contract.financier_id == fin.id)
        )
    )


def seed(session: Session, today: date, settings) -> int:
    fin = _zorgkantoor(session)
    agb = chain.own_agb(session)
    if fin is None or not agb:
        return 0
    store = financier.store_for(settings)
    for cl in _contract_lines(session, fin):
        code = FUNCTIE_OF_PRODUCT.get(cl.product.code)
        if code and cl.productcategorie is None:
            cl.productcategorie = code
    legs = session.scalars(
        select(Legitimation)
        .where(Legitimation.financing == chain.CODE, Legitimation.toewijzingnummer.is_(None))
        .order_by(Legitimation.id)
    ).all()
    for n, leg in enumerate(legs):
        code = next(
            (FUNCTIE_OF_PRODUCT[p.code] for p in leg.products if p.code in FUNCTIE_OF_PRODUCT), "31"
        )
        besluit = str(300100001 + n)
        klasse = "K1" if (leg.volume or 2) <= 2 else "K2"
        s = {
            "besluitnummer": besluit,
            "soort": "functie",
            "code": code,
            "toewijzing_ingangsdatum": leg.begindatum.isoformat(),
            "einddatum": leg.einddatum.isoformat() if leg.einddatum else None,
            "klasse": klasse,
            "leveringsvorm": None,
            "etmalen": None,
            "percentage": None,
            "instelling": agb,
            "zorgkantoor": fin.code,
            "reden_intrekking": None,
            "indicatie": {
                "soort": "1",
                "afgiftedatum": (leg.begindatum - timedelta(days=14)).isoformat(),
                "ingangsdatum": leg.begindatum.isoformat(),
                "einddatum": None,
                "grondslagen": ["01"],
            },
            "aw33": f"DEMO{n:08d}",
            "start": {
                "datum": leg.begindatum.isoformat(),
                "status": chain.GEACCEPTEERD,
                "bericht": f"DEMOS{n:07d}",
                "codes": [],
            },
            "historie": [
                {
                    "datum": leg.begindatum.isoformat(),
                    "bericht": f"DEMO{n:08d}",
                    "tekst": "Toegewezen (AW33)",
                },
                {
                    "datum": leg.begindatum.isoformat(),
                    "bericht": f"DEMOS{n:07d}",
                    "tekst": "AW36: start geaccepteerd",
                },
            ],
        }
        leg.toewijzingnummer = besluit
        leg.productcategorie = code
        leg.bron = "bericht"
        chain._save(leg, s)
        store.save(
            fin.code,
            agb,
            leg.client.bsn,
            besluit,
            msgs.Toewijzing(
                "functie",
                code,
                agb,
                fin.code,
                leg.begindatum,
                einddatum=leg.einddatum,
                klasse=klasse,
            ),
        )
    # one new toewijzing that waits for its start (the worklist's first item)
    draft = new_aw33(session, settings, today, rng=random.Random(11))
    outcome = chain.process(session, draft.payload, today=today)
    session.flush()
    return len(legs) + len(outcome.client_ids)


def new_aw33(session: Session, settings, today: date, *, rng: random.Random | None = None):
    """An AW33 from the demo's zorgkantoor for a new client: a functie from the contract (and a
    ZZP when the contract has one), from the first of last month."""
    from portal.demo import generate_bsn

    rng = rng or random.Random()
    fin = _zorgkantoor(session)
    agb = chain.own_agb(session)
    lines = [cl for cl in _contract_lines(session, fin)] if fin else []
    codes = current(today).codes
    functies = [
        cl.productcategorie for cl in lines if cl.productcategorie in codes("LDT_FunctieCode")
    ]
    zzps = [cl.productcategorie for cl in lines if cl.productcategorie in codes("LDT_ZzpCode")]
    if fin is None or not agb or not (functies or zzps):
        raise ValueError(
            "Voor de demo is een AGB-code en een Wlz-contract nodig waarvan een regel een "
            "functiecode of ZZP-code als productcategorie heeft."
        )
    bsn = generate_bsn(rng)
    while session.scalar(select(Client.id).where(Client.bsn == bsn)):
        bsn = generate_bsn(rng)
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    toew = [
        msgs.Toewijzing("functie", code, agb, fin.code, start, klasse="K1")
        for code in sorted(set(functies))[:2]
    ]
    if zzps:
        toew.append(msgs.Toewijzing("zzp", zzps[0], agb, fin.code, start, leveringsvorm="4"))
    persoon = msgs.Persoon(
        bsn=bsn,
        geboortedatum=date(1930 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28)),
        geslacht=rng.choice("12"),
        achternaam=rng.choice(["de Vries", "van Dijk", "Willems", "Hendriks", "Dekker", "Bos"]),
        voorletters=rng.choice("ABCDEHJKMPW"),
        straat="Oudegracht",
        huisnummer=str(rng.randint(1, 200)),
        postcode="3511AB",
        plaats="Utrecht",
    )
    besluit = str(financier.store_for(settings).next(f"besluit-{fin.code}", start=300200001))
    indicatie = msgs.Indicatie(
        besluitnummer=besluit,
        afgiftedatum=start - timedelta(days=10),
        ingangsdatum=start,
        grondslagen=["02"],
        toewijzingen=toew,
    )
    return financier.issue_aw33(settings, fin.code, agb, persoon, indicatie, today=today)
