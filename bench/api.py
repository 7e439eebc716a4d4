"""The API under load: 100,000 registrations in batches of 1,000, and the change feed.

A connected system (an ECD) pushes a year's worth of care through ``POST
/api/v1/registraties/batch`` over real HTTP (gunicorn, two workers, on 127.0.0.1) into a fresh
database next to ``DATABASE_URL`` (PostgreSQL; else a SQLite file). Every registration goes
through the screen's rules (employee, client, product, date, start, duration, overlap, duplicate,
legitimation warning). Then one batch is sent a second time: it must store nothing. Then all
100,000 are approved in one statement (as fiatteren does), and the change feed
(``GET /api/v1/wijzigingen``) is read from before the approval to the end: 100,000 changed lines.

Targets: the 100 batches in under 60 s; the repeated batch stores 0; the feed of 100,000 changes
read in under 10 s.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/api.py
    ... python bench/api.py --quick      # 10,000 registrations, well under a minute
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests
from sqlalchemy import func, select, text

from bench.gen_production import _employees
from bench.generate import generate_organisation
from bench.wmo_323 import bench_app, fresh_database
from portal.models import Client, Registration
from portal.models.api import SCOPES

BATCH = 1000
SLOTS = 8  # registrations per employee and day: 08:00, 08:45, … (45 minutes apart, 40 long)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _items(n: int, emails: list[str], client_keys: list[str], seed: int = 7) -> list[dict]:
    """``n`` registrations: per employee, day after day backwards from yesterday, 8 a day."""
    rng = random.Random(seed)
    per_employee = -(-n // len(emails))
    items = []
    yesterday = date.today() - timedelta(days=1)
    for e, email in enumerate(emails):
        for k in range(per_employee):
            if len(items) == n:
                break
            day = yesterday - timedelta(days=k // SLOTS)
            minute = 8 * 60 + (k % SLOTS) * 45
            items.append(
                {
                    "extern_id": f"ecd-{e}-{k}",
                    "medewerker": email,
                    "client": rng.choice(client_keys),
                    "product": "PV-UUR",
                    "datum": day.isoformat(),
                    "starttijd": f"{minute // 60:02d}:{minute % 60:02d}",
                    "duur_minuten": 40,
                }
            )
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--registrations", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    n = args.registrations or (10_000 if args.quick else 100_000)
    n_clients = 1000 if args.quick else 5000
    n_employees = max(1, n // BATCH)  # one employee's registrations per batch

    url, drop = fresh_database()
    server = None
    try:
        app = bench_app(url)
        engine = app.extensions["db_engine"]
        generate_organisation(engine, n_clients=n_clients, seed=3)
        with engine.begin() as conn:
            employee_ids = _employees(conn, n_employees)
        with app.app_context():
            from portal.services import api_tokens

            sm = app.extensions["db_sessionmaker"]
            with sm() as s:
                emails = [
                    e
                    for (e,) in s.execute(
                        text("SELECT email FROM user_account WHERE id = ANY(:ids) ORDER BY id")
                        if engine.dialect.name == "postgresql"
                        else text("SELECT email FROM user_account ORDER BY id"),
                        {"ids": employee_ids},
                    )
                ][-n_employees:]
                client_keys = list(s.scalars(select(Client.bsn)))
                k = api_tokens.create_koppeling(s, naam="Bench-ECD", user_id=None)
                token = api_tokens.create_token(
                    s, k, naam="bench", scopes=list(SCOPES), days=1, user_id=None,
                    rate_limit_per_minute=1_000_000,
                ).token  # fmt: skip
                s.commit()
        items = _items(n, emails, client_keys)

        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": app.config["REDIS_URL"],
            "RQ_QUEUE_PREFIX": app.config["RQ_QUEUE_PREFIX"],
            "SECRET_KEY": "bench",
            "PORTAL_INSTANCE": app.instance_path,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--bind",
             f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning",
             "portal:create_app()"],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}/api/v1"
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        for _ in range(120):
            try:
                if http.get(f"{base}/wijzigingen?limiet=1", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.5)
        else:
            raise RuntimeError("gunicorn did not start")

        local = threading.local()

        def send(batch: list[dict]) -> dict:
            if not hasattr(local, "http"):
                local.http = requests.Session()
                local.http.headers["Authorization"] = f"Bearer {token}"
            resp = local.http.post(
                f"{base}/registraties/batch",
                json={"modus": "alles_of_niets", "registraties": batch},
                timeout=120,
            )
            body = resp.json()
            if resp.status_code != 200:
                raise RuntimeError(f"batch refused: {resp.status_code} {str(body)[:500]}")
            return body

        # as an ECD with two sending threads would (one per gunicorn worker); each batch holds
        # one employee's registrations, so the batches do not overlap each other
        batches = [items[i : i + BATCH] for i in range(0, n, BATCH)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            stored = sum(body["opgeslagen"] for body in pool.map(send, batches))
        intake_s = time.perf_counter() - started

        again = send(items[:BATCH])
        with sm() as s:
            in_db = s.scalar(select(func.count(Registration.id)))
        print(
            f"{stored} stored in {intake_s:.1f} s ({n / intake_s:.0f}/s); the first batch again: "
            f"{again['opgeslagen']} stored, {again['al_ontvangen']} al_ontvangen; "
            f"{in_db} in the database"
        )
        if stored != n or in_db != n or again["al_ontvangen"] != min(BATCH, n):
            raise RuntimeError("registrations lost or stored twice")

        cursor = http.get(f"{base}/wijzigingen?limiet=1").json()  # where the feed starts
        position = "0-0-0"
        while True:  # move to the end of the intake's changes
            page = http.get(f"{base}/wijzigingen", params={"na": position, "limiet": 5000}).json()
            position = page["volgende"]
            if not page["meer"]:
                break
        with engine.begin() as conn:  # approve everything in one statement, as fiatteren does
            conn.execute(text("UPDATE registration SET status = 'gefiatteerd'"))
        started = time.perf_counter()
        seen = 0
        approved = 0
        while True:
            page = http.get(f"{base}/wijzigingen", params={"na": position, "limiet": 5000}).json()
            seen += len(page["wijzigingen"])
            approved += sum(1 for w in page["wijzigingen"] if w["status"] == "gefiatteerd")
            position = page["volgende"]
            if not page["meer"]:
                break
        feed_s = time.perf_counter() - started
        print(f"change feed: {seen} changes ({approved} gefiatteerd) read in {feed_s:.2f} s")
        if approved != n or not cursor["wijzigingen"]:
            raise RuntimeError("the feed missed changes")
        scale = 100_000 / n
        print(f"RESULT api_intake_registrations {intake_s * scale:.1f} s target 60")
        print(f"RESULT api_repeated_batch_stored {again['opgeslagen']} registrations target 0")
        print(f"RESULT api_change_feed {feed_s * scale:.2f} s target 10")
        if args.quick:
            print(f"(--quick: {n} registrations; figures scaled linearly to 100,000)")
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop()


if __name__ == "__main__":
    raise SystemExit(main())
