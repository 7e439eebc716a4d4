"""PostgreSQL restarted under the portal, on a private cluster (never the shared server).

* In the middle of an approval (the transaction has written and waits for a lock when the
  server goes down): nothing is saved, the same approval again works, and a third time (the
  double click after a lost answer) does not approve twice.
* A page while the server is down says so in Dutch (503); once it is back the next request
  works without restarting anything (the pool checks each connection before use).

Declaration sends, a VECOZO poll and an invoice run's PDFs under a PostgreSQL restart are in the
fault matrix (``tests/portal/test_fault_matrix.py``).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text

from bench.services import PrivatePostgres, available
from portal.app import create_app
from portal.migrate import upgrade
from portal.models import ApprovalRun, AuditEvent, Registration
from portal.services import approval
from portal.services.users import create_user
from tests.conftest import PASSWORD, CsrfClient, login
from tests.portal.production.factory import organisation, registration, seed_client

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(available() is not None, reason=f"geen privé-PostgreSQL: {available()}"),
]


@pytest.fixture(scope="module")
def pg():
    server = PrivatePostgres()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_app(pg, redis_url, tmp_path, monkeypatch):
    url = pg.create_database(f"p{uuid.uuid4().hex[:8]}")
    upgrade(url)
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path))
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "RQ_QUEUE_PREFIX": f"r{uuid.uuid4().hex[:8]}",
            "SECRET_KEY": "restart",
            "SESSION_COOKIE_SECURE": False,
        }
    )
    app.test_client_class = CsrfClient
    yield app
    app.extensions["db_engine"].dispose()


def _waiting_on_lock(admin) -> bool:
    with admin.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
        )


def test_postgres_restart_in_the_middle_of_an_approval(pg, pg_app):
    sm = pg_app.extensions["db_sessionmaker"]
    with pg_app.app_context(), sm() as s:
        office = create_user(s, email="b@test.nl", naam="B", role="backoffice", password=PASSWORD)
        employee = create_user(
            s, email="z@test.nl", naam="Z", role="zorgprofessional", password=PASSWORD
        )
        org = organisation(s)
        client, _w, _p = seed_client(s, org)
        regs = [
            registration(s, client, org.pv, employee.id, date(2019, 1, d), 60, status="concept")
            for d in (28, 29, 30)
        ]
        s.commit()
        office_id, reg_ids = office.id, [r.id for r in regs]
    f = approval.Filters(start=date(2019, 1, 28), end=date(2019, 2, 3))

    # Another transaction holds the audit table: the approval writes its run and freezes the
    # registrations, then waits for that lock, with its work not yet committed.
    blocker_engine = create_engine(pg_app.config["DATABASE_URL"])
    blocker = blocker_engine.connect()
    blocker.execute(text("LOCK TABLE audit_event IN ACCESS EXCLUSIVE MODE"))
    outcome: list[BaseException | ApprovalRun] = []

    def approve() -> None:
        with pg_app.app_context(), sm() as s:
            try:
                outcome.append(
                    approval.approve(
                        s, f, pg_app.extensions["hooks"], user_id=office_id, token="fiat-1"
                    )
                )
            except BaseException as exc:
                outcome.append(exc)

    worker = threading.Thread(target=approve)
    worker.start()
    deadline = time.monotonic() + 30
    while not _waiting_on_lock(blocker_engine) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _waiting_on_lock(blocker_engine), "the approval never reached the lock"
    pg.restart()  # every connection cut, as in a crash
    worker.join(30)
    blocker.invalidate()
    blocker_engine.dispose()

    from sqlalchemy.exc import OperationalError

    assert len(outcome) == 1 and isinstance(outcome[0], OperationalError), outcome
    with sm() as s:  # nothing of the interrupted approval was saved
        assert s.scalar(select(func.count()).select_from(ApprovalRun)) == 0
        assert {"concept"} == set(
            s.scalars(select(Registration.status).where(Registration.id.in_(reg_ids)))
        )

    # the same approval again: done, once; a third time (double click) changes nothing
    with pg_app.app_context(), sm() as s:
        first = approval.approve(
            s, f, pg_app.extensions["hooks"], user_id=office_id, token="fiat-1"
        )
        again = approval.approve(
            s, f, pg_app.extensions["hooks"], user_id=office_id, token="fiat-1"
        )
        assert first.id == again.id and first.aantal == 3
    with sm() as s:
        assert s.scalar(select(func.count()).select_from(ApprovalRun)) == 1
        assert {"gefiatteerd"} == set(
            s.scalars(select(Registration.status).where(Registration.id.in_(reg_ids)))
        )
        approved = select(func.count()).where(AuditEvent.action == "approval.approved")
        assert s.scalar(approved) == 1


def test_pages_say_so_while_postgres_is_down_and_work_after(pg, pg_app):
    sm = pg_app.extensions["db_sessionmaker"]
    with pg_app.app_context(), sm() as s:
        create_user(s, email="b@test.nl", naam="B", role="backoffice", password=PASSWORD)
        s.commit()
    client = pg_app.test_client()
    assert login(client, "b@test.nl", PASSWORD).status_code == 302
    assert client.get("/clienten/").status_code == 200

    pg.stop("immediate")
    try:
        down = client.get("/clienten/")
        assert down.status_code == 503
        assert "De database is even niet bereikbaar" in down.get_data(as_text=True)
    finally:
        pg.start()
    back = client.get("/clienten/")
    assert back.status_code == 200, back.get_data(as_text=True)[:500]
