"""Contract test: schemathesis reads the API's own OpenAPI document, generates requests from it
(valid and invalid ones) and sends them to the portal on a real HTTP server; every answer is
checked against the document: status codes, content types (problem+json for errors), response
schemas and headers, and that a call without a token never gets in."""

from __future__ import annotations

import tempfile
import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from werkzeug.serving import make_server

from portal.app import create_app
from portal.models.api import SCOPES
from portal.services import api_tokens

# Business rules may refuse schema-valid data (an unknown client id, a date in the future):
# that is a documented 404 or 422 problem, not a contract breach; text the database cannot store
# (NUL, lone surrogates) is valid JSON and a documented 400.
ACCEPTED = ["2xx", "400", "401", "403", "404", "409", "413", "422", "429"]
# Invalid data must be refused; a batch over the limit is refused as 413 (Content Too Large).
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]


def _document() -> dict:
    """The document as the code generates it (no database needed for that)."""
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/doc.db"})
    with app.app_context():
        from portal.api.docs import document

        return document()


contract = schemathesis.openapi.from_dict(
    _document(),
    config=SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                "negative_data_rejection": {"expected-statuses": REFUSED},
            }
        }
    ),
)


@pytest.fixture(scope="module")
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


@pytest.fixture
def token(db):
    koppeling = api_tokens.create_koppeling(db, naam="Contract", user_id=None)
    made = api_tokens.create_token(
        db,
        koppeling,
        naam="contract",
        scopes=list(SCOPES),
        days=1,
        user_id=None,
        rate_limit_per_minute=100_000,
    )
    db.commit()
    return made.token


@contract.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_contract(case, server, token):
    case.call_and_validate(base_url=server, headers={"Authorization": f"Bearer {token}"})
