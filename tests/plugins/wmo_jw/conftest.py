from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plugins.wmo_jw import chain, financier
from plugins.wmo_jw.standard import IWMO
from portal.models import (
    Contract,
    ContractLine,
    Financier,
    Legitimation,
    Organisation,
    OrganisationAgb,
    Product,
)
from tests.plugins.wmo_jw.factories import AGB, BSN, BSN2, GEMEENTE, TODAY, persoon, toewijzing


@pytest.fixture
def org(db):
    org = Organisation(naam="Zorg BV")
    org.agb_codes.append(OrganisationAgb(agb_code=AGB, locatie="Hoofdlocatie", hoofd=True))
    db.add(org)
    db.commit()
    return org


@pytest.fixture
def gemeente_settings(tmp_path):
    """Plugin settings with a fresh store for the simulated gemeente."""
    return {"wmo_jw": {"gemeente_db": str(tmp_path / "gemeente.db")}}


@pytest.fixture
def setup(db, org, gemeente_settings, app):
    """A 301 for two clients, a product with a contract line at 50 euro per hour."""
    for bsn, nummer in ((BSN, "5001"), (BSN2, "5002")):
        draft = financier.issue_301(
            gemeente_settings, IWMO, GEMEENTE, AGB, persoon(bsn), [toewijzing(nummer)], today=TODAY
        )
        chain.process(db, draft.payload, today=TODAY)
    fin = db.scalar(select(Financier).where(Financier.code == GEMEENTE))
    product = Product(code="BEG", naam="Begeleiding individueel", eenheid="uur")
    db.add(product)
    db.flush()
    contract = Contract(financier_id=fin.id, naam="Wmo 2026", begindatum=date(2026, 1, 1))
    contract.lines.append(
        ContractLine(
            product_id=product.id,
            productcategorie="07",
            productcode="07A05",
            eenheid="uur",
            tarief_cents=5000,
            begindatum=date(2026, 1, 1),
        )
    )
    db.add(contract)
    financier.store_for(gemeente_settings).set_tarief(GEMEENTE, "07", "07A05", 5000)
    db.commit()
    legs = {leg.toewijzingnummer: leg for leg in db.scalars(select(Legitimation))}
    return {"fin": fin, "product": product, "legs": legs, "settings": gemeente_settings}
