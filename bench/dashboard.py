"""Server time of the back office's pages with a large provider's data: the start page ("Vraagt
actie" and the four plots), the search box, the lists behind the counts and the client dossier.

Creates a fresh PostgreSQL database next to ``DATABASE_URL``, fills it with
``bench.generate.generate_organisation`` (clients, legitimations of every financing), half a year of
registrations (``bench.gen_production.add_registrations``: all but the last month exported, the
last two weeks not approved yet), 13 months of declarations with a line per Wmo/Jw client and
month (6 % rejected, with retourcodes), an invoice per private and PGB client and month (paid,
open, overdue), and a message per declaration (a few without an answer). Then it measures
requests through the real Flask app (its test client: the server's own time, templates and
queries included) after a warm-up.

Target: p95 under 350 ms for every page kind (the time no page took in the day the portal was
used as a back office; the start page counts and plots are SQL aggregates).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/dashboard.py
    ... python bench/dashboard.py --quick      # 1,500 clients, 13 weeks: about a minute
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text

from bench.generate import _bulk, _fix_sequence, generate_organisation
from bench.pages import percentile
from bench.wmo_323 import bench_app, fresh_database

TARGET_MS = 350.0
PASSWORD = "Bench-wachtwoord-2026!"

DECL_COLUMNS = (
    "id", "financing", "financier_id", "periode_begin", "periode_eind", "nummer", "groep",
    "status", "dagtekening", "total_cents", "awarded_cents", "retourcodes", "sent_at",
    "answered_at", "created_at", "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "id", "declaration_id", "financing", "financier_id", "client_id", "legitimation_id",
    "productcategorie", "productcode", "begindatum", "einddatum", "volume", "eenheid",
    "tarief_cents", "bedrag_cents", "debet_credit", "referentie", "status", "retourcodes",
    "registration_ids", "toelichting", "created_at", "updated_at",
)  # fmt: skip
INV_COLUMNS = (
    "id", "organisation_id", "financing", "soort", "client_id", "nummer", "groep_sleutel",
    "factuurdatum", "vervaldatum", "periode_start", "periode_eind", "debiteur_naam",
    "debiteur_adres", "subtotaal_cents", "btw_cents", "totaal_cents", "status", "sleutels",
    "paid_at", "reminder_count", "created_at", "updated_at",
)  # fmt: skip
MSG_COLUMNS = (
    "id", "direction", "financing", "code", "payload", "sha256", "size", "traceer_id",
    "conversatie_id", "financier_id", "reference", "status", "needs_action", "issues",
    "meldingen", "client_ids", "send_attempts", "check_count", "sent_at", "created_at",
    "updated_at",
)  # fmt: skip


def _months(today: date, n: int = 13) -> list[tuple[date, date]]:
    out = []
    y, m = today.year, today.month
    for _ in range(n):
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        start = date(y, m, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        out.append((start, end))
    return out[::-1]


def fill(engine, n_clients: int, weeks: int, seed: int) -> dict:
    from bench.gen_production import add_registrations
    from portal.models import (
        Declaration,
        DeclarationLine,
        Invoice,
        Legitimation,
        Message,
        Organisation,
        Registration,
    )

    rng = random.Random(seed)
    t0 = time.perf_counter()
    info = generate_organisation(engine, n_clients, seed)
    today = date.today()
    start = today - timedelta(weeks=weeks)
    n_regs = add_registrations(engine, start=start, weeks=weeks - 2, per_day=1)
    n_regs += add_registrations(
        engine, start=today - timedelta(weeks=2), weeks=2, per_day=1, status="concept"
    )
    now = datetime.now(UTC)
    months = _months(today)
    with engine.begin() as conn:
        # everything before last month has been declared or invoiced: an active export part
        # per registration, on the first legitimation of the client that holds the product
        conn.execute(
            text(
                """
                INSERT INTO export_part (registration_id, client_id, financing, legitimation_id,
                    datum, week_start, minutes, aantal, kind, active, created_at)
                SELECT r.id, r.client_id, l.financing, l.id, r.datum,
                    CAST(date_trunc('week', r.datum) AS date), COALESCE(r.duur_minuten, 0),
                    COALESCE(r.aantal, 0), 'declaratie', true, now()
                FROM registration r
                JOIN LATERAL (
                    SELECT l.id, l.financing FROM legitimation l
                    JOIN legitimation_product lp ON lp.legitimation_id = l.id
                    WHERE l.client_id = r.client_id AND lp.product_id = r.product_id
                    ORDER BY l.priority, l.id LIMIT 1
                ) l ON true
                WHERE r.datum < :cut
                """
            ),
            {"cut": months[-1][0]},
        )
        org_id = conn.scalar(select(Organisation.id).limit(1))
        legs = conn.execute(
            select(
                Legitimation.id,
                Legitimation.client_id,
                Legitimation.financing,
                Legitimation.financier_id,
                Legitimation.productcategorie,
                Legitimation.productcode,
            ).where(Legitimation.financing.in_(("wmo_jw", "particulier", "pgb")))
        ).all()
        wmo = [row for row in legs if row.financing == "wmo_jw"]
        private = [row for row in legs if row.financing != "wmo_jw"]
        by_financier: dict[int, list] = {}
        for row in wmo:
            by_financier.setdefault(row.financier_id, []).append(row)
        decl_id = line_id = msg_id = 1
        decls, lines, msgs = [], [], []
        for fin_id, rows in by_financier.items():
            for k, (ms, me) in enumerate(months):
                answered = k < len(months) - 1
                total = awarded = 0
                for row in rows:
                    rejected = answered and rng.random() < 0.06
                    bedrag = rng.randrange(5000, 60000, 100)
                    total += bedrag
                    awarded += 0 if rejected else bedrag
                    lines.append(
                        (
                            line_id, decl_id, "wmo_jw", fin_id, row.client_id, row.id,
                            row.productcategorie, row.productcode, ms, me, 600, "uur", 5000,
                            bedrag, "D", f"B{line_id:09d}",
                            ("afgewezen" if rejected else "toegekend") if answered else "ingediend",
                            json.dumps([rng.choice(["0611", "0620", "8109"])] if rejected else []),
                            "[]", {}, now, now,
                        )
                    )  # fmt: skip
                    line_id += 1
                sent = datetime.combine(me + timedelta(days=3), datetime.min.time(), UTC)
                decls.append(
                    (
                        decl_id, "wmo_jw", fin_id, ms, me, f"{decl_id:08d}", "iwmo",
                        "beantwoord" if answered else "ingediend", me + timedelta(days=3), total,
                        awarded if answered else None, "[]", sent,
                        sent + timedelta(days=rng.randint(5, 20)) if answered else None, now, now,
                    )
                )  # fmt: skip
                msgs.append(
                    (
                        msg_id, "uit", "wmo_jw", "WMO323", b"<x/>", "0" * 64, 4,
                        f"bench-{msg_id:08d}", f"conv-{msg_id:08d}", fin_id, f"D{decl_id:08d}",
                        "beantwoord" if answered else "verzonden", False, "[]", "[]", "[]", 1, 1,
                        sent, now, now,
                    )
                )  # fmt: skip
                msg_id += 1
                decl_id += 1
        _bulk(conn, Declaration.__table__, DECL_COLUMNS, decls)
        _bulk(conn, DeclarationLine.__table__, LINE_COLUMNS, lines)
        _bulk(conn, Message.__table__, MSG_COLUMNS, msgs)
        invs = []
        inv_id = 1
        for row in private:
            for k, (ms, me) in enumerate(months):
                paid = k < len(months) - 3 or rng.random() < 0.3
                due = me + timedelta(days=30)
                invs.append(
                    (
                        inv_id, org_id, row.financing, "factuur", row.client_id,
                        f"F{inv_id:09d}", f"bench-{inv_id}", me + timedelta(days=2), due, ms, me,
                        "Debiteur", "Straat 1\n1234 AB Plaats", 25000, 0,
                        rng.randrange(10000, 90000, 100), "betaald" if paid else "verstuurd", {},
                        due - timedelta(days=rng.randint(0, 25)) if paid else None, 0, now, now,
                    )
                )  # fmt: skip
                inv_id += 1
        _bulk(conn, Invoice.__table__, INV_COLUMNS, invs)
        for table in (Declaration, DeclarationLine, Message, Invoice):
            _fix_sequence(conn, table.__table__)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        n_regs = conn.scalar(select(func.count()).select_from(Registration.__table__))
    return {
        **info,
        "registrations": n_regs,
        "declaration_lines": len(lines),
        "invoices": len(invs),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def measure(app, info: dict, samples: int, seed: int) -> dict[str, list[float]]:
    from portal.models import Client
    from portal.services.users import create_user

    rng = random.Random(seed)
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        create_user(
            session, email="bench@example.nl", naam="Bench", role="backoffice", password=PASSWORD
        )
        session.commit()
        names = list(session.scalars(select(Client.achternaam).distinct().limit(300)))
        numbers = list(session.scalars(select(Client.clientnummer).limit(300)))
        session.close()
    client = app.test_client()
    if (
        client.post("/login", data={"email": "bench@example.nl", "password": PASSWORD}).status_code
        != 302
    ):
        raise RuntimeError("log-in for the benchmark failed")
    first, last = info["client_ids"]

    def timed(fn) -> float:
        t = time.perf_counter()
        resp = fn()
        ms = (time.perf_counter() - t) * 1000
        if resp.status_code not in (200, 303):
            raise RuntimeError(f"request failed with {resp.status_code}")
        return ms

    kinds = {
        "start_page": lambda: client.get("/"),
        "start_plots": lambda: client.get("/start/geld", headers={"HX-Request": "true"}),
        "start_plots_one_financing": lambda: client.get("/start/geld?financiering=wmo_jw"),
        "search_name": lambda: client.post(
            "/zoeken/", data={"q": f"J. {rng.choice(names)}", "alle": "1"}
        ),
        "search_number": lambda: client.post("/zoeken/", data={"q": rng.choice(numbers) or "x"}),
        "list_declarations": lambda: client.get(
            "/lijsten/declaraties",
            query_string=rng.choice(
                [{}, {"sorteer": "ingediend", "richting": "af"}, {"status": "ingediend"}]
            ),
        ),
        "list_rejected": lambda: client.get(
            "/lijsten/afgewezen", query_string=rng.choice([{}, {"code": "0611"}])
        ),
        "list_not_covered": lambda: client.get("/lijsten/niet-gedekt"),
        "list_clients_sorted": lambda: client.get(
            "/lijsten/clienten", query_string={"sorteer": "geboortedatum", "richting": "af"}
        ),
        "dossier_care": lambda: client.get(f"/clienten/{rng.randint(first, last)}/dossier/zorg"),
        "dossier_declarations": lambda: client.get(
            f"/clienten/{rng.randint(first, last)}/dossier/declaraties"
        ),
    }
    for fn in kinds.values():
        for _ in range(3):
            timed(fn)
    results: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(samples):
        for kind, fn in kinds.items():
            results[kind].append(timed(fn))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start page, search, lists, dossier: server time")
    parser.add_argument(
        "--quick", action="store_true", help="1,500 clients, 13 weeks, fewer samples"
    )
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--weeks", type=int, default=None)
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        print("DATABASE_URL must point at PostgreSQL (a fresh database is made next to it)")
        return 2
    n = args.clients or (1_500 if args.quick else 10_000)
    samples = args.samples or (15 if args.quick else 40)
    url, drop = fresh_database()
    try:
        app = bench_app(url, WTF_CSRF_ENABLED=False)
        weeks = args.weeks or (13 if args.quick else 26)
        info = fill(app.extensions["db_engine"], n, weeks, args.seed)
        print(
            f"generated {info['n_clients']} clients, {info['registrations']} registrations, "
            f"{info['declaration_lines']} declaration lines, {info['invoices']} invoices "
            f"in {info['seconds']} s"
        )
        results = measure(app, info, samples, args.seed)
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            drop()
    print(f"\n{samples} requests per kind (ms)")
    print(f"{'page':28} {'p50':>8} {'p95':>8} {'max':>8}")
    for kind, ms in results.items():
        print(f"{kind:28} {statistics.median(ms):8.1f} {percentile(ms, 95):8.1f} {max(ms):8.1f}")
    for kind, ms in results.items():
        print(f"RESULT {kind}_p95 {percentile(ms, 95):.1f} ms target {TARGET_MS:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
