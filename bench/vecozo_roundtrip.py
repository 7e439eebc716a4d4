"""Benchmark: N messages sent, status-checked, and their N answers pulled and stored, through the
VECOZO stand-in with 2 real `portal worker` processes.

    python bench/vecozo_roundtrip.py            # 10,000 round trips (target: under 300 s)
    python bench/vecozo_roundtrip.py --quick    # 500 round trips, well under a minute

Uses DATABASE_URL / REDIS_URL when set (a scratch database is created and dropped on
PostgreSQL), else a temporary SQLite file and an embedded Redis. The stand-in runs in this process
(a threaded server) with a small simulated financier that answers every message, so its own time
can be measured apart from the portal's.

Prints messages per second, the portal's own time per message (worker job time minus the time
the stand-in spent answering) next to the stand-in's time per message, and ends with
``RESULT`` lines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import hookimpl
from portal.domain import MessageDraft


class BenchFinancier:
    """Answers every benchmark message ("B" records) with a one-record retour."""

    @hookimpl
    def financier_reply(self, payload, settings):
        if not payload.startswith(b"B"):
            return None
        return [
            MessageDraft(
                standard="Bench",
                code="TESTRETOUR",
                payload=b"R" + payload[1:11] + b"0000\r\n",
            )
        ]


def _database(url: str | None) -> tuple[str, callable]:
    from sqlalchemy import create_engine, make_url, text

    if url and url.startswith("postgresql"):
        name = f"bench_vecozo_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        scratch = make_url(url).set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        return scratch, drop
    folder = tempfile.mkdtemp(prefix="bench-vecozo-")
    return f"sqlite:///{folder}/portal.db", lambda: None


_WATCHED: list[subprocess.Popen] = []


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        dead = [p for p in _WATCHED if p.poll() is not None]
        if dead:
            raise SystemExit(
                f"a worker stopped (exit {dead[0].returncode}) while waiting for {what}"
            )
        time.sleep(0.25)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 messages instead of 10,000")
    parser.add_argument("-n", type=int, default=None, help="number of round trips")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n = args.n or (500 if args.quick else 10_000)

    from sqlalchemy import func, select, update

    from portal.app import create_app
    from portal.migrate import upgrade
    from portal.models import BackgroundJob, Message
    from portal.models._base import utcnow
    from portal.services.messages import create_outgoing

    instance = tempfile.mkdtemp(prefix="bench-instance-")
    os.environ["PORTAL_INSTANCE"] = instance
    db_url, drop_db = _database(os.environ.get("DATABASE_URL"))
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        from portal.runtime import embedded_redis_url

        redis_url = embedded_redis_url(instance)
    upgrade(db_url)

    standin_port = _free_port()
    standin_proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-standin",
            str(standin_port),
            str(Path(instance) / "standin.db"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    standin_url = f"http://127.0.0.1:{standin_port}"
    _wait(lambda: _up(standin_url), 60, "the stand-in")
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    config = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE_PREFIX": prefix,
        "SECRET_KEY": "bench",
        "VECOZO_BASE_URL": standin_url,
    }
    app = create_app(config)
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        RQ_QUEUE_PREFIX=prefix,
        SECRET_KEY="bench",
        VECOZO_BASE_URL=standin_url,
    )
    logs = [open(Path(instance) / f"worker-{i}.log", "wb") for i in range(args.workers)]  # noqa: SIM115
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "worker", "vecozo"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    _WATCHED.extend(workers)
    sm = app.extensions["db_sessionmaker"]

    def count(*where) -> int:
        with sm() as s:
            return s.scalar(select(func.count()).select_from(Message).where(*where)) or 0

    try:
        time.sleep(2)  # workers start
        print(f"VECOZO round trips: {n} messages, {args.workers} workers, stand-in {standin_url}")
        t0 = time.perf_counter()

        # 1. create and send (what a user creates is sent at once)
        with app.app_context():
            batch = 500
            for start in range(0, n, batch):
                with sm() as s:
                    for i in range(start, min(n, start + batch)):
                        create_outgoing(
                            s,
                            MessageDraft(
                                standard="Bench",
                                code="TEST",
                                payload=f"B{i:010d}{'':8}\r\n".encode(),
                                afzender=("Instelling", "12345678"),
                                geadresseerde=("Gemeente", "0363"),
                                reference=f"{i:010d}",
                            ),
                            financing="wmo_jw",
                        )
                    s.commit()
        print(f"  created:        {time.perf_counter() - t0:7.1f} s (sending runs meanwhile)")
        _wait(
            lambda: (
                count(Message.direction == "uit", Message.status.in_(("wachtrij", "verzenden")))
                == 0
            ),
            1800,
            "sends",
        )
        t_sent = time.perf_counter()
        print(f"  sent:           {t_sent - t0:7.1f} s")

        # 2. status checks (the scheduler would do this every minute; here: at once, sharded)
        from portal.jobs import enqueue

        while True:
            with sm() as s:
                s.execute(
                    update(Message)
                    .where(Message.direction == "uit", Message.next_check_at.is_not(None))
                    .values(next_check_at=utcnow())
                )
                s.commit()
            with app.app_context(), sm() as s:
                for shard in range(args.workers):
                    enqueue(
                        s,
                        "portal.jobs.vecozo.check_statuses",
                        shard,
                        args.workers,
                        kind="vecozo.status",
                        label="Status nakijken (benchmark)",
                        queue="vecozo",
                        retries=0,
                    )
            _wait(
                lambda: (
                    count(Message.direction == "uit", Message.next_check_at.is_not(None)) == 0
                    or _jobs_idle(sm)
                ),
                1800,
                "status checks",
            )
            if count(Message.direction == "uit", Message.next_check_at.is_not(None)) == 0:
                break
        t_checked = time.perf_counter()
        delivered = count(Message.direction == "uit", Message.vecozo_status == "Bezorgd")
        print(f"  status-checked: {t_checked - t_sent:7.1f} s ({delivered} Bezorgd)")

        # 3. pull and store the answers
        with app.app_context(), sm() as s:
            for shard in range(args.workers):  # one poller per worker, each its part
                enqueue(
                    s,
                    "portal.jobs.vecozo.poll",
                    "handmatig",
                    shard,
                    args.workers,
                    kind="vecozo.ophalen",
                    label="Berichten ophalen (benchmark)",
                    queue="vecozo",
                    retries=0,
                    timeout=3600,
                )
        _wait(lambda: count(Message.direction == "in") >= n, 1800, "answers")
        _wait(lambda: _jobs_idle(sm), 600, "poll to finish")
        t_end = time.perf_counter()
        print(f"  answers stored: {t_end - t_checked:7.1f} s")

        total = t_end - t0
        with sm() as s:
            jobs = s.scalars(select(BackgroundJob).where(BackgroundJob.status == "klaar")).all()
            job_seconds = sum(
                (j.finished_at - j.started_at).total_seconds()
                for j in jobs
                if j.finished_at and j.started_at
            )
            sent_once = s.scalar(
                select(func.count()).where(Message.direction == "uit", Message.send_attempts == 1)
            )
            answered = s.scalar(
                select(func.count()).where(
                    Message.direction == "uit", Message.status == "beantwoord"
                )
            )
        import requests

        tellers = requests.get(f"{standin_url}/_standin/tellers", timeout=60).json()
        standin_seconds = tellers["tijd"]["seconden"]
        requests_n = tellers["tijd"]["verzoeken"]
        submitted = tellers["ingediend"]
        assert len(submitted) == n and set(submitted.values()) == {1}, "a message went twice"
        assert sent_once == n and answered == n, (sent_once, answered)
        portal_ms = max(0.0, job_seconds - standin_seconds) * 1000 / n
        standin_ms = standin_seconds * 1000 / n
        print(f"  total:          {total:7.1f} s for {n} round trips ({n / total:.1f} msg/s)")
        print(
            f"  per message:    portal {portal_ms:.2f} ms (worker job time minus stand-in time), "
            f"stand-in {standin_ms:.2f} ms ({requests_n} API requests)"
        )
        print("  every message submitted exactly once; every answer stored once and linked")
        label = "vecozo_roundtrip" if not args.quick and not args.n else "vecozo_roundtrip_quick"
        print(
            f"RESULT {label}_total {total:.1f} s target {300 if n >= 10_000 else 300 * n / 10_000:.0f}"
        )
        print(f"RESULT {label}_throughput {n / total:.1f} msg/s target {10_000 / 300:.1f}")
        # budgets implied by "10,000 round trips in 5 minutes": 2 workers → 60 ms of worker
        # time per message; the single stand-in process → 30 ms per message
        print(f"RESULT {label}_portal_per_message {portal_ms:.2f} ms target 60")
        print(f"RESULT {label}_standin_per_message {standin_ms:.2f} ms target 30")
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(10)
            except subprocess.TimeoutExpired:
                w.kill()
        standin_proc.terminate()
        standin_proc.wait(10)
        app.extensions["db_engine"].dispose()
        drop_db()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _up(url: str) -> bool:
    import requests

    try:
        return requests.get(url + "/_standin/tellers", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def serve_standin(port: int, db_path: str) -> None:
    """The stand-in in its own process, with the benchmark's simulated financier."""
    import logging

    from portal.vecozo.standin.server import make_standin_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_standin_server(
        port=port,
        config={"STANDIN_DB": db_path, "STANDIN_CHAIN_DELAY": 0, "STANDIN_FETCH_DELAY": 0},
    )
    server.app.extensions["hooks"].pm.register(BenchFinancier(), name="bench")
    server.serve_forever()


def _jobs_idle(sm) -> bool:
    from sqlalchemy import func, select

    from portal.models import BackgroundJob

    with sm() as s:
        return (
            s.scalar(select(func.count()).where(BackgroundJob.status.in_(("wachtend", "bezig"))))
            == 0
        )


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up workers and database
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-standin":
        serve_standin(int(sys.argv[2]), sys.argv[3])
    else:
        main()
