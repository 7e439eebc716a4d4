"""Benchmark: approving (fiatteren) a month for 5,000 clients on PostgreSQL.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python -m bench.approval [--quick]

A fresh organisation (``bench.generate``), stack rules (so the period must be whole weeks: the
"month" is 4 whole weeks, Monday to Sunday, a few weeks back), about 3 concept registrations per client
per working day, then ``portal.services.approval.approve`` timed end to end: preview with every
warning (legitimation, volume/stack, overlaps) and the set-based freeze. ``--quick``: 500 clients.
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

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.gen_production import add_registrations, add_stack_rules
from bench.generate import generate_organisation
from bench.stacking import scratch_database
from portal.migrate import upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    if not url.startswith("postgresql"):
        print("bench/approval.py needs PostgreSQL (DATABASE_URL)", file=sys.stderr)
        return 2
    n_clients = 500 if args.quick else 5000
    url = scratch_database(url, "bench_approval")
    upgrade(url)
    engine = create_engine(url)
    generate_organisation(engine, n_clients, seed=2)
    add_stack_rules(engine)
    # the 4 whole weeks before last week (the generated legitimations run around this year)
    start = date.today() - timedelta(days=date.today().weekday(), weeks=5)
    # the weeks before are approved already (they count for the volume warnings)
    add_registrations(
        engine, start=start - timedelta(weeks=1), weeks=1, status="gefiatteerd", seed=3
    )
    n = add_registrations(engine, start=start, weeks=4, status="concept", seed=4)
    end = start + timedelta(weeks=4) - timedelta(days=1)
    print(f"{n_clients} clients, {n} concept registrations to approve")

    from portal.models import Registration
    from portal.plugins import Hooks, get_plugin_manager
    from portal.services import approval

    hooks = Hooks(get_plugin_manager(load_entrypoints=False), {})  # as a running app has them

    with Session(engine) as session:
        t, cpu = time.perf_counter(), time.process_time()
        run = approval.approve(session, approval.Filters(start=start, end=end), hooks, user_id=None)
        total, cpu = time.perf_counter() - t, time.process_time() - cpu
        approved, warned = run.aantal, run.aantal_waarschuwingen
        left = session.scalar(
            select(func.count()).select_from(Registration).where(Registration.status == "concept")
        )
    print(f"approved {approved} registrations ({warned} with warnings), {left} left")
    print(
        f"(wall {total:.2f} s, of which this process's CPU {cpu:.2f} s; load {os.getloadavg()[0]:.1f})"
    )
    print(f"RESULT approval_month {total:.2f} s target 10")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
