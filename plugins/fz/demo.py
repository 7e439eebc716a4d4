"""Forensische zorg's part of the demo organisation (hook ``seed_demo``).

Four forensic clients placed by DJI with an FZ821 (processed as the inbox would, and remembered
by the simulated DJI of the stand-in), each at another point of the story:

* Jansen — VI, klinisch verblijf (FZV02): care started and accepted, last month's days approved.
  DJI agreed € 440 per day but the contract says € 450: the GDS801 comes back with 0611 on that
  line, the contract is corrected and the month declared again, and DJI awards it.
* De Vries — GVM, forensische begeleiding (FZ3A): started, last month's sessions approved (FZ303).
* Bakker — Tbs met voorwaarden, ZZP (FZZ3B): placed, care not started yet (worklist).
* Visser — schorsing voorlopige hechtenis, ambulant (FZC02): started, placement ended last
  month without an end report (worklist).

The core demo's own forensic clients (placements typed in by hand) are made known to the
simulated DJI as well, so their start can be reported in the stand-in.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.fz import financier, formats, placements
from portal.demo import generate_bsn
from portal.models import Contract, ContractLine, Financier, Legitimation, Product, User
from portal.models.registration import REG_APPROVED, Registration

PEOPLE = (
    # achternaam, voorletters, titel, prestatie, own product, started, placement ends
    ("Jansen", "PJ", "VI", "FZV02", "FZ-VERBLIJF", True, None),
    ("de Vries", "M", "GVM", "FZ3A", "FZ-BEG", True, None),
    ("Bakker", "K", "TBSV", "FZZ3B", None, False, None),
    ("Visser", "A", "SVH", "FZC02", None, True, "vorige-maand"),
)


def seed(session: Session, today: date, settings) -> int:
    rng = random.Random(1313)
    dji = session.scalar(
        select(Financier).where(Financier.financing == placements.CODE, Financier.code == "9992")
    )
    agb = placements.own_agb(session)
    if dji is None or not agb:
        return 0
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    placed_from = (last_month - timedelta(days=1)).replace(day=1)
    verblijf = session.scalar(select(Product).where(Product.code == "FZ-VERBLIJF"))
    if verblijf is None:
        verblijf = Product(code="FZ-VERBLIJF", naam="Verblijf forensisch (klinisch)", eenheid="dag")
        session.add(verblijf)
        session.flush()
    contract = session.scalar(select(Contract).where(Contract.financier_id == dji.id))
    if contract is not None:
        contract.lines.append(
            ContractLine(
                product_id=verblijf.id,
                productcode="FZV02",
                eenheid="dag",
                tarief_cents=45000,  # DJI agreed 440: the demo's 0611
                begindatum=contract.begindatum,
            )
        )
    store = financier.store_for(settings)
    store.set_tarief("FZV02", 44000)
    worker = session.scalar(select(User).order_by(User.id).limit(1))
    fmt = formats.active("FZ821", settings)
    products = {p.code: p for p in session.scalars(select(Product))}
    added = 0
    for i, (naam, voorletters, titel, code, product, begun, ends) in enumerate(PEOPLE):
        bsn = generate_bsn(rng)
        nummer = f"PB-{today.year}-{4101 + i}"
        eind = last_month + timedelta(days=19) if ends else None
        draft = financier.issue_821(
            settings,
            agb=agb,
            client={
                "bsn": bsn,
                "geboortedatum": date(1970 + 4 * i, 1 + i, 10 + i),
                "geslacht": "1" if i % 2 == 0 else "2",
                "achternaam": naam.split()[-1],
                "voorvoegsel": naam.split()[0] if " " in naam else None,
                "voorletters": voorletters,
            },
            nummer=nummer,
            titel=titel,
            prestatiecode=code,
            begin=placed_from,
            eind=eind,
            today=placed_from,
        )
        outcome = placements.process_821(session, fmt, fmt.read(draft.payload))
        leg = session.scalar(select(Legitimation).where(Legitimation.referentienummer == nummer))
        if product and product in products and not leg.products:
            leg.products = [products[product]]
        if begun:
            start = placed_from + timedelta(days=2)
            placements.save_keys(
                leg,
                aanvang={
                    "datum": start.isoformat(),
                    "status": placements.GEACCEPTEERD,
                    "codes": ["0200"],
                    "bericht": placements.new_identificatie(),
                },
            )
            leg.keten_stand = placements.GESTART
            store.q("INSERT OR REPLACE INTO aanvang VALUES (?, ?)", nummer, start.isoformat())
        if begun and product and worker is not None:
            day = last_month
            while day.month == last_month.month:
                if product == "FZ-VERBLIJF" and day.day <= 10:
                    _approved(session, leg.client_id, products[product], worker, day, aantal=1)
                elif product == "FZ-BEG" and day.weekday() == 1:
                    _approved(session, leg.client_id, products[product], worker, day, minutes=90)
                day += timedelta(days=1)
        added += bool(outcome.client_ids)
    session.flush()
    _known_to_dji(session, settings, agb)
    return added


def _known_to_dji(session: Session, settings, agb: str) -> None:
    """The core demo's placements typed in by hand: DJI took those plaatsingsbesluiten too, so
    the simulated DJI knows them (a start on them is accepted); they get the titel their
    prestatie fits (GVM for forensische begeleiding)."""
    for leg in session.scalars(
        select(Legitimation).where(
            Legitimation.financing == placements.CODE,
            Legitimation.bron == "handmatig",
            Legitimation.referentienummer.is_not(None),
        )
    ):
        sleutels = placements.keys(leg)
        if not sleutels.get("titel"):
            placements.save_keys(leg, titel="GVM", instelling=agb)
        financier.register_placement(
            settings,
            nummer=leg.referentienummer,
            bsn=leg.client.bsn,
            agb=agb,
            titel=placements.keys(leg)["titel"],
            prestatiecode=leg.productcode or "",
            begin=leg.begindatum,
            eind=leg.einddatum,
        )


def _approved(session, client_id, product, worker, day, *, minutes=None, aantal=None) -> None:
    session.add(
        Registration(
            client_id=client_id,
            product_id=product.id,
            employee_id=worker.id,
            datum=day,
            duur_minuten=minutes,
            aantal=aantal,
            status=REG_APPROVED,
        )
    )
