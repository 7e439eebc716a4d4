"""Webhooks: changes pushed to the koppeling's address by the real RQ worker, signed, retried
until the receiver says 2xx; the cursor only moves on a 2xx."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.models import ApiKoppeling, BackgroundJob
from portal.services import api_tokens, webhooks
from tests.portal.api.conftest import Api

DAY = date.today() - timedelta(days=2)


class Receiver:
    def __init__(self):
        self.calls: list[tuple[bytes, str]] = []
        self.answers: list[int] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.calls.append((request.get_data(), request.headers.get(webhooks.HEADER, "")))
        status = self.answers.pop(0) if self.answers else 200
        return Response("ok", status=status)(environ, start_response)


@pytest.fixture
def receiver():
    app = Receiver()
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{srv.server_port}/hook"
    yield app
    srv.shutdown()


def test_changes_are_pushed_signed_and_retried(app, client, db, care, receiver, run_jobs):
    koppeling = api_tokens.create_koppeling(
        db, naam="Planning", webhook_url=receiver.url, user_id=None
    )
    token = api_tokens.create_token(
        db, koppeling, naam="t", scopes=["registraties:schrijven"], days=5, user_id=None
    ).token
    db.commit()
    api = Api(client, token, koppeling.id)
    body = {
        "extern_id": "w-1",
        "medewerker": "wijkzorg@test.nl",
        "client": "C-001",
        "product": "PV01",
        "datum": DAY.isoformat(),
        "starttijd": "09:00",
        "duur_minuten": 45,
    }
    assert api.post("/api/v1/registraties", body).status_code == 201

    from portal.jobs import webhooks as jobs

    receiver.answers = [503]
    with app.app_context():
        assert jobs.tick() == 1
    run_jobs()
    db.expire_all()
    k = db.get(ApiKoppeling, koppeling.id)
    assert k.webhook_laatste_fout == "Het webadres antwoordde met status 503"
    first_cursor = k.webhook_cursor
    job = db.scalar(select(BackgroundJob).where(BackgroundJob.kind == "webhook"))
    assert job.status == "mislukt"

    with app.app_context():  # the next tick runs the same delivery again
        assert jobs.tick() == 1
    run_jobs()
    db.expire_all()
    k = db.get(ApiKoppeling, koppeling.id)
    assert k.webhook_laatste_fout is None and k.webhook_cursor != first_cursor
    assert len(receiver.calls) == 2
    payload, signature = receiver.calls[-1]
    assert webhooks.verify(k.webhook_secret, payload, signature)
    assert not webhooks.verify(k.webhook_secret, payload + b" ", signature)
    sent = json.loads(payload)
    assert [(w["soort"], w["extern_id"]) for w in sent["wijzigingen"]] == [("registratie", "w-1")]
    assert sent["volgende"] == k.webhook_cursor
    with app.app_context():
        assert jobs.tick() == 0  # nothing new: no delivery
