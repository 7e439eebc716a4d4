"""Fault matrix: messages and invoices through every fault at once, then count lost and doubled.

    python -m bench.faults            # 1,200 messages (150 per fault) and 200 invoices
    python -m bench.faults --quick    # 160 messages and 30 invoices (what the test suite runs)

Everything is real and private to this run: a new PostgreSQL cluster and a redis-server on free
ports (restarted here; never the shared servers), the VECOZO stand-in (in this process, where
its fault switches are), and 2 ``portal worker`` processes. A worker that stops is started again,
as ``portal demo`` and systemd do. The scheduler's rounds (reconcile the job table, check
outstanding messages, put lost sends back) run here every second. The faults:

=============================  ==========================================================
5xx                            20 % of the sends answered with a 500
time-out                       20 % of the sends answered after the client gave up
drop after accept              20 % of the sends accepted, then the connection dropped
duplicate delivery             incoming messages offered twice in the list
Redis restart                  Redis killed and started empty while sending and rendering
worker SIGKILL                 a worker and its work horse killed while sending/rendering
PostgreSQL restart             PostgreSQL stopped (immediate) and started, mid-work (sends,
                               PDFs and a VECOZO poll)
=============================  ==========================================================

The invoices (one PGB run) are rendered while the last three faults happen. Lost: an outgoing
message never received by VECOZO, an incoming one never stored, an invoice without its PDF.
Doubled: a message received by VECOZO (or stored) twice, an invoice or PDF made twice. Ends
with the table and ``RESULT faults_lost 0 count target 0`` / ``RESULT faults_doubled ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.services import PrivatePostgres, PrivateRedis, available

SETTLE_SECONDS = 420


@dataclass
class Row:
    fault: str
    messages: int = 0
    invoices: int = 0
    lost: int = 0
    doubled: int = 0
    seconds: float = 0.0
    note: str = ""


@dataclass
class Matrix:
    rows: list[Row] = field(default_factory=list)
    diagnosis: str = ""

    @property
    def lost(self) -> int:
        return sum(r.lost for r in self.rows)

    @property
    def doubled(self) -> int:
        return sum(r.doubled for r in self.rows)

    @property
    def messages(self) -> int:
        return sum(r.messages for r in self.rows)

    @property
    def invoices(self) -> int:
        return sum(r.invoices for r in self.rows)

    def table(self) -> str:
        head = f"{'fout':<22} {'berichten':>9} {'facturen':>8} {'kwijt':>6} {'dubbel':>6} {'s':>6}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(
                f"{r.fault:<22} {r.messages:>9} {r.invoices:>8} {r.lost:>6} {r.doubled:>6} "
                f"{r.seconds:>6.1f}" + (f"  {r.note}" if r.note else "")
            )
        lines.append("-" * len(head))
        lines.append(
            f"{'totaal':<22} {self.messages:>9} {self.invoices:>8} {self.lost:>6} {self.doubled:>6}"
        )
        return "\n".join(lines)


def _descendants(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            children = [int(c) for c in fh.read().split()]
    except OSError:
        return []
    return [d for c in children for d in (c, *_descendants(c))]


class Harness:
    def __init__(self, n_workers: int = 2, log=print):
        self.n_workers = n_workers
        self.log = log
        self.pg = PrivatePostgres()
        self.redis = PrivateRedis()
        self.workers: list[subprocess.Popen] = []
        self.worker_logs: list = []
        self.restarted_workers = 0
        self.standin_server = None
        self.instance: Path | None = None
        self.app = None
        self._stop_rounds = threading.Event()
        self._rounds: threading.Thread | None = None

    # -- set-up -----------------------------------------------------------------------------

    def start(self) -> None:
        from portal.app import create_app
        from portal.migrate import upgrade
        from portal.vecozo.standin.server import make_standin_server

        self.pg.start()
        self.redis.start()
        db_url = self.pg.create_database("portal")
        upgrade(db_url)
        self.instance = Path(self.pg.dir.parent) / f"portal-faults-{uuid.uuid4().hex[:6]}"
        self.instance.mkdir()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.standin_server = make_standin_server(
            config={
                "STANDIN_DB": str(self.instance / "standin.db"),
                "STANDIN_CHAIN_DELAY": 0,
                "STANDIN_FETCH_DELAY": 0,
            }
        )
        threading.Thread(target=self.standin_server.serve_forever, daemon=True).start()
        self.store = self.standin_server.app.extensions["standin_store"]
        standin_url = f"http://127.0.0.1:{self.standin_server.server_port}"
        prefix = f"f{uuid.uuid4().hex[:6]}"
        config = {
            "DATABASE_URL": db_url,
            "REDIS_URL": self.redis.url,
            "RQ_QUEUE_PREFIX": prefix,
            "SECRET_KEY": "faults",
            "VECOZO_BASE_URL": standin_url,
            "VECOZO_TIMEOUT_SECONDS": 1.5,
            "VECOZO_FIRST_CHECK_SECONDS": 0,
            "VECOZO_UNCERTAIN_CHECK_SECONDS": 0,
            "VECOZO_RESEND_GRACE_SECONDS": 3,
            "VECOZO_REQUEUE_SECONDS": 3,
            "VECOZO_STALE_SEND_SECONDS": 5,
            "VECOZO_POLL_STALE_SECONDS": 5,
            "JOB_ENQUEUE_GRACE_SECONDS": 5,
            "JOB_LOST_RUNNING_SECONDS": 20,
        }
        os.environ["PORTAL_INSTANCE"] = str(self.instance)
        self.app = create_app(config)
        self.env = dict(
            os.environ,
            DATABASE_URL=db_url,
            REDIS_URL=self.redis.url,
            RQ_QUEUE_PREFIX=prefix,
            SECRET_KEY="faults",
            VECOZO_BASE_URL=standin_url,
            VECOZO_TIMEOUT_SECONDS="1.5",
            PORTAL_INSTANCE=str(self.instance),
        )
        for _ in range(self.n_workers):
            self.start_worker()
        self._rounds = threading.Thread(target=self._scheduler_rounds, daemon=True)
        self._rounds.start()

    def start_worker(self) -> subprocess.Popen:
        log = open(self.instance / f"worker-{len(self.workers)}.log", "wb")  # noqa: SIM115
        self.worker_logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)
        return proc

    def _scheduler_pids(self) -> set[int]:
        """The pids of RQ's scheduler processes (each a child of a worker), from Redis."""
        from redis import Redis

        conn = Redis.from_url(self.redis.url)
        try:
            return {
                int(pid)
                for key in conn.scan_iter("rq:scheduler:*")
                if (pid := conn.hget(key, "pid")) is not None
            }
        except Exception:
            return set()
        finally:
            conn.close()

    def kill_worker(self) -> None:
        """SIGKILL a live worker and its children (work horse, scheduler): the one that runs
        RQ's scheduler when there is one, the hard case (retried jobs wait for a scheduler)."""
        live = [p for p in self.workers if p.poll() is None]
        holders = self._scheduler_pids()
        proc = next((p for p in live if holders & set(_descendants(p.pid))), live[0])
        for pid in [proc.pid, *_descendants(proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)

    def close(self) -> None:
        self._stop_rounds.set()
        if self._rounds is not None:
            self._rounds.join(30)
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in self.worker_logs:
            log.close()
        if self.standin_server is not None:
            self.standin_server.shutdown()
            self.standin_server.server_close()
        if self.app is not None:
            self.app.extensions["db_engine"].dispose()
        self.redis.close()
        self.pg.close()
        if self.instance is not None:
            shutil.rmtree(self.instance, ignore_errors=True)

    # -- what the scheduler (and a supervisor) would do -------------------------------------

    def _scheduler_rounds(self) -> None:
        from portal.jobs.reconcile import reconcile
        from portal.jobs.vecozo import check_outstanding

        app = self.app
        while not self._stop_rounds.wait(1.0):
            live = [p for p in self.workers if p.poll() is None]
            for _ in range(self.n_workers - len(live)):  # a stopped worker is started again
                self.restarted_workers += 1
                self.start_worker()
            try:
                with app.app_context():
                    session = app.extensions["db_sessionmaker"]()
                    try:
                        reconcile(app, session)
                        check_outstanding(app, session)
                    finally:
                        session.close()
            except Exception as exc:  # the database or Redis is away: next round
                self.log(f"    (ronde overgeslagen: {type(exc).__name__})")

    # -- work ------------------------------------------------------------------------------

    def create_messages(self, n: int, tag: str) -> list[str]:
        from portal.domain import MessageDraft
        from portal.services.messages import create_outgoing

        sm = self.app.extensions["db_sessionmaker"]
        ids = []
        with self.app.app_context():
            for start in range(0, n, 50):  # one commit per 50, as a declaration does
                with sm() as s:
                    batch = [
                        create_outgoing(
                            s,
                            MessageDraft(
                                standard="Bench",
                                code="TEST",
                                payload=f"B{tag}{i:08d}{'':8}\r\n".encode(),
                                afzender=("Instelling", "12345678"),
                                geadresseerde=("Gemeente", "0363"),
                                reference=f"{tag}{i:08d}",
                            ),
                            financing="wmo_jw",
                        )
                        for i in range(start, min(n, start + 50))
                    ]
                    s.commit()
                    ids += [m.traceer_id for m in batch]
        return ids

    def place_incoming(self, n: int, tag: str) -> set[str]:
        import requests

        url = f"http://127.0.0.1:{self.standin_server.server_port}/_standin/plaatsen"
        placed = set()
        for i in range(n):
            resp = requests.post(
                url,
                json={
                    "postbus": "12345678",
                    "afzender_code": "0363",
                    "code": "WMO301",
                    "payload": f"<toewijzing n='{tag}{i}'/>",
                },
                timeout=10,
            )
            resp.raise_for_status()
            placed.add(resp.json()["traceerId"])
        return placed

    def poll(self) -> None:
        from portal.jobs.vecozo import enqueue_poll

        with self.app.app_context():
            session = self.app.extensions["db_sessionmaker"]()
            try:
                enqueue_poll(session, trigger="handmatig")
            finally:
                session.close()

    def invoice_run(self, n: int) -> int:
        from bench.invoices import PERIOD, seed
        from portal.services import invoicing

        sm = self.app.extensions["db_sessionmaker"]
        with self.app.app_context():
            with sm() as s:
                seed(s, n)
            with sm() as s:
                run = invoicing.create_run(
                    s, self.app.extensions["hooks"], "pgb", *PERIOD, enqueue_render=True
                )
                return run.id

    # -- counting --------------------------------------------------------------------------

    def _query(self, fn):
        """Run ``fn(session)``; None while the database is away."""
        try:
            with self.app.extensions["db_sessionmaker"]() as s:
                return fn(s)
        except Exception:
            return None

    def outgoing_settled(self, tids: list[str]) -> bool:
        from sqlalchemy import func, select

        from portal.models import Message

        open_ = self._query(
            lambda s: s.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.traceer_id.in_(tids),
                    Message.status.in_(("wachtrij", "verzenden", "onzeker")),
                )
            )
        )
        return open_ == 0

    def outgoing_counts(self, tids: list[str]) -> tuple[int, int]:
        counts = self.store.submitted_counts()
        lost = sum(1 for t in tids if counts.get(t, 0) == 0)
        doubled = sum(counts[t] - 1 for t in tids if counts.get(t, 0) > 1)
        return lost, doubled

    def incoming_counts(self, placed: set[str]) -> tuple[int, int]:
        from sqlalchemy import func, select

        from portal.models import Message

        rows = self._query(
            lambda s: s.execute(
                select(Message.traceer_id, func.count())
                .where(Message.direction == "in", Message.traceer_id.in_(placed))
                .group_by(Message.traceer_id)
            ).all()
        )
        stored = dict(rows or [])
        lost = sum(1 for t in placed if t not in stored)
        doubled = sum(c - 1 for c in stored.values() if c > 1)
        return lost, doubled

    def invoice_counts(self, run_id: int, n: int) -> tuple[int, int, int]:
        """(invoices, without PDF, doubled numbers) of the run."""
        from sqlalchemy import func, select

        from portal.models import Invoice

        def q(s):
            total = s.scalar(select(func.count()).where(Invoice.run_id == run_id))
            numbers = s.scalar(
                select(func.count(func.distinct(Invoice.nummer))).where(Invoice.run_id == run_id)
            )
            no_pdf = s.scalar(
                select(func.count()).where(Invoice.run_id == run_id, Invoice.pdf_sha256.is_(None))
            )
            return total, no_pdf, total - numbers

        return self._query(q) or (0, n, 0)

    def poll_running(self) -> bool:
        from sqlalchemy import func, select

        from portal.models import BackgroundJob

        n = self._query(
            lambda s: s.scalar(
                select(func.count()).where(
                    BackgroundJob.kind == "vecozo.ophalen",
                    BackgroundJob.status.in_(("wachtend", "bezig")),
                )
            )
        )
        return n is None or n > 0

    def diagnosis(self) -> str:
        """What is still open when a row did not settle: job rows, RQ's registries, the end of
        each worker's log (read before ``close`` removes them)."""
        from rq.registry import ScheduledJobRegistry, StartedJobRegistry
        from sqlalchemy import select

        from portal.jobs import QUEUES, queue_name, redis_connection
        from portal.models import BackgroundJob

        lines = []
        rows = self._query(
            lambda s: s.execute(
                select(BackgroundJob.id, BackgroundJob.status, BackgroundJob.error).where(
                    BackgroundJob.status != "klaar"
                )
            ).all()
        )
        lines += [f"job {r.id}: {r.status} {r.error or ''}" for r in rows or []]
        try:
            conn = redis_connection(self.app)
            for q in QUEUES:
                name = queue_name(q, self.app)
                scheduled = ScheduledJobRegistry(name, connection=conn).count
                started = StartedJobRegistry(name, connection=conn).count
                lines.append(f"queue {q}: {scheduled} gepland, {started} bezig")
            lines.append(f"scheduler-pids: {sorted(self._scheduler_pids())}")
        except Exception as exc:
            lines.append(f"redis: {exc!r}")
        for path in sorted(self.instance.glob("worker-*.log")) if self.instance else []:
            tail = path.read_text(errors="replace").splitlines()[-8:]
            lines += [f"{path.name}: {line}" for line in tail]
        return "\n".join(lines)

    def wait(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.5)
        return predicate()


