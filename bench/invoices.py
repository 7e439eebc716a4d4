"""Benchmark: rendering invoice PDFs through RQ workers versus bare WeasyPrint.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        python -m bench.invoices [--quick] [--invoices N]

A scratch database with one organisation and N PGB clients with approved care on every day of
October 2025 (about 30 invoice lines each). A real invoice run (stacking, numbering) makes the N
invoices; then:

* bare: the HTML of each invoice (built beforehand through the plugin hook) rendered with
  WeasyPrint in this process — the floor;
* 1 worker / 2 workers: the run's PDFs queued in chunk jobs on the "pdf" queue and rendered by
  real ``portal worker pdf --burst`` processes (building the HTML through the hook, loading and
  storing each invoice in the database, progress rows). Time runs from the first chunk starting
  to the last PDF stored, so process start-up is not counted.

Targets: worker time per invoice at most 1.2× bare rendering; the second worker near-linear
(speed-up 1.8). ``--quick``: 60 invoices (under a minute). The machine's other load shows in the
figures: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, func, insert, select, text, update

from portal.migrate import upgrade

PERIOD = (date(2025, 10, 1), date(2025, 10, 31))


def scratch_database(url: str, name: str) -> str:
    if url.startswith("sqlite"):
        path = os.path.join(tempfile.mkdtemp(prefix="bench-inv-"), "bench.db")
        return f"sqlite:///{path}"
    base = url.rsplit("/", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def seed(session, n: int) -> None:
    from portal.demo import generate_bsn
    from portal.models import (
        Client,
        Financier,
        Legitimation,
        Organisation,
        OrganisationAgb,
        Product,
        User,
        Uursoort,
        UursoortFinancing,
        legitimation_product,
    )
    from portal.models.registration import REG_APPROVED, Registration

    rng = random.Random(6)
    org = Organisation(
        naam="Zorggroep Benchmark",
        kvk_nummer="41234567",
        iban="NL91ABNA0417164300",
        straat="Lindelaan",
        huisnummer="12",
        postcode="3511AB",
        plaats="Utrecht",
        email="administratie@bench.example",
    )
    org.agb_codes = [OrganisationAgb(agb_code="73730001", locatie="Utrecht", hoofd=True)]
    us = Uursoort(code="PV", naam="Persoonlijke verzorging")
    us.financings = [UursoortFinancing(financing="pgb", position=1)]
    prod = Product(code="PV-UUR", naam="Persoonlijke verzorging", eenheid="uur", uursoort=us)
    fin = Financier(financing="pgb", soort="budgethouder", naam="Budgethouder")
    emp = User(email="bench@example.org", naam="Bench", role="zorgprofessional", password_hash="x")
    session.add_all([org, us, prod, fin, emp])
    session.flush()
    now = datetime.now(UTC)
    bsns: set[str] = set()
    clients = []
    for i in range(n):
        bsn = generate_bsn(rng)
        while bsn in bsns:
            bsn = generate_bsn(rng)
        bsns.add(bsn)
        clients.append(
            {
                "bsn": bsn,
                "clientnummer": f"B{i:06d}",
                "voorletters": "J.",
                "achternaam": f"Client{i}",
                "geboortedatum": date(1950, 1, 1) + timedelta(days=i),
                "geslacht": "1",
                "straat": "Dorpsstraat",
                "huisnummer": str(1 + i % 200),
                "postcode": "3511AA",
                "plaats": "Utrecht",
                "email": f"b{i}@example.org",
                "actief": True,
                "budgethouder_is_client": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    session.execute(insert(Client), clients)
    ids = session.scalars(select(Client.id).order_by(Client.id)).all()
    legs = [
        {
            "client_id": cid,
            "financing": "pgb",
            "financier_id": fin.id,
            "begindatum": date(2025, 1, 1),
            "priority": 1,
            "volume": 40,
            "eenheid": "uur",
            "frequentie": "week",
            "tarief_cents": 5500,
            "status": "actief",
            "bron": "handmatig",
            "sleutels": {"wet": "wlz"},
            "created_at": now,
            "updated_at": now,
        }
        for cid in ids
    ]
    session.execute(insert(Legitimation), legs)
    leg_ids = session.scalars(select(Legitimation.id).order_by(Legitimation.id)).all()
    session.execute(
        insert(legitimation_product),
        [{"legitimation_id": lid, "product_id": prod.id} for lid in leg_ids],
    )
    regs = []
    start, end = PERIOD
    for cid in ids:
        day = start
        while day <= end:
            regs.append(
                {
                    "client_id": cid,
                    "product_id": prod.id,
                    "uursoort_id": us.id,
                    "employee_id": emp.id,
                    "datum": day,
                    "duur_minuten": rng.choice((45, 60, 75, 90, 120)),
                    "status": REG_APPROVED,
                    "bron": "scherm",
                    "waarschuwingen": [],
                    "created_at": now,
                    "updated_at": now,
                }
            )
            day += timedelta(days=1)
    for i in range(0, len(regs), 5000):
        session.execute(insert(Registration), regs[i : i + 5000])
    session.commit()


def run_workers(app, env: dict, run_id: int, n_workers: int, n: int) -> tuple[float, float]:
    """Queue the run's PDFs, let ``n_workers`` real worker processes render them; seconds from
    the first chunk starting to the last PDF stored."""
    from portal.db import session_scope
    from portal.jobs import invoices as invoice_jobs
    from portal.models import BackgroundJob, Invoice, InvoiceRun
    from portal.services import invoicing

    with app.app_context():
        with session_scope() as s:
            s.execute(
                update(Invoice)
                .where(Invoice.run_id == run_id)
                .values(pdf=None, pdf_sha256=None, pdf_rendered_at=None)
            )
            s.execute(
                BackgroundJob.__table__.delete().where(
                    BackgroundJob.id.startswith(invoice_jobs.progress_row_id(run_id, app))
                )
            )
        with session_scope() as s:
            run = s.get(InvoiceRun, run_id)
            invoicing.queue_render(s, run)  # the production chunking
    cpu = sum(run_burst_workers(env, n_workers))
    with app.app_context(), session_scope() as s:
        done = s.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.run_id == run_id, Invoice.pdf_sha256.is_not(None))
        )
        if done != n:
            raise SystemExit(f"only {done} of {n} PDFs rendered")
        first = s.scalar(
            select(func.min(BackgroundJob.started_at)).where(
                BackgroundJob.id.startswith(f"{invoice_jobs.progress_row_id(run_id, app)}-deel-")
            )
        )
        last = s.scalar(select(func.max(Invoice.pdf_rendered_at)).where(Invoice.run_id == run_id))
    return (last - first).total_seconds(), cpu


def run_burst_workers(env: dict, n_workers: int) -> list[float]:
    """Start real ``portal worker pdf --burst`` processes; their CPU seconds (with the work horses
    they forked and reaped), so the figure holds on a machine that is busy with other things."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "worker", "pdf", "--burst"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "ab"),  # noqa: SIM115
        )
        for _ in range(n_workers)
    ]
    cpu = []
    for p in procs:
        _pid, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise SystemExit(f"worker exited with {p.returncode}")
        cpu.append(usage.ru_utime + usage.ru_stime)
    return cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--invoices", type=int, default=None)
    parser.add_argument(
        "--bare-sample", type=int, default=None, help="invoices rendered bare (default: all)"
    )
    args = parser.parse_args(argv)
    n = args.invoices or (60 if args.quick else 1000)
    base_url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    redis_url = os.environ.get("REDIS_URL")
    url = scratch_database(base_url, "bench_invoices")
    upgrade(url)
    instance = tempfile.mkdtemp(prefix="bench-inv-instance-")
    prefix = f"benchinv{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, DATABASE_URL=url, RQ_QUEUE_PREFIX=prefix, PORTAL_INSTANCE=instance)
    os.environ["PORTAL_INSTANCE"] = instance

    from portal.app import create_app
    from portal.db import session_scope
    from portal.models import Invoice
    from portal.services import invoicing

    config = {"DATABASE_URL": url, "RQ_QUEUE_PREFIX": prefix}
    if redis_url:
        config["REDIS_URL"] = redis_url
    app = create_app(config)
    with app.app_context():
        from portal.jobs import redis_connection

        redis_connection(app)  # starts the embedded Redis when REDIS_URL is not set
        env["REDIS_URL"] = app.config["REDIS_URL"]
        hooks = app.extensions["hooks"]
        with session_scope() as s:
            t = time.perf_counter()
            seed(s, n)
            print(f"seeded {n} clients in {time.perf_counter() - t:.1f} s")
        with session_scope() as s:
            t = time.perf_counter()
            run = invoicing.create_run(
                s, hooks, "pgb", *PERIOD, today=date(2025, 11, 3), enqueue_render=False
            )
            create_s = time.perf_counter() - t
            run_id, n_lines = run.id, run.n_lines
        print(f"invoice run: {n} invoices, {n_lines} lines ({n_lines / n:.1f} per invoice)")

        # bare WeasyPrint on the same HTML
        sample = args.bare_sample or n
        with session_scope() as s:
            invoices = s.scalars(
                select(Invoice).where(Invoice.run_id == run_id).order_by(Invoice.id)
            ).all()
            step = max(1, len(invoices) // sample)
            htmls = [hooks.build_invoice(inv).html for inv in invoices[::step][:sample]]
        invoicing.render_html_to_pdf(htmls[0])  # warm-up (fonts), like a worker's first job
        t, c = time.perf_counter(), time.process_time()
        for html in htmls:
            invoicing.render_html_to_pdf(html)
        bare_ms = (time.perf_counter() - t) * 1000 / len(htmls)
        bare_cpu_ms = (time.process_time() - c) * 1000 / len(htmls)
        print(
            f"bare WeasyPrint: {bare_ms:.1f} ms per invoice, {bare_cpu_ms:.1f} ms CPU "
            f"({len(htmls)} invoices)"
        )

    idle_cpu = run_burst_workers(env, 1)[0]  # start-up and shutdown of a worker, no work
    one_s, one_cpu = run_workers(app, env, run_id, 1, n)
    one_ms = one_s * 1000 / n
    one_cpu_ms = (one_cpu - idle_cpu) * 1000 / n
    print(f"1 worker: {one_s:.1f} s, {one_ms:.1f} ms per invoice, {one_cpu_ms:.1f} ms CPU")
    two_s, _two_cpu = run_workers(app, env, run_id, 2, n)
    two_ms = two_s * 1000 / n
    print(f"2 workers: {two_s:.1f} s, {two_ms:.1f} ms per invoice")
    print(
        f"(worker start-up, not counted: {idle_cpu:.2f} s CPU; load now {os.getloadavg()[0]:.1f})"
    )

    print(f"RESULT invoice_run_create_per_invoice {create_s * 1000 / n:.1f} ms target 50")
    print(f"RESULT invoice_bare_render_per_invoice {bare_ms:.1f} ms target {bare_ms:.1f}")
    print(f"RESULT invoice_worker1_per_invoice {one_ms:.1f} ms target {1.2 * bare_ms:.1f}")
    print(f"RESULT invoice_worker2_per_invoice {two_ms:.1f} ms target {1.2 * bare_ms / 1.8:.1f}")
    print(f"RESULT invoice_render_ratio {one_ms / bare_ms:.2f} x target 1.2")
    print(f"RESULT invoice_render_cpu_ratio {one_cpu_ms / bare_cpu_ms:.2f} x target 1.2")
    print(f"RESULT invoice_speedup_2_workers {one_s / two_s:.2f} x target 1.8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
