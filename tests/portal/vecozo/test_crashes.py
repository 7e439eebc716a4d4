"""Crashes with real processes: `portal worker` subprocesses killed with SIGKILL in the middle of a
send and of a fetch, and a Redis server restarted (losing its queue) while messages are sent.

Afterwards every message was submitted exactly once (counted in the stand-in), every retour is
stored exactly once, and nothing is left without a visible status."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from portal.app import create_app
from portal.models import Message, PollRun
from portal.services.messages import create_outgoing
from tests.portal.vecozo import proef

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float = 20.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class RedisServer:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from redis import Redis

        assert _wait(lambda: _ping(Redis.from_url(self.url)), 10)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _ping(conn) -> bool:
    try:
        return bool(conn.ping())
    except Exception:
        return False


@pytest.fixture
def crash_env(app, standin, tmp_path) -> Iterator[dict]:
    redis = RedisServer(tmp_path)
    redis.start()
    prefix = f"c{os.getpid()}{_free_port()}"
    overrides = {
        "REDIS_URL": redis.url,
        "RQ_QUEUE_PREFIX": prefix,
        "VECOZO_BASE_URL": standin.url,
        "VECOZO_TIMEOUT_SECONDS": 1.5,
        "VECOZO_FIRST_CHECK_SECONDS": 0,
        "VECOZO_UNCERTAIN_CHECK_SECONDS": 0,
        "VECOZO_RESEND_GRACE_SECONDS": 0,
        "VECOZO_REQUEUE_SECONDS": 0,
        "VECOZO_STALE_SEND_SECONDS": 0.5,
        "VECOZO_POLL_STALE_SECONDS": 0,
    }
    config = {k: app.config[k] for k in ("DATABASE_URL", "SECRET_KEY", "TESTING")}
    config.update(overrides, SESSION_COOKIE_SECURE=False, LOAD_ENTRYPOINT_PLUGINS=True)
    app2 = create_app(config)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["DATABASE_URL"],
        REDIS_URL=redis.url,
        RQ_QUEUE_PREFIX=prefix,
        SECRET_KEY=app.config["SECRET_KEY"],
        VECOZO_BASE_URL=standin.url,
        VECOZO_TIMEOUT_SECONDS="10",  # the kill, not the time-out, ends the hanging send
        PORTAL_INSTANCE=str(tmp_path / "instance"),
    )
    workers: list[subprocess.Popen] = []

    def start_worker(*extra: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "worker", *extra, "vecozo"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers.append(proc)
        return proc

    try:
        yield {"app": app2, "redis": redis, "start_worker": start_worker}
    finally:
        for proc in workers:
            if proc.poll() is None:
                _kill(proc)
        redis.kill()
        app2.extensions["db_engine"].dispose()


def _descendants(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            children = fh.read().split()
    except OSError:
        return []
    result = []
    for child in map(int, children):
        result += [child, *_descendants(child)]
    return result


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and its work horse (rq puts the horse in a process group of its own)."""
    for pid in [proc.pid, *_descendants(proc.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)


def _statuses(db) -> dict[str, str]:
    db.rollback()  # a fresh snapshot (SQLite keeps the old one within a transaction)
    return dict(db.execute(select(Message.traceer_id, Message.status)).all())


def _recover(app2, db, crash_env, rounds: int = 2) -> None:
    """What the scheduler does afterwards: check outstanding messages, let a worker send.

    (The recovery runs in this process; the crashes above were real worker processes.)"""
    from rq import SimpleWorker

    from portal.jobs import QUEUES, get_queue, redis_connection
    from portal.jobs.runner import set_worker_app
    from portal.jobs.vecozo import check_outstanding

    for _ in range(rounds):
        with app2.app_context():
            s = app2.extensions["db_sessionmaker"]()
            try:
                check_outstanding(app2, s)
            finally:
                s.close()
            set_worker_app(app2)
            queues = [get_queue(q, app2) for q in QUEUES]
            SimpleWorker(queues, connection=redis_connection(app2)).work(burst=True)


def _create(app2, n: int, start: int = 0) -> list[int]:
    with app2.app_context():
        s = app2.extensions["db_sessionmaker"]()
        try:
            ids = [
                create_outgoing(s, proef.draft(f"K{start + i:09d}", 100 + i), financing="wmo_jw").id
                for i in range(n)
            ]
            s.commit()
        finally:
            s.close()
    return ids


def test_worker_killed_in_the_middle_of_a_send(db, standin, crash_env):
    app2 = crash_env["app"]
    standin.fault("push_timeout", aantal=1, seconden=3)  # the first send hangs at VECOZO
    _create(app2, 3)
    worker = crash_env["start_worker"]()
    assert _wait(lambda: "verzenden" in _statuses(db).values(), 20)
    assert _wait(lambda: not standin.store.faults(), 10)  # the request is at VECOZO now
    time.sleep(0.2)
    _kill(worker)  # SIGKILL while the HTTP call is in flight
    assert _wait(lambda: len(standin.submitted()) >= 1, 10)  # VECOZO did receive it

    _recover(app2, db, crash_env)

    counts = standin.submitted()
    statuses = _statuses(db)
    assert len(statuses) == 3
    for tid, status in statuses.items():
        assert counts.get(tid) == 1, (tid, status)
        m = db.scalar(select(Message).where(Message.traceer_id == tid))
        assert status in ("verzonden", "bezorgd"), [(e.status, e.text) for e in m.events]
    assert standin.store.counters().get("dubbel_ingediend", 0) == 0
    texts = [e.text or "" for m in db.scalars(select(Message)).all() for e in m.events]
    assert any("onderbroken" in t for t in texts), texts
    assert any("niet opnieuw verstuurd" in t for t in texts), texts


def test_redis_restart_while_sending(db, standin, crash_env):
    app2 = crash_env["app"]
    redis = crash_env["redis"]
    standin.fault("traag", aantal=-1, seconden=0.15)
    _create(app2, 12)
    worker = crash_env["start_worker"]()
    assert _wait(lambda: list(_statuses(db).values()).count("verzonden") >= 2, 30)
    redis.kill()  # the queue (and the jobs still in it) are gone
    redis.start()
    _kill(worker)
    standin.store.set_fault("traag", 0)
    time.sleep(1)  # a send cut off by the kill is now older than VECOZO_STALE_SEND_SECONDS

    _recover(app2, db, crash_env)

    counts = standin.submitted()
    statuses = _statuses(db)
    assert len(statuses) == 12
    assert all(counts.get(tid) == 1 for tid in statuses), (counts, statuses)
    assert set(statuses.values()) <= {"verzonden", "bezorgd"}


def test_worker_killed_in_the_middle_of_a_fetch(db, standin, crash_env):
    from portal.jobs.vecozo import enqueue_poll, poll_once

    app2 = crash_env["app"]
    placed = {
        standin.place(
            postbus="12345678",
            afzender_code="0363",
            code="WMO301",
            payload=f"<toewijzing n='{i}'/>",
        )
        for i in range(30)
    }
    standin.fault("traag", aantal=-1, seconden=0.05)
    with app2.app_context():
        s = app2.extensions["db_sessionmaker"]()
        enqueue_poll(s, trigger="gepland")
        s.close()
    worker = crash_env["start_worker"]()
    assert _wait(lambda: len(_statuses(db)) >= 5, 30)
    _kill(worker)  # in the middle of list → download → store → acknowledge
    standin.store.set_fault("traag", 0)
    stored_before = len(_statuses(db))
    assert stored_before < 30

    with app2.app_context():
        s = app2.extensions["db_sessionmaker"]()
        try:
            poll_once(app2, s, trigger="handmatig")
        finally:
            s.close()

    ids = db.scalars(select(Message.traceer_id).where(Message.direction == "in")).all()
    assert sorted(ids) == sorted(placed)  # every one stored exactly once
    assert standin.ready() == 0
    runs = db.scalars(select(PollRun).order_by(PollRun.id)).all()
    assert runs[0].status == "mislukt" and "Onderbroken" in runs[0].error
    assert runs[-1].status == "klaar"
    assert db.scalar(select(func.count()).where(Message.acknowledged_at.is_(None))) <= 1


def _job_row(db, job_id: str):
    from portal.models import BackgroundJob

    db.rollback()
    return db.get(BackgroundJob, job_id, populate_existing=True)


def _reconcile(app2) -> dict:
    from portal.jobs.reconcile import reconcile

    with app2.app_context():
        s = app2.extensions["db_sessionmaker"]()
        try:
            return reconcile(app2, s)
        finally:
            s.close()


def test_job_row_follows_rq_when_the_worker_is_killed_during_a_send(db, standin, crash_env):
    """SIGKILL during the HTTP call: RQ's started registry loses the worker's heartbeat (70 s
    with a 10 s monitoring interval) and moves the job to the failed jobs; the job row follows
    at the next reconcile round, so the screen says "Mislukt" within a minute and a half instead
    of showing "Bezig" for half an hour."""
    from portal.jobs.vecozo import _send_job_id

    app2 = crash_env["app"]
    standin.fault("push_timeout", aantal=1, seconden=8)  # the send hangs at VECOZO
    (message_id,) = _create(app2, 1)
    with app2.app_context():
        job_id = _send_job_id(message_id, 0)
    worker = crash_env["start_worker"]()
    assert _wait(lambda: getattr(_job_row(db, job_id), "status", None) == "bezig", 20)
    assert _wait(lambda: not standin.store.faults(), 10)  # the request is at VECOZO now
    _kill(worker)
    killed_at = time.monotonic()

    # RQ has not given up on the job yet: the row honestly stays "bezig"
    _reconcile(app2)
    assert _job_row(db, job_id).status == "bezig"

    def failed() -> bool:
        _reconcile(app2)
        return _job_row(db, job_id).status == "mislukt"

    assert _wait(failed, timeout=120, interval=3)
    assert time.monotonic() - killed_at < 100
    row = _job_row(db, job_id)
    assert "worker is gestopt" in row.message
    assert "AbandonedJobError" in row.error
    # and the message itself is not lost: the status API decides, it is not sent twice
    _recover(app2, db, crash_env)
    (tid, status), *_ = _statuses(db).items()
    assert standin.submitted().get(tid) == 1
    assert status in ("verzonden", "bezorgd")


def test_redis_wiped_jobs_are_rebuilt_from_the_database(db, standin, crash_env, tmp_path):
    """Redis loses its data (FLUSHALL, as a Redis without persistence after a crash): the job
    rows that were waiting go back on their queues from the database, run once, and every
    message is submitted exactly once."""
    from redis import Redis

    from portal.jobs import enqueue
    from portal.models import BackgroundJob

    app2 = crash_env["app"]
    app2.config["JOB_ENQUEUE_GRACE_SECONDS"] = 0
    ids = _create(app2, 5)
    with app2.app_context():
        s = app2.extensions["db_sessionmaker"]()
        count = enqueue(s, "portal.jobs.demo.count_clients", 1, 0.0, kind="demo", label="Tellen").id
        s.close()
    rows_before = db.scalars(select(BackgroundJob.id)).all()
    assert len(rows_before) >= 2
    Redis.from_url(crash_env["redis"].url).flushall()

    assert _reconcile(app2)["teruggezet"] == len(rows_before)
    assert _job_row(db, count).message.startswith("De taak was uit de wachtrij verdwenen")
    _recover(app2, db, crash_env, rounds=1)

    assert _job_row(db, count).status == "klaar"
    statuses = _statuses(db)
    assert len(statuses) == len(ids)
    assert all(standin.submitted().get(tid) == 1 for tid in statuses), standin.submitted()
    assert set(statuses.values()) <= {"verzonden", "bezorgd"}
    # a second round finds nothing more to do
    assert _reconcile(app2) == {"mislukt": 0, "opnieuw": 0, "teruggezet": 0}
