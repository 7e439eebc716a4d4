"""Benchmark: a month's declaration run for 10,000 clients with stacked Wlz + particulier care.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python -m bench.stacked_export [--quick]

Builds a scratch organisation (the reference data of ``bench.generate``) where every client has
a Wlz indicatie for persoonlijke verzorging (2–6 hours a week, at one of the zorgkantoren) and a
private agreement for 2 more hours a week below it, a stack rule PV → PV, and about three
approved registrations per client per working day over the weeks around one month (so most
weeks overflow from Wlz onto particulier, and the rest is "niet gedekt"). Then times the core's
declaration run for that month for every zorgkantoor (``portal.services.declarations.prepare``):
choose the care (the stacking service's export plan over the whole ISO weeks), make the lines
(a plugin that declares per client-week, ``tests/ei_plugin.py``), store the lines and record the
export (export parts per registration part, stacked weeks). A second run over the next month is
timed too: its first week was counted by the first run and must not be declared again.
``--quick``: 1,000 clients. Needs PostgreSQL.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.gen_production import add_registrations, add_stack_rules
from bench.generate import (
    CLIENT_COLUMNS,
    LEG_COLUMNS,
    _bulk,
    _fix_sequence,
    _reference,
)
from bench.stacking import scratch_database
from portal.demo import generate_bsn
from portal.migrate import upgrade
from portal.models import Client, ExportPart, Financier, Legitimation, legitimation_product

TARGET_S = 20.0


def build(engine, n_clients: int, month: date) -> None:
    rng = random.Random(7)
    year_start = date(month.year - 1, 1, 1)
    with Session(engine) as session:
        ref = _reference(session, year_start)
        session.commit()
        zorgkantoren = [f.id for k, f in ref["financiers"].items() if k.startswith("zorgkantoor")]
        particulier = ref["financiers"]["particulier"].id
        pv = ref["products"]["PV-UUR"].id
    now = datetime.now(UTC)
    clients, legs, leg_products = [], [], []
    used: set[str] = set()
    with engine.begin() as conn:
        first_client = (conn.scalar(select(func.max(Client.id))) or 0) + 1
        next_leg = (conn.scalar(select(func.max(Legitimation.id))) or 0) + 1
        for i in range(n_clients):
            cid = first_client + i
            bsn = generate_bsn(rng)
            while bsn in used:
                bsn = generate_bsn(rng)
            used.add(bsn)
            clients.append((
                cid, bsn, f"K{cid:07d}", "A.", "Anna", None, f"Client{cid}", date(1940, 1, 1),
                "2", "Dorpsstraat", "1", "1234AB", "Utrecht", "Team", True, True, now, now,
            ))  # fmt: skip
            for financing, financier, prio, volume, tarief in (
                ("wlz", rng.choice(zorgkantoren), 1, rng.choice((2, 3, 4, 6)), None),
                ("particulier", particulier, 2, 2, 6200),
            ):
                legs.append((
                    next_leg, cid, financing, financier, year_start, None, prio, volume, "uur",
                    "week", None, tarief, None, "H126" if financing == "wlz" else None, None,
                    None, "actief", "handmatig", {}, now, now,
                ))  # fmt: skip
                leg_products.append((next_leg, pv))
                next_leg += 1
        _bulk(conn, Client.__table__, CLIENT_COLUMNS, clients)
        _bulk(conn, Legitimation.__table__, LEG_COLUMNS, legs)
        _bulk(conn, legitimation_product, ("legitimation_id", "product_id"), leg_products)
        _fix_sequence(conn, Client.__table__)
        _fix_sequence(conn, Legitimation.__table__)
    add_stack_rules(engine)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=None)
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    if not url.startswith("postgresql"):
        print("bench/stacked_export.py needs PostgreSQL (DATABASE_URL)", file=sys.stderr)
        return 2
    n_clients = args.clients or (1000 if args.quick else 10_000)
    url = scratch_database(url, "bench_stacked_export")
    upgrade(url)
    engine = create_engine(url)
    today = date.today()
    month = (today.replace(day=1) - timedelta(days=40)).replace(day=1)  # an ended month
    nxt = (month + timedelta(days=32)).replace(day=1)
    t0 = time.perf_counter()
    build(engine, n_clients, month)
    first_monday = month - timedelta(days=month.weekday())
    after = (nxt + timedelta(days=32)).replace(day=1)  # the day after the second month
    weeks = (after - first_monday).days // 7 + 1
    n_regs = add_registrations(
        engine, start=first_monday, weeks=weeks, per_day=3, status="gefiatteerd"
    )
    print(
        f"generated {n_clients} clients, {n_regs} registrations in {time.perf_counter() - t0:.1f} s"
    )

    from portal.plugins import Hooks, get_plugin_manager
    from portal.services import declarations
    from tests import ei_plugin

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ei_plugin, name="tests.ei_plugin")
    hooks = Hooks(pm, {})

    figures = []
    for label, period in (("first", month), ("second", nxt)):
        with Session(engine) as session:
            financiers = list(
                session.scalars(select(Financier).where(Financier.financing == "wlz"))
            )
            t = time.perf_counter()
            n_lines = n_decl = 0
            skipped = 0
            for fin in financiers:
                prepared = declarations.prepare(session, fin, period, hooks=hooks)
                skipped += len(prepared.skipped)
                for decl in prepared.declarations:
                    n_decl += 1
                    n_lines += len(decl.lines)
                session.commit()
            seconds = time.perf_counter() - t
            parts = session.scalar(select(func.count(ExportPart.id)))
        figures.append(seconds)
        print(
            f"{label} month ({period:%Y-%m}): {n_decl} declarations, {n_lines} lines, "
            f"{parts} export parts in total, {skipped} skipped, {seconds:.2f} s"
        )
    with Session(engine) as session:
        doubles = session.scalar(
            select(func.count())
            .select_from(ExportPart)
            .where(ExportPart.active.is_(True))
            .group_by(ExportPart.registration_id, ExportPart.legitimation_id)
            .having(func.count() > 1)
            .limit(1)
        )
    print(f"parts exported twice: {doubles or 0}")
    print(f"RESULT stacked_export_month {figures[0]:.2f} s target {TARGET_S}")
    print(f"RESULT stacked_export_next_month {figures[1]:.2f} s target {TARGET_S}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