def run_matrix(per_fault: int, n_invoices: int, log=print) -> Matrix:
    """Run every fault over ``per_fault`` messages (7 faults) and ``n_invoices`` invoices."""
    reason = available()
    if reason:
        raise RuntimeError(reason)
    h = Harness(log=log)
    matrix = Matrix()
    try:
        h.start()
        log(f"Foutenmatrix: {8 * per_fault} berichten, {n_invoices} facturen, 2 workers")
        k = max(1, per_fault // 5)

        def outgoing_row(name: str, fault: str, seconds: float = 0) -> None:
            t0 = time.monotonic()
            h.store.set_fault(fault, k, seconds)
            tids = h.create_messages(per_fault, f"{len(matrix.rows)}")
            settled = h.wait(lambda: h.outgoing_settled(tids), SETTLE_SECONDS)
            h.store.clear_faults()
            lost, doubled = h.outgoing_counts(tids)
            note = "" if settled else "niet afgerond"
            if not settled and not matrix.diagnosis:
                matrix.diagnosis = h.diagnosis()
            matrix.rows.append(Row(name, per_fault, 0, lost, doubled, time.monotonic() - t0, note))
            log(f"  {name}: {lost} kwijt, {doubled} dubbel")

        outgoing_row("5xx", "push_500")
        outgoing_row("time-out", "push_timeout", 2.0)
        outgoing_row("drop after accept", "push_verbreken")

        t0 = time.monotonic()
        placed = h.place_incoming(per_fault, "in")
        h.store.set_fault("dubbel", per_fault)
        h.poll()
        h.wait(lambda: h.incoming_counts(placed)[0] == 0, SETTLE_SECONDS)
        h.poll()  # a second fetch finds nothing new
        time.sleep(2)
        h.store.clear_faults()
        lost, doubled = h.incoming_counts(placed)
        matrix.rows.append(
            Row("duplicate delivery", per_fault, 0, lost, doubled, time.monotonic() - t0)
        )
        log(f"  duplicate delivery: {lost} kwijt, {doubled} dubbel")

        # the last three while the invoices are rendered
        t0 = time.monotonic()
        run_id = h.invoice_run(n_invoices)
        log(f"  factuurrun {run_id}: {n_invoices} facturen, PDF's in de wachtrij")
        slow = {"traag": 0.05}
        h.store.set_fault("traag", -1, slow["traag"])  # sends take a moment: faults hit mid-work

        def done_pdfs() -> int:
            total, no_pdf, _ = h.invoice_counts(run_id, n_invoices)
            return total - no_pdf

        rows_tids: dict[str, list[str]] = {}
        rows_tids["Redis restart"] = h.create_messages(per_fault, "5")
        h.wait(lambda: done_pdfs() >= n_invoices // 6, 120)
        h.redis.restart()
        log(f"  Redis herstart (leeg) bij {done_pdfs()} PDF's")
        rows_tids["worker SIGKILL"] = h.create_messages(per_fault, "6")
        h.wait(lambda: done_pdfs() >= n_invoices // 3, 120)
        time.sleep(0.5)
        h.kill_worker()
        log(f"  worker gedood (SIGKILL) bij {done_pdfs()} PDF's")
        rows_tids["PostgreSQL restart"] = h.create_messages(per_fault, "7")
        placed_pg = h.place_incoming(per_fault, "pg")  # and a VECOZO poll running meanwhile
        h.poll()
        h.wait(lambda: done_pdfs() >= n_invoices // 2, 120)
        time.sleep(0.5)
        h.pg.restart()
        log(f"  PostgreSQL herstart bij {done_pdfs()} PDF's")
        h.store.clear_faults()
        # the next poll (the scheduler's, or a user's click) fetches what was not acknowledged
        h.wait(lambda: h._query(lambda s: 1) == 1, 60)
        h.wait(lambda: not h.poll_running(), 120)
        h.poll()

        all_tids = [t for tids in rows_tids.values() for t in tids]
        settled = h.wait(
            lambda: h.outgoing_settled(all_tids) and h.invoice_counts(run_id, n_invoices)[1] == 0,
            SETTLE_SECONDS,
        )
        seconds = time.monotonic() - t0
        settled = settled and h.wait(lambda: h.incoming_counts(placed_pg)[0] == 0, 120)
        for name, tids in rows_tids.items():
            lost, doubled = h.outgoing_counts(tids)
            n = per_fault
            if name == "PostgreSQL restart":  # plus the poll's incoming messages
                lost_in, doubled_in = h.incoming_counts(placed_pg)
                lost, doubled, n = lost + lost_in, doubled + doubled_in, 2 * per_fault
            note = "" if settled else "niet afgerond"
            matrix.rows.append(Row(name, n, 0, lost, doubled, seconds, note))
        if not settled:
            matrix.diagnosis = h.diagnosis()
        total, no_pdf, doubled_numbers = h.invoice_counts(run_id, n_invoices)
        matrix.rows.append(
            Row(
                "invoices (3 faults)",
                0,
                total,
                no_pdf + max(0, n_invoices - total),
                doubled_numbers + max(0, total - n_invoices),
                seconds,
                f"{h.restarted_workers} worker(s) herstart",
            )
        )
    finally:
        h.close()
    return matrix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="160 messages and 30 invoices")
    parser.add_argument("--per-fault", type=int, default=None)
    parser.add_argument("--invoices", type=int, default=None)
    args = parser.parse_args()
    per_fault = args.per_fault or (20 if args.quick else 150)
    n_invoices = args.invoices or (30 if args.quick else 200)
    t0 = time.monotonic()
    matrix = run_matrix(per_fault, n_invoices)
    print()
    print(matrix.table())
    if matrix.diagnosis:
        print(matrix.diagnosis)
    print(
        f"\n{matrix.messages} berichten, {matrix.invoices} facturen in {time.monotonic() - t0:.0f} s"
    )
    print(f"RESULT faults_messages {matrix.messages} count target 1000")
    print(f"RESULT faults_invoices {matrix.invoices} count target 200")
    print(f"RESULT faults_lost {matrix.lost} count target 0")
    print(f"RESULT faults_doubled {matrix.doubled} count target 0")


if __name__ == "__main__":
    main()
