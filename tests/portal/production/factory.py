"""Arrangements for the production tests: the seed's Wlz + particulier PV client and friends."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time

from portal.demo import generate_bsn
from portal.models import (
    Client,
    Contract,
    ContractLine,
    Financier,
    Legitimation,
    Product,
    Registration,
    StackRule,
    Uursoort,
    UursoortFinancing,
)
from portal.models.registration import REG_APPROVED

_rng = random.Random(11)


def new_client(session, achternaam: str = "Jansen", team: str = "Team Noord") -> Client:
    while True:
        bsn = generate_bsn(_rng)
        if session.query(Client.id).filter_by(bsn=bsn).first() is None:
            break
    client = Client(
        bsn=bsn,
        achternaam=achternaam,
        voorletters="J.",
        geboortedatum=date(1940, 3, 2),
        team=team,
    )
    session.add(client)
    session.flush()
    return client


@dataclass
class Org:
    pv: Product
    pv_soort: Uursoort
    bg: Product  # begeleiding: a second time product
    dag: Product  # dagbesteding per dagdeel: not a time unit
    zorgkantoor: Financier
    prive: Financier
    gemeente: Financier
    wlz_line: ContractLine
    prive_line: ContractLine


def organisation(session, *, wlz_round: int = 0, prive_round: int = 0) -> Org:
    pv_soort = Uursoort(code="PV", naam="Persoonlijke verzorging")
    pv_soort.financings = [
        UursoortFinancing(financing="wlz", position=1),
        UursoortFinancing(financing="particulier", position=2),
    ]
    bg_soort = Uursoort(code="BG", naam="Begeleiding")
    bg_soort.financings = [
        UursoortFinancing(financing="wmo_jw", position=1),
        UursoortFinancing(financing="wlz", position=2),
        UursoortFinancing(financing="particulier", position=3),
    ]
    session.add_all([pv_soort, bg_soort])
    session.flush()
    pv = Product(code="PV01", naam="Persoonlijke verzorging", eenheid="uur", uursoort=pv_soort)
    bg = Product(code="BG01", naam="Begeleiding individueel", eenheid="uur", uursoort=bg_soort)
    dag = Product(code="DB01", naam="Dagbesteding", eenheid="dagdeel", uursoort=bg_soort)
    zk = Financier(financing="wlz", soort="zorgkantoor", code="5503", naam="Zorgkantoor Utrecht")
    prive = Financier(financing="particulier", soort="client", naam="Cliënt zelf")
    gem = Financier(financing="wmo_jw", soort="gemeente", code="0344", naam="Gemeente Utrecht")
    session.add_all([pv, bg, dag, zk, prive, gem])
    session.flush()
    lines = []
    for fin, rounding in ((zk, wlz_round), (prive, prive_round)):
        contract = Contract(
            financier_id=fin.id, naam=f"Contract {fin.naam}", begindatum=date(2018, 1, 1)
        )
        line = ContractLine(
            product_id=pv.id,
            eenheid="uur",
            tarief_cents=6000,
            begindatum=date(2018, 1, 1),
            afronding_minuten=rounding,
            afronding_wijze="omhoog",
        )
        contract.lines = [line]
        session.add(contract)
        lines.append(line)
    session.flush()
    return Org(pv, pv_soort, bg, dag, zk, prive, gem, lines[0], lines[1])


def legitimation(
    session,
    client: Client,
    financier: Financier,
    products: list[Product],
    *,
    uren: int | None = 2,
    priority: int = 1,
    begin: date = date(2018, 1, 1),
    end: date | None = None,
    eenheid: str = "uur",
) -> Legitimation:
    lg = Legitimation(
        client_id=client.id,
        financing=financier.financing,
        financier_id=financier.id,
        begindatum=begin,
        einddatum=end,
        priority=priority,
        volume=uren,
        eenheid=eenheid if uren is not None else None,
        frequentie="week" if uren is not None else None,
    )
    lg.products = list(products)
    session.add(lg)
    session.flush()
    return lg


def seed_client(
    session, org: Org, *, stack: bool = True
) -> tuple[Client, Legitimation, Legitimation]:
    """The seed's client: 2 uur Wlz PV per week, 2 uur particulier PV per week."""
    client = new_client(session)
    wlz = legitimation(session, client, org.zorgkantoor, [org.pv], priority=1)
    prive = legitimation(session, client, org.prive, [org.pv], priority=2)
    if stack and session.query(StackRule).filter_by(product_id=org.pv.id).first() is None:
        session.add(StackRule(product_id=org.pv.id, onto_product_id=org.pv.id))
    session.flush()
    return client, wlz, prive


def registration(
    session,
    client: Client,
    product: Product,
    employee_id: int,
    day: date,
    minutes: int | None = None,
    *,
    start: time | None = time(9, 0),
    aantal: int | None = None,
    status: str = REG_APPROVED,
) -> Registration:
    reg = Registration(
        client_id=client.id,
        product_id=product.id,
        uursoort_id=product.uursoort_id,
        employee_id=employee_id,
        datum=day,
        starttijd=start,
        duur_minuten=minutes,
        aantal=aantal,
        status=status,
    )
    session.add(reg)
    session.flush()
    return reg
