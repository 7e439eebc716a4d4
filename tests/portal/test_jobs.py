"""Background jobs: the row people see, real RQ workers, the polling fragment, idempotency."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from portal.jobs import enqueue, get_queue
from portal.jobs.runner import run_job
from portal.models import BackgroundJob, Client
from portal.models._base import utcnow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUNT = "portal.jobs.demo.count_clients"

RUNS: list[str] = []


def explode(ctx, message: str) -> dict:
    """A job that fails (used through its dotted path, like every job)."""
    raise ValueError(message)


def fail_unless(ctx, ok: bool) -> dict:
    RUNS.append(ctx.job_id)
    if not ok:
        raise RuntimeError("nog niet")
    return {"gelukt": True}


@pytest.fixture
def db(app):
    """A session with no app context held open: every request sees fresh rows, as in production."""
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def add_clients(db, n: int) -> None:
    import random

    from portal.demo import generate_bsn

    rng = random.Random(7)
    for i in range(n):
        db.add(
            Client(bsn=generate_bsn(rng), achternaam=f"Client{i}", geboortedatum=date(1960, 1, 1))
        )
    db.commit()


def row(db, job_id: str) -> BackgroundJob:
    db.expire_all()
    return db.get(BackgroundJob, job_id)


def fragment(client, job_id: str) -> str:
    resp = client.get(f"/taken/{job_id}", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_enqueue_then_a_real_worker_runs_it(app, db, ctx, run_jobs):
    add_clients(db, 3)
    job = enqueue(db, COUNT, 3, 0.0, kind="demo", label="Cliënten tellen")
    assert row(db, job.id).status == "wachtend"
    assert get_queue("default").count == 1
    run_jobs()
    done = row(db, job.id)
    assert done.status == "klaar"
    assert done.result == {"clienten": 3}
    assert done.progress == done.total == 3
    assert done.attempts == 1
    assert done.started_at is not None and done.finished_at >= done.started_at


def test_progress_fragment_polls_until_done(app, db, ctx, client, backoffice, run_jobs):
    job = enqueue(db, COUNT, 2, 0.0, kind="demo", label="Cliënten tellen")
    waiting = fragment(client, job.id)
    assert 'hx-trigger="load delay:1s"' in waiting
    assert f'hx-get="/taken/{job.id}"' in waiting
    assert "In de wachtrij" in waiting
    assert "<html" not in waiting  # only the fragment
    page = client.get(f"/taken/{job.id}").get_data(as_text=True)
    assert "<html" in page and f'id="job-{job.id}"' in page
    run_jobs()
    done = fragment(client, job.id)
    assert "hx-get" not in done and "hx-trigger" not in done
    assert "Klaar" in done and 'value="100"' in done
    assert "clienten" in done


def test_the_same_job_id_runs_once(app, db, ctx, run_jobs):
    first = enqueue(db, COUNT, 1, 0.0, kind="demo", label="Tellen", job_id="tel-1")
    again = enqueue(db, COUNT, 1, 0.0, kind="demo", label="Tellen", job_id="tel-1")
    assert first.id == again.id == "tel-1"
    assert db.query(BackgroundJob).count() == 1
    assert get_queue("default").count == 1
    run_jobs()
    assert row(db, "tel-1").attempts == 1
    # Delivered again after it finished (RQ redelivery, a retry): nothing runs a second time.
    assert run_job("tel-1", COUNT, [1, 0.0]) == {"clienten": 0}
    assert row(db, "tel-1").attempts == 1
    enqueue(db, COUNT, 1, 0.0, kind="demo", label="Tellen", job_id="tel-1")
    assert get_queue("default").count == 0


def test_a_failing_job_shows_mislukt_with_the_error(app, db, ctx, client, backoffice, run_jobs):
    job = enqueue(
        db,
        "tests.portal.test_jobs.explode",
        "bestand onleesbaar",
        kind="test",
        label="Kapot",
        retries=0,
    )
    run_jobs()
    failed = row(db, job.id)
    assert failed.status == "mislukt"
    assert failed.error == "ValueError: bestand onleesbaar"
    html = fragment(client, job.id)
    assert "Mislukt" in html and "ValueError: bestand onleesbaar" in html
    assert "hx-get" not in html


def test_a_failed_job_asked_again_runs_again(app, db, ctx, run_jobs):
    RUNS.clear()
    enqueue(
        db, "tests.portal.test_jobs.fail_unless", False, kind="t", label="t", job_id="f1", retries=0
    )
    run_jobs()
    assert row(db, "f1").status == "mislukt"
    enqueue(
        db, "tests.portal.test_jobs.fail_unless", True, kind="t", label="t", job_id="f1", retries=0
    )
    assert row(db, "f1").status == "wachtend"
    run_jobs()
    assert row(db, "f1").status == "klaar" and row(db, "f1").result == {"gelukt": True}
    assert RUNS == ["f1", "f1"]


def test_rq_retries_a_failed_job(app, db, ctx, run_jobs):
    from rq.job import Job

    from portal.jobs import redis_connection

    enqueue(
        db,
        "tests.portal.test_jobs.explode",
        "tijdelijk",
        kind="t",
        label="t",
        job_id="r1",
        retries=2,
    )
    run_jobs()
    assert row(db, "r1").status == "mislukt"
    rq_job = Job.fetch("r1", connection=redis_connection())
    assert rq_job.get_status() == "scheduled"  # RQ will try again after its interval
    assert rq_job.retries_left == 1


def test_sweep_marks_a_job_whose_worker_died(app, db, ctx, run_jobs):
    old = utcnow() - timedelta(minutes=45)
    db.add_all(
        [
            BackgroundJob(
                id="dood", kind="t", queue="default", label="Dood", status="bezig", started_at=old
            ),
            BackgroundJob(
                id="vers",
                kind="t",
                queue="default",
                label="Vers",
                status="bezig",
                started_at=utcnow(),
            ),
        ]
    )
    db.commit()
    # An old 'bezig' row whose RQ job is still waiting in the queue is left alone.
    enqueue(db, COUNT, 1, 0.0, kind="demo", label="Wacht", job_id="wacht")
    waiting = row(db, "wacht")
    waiting.status, waiting.started_at = "bezig", old
    db.commit()
    sweep = enqueue(
        db, "portal.jobs.housekeeping.sweep_stale_jobs", kind="housekeeping", label="Opruimen"
    )
    get_queue("default").remove("wacht")  # only the sweep runs now
    run_jobs()
    assert row(db, sweep.id).status == "klaar"
    assert row(db, sweep.id).result == {"gemarkeerd": 1}
    dead = row(db, "dood")
    assert dead.status == "mislukt"
    assert "worker gestopt" in dead.message
    assert row(db, "vers").status == "bezig"


def test_periodic_jobs_become_tracked_jobs(app, db, ctx, run_jobs):
    from portal.jobs.schedule import enqueue_tracked, periodic_jobs

    entries = {e["args"][1] for e in periodic_jobs(app) if e.get("args")}
    assert "portal.jobs.housekeeping.sweep_stale_jobs" in entries
    job_id = enqueue_tracked(
        "housekeeping", "portal.jobs.housekeeping.sweep_stale_jobs", "Opruimen"
    )
    assert row(db, job_id).status == "wachtend"
    run_jobs()
    assert row(db, job_id).status == "klaar"


def test_portal_worker_command_runs_jobs_while_the_page_polls(
    app, db, ctx, client, backoffice, tmp_path
):
    add_clients(db, 2)
    job = enqueue(db, COUNT, 6, 0.3, kind="demo", label="Cliënten tellen")
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE_PREFIX": app.config["RQ_QUEUE_PREFIX"],
        "PORTAL_INSTANCE": str(tmp_path),
        "SECRET_KEY": "worker-test",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    running: list[str] = []
    deadline = time.time() + 60
    try:
        while time.time() < deadline:
            html = fragment(client, job.id)
            if 'data-status="bezig"' in html:
                running.append(html)
            if 'data-status="klaar"' in html:
                break
            time.sleep(0.1)
        out, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, out.decode(errors="replace")[-2000:]
    assert running, "never saw the job running"
    assert all("hx-get" in h and "hx-trigger" in h for h in running)  # keeps polling
    assert any("Stap" in h and "van 6" in h for h in running)  # shows its progress
    last = html
    assert "hx-get" not in last and "Klaar" in last
    done = row(db, job.id)
    assert done.status == "klaar" and done.result == {"clienten": 2}
