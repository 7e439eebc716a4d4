from __future__ import annotations

import pytest

from portal.models import Organisation, OrganisationAgb
from tests.plugins.wmo_jw.factories import AGB


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
