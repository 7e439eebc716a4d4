"""Hand-made iWlz messages for the Wlz tests (built field by field, checked against the XSD)."""

from __future__ import annotations

from datetime import date

from plugins.wlz import messages as msgs
from plugins.wlz.standard import current

AGB = "41000001"
OTHER_AGB = "41999999"
ZK = "5509"  # Zorgkantoor Utrecht (LDT_ZorgkantoorCode)
BSN = "123456782"
BSN2 = "111222333"
BAD_BSN = "123456789"  # fails the 11-proef
TODAY = date(2026, 3, 10)
START = date(2026, 2, 2)


def persoon(bsn: str = BSN, naam: str = "Jansen") -> msgs.Persoon:
    return msgs.Persoon(
        bsn=bsn,
        geboortedatum=date(1941, 5, 17),
        geslacht="2",
        achternaam=naam,
        voorletters="A.",
        voornamen="Anna",
        straat="Oudegracht",
        huisnummer="12",
        postcode="3511AB",
        plaats="Utrecht",
    )


def zzp(code: str = "804", *, ingang: date = START, einde=None, agb=AGB, **kw) -> msgs.Toewijzing:
    kw.setdefault("leveringsvorm", "4")
    return msgs.Toewijzing("zzp", code, agb, ZK, ingang, einddatum=einde, **kw)


def functie(code: str = "31", klasse="K3", *, ingang: date = START, einde=None, agb=AGB, **kw):
    return msgs.Toewijzing("functie", code, agb, ZK, ingang, einddatum=einde, klasse=klasse, **kw)


def aw33(
    toewijzingen=None,
    *,
    bsn: str = BSN,
    besluit: str = "300012345",
    ontvanger: str = AGB,
    ident: str = "ZK0000000001",
    extra_clients=(),
    dagtekening: date = TODAY,
) -> bytes:
    toewijzingen = toewijzingen if toewijzingen is not None else [zzp(), functie()]
    clients = [
        msgs.AW33Client(
            persoon(bsn),
            msgs.Indicatie(
                besluitnummer=besluit,
                afgiftedatum=date(2026, 1, 20),
                ingangsdatum=date(2026, 2, 1),
                grondslagen=["01"],
                toewijzingen=list(toewijzingen),
            ),
        ),
        *extra_clients,
    ]
    return msgs.build_aw33(
        current(dagtekening),
        msgs.Header(ZK, ontvanger, ident, dagtekening),
        clients,
    )


def extra_client(bsn: str, besluit: str, toewijzingen) -> msgs.AW33Client:
    return msgs.AW33Client(
        persoon(bsn, naam="Pietersen"),
        msgs.Indicatie(
            besluitnummer=besluit,
            afgiftedatum=date(2026, 1, 20),
            ingangsdatum=date(2026, 2, 1),
            toewijzingen=list(toewijzingen),
        ),
    )
