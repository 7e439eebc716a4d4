"""Load: 50 people at work at once on gunicorn, while the month's declaration and invoice runs go.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        python -m bench.load            # 50 users for 5 minutes, 3,000 clients
    ... python -m bench.load --quick    # 50 users for 20 s, 200 clients

A scratch PostgreSQL database next to ``DATABASE_URL`` (dropped afterwards) with a synthetic
organisation (``bench.generate``) and a month of approved care for part of the clients (last
month, ``bench.gen_production``). The portal runs as in production: ``gunicorn --workers 2``
(gthread, 8 threads each, keep-alive 75 s as behind a proxy) on 127.0.0.1 and 2 ``portal
worker`` processes for the PDFs; Redis is ``REDIS_URL`` or an embedded server. Everything stays
on the loopback interface.

The users, each a thread with its own log-in (all logged in before the clock starts), in bounded
loops until the time is up, with 1–4 s of thinking between pages:

* 20 back-office users: start page, clients list, a search, client pages, approval, declarations,
  invoices, messages;
* 30 care staff on phones (a phone's User-Agent): the day's registration page, a new
  registration (a real POST, 303 when saved), the week overview.

After 10 % of the time one back-office user starts the month's declaration run (``Voorbereiden``
for every financier with approved care) and the invoice runs (PGB, particulier,
onderaanneming: ``Facturen aanmaken``), and waits until every PDF is made. Their requests are
timed apart from the pages.

Targets: p95 page time under 300 ms, 0 errors, both runs finished before the users stop. The
machine's other load is printed (load average): the figures are only meaningful on a quiet one.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import create_engine, make_url, select, text

TARGET_P95_MS = 300.0
PASSWORD = "belasting-proef-2026!"
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages: dict[str, list[float]] = defaultdict(list)
        self.runs: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def page(self, kind: str, ms: float) -> None:
        with self.lock:
            self.pages[kind].append(ms)

    def run(self, kind: str, ms: float) -> None:
        with self.lock:
            self.runs[kind].append(ms)

    def error(self, text_: str) -> None:
        with self.lock:
            self.errors.append(text_)


class User:
    """One person with a browser session against the real server."""

    def __init__(self, base: str, email: str, rec: Recorder, phone: bool = False):
        import requests

        self.base, self.email, self.rec = base, email, rec
        self.http = requests.Session()
        if phone:
            self.http.headers["User-Agent"] = PHONE_UA
        self.csrf = ""

    def login(self) -> None:
        page = self.http.get(f"{self.base}/login", timeout=60)
        self.csrf = CSRF.search(page.text).group(1)
        resp = self.http.post(
            f"{self.base}/login",
            data={"email": self.email, "password": PASSWORD, "csrf_token": self.csrf},
            timeout=60,
            allow_redirects=False,
        )
        if resp.status_code != 302:
            raise RuntimeError(f"log-in of {self.email} failed ({resp.status_code})")
        start = self.http.get(f"{self.base}/", timeout=60)
        self.csrf = CSRF.search(start.text).group(1)

    def get(self, kind: str, path: str, params=None, run: bool = False):
        return self._timed(kind, "GET", path, run=run, params=params)

    def post(self, kind: str, path: str, data: dict, expect=(303, 302), run: bool = False):
        return self._timed(
            kind, "POST", path, run=run, expect=expect, data={**data, "csrf_token": self.csrf}
        )

    def _timed(self, kind, method, path, *, run=False, expect=(200,), **kw):
        import requests

        t0 = time.perf_counter()
        try:
            resp = self.http.request(
                method, f"{self.base}{path}", timeout=60, allow_redirects=False, **kw
            )
        except requests.RequestException as exc:
            self.rec.error(f"{method} {path}: {type(exc).__name__}")
            return None
        ms = (time.perf_counter() - t0) * 1000
        (self.rec.run if run else self.rec.page)(kind, ms)
        if resp.status_code not in expect:
            self.rec.error(f"{method} {path}: {resp.status_code}")
        return resp


def back_office(user: User, data: dict, deadline: float, rng: random.Random) -> None:
    first, last = data["client_ids"]
    names = data["surnames"]
    pages = [
        ("start", lambda: user.get("start", "/")),
        ("clients_list", lambda: user.get("clients_list", "/clienten/")),
        ("clients_search", lambda: user.get("clients_search", "/clienten/", {"q": rng.choice(names)})),
        ("client_detail", lambda: user.get("client_detail", f"/clienten/{rng.randint(first, last)}")),
        ("approval", lambda: user.get("approval", "/fiatteren/")),
        ("declarations", lambda: user.get("declarations", "/declareren/")),
        ("invoices", lambda: user.get("invoices", "/facturen/")),
        ("messages", lambda: user.get("messages", "/berichten/")),
    ]  # fmt: skip
    while time.monotonic() < deadline:
        rng.choice(pages)[1]()
        time.sleep(rng.uniform(1.0, 4.0))


def care_staff(
    user: User, data: dict, deadline: float, rng: random.Random, slot: int, team: str | None
) -> None:
    today = date.today()
    visits = data["visits"][team or ""]  # care staff see (and register for) their team only
    minute = 6 * 60 + slot  # each user its own minutes of the day: no overlaps
    while time.monotonic() < deadline and minute < 22 * 60:
        user.get("registration_day", "/registreren/", {"dag": today.isoformat()})
        time.sleep(rng.uniform(1.0, 3.0))
        client_id, product_id = rng.choice(visits)
        resp = user.post(
            "registration_save",
            "/registreren/nieuw",
            {
                "client_id": client_id,
                "product_id": product_id,
                "datum": today.isoformat(),
                "starttijd": f"{minute // 60:02d}:{minute % 60:02d}",
                "duur": "0:05",
            },
        )
        if resp is not None and resp.status_code == 200:
            errors = re.findall(r'<p class="error"[^>]*>(.*?)</p>', resp.text, re.S)
            user.rec.error(f"registration refused: {errors[:2]}")
        minute += 6
        time.sleep(rng.uniform(1.0, 3.0))
        if rng.random() < 0.3:
            user.get("registration_week", "/registreren/week")
            time.sleep(rng.uniform(1.0, 3.0))


def month_runs(user: User, data: dict, sm, rec: Recorder, done: dict) -> None:
    """The month's declaration run and invoice runs, as the back office starts them."""
    from sqlalchemy import func

    from portal.models import Declaration, Invoice, InvoiceRun

    t0 = time.perf_counter()
    month = data["month"]
    for financier_id in data["declaration_financiers"]:
        user.post(
            "declaration_prepare",
            "/declareren/voorbereiden",
            {"financier_id": financier_id, "maand": month},
            run=True,
        )
    with sm() as s:
        done["declarations"] = s.scalar(select(func.count()).select_from(Declaration))
    done["declaration_seconds"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    for financing in ("pgb", "particulier", "onderaanneming"):
        user.post(
            "invoice_run_create",
            "/facturen/nieuw",
            {"financing": financing, "periode": month, "action": "aanmaken"},
            expect=(302, 303, 200),
            run=True,
        )
    while True:
        with sm() as s:
            n = s.scalar(select(func.count()).select_from(Invoice).join(InvoiceRun))
            missing = s.scalar(
                select(func.count())
                .select_from(Invoice)
                .join(InvoiceRun)
                .where(Invoice.pdf_sha256.is_(None))
            )
        if missing == 0:
            break
        time.sleep(0.5)
    done["invoices"] = n
    done["invoice_seconds"] = time.perf_counter() - t1
    done["finished_at"] = time.monotonic()


def prepare(url: str, n_clients: int, seed: int) -> dict:
    from bench.gen_production import add_registrations
    from bench.generate import generate_organisation
    from portal.app import create_app
    from portal.db import make_engine
    from portal.models import Client, Legitimation, Product, legitimation_product
    from portal.services.users import create_user

    engine = make_engine(url)
    info = generate_organisation(engine, n_clients, seed)
    first, last = info["client_ids"]
    today = date.today()
    month_end = today.replace(day=1) - timedelta(days=1)
    month_start = month_end.replace(day=1)
    share = max(1, n_clients // 5)  # a fifth of the clients had care last month
    n_regs = add_registrations(
        engine,
        start=month_start,
        weeks=5,
        per_day=1,
        status="gefiatteerd",
        client_ids=(first, first + share - 1),
        seed=seed,
    )
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "load", "LOAD_ENTRYPOINT_PLUGINS": True})
    sm = app.extensions["db_sessionmaker"]
    with app.app_context(), sm() as s:
        teams = sorted({t for t in s.scalars(select(Client.team).distinct()) if t})
        office = [f"backoffice{i}@load.example" for i in range(20)]
        care = [f"zorg{i}@load.example" for i in range(30)]
        for email in office:
            create_user(
                s, email=email, naam=email.split("@")[0], role="backoffice", password=PASSWORD
            )
        for i, email in enumerate(care):
            create_user(
                s, email=email, naam=email.split("@")[0], role="zorgprofessional",
                password=PASSWORD, team=teams[i % len(teams)] if teams else None,
            )  # fmt: skip
        s.commit()
        # visits care staff register: a client of the user's team with an hour product
        visits: dict[str, list[tuple[int, int]]] = {}
        for team, client_id, product_id in s.execute(
            select(Client.team, Legitimation.client_id, Product.id)
            .join(Client, Client.id == Legitimation.client_id)
            .join(legitimation_product, legitimation_product.c.legitimation_id == Legitimation.id)
            .join(Product, Product.id == legitimation_product.c.product_id)
            .where(Product.eenheid == "uur", Legitimation.client_id.between(first, last))
            .order_by(Legitimation.id)
        ):
            per_team = visits.setdefault(team or "", [])
            if len(per_team) < 500:
                per_team.append((client_id, product_id))
        surnames = list(s.scalars(select(Client.achternaam).distinct().limit(200)))
        fin_ids = sorted(
            v
            for k, v in info["financier_ids"].items()
            if k.split(":")[0] in ("gemeente", "zorgkantoor", "verzekeraar", "dji")
        )
    app.extensions["db_engine"].dispose()
    return {
        "client_ids": (first, last),
        "office": office,
        "care": care,
        "visits": visits,
        "care_teams": [teams[i % len(teams)] if teams else None for i in range(len(care))],
        "surnames": surnames,
        "declaration_financiers": fin_ids,
        "month": f"{month_start:%Y-%m}",
        "registrations": n_regs,
    }


