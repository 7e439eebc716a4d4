"""Server time of the Wmo/Jeugdwet worklist (``/f/wmo_jw/``) with 100,000 toewijzingen.

The worklist shows what needs action: toewijzingen not started yet, a start or stop the gemeente
rejected, and care still started on a toewijzing that has ended. A large provider has tens of
thousands of toewijzingen; the list must not read them all.

Creates a fresh database next to ``DATABASE_URL`` (PostgreSQL; else a SQLite file), fills it
with clients and toewijzingen in realistic states (90 % started, 5 % not started, 1 % rejected,
2 % ended while started, 2 % stopped), and measures requests through the real Flask app (its test
client: the server's own time, templates and queries included) after a warm-up.

Target: p95 under 100 ms, as for the other list pages.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/wmo_worklist.py
    ... python bench/wmo_worklist.py --quick      # 10,000 toewijzingen, well under a minute
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import statistics
import sys
import time
from datetime import date, timedelta

from sqlalchemy import insert, select, text

from bench.pages import percentile
from bench.wmo_323 import bench_app, fresh_database

TARGET_MS = 100.0
PASSWORD = "Bench-wachtwoord-2026!"


def _states(n: int):
    """(keten_stand, starts, status, einddatum) per toewijzing, in a fixed realistic mix."""
    started = [{"begindatum": "2026-01-05", "status": "geaccepteerd", "codes": [], "bericht": "B"}]
    ended = date.today() - timedelta(days=20)
    for i in range(n):
        k = i % 100
        if k < 90:
            yield "gestart", started, "actief", None
        elif k < 95:
            yield None, [], "actief", None
        elif k < 96:
            rejected = [{**started[0], "status": "afgewezen", "codes": ["9307"]}]
            yield "start_afgewezen", rejected, "actief", None
        elif k < 98:
            yield "gestart", started, "actief", ended
        else:
            stopped = [{**started[0], "stop_status": "geaccepteerd", "einddatum": "2026-06-30"}]
            yield "gestopt", stopped, "beeindigd", date(2026, 6, 30)


def fill(session, n: int) -> None:
    from portal.models import Client, Financier, Legitimation
    from portal.services.users import create_user

    fin = Financier(financing="wmo_jw", soort="gemeente", code="0363", naam="Gemeente Amsterdam")
    session.add(fin)
    session.flush()
    for start in range(0, n, 10_000):
        count = min(10_000, n - start)
        session.execute(
            insert(Client),
            [
                dict(
                    bsn=f"{start + i:09d}",
                    achternaam=f"Cliënt {start + i}",
                    geboortedatum=date(1950, 1, 1),
                )
                for i in range(count)
            ],
        )
    ids = list(session.scalars(select(Client.id).order_by(Client.id)))
    rows = []
    for i, (client_id, (stand, starts, status, einde)) in enumerate(
        zip(ids, _states(n), strict=True)
    ):
        rows.append(
            dict(
                client_id=client_id,
                financing="wmo_jw",
                financier_id=fin.id,
                toewijzingnummer=str(1_000_000 + i),
                begindatum=date(2026, 1, 5),
                einddatum=einde,
                status=status,
                productcategorie="07",
                productcode="07A05",
                volume=4,
                eenheid="uur",
                frequentie="week",
                bron="301",
                sleutels={
                    "standaard": "iwmo",
                    "eenheid": "04",
                    "frequentie": "2",
                    "starts": starts,
                },
                keten_stand=stand,
            )
        )
        if len(rows) == 10_000:
            session.execute(insert(Legitimation), rows)
            rows = []
    if rows:
        session.execute(insert(Legitimation), rows)
    create_user(session, email="bench@demo.nl", naam="Bench", role="backoffice", password=PASSWORD)
    session.commit()
    if session.connection().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--toewijzingen", type=int, default=None)
    parser.add_argument("--samples", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.toewijzingen or (10_000 if args.quick else 100_000)
    samples = args.samples or (30 if args.quick else 60)

    url, drop = fresh_database()
    try:
        app = bench_app(url, WTF_CSRF_ENABLED=False)
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            t0 = time.perf_counter()
            fill(session, n)
            print(f"filled {n} toewijzingen in {time.perf_counter() - t0:.1f} s")
            session.close()
        client = app.test_client()
        resp = client.post("/login", data={"email": "bench@demo.nl", "password": PASSWORD})
        assert resp.status_code == 302, resp.status_code
        timings = []
        for i in range(samples + 5):
            t = time.perf_counter()
            resp = client.get("/f/wmo_jw/")
            ms = (time.perf_counter() - t) * 1000
            if resp.status_code != 200:
                raise RuntimeError(f"worklist answered {resp.status_code}")
            if i >= 5:  # after a warm-up
                timings.append(ms)
        page = resp.get_data(as_text=True)
        expected = n * 8 // 100  # not started, rejected, ended while started
        assert f"{expected} toewijzing(en)" in page, "the worklist count is wrong"
    finally:
        drop()
    print(f"worklist with {n} toewijzingen ({expected} need action), {samples} requests")
    print(f"RESULT wmo_worklist_p50 {statistics.median(timings):.1f} ms target {TARGET_MS:.0f}")
    print(f"RESULT wmo_worklist_p95 {percentile(timings, 95):.1f} ms target {TARGET_MS:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
