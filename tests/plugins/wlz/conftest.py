from __future__ import annotations

from datetime import date

import pytest

from portal.models import (
    Contract,
    ContractLine,
    Financier,
    Organisation,
    OrganisationAgb,
    Product,
)
from tests.plugins.wlz.factories import AGB, ZK


@pytest.fixture
def org(db):
    org = Organisation(naam="Zorg BV")
    org.agb_codes.append(OrganisationAgb(agb_code=AGB, locatie="Hoofdlocatie", hoofd=True))
    db.add(org)
    db.commit()
    return org


@pytest.fixture
def zk(db, org):
    """The zorgkantoor with a contract: ZZP 4VG (804) per etmaal, PV (functie 31) per hour."""
    fin = Financier(financing="wlz", soort="zorgkantoor", code=ZK, naam="Zorgkantoor Utrecht")
    db.add(fin)
    products = {
        "ZZP": Product(code="ZZP4VG", naam="Wonen met begeleiding (4VG)", eenheid="etmaal"),
        "PV": Product(code="PV-UUR", naam="Persoonlijke verzorging", eenheid="uur"),
        "BG": Product(code="BG-DD", naam="Begeleiding groep", eenheid="dagdeel"),
    }
    db.add_all(products.values())
    db.flush()
    contract = Contract(financier_id=fin.id, naam="Wlz 2026", begindatum=date(2026, 1, 1))
    for key, cat, code, unit, cents in (
        ("ZZP", "804", "Z804", "etmaal", 21450),
        ("PV", "31", "H126", "uur", 5896),
        ("BG", "82", "H811", "dagdeel", 4620),
    ):
        contract.lines.append(
            ContractLine(
                product_id=products[key].id,
                productcategorie=cat,
                productcode=code,
                eenheid=unit,
                tarief_cents=cents,
                begindatum=date(2026, 1, 1),
            )
        )
    db.add(contract)
    db.commit()
    return {"fin": fin, "products": products, "contract": contract}
