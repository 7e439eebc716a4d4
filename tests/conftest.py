"""Fixtures for app, database, queue, clients and logged-in users of each role.

The suite runs against PostgreSQL and Redis when DATABASE_URL / REDIS_URL point at them (CI does
this), and on the embedded defaults otherwise (a SQLite file and an embedded Redis server). Each
test session (and each xdist worker) gets its own database and its own queue names, so runs never
see each other's data.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from portal.app import create_app
from portal.db import Base
from portal.domain import Role
from portal.migrate import upgrade

PASSWORD = "correct-paard-batterij-7"


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    base = os.environ.get("DATABASE_URL")
    if base and _is_postgres(base):
        name = f"portal_t_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "portal.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    from portal.runtime import embedded_redis_url

    return embedded_redis_url(str(tmp_path_factory.mktemp("redis")))


@pytest.fixture(scope="session")
def app_config(database_url, redis_url, tmp_path_factory) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": "test-secret",
        "SESSION_COOKIE_SECURE": False,
        "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("outbox")),
        "LOAD_ENTRYPOINT_PLUGINS": True,
    }


@pytest.fixture(scope="session")
def app(app_config, tmp_path_factory) -> Flask:
    os.environ["PORTAL_INSTANCE"] = str(tmp_path_factory.mktemp("instance"))
    application = create_app(app_config)
    application.test_client_class = CsrfClient
    return application


@pytest.fixture(autouse=True)
def _clean_state(request) -> Iterator[None]:
    """Every test starts with empty tables and empty queues."""
    yield
    if "app" not in request.fixturenames:
        return
    application: Flask = request.getfixturevalue("app")
    engine = application.extensions["db_engine"]
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for t in reversed(tables):
                conn.execute(text(f'DELETE FROM "{t}"'))
    from portal.jobs import QUEUES, get_queue

    with application.app_context():
        for q in QUEUES:
            get_queue(q).empty()


@pytest.fixture
def hooks(app):
    """The app's ``Hooks`` facade: what services get passed instead of finding plugins."""
    return app.extensions["hooks"]


@pytest.fixture
def db(app) -> Iterator[Session]:
    """A session inside an app context, for arranging data and checking results."""
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        try:
            yield session
        finally:
            session.close()


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token with every POST, unless ``csrf=False``.

    Each request runs in its own app context, as on a real server: otherwise Flask reuses the
    app context a test (or the ``db`` fixture) has open, and ``g`` (the request's database
    session, flask-login's cached user) would leak from one request into the next.
    """

    def open(self, *args, csrf: bool = True, **kwargs):
        with self.application.app_context():
            return self._open(*args, csrf=csrf, **kwargs)

    def _open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"}:
            token = self.csrf_token()
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", token)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        app = self.application
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                import hashlib

                raw = hashlib.sha1(os.urandom(64)).hexdigest()
                sess["csrf_token"] = raw
        s = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
        return s.dumps(raw)


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def make_user(db):
    from portal.services.users import create_user

    def make(role: Role | str = Role.BACKOFFICE, email: str | None = None, **kw):
        role = Role(role)
        user = create_user(
            db,
            email=email or f"{role.value}-{uuid.uuid4().hex[:6]}@test.nl",
            naam=kw.pop("naam", f"Test {role.label}"),
            role=role.value,
            password=kw.pop("password", PASSWORD),
            **kw,
        )
        db.commit()
        return user

    return make


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def login_as(client, make_user):
    """``login_as(Role.BACKOFFICE)`` logs the test client in as a new user of that role."""

    def do(role: Role | str = Role.BACKOFFICE, **kw):
        user = make_user(role, **kw)
        resp = login(client, user.email)
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return user

    return do


@pytest.fixture
def beheerder(login_as):
    return login_as(Role.BEHEERDER)


@pytest.fixture
def backoffice(login_as):
    return login_as(Role.BACKOFFICE)


CARE_TEAM = "Team Noord"  # the team of the clients tests make (production/factory.py)


@pytest.fixture
def zorgprofessional(login_as):
    """A care professional of CARE_TEAM: they see (only) that team's clients."""
    return login_as(Role.ZORGPROFESSIONAL, team=CARE_TEAM)


@pytest.fixture
def lezer(login_as):
    return login_as(Role.ALLEEN_LEZEN)


@pytest.fixture
def run_jobs(app):
    """Run every queued job now in a real RQ worker (burst mode, in this process)."""
    from rq import SimpleWorker

    from portal.jobs import QUEUES, get_queue, redis_connection
    from portal.jobs.runner import set_worker_app

    def run() -> None:
        set_worker_app(app)
        with app.app_context():
            queues = [get_queue(q) for q in QUEUES]
            SimpleWorker(queues, connection=redis_connection(app)).work(burst=True)

    return run


def form_errors(html: str) -> list[str]:
    """The Dutch error texts a page shows next to fields."""
    return re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S)
