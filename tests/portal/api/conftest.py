"""Fixtures for the API tests: a koppeling with a token of the scopes a test needs, and a small
organisation to register care on (the production tests' arrangements)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.domain import Role
from portal.models.api import SCOPES
from portal.services import api_tokens
from tests.portal.production import factory


@dataclass
class Api:
    client: object
    token: str
    koppeling_id: int

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def _h(self, kw) -> dict[str, str]:
        headers = kw.pop("headers", None)
        return self.headers() if headers is None else headers

    def get(self, path, **kw):
        return self.client.get(path, headers=self._h(kw), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(path, json=json, headers=self._h(kw), csrf=False, **kw)

    def patch(self, path, json=None, **kw):
        return self.client.patch(path, json=json, headers=self._h(kw), csrf=False, **kw)


@pytest.fixture
def make_token(db):
    def make(scopes=tuple(SCOPES), *, naam="ECD", days=30, koppeling=None, rate=600):
        k = koppeling or api_tokens.create_koppeling(db, naam=naam, user_id=None)
        made = api_tokens.create_token(
            db,
            k,
            naam="test",
            scopes=list(scopes),
            days=days,
            user_id=None,
            rate_limit_per_minute=rate,
        )
        db.commit()
        return made.token, k

    return make


@pytest.fixture
def api(client, make_token) -> Api:
    token, k = make_token()
    return Api(client, token, k.id)


@dataclass
class Care:
    org: factory.Org
    client_row: object
    employee: object


@pytest.fixture
def care(db, make_user) -> Care:
    org = factory.organisation(db)
    c = factory.new_client(db)
    c.clientnummer = "C-001"
    factory.legitimation(db, c, org.zorgkantoor, [org.pv], uren=10)
    db.commit()
    employee = make_user(Role.ZORGPROFESSIONAL, email="wijkzorg@test.nl")
    return Care(org, c, employee)