def _wait_http(url: str, timeout: float) -> bool:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 s and 200 clients")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        print("DATABASE_URL must point at PostgreSQL (a fresh database is made next to it)")
        return 2
    seconds = args.seconds or (20 if args.quick else 300)
    n_clients = args.clients or (200 if args.quick else 3000)

    from portal.migrate import upgrade

    name = f"portal_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    instance = tempfile.mkdtemp(prefix="bench-load-")
    os.environ["PORTAL_INSTANCE"] = instance
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        t_setup = time.perf_counter()
        upgrade(url)
        data = prepare(url, n_clients, args.seed)
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            from portal.runtime import embedded_redis_url

            redis_url = embedded_redis_url(instance)
        from bench.services import free_port

        port = free_port()
        env = dict(
            os.environ,
            DATABASE_URL=url,
            REDIS_URL=redis_url,
            RQ_QUEUE_PREFIX=f"load{uuid.uuid4().hex[:6]}",
            SECRET_KEY="load",
            SESSION_COOKIE_SECURE="false",
            PORTAL_INSTANCE=instance,
        )
        for what, cmd in [
            ("gunicorn", [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "8",
                          "--worker-class", "gthread", "--keep-alive", "75",
                          "--bind", f"127.0.0.1:{port}",
                          "portal:create_app()"]),
            ("worker-1", [sys.executable, "-m", "portal.cli", "worker", "pdf", "default"]),
            ("worker-2", [sys.executable, "-m", "portal.cli", "worker", "pdf", "default"]),
        ]:  # fmt: skip
            log = open(os.path.join(instance, f"{what}.log"), "wb")  # noqa: SIM115
            logs.append(log)
            procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        base_url = f"http://127.0.0.1:{port}"
        if not _wait_http(f"{base_url}/login", 120):
            print("gunicorn did not answer; see", instance)
            return 1
        print(
            f"{n_clients} clients, {data['registrations']} approved registrations in "
            f"{data['month']}, 50 users (20 back office, 30 care staff on phones), "
            f"{seconds} s; set-up {time.perf_counter() - t_setup:.0f} s"
        )

        rec = Recorder()
        office = [User(base_url, e, rec) for e in data["office"]]
        care = [User(base_url, e, rec, phone=True) for e in data["care"]]
        for u in office + care:  # log-ins before the clock starts
            u.login()
        load_before = os.getloadavg()
        from portal.app import create_app

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "load"})
        sm = app.extensions["db_sessionmaker"]
        start = time.monotonic()
        deadline = start + seconds
        threads = []
        for i, u in enumerate(office):
            threads.append(
                threading.Thread(
                    target=back_office, args=(u, data, deadline, random.Random(i)), daemon=True
                )
            )
        for i, u in enumerate(care):
            threads.append(
                threading.Thread(
                    target=care_staff,
                    args=(u, data, deadline, random.Random(100 + i), i % 6, data["care_teams"][i]),
                    daemon=True,
                )
            )
        runs: dict = {}
        runner = User(base_url, data["office"][0], rec)
        runner.login()

        def start_runs() -> None:
            time.sleep(seconds * 0.1)
            month_runs(runner, data, sm, rec, runs)

        threads.append(threading.Thread(target=start_runs, daemon=True))
        for t in threads:
            t.start()
        for t in threads[:-1]:
            t.join(seconds + 120)
        users_stopped = time.monotonic()
        threads[-1].join(max(1.0, deadline + 600 - time.monotonic()))
        load_after = os.getloadavg()
        app.extensions["db_engine"].dispose()

        all_ms = [v for ms in rec.pages.values() for v in ms]
        print(f"\n{'page':22} {'n':>6} {'p50':>8} {'p95':>8} {'max':>8}   (ms)")
        for kind, ms in sorted(rec.pages.items()):
            print(
                f"{kind:22} {len(ms):6d} {statistics.median(ms):8.1f} "
                f"{percentile(ms, 95):8.1f} {max(ms):8.1f}"
            )
        for kind, ms in sorted(rec.runs.items()):
            print(f"{kind:22} {len(ms):6d} {statistics.median(ms):8.1f} {'':8} {max(ms):8.1f}")
        p95 = percentile(all_ms, 95) if all_ms else float("nan")
        print(
            f"all pages              {len(all_ms):6d} {statistics.median(all_ms):8.1f} {p95:8.1f}"
        )
        print(f"errors: {len(rec.errors)} {rec.errors[:5]}")
        finished = "finished_at" in runs and runs["finished_at"] <= users_stopped
        if "finished_at" in runs:
            print(
                f"declaration run: {runs['declarations']} declarations in "
                f"{runs['declaration_seconds']:.1f} s; invoice runs: {runs['invoices']} invoices "
                f"with PDFs in {runs['invoice_seconds']:.1f} s; "
                f"{'before' if finished else 'AFTER'} the users stopped"
            )
        else:
            print("the month's runs did not finish")
        print(
            f"load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/"
            f"{load_before[2]:.1f}, after {load_after[0]:.1f}/{load_after[1]:.1f}/"
            f"{load_after[2]:.1f} on {os.cpu_count()} cores"
        )
        label = "load_quick" if args.quick else "load"
        print(f"RESULT {label}_p95 {p95:.1f} ms target {TARGET_P95_MS:.0f}")
        print(f"RESULT {label}_errors {len(rec.errors)} count target 0")
        print(f"RESULT {label}_requests {len(all_ms)} count target {50 * seconds // 6}")
        print(f"RESULT {label}_runs_finished {int(finished)} bool target 1")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()
        shutil.rmtree(instance, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
