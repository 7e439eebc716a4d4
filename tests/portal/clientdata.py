"""Small arrangements shared by the client, legitimation and import tests."""

from __future__ import annotations

import random
from datetime import date

from portal.demo import generate_bsn
from portal.models import Client, Financier, Product

_rng = random.Random(7)


def new_bsn(session=None) -> str:
    while True:
        bsn = generate_bsn(_rng)
        if session is None or session.query(Client.id).filter_by(bsn=bsn).first() is None:
            return bsn


def make_client(session, **kw) -> Client:
    values = dict(
        bsn=new_bsn(session),
        achternaam="Jansen",
        voorletters="J.",
        geboortedatum=date(1950, 5, 1),
        geslacht="1",
        postcode="3511AB",
        huisnummer="12",
        plaats="Utrecht",
        team="Team Utrecht",
    )
    values.update(kw)
    client = Client(**values)
    session.add(client)
    session.commit()
    return client


def make_financiers(session) -> dict[str, Financier]:
    """One financier of every kind, as the demo has them."""
    rows = {
        "utrecht": ("wmo_jw", "gemeente", "0344", "Gemeente Utrecht"),
        "amersfoort": ("wmo_jw", "gemeente", "0307", "Gemeente Amersfoort"),
        "zorgkantoor": ("wlz", "zorgkantoor", "5503", "Zorgkantoor Utrecht"),
        "verzekeraar": ("zvw_msvt", "zorgverzekeraar", "3311", "Zorgverzekeraar Midden"),
        "dji": ("fz", "dji", "9992", "DJI"),
        "budgethouder": ("pgb", "budgethouder", None, "Budgethouder (PGB)"),
        "particulier": ("particulier", "client", None, "Cliënt zelf"),
        "hoofdaannemer": ("onderaanneming", "instelling", "73999991", "Thuiszorg Midden"),
    }
    out = {}
    for key, (financing, soort, code, naam) in rows.items():
        f = Financier(financing=financing, soort=soort, code=code, naam=naam)
        session.add(f)
        out[key] = f
    session.commit()
    return out


def make_products(session) -> dict[str, Product]:
    out = {}
    for code, naam, eenheid in [
        ("BG-IND", "Begeleiding individueel", "uur"),
        ("PV-UUR", "Persoonlijke verzorging", "uur"),
        ("VP-UUR", "Verpleging", "uur"),
    ]:
        p = Product(code=code, naam=naam, eenheid=eenheid)
        session.add(p)
        out[code] = p
    session.commit()
    return out
