"""Benchmark: stacking allocation for 10,000 clients x 52 weeks, end to end from PostgreSQL.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python -m bench.stacking [--quick]

Builds a fresh organisation in a scratch database (``bench.generate``), adds a year of approved
registrations (about 3 per client per working day; ``bench.gen_production``) and stack rules,
then times ``portal.services.stacking.allocate`` over the whole year (loading from the database,
allocating per client-week in Python, all allocations and week totals built). ``--quick``: 1,000
clients x 52 weeks.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import os
import sys
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.gen_production import add_registrations, add_stack_rules
from bench.generate import generate_organisation
from portal.migrate import upgrade


def scratch_database(url: str, name: str) -> str:
    base = url.rsplit("/", 1)[0]
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{base}/{name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    if not url.startswith("postgresql"):
        print("bench/stacking.py needs PostgreSQL (DATABASE_URL)", file=sys.stderr)
        return 2
    n_clients = args.clients or (1000 if args.quick else 10_000)
    url = scratch_database(url, "bench_stacking")
    upgrade(url)
    engine = create_engine(url)
    t0 = time.perf_counter()
    info = generate_organisation(engine, n_clients, seed=1)
    add_stack_rules(engine)
    # the 52 weeks up to last Sunday: the generated legitimations run around this year
    start = date.today() - timedelta(days=date.today().weekday(), weeks=args.weeks)
    n = add_registrations(engine, start=start, weeks=args.weeks, per_day=3)
    print(f"generated {n_clients} clients, {n} registrations in {time.perf_counter() - t0:.1f} s")

    from portal.plugins import Hooks, get_plugin_manager
    from portal.services import stacking

    hooks = Hooks(get_plugin_manager(load_entrypoints=False), {})  # as a running app has them
    hooks.financings  # noqa: B018 (loaded once, as in a running app)
    end = start + timedelta(weeks=args.weeks) - timedelta(days=1)
    with Session(engine) as session:
        t, cpu = time.perf_counter(), time.process_time()
        result = stacking.allocate(session, hooks=hooks, start=start, end=end)
        total, cpu = time.perf_counter() - t, time.process_time() - cpu
    t = time.perf_counter()
    wlz = result.allocations_for("wlz")
    t_wlz = time.perf_counter() - t
    t = time.perf_counter()
    n_all = len(result.allocations)
    t_all = time.perf_counter() - t
    client_weeks = len(
        {(w.client_id, w.week_start) for w in result.week_totals + result.not_covered}
    )
    nc = sum(w.minutes for w in result.not_covered)
    print(
        f"allocate: {n_all} allocations, {len(result.week_totals)} week totals, "
        f"{client_weeks} client-weeks, {nc / 60:.0f} h niet gedekt, {total:.2f} s"
    )
    print(
        f"(wall {total:.2f} s, of which this process's CPU {cpu:.2f} s; load {os.getloadavg()[0]:.1f})"
    )
    print(
        f"then building Allocation objects: Wlz only ({len(wlz)}) {t_wlz:.2f} s, all {t_all:.2f} s"
    )
    print(f"RESULT stacking_total {total:.2f} s target 15")
    print(f"RESULT stacking_per_client_week {total / max(client_weeks, 1) * 1e6:.1f} us target 30")
    del info
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
