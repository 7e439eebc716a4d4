"""Benchmark: a month's GDS801 to DJI for 1,000 placements, and its GDS802 with 10 % rejections.

On a fresh database (PostgreSQL when DATABASE_URL points at one, else a SQLite file; REDIS_URL or
an embedded Redis for the send queue):

* build + check + store: the core run makes the lines from a month of care per placement
  (klinisch verblijf per day, ambulant consults), ``validate_declaration`` checks every line
  against its placement and titel, the GDS801 is built in its (provisional) format, validated
  against its schema and stored as an outgoing message (``declarations.submit``);
* the GDS802 with 10 % of the prestaties rejected (0611, with BetrokkenElement): read safely,
  schema-validated, turned into per-line answers by the plugin and applied by the core.

The build is measured three times on the same data (all but the last rolled back); the median is
the figure. ``--quick`` uses 200 placements. Prints RESULT lines.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/fz.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import random
import statistics
import time
from datetime import date, timedelta

from sqlalchemy import select

from bench.wmo_323 import bench_app, fresh_database

TARGET_BUILD = 5.0
TARGET_PROCESS = 2.0
REPEATS = 3
MONTH = date(2026, 10, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--placements", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.placements or (200 if args.quick else 1000)

    from portal.app import hooks

    url, drop = fresh_database()
    try:
        app = bench_app(url, lambda instance: {"fz": {"dji_db": f"{instance}/dji.db"}})
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            care, fin = _setup(session, n)
            run(session, hooks(), fin, care, n)
            session.close()
    finally:
        drop()
    return 0


def _setup(session, n: int):
    from portal.demo import generate_bsn
    from portal.domain import Care
    from portal.models import (
        Client,
        Contract,
        ContractLine,
        Financier,
        Legitimation,
        Organisation,
        OrganisationAgb,
        Product,
    )

    rng = random.Random(801)
    org = Organisation(naam="Bench Forensisch")
    org.agb_codes.append(OrganisationAgb(agb_code="73730001", locatie="Hoofd", hoofd=True))
    fin = Financier(financing="fz", soort="dji", code="9992", naam="DJI")
    verblijf = Product(code="FZ-VERBLIJF", naam="Verblijf", eenheid="dag")
    consult = Product(code="FZ-CONSULT", naam="Consult", eenheid="stuk")
    session.add_all([org, fin, verblijf, consult])
    session.flush()
    contract = Contract(financier_id=fin.id, naam="DJI", begindatum=date(2026, 1, 1))
    for product, code, unit, cents in (
        (verblijf, "FZV02", "dag", 45000),
        (consult, "FZC02", "stuk", 14500),
    ):
        contract.lines.append(
            ContractLine(
                product_id=product.id,
                productcode=code,
                eenheid=unit,
                tarief_cents=cents,
                begindatum=date(2026, 1, 1),
            )
        )
    session.add(contract)
    bsns: set[str] = set()
    while len(bsns) < n:
        bsns.add(generate_bsn(rng))
    clients = [
        Client(bsn=bsn, achternaam=f"Client{i}", geboortedatum=date(1980, 1, 1 + i % 28))
        for i, bsn in enumerate(sorted(bsns))
    ]
    session.add_all(clients)
    session.flush()
    legs, care = [], []
    for i, c in enumerate(clients):
        klinisch = i % 4 != 0  # three in four klinisch, one in four ambulant
        legs.append(
            Legitimation(
                client_id=c.id,
                financing="fz",
                financier_id=fin.id,
                begindatum=date(2026, 1, 1),
                productcode="FZV02" if klinisch else "FZC02",
                referentienummer=f"PB-2026-{i:05d}",
                status="actief",
                bron="FZ821",
                keten_stand="gestart",
                sleutels={"titel": "VI" if klinisch else "VV", "instelling": "73730001"},
            )
        )
        days = range(31) if klinisch else (2, 9, 16, 23, 30)
        for d in days:
            care.append(
                Care(
                    client_id=c.id,
                    product_id=(verblijf if klinisch else consult).id,
                    datum=MONTH + timedelta(days=d),
                    aantal=1,
                )
            )
    session.add_all(legs)
    session.commit()
    return care, fin


def run(session, hooks, fin, care, n: int) -> None:
    from plugins.fz import declaration as declaring
    from plugins.fz import formats
    from portal.models import Message
    from portal.services import declarations as svc

    timings = []
    for attempt in range(REPEATS):
        t0 = time.perf_counter()
        prepared = svc.prepare(session, fin, MONTH, care=care, hooks=hooks)
        (decl,) = prepared.declarations
        session.flush()
        (msg,) = svc.submit(session, decl.id, hooks)
        session.flush()
        timings.append(time.perf_counter() - t0)
        if attempt < REPEATS - 1:
            session.rollback()
        else:
            session.commit()
    build_s = statistics.median(timings)
    n_lines = len(decl.lines)
    payload = session.scalar(select(Message.payload).where(Message.id == msg.id))

    # DJI's GDS802: 10 % of the prestaties rejected with 0611 and the element concerned
    sent = formats.active("GDS801").read(payload)
    rng = random.Random(802)
    rejected = {p["referentie"] for p in rng.sample(sent["prestaties"], n_lines // 10)}
    gds802 = formats.active("GDS802")
    answer = gds802.build(
        {
            "afzender": "9992",
            "ontvanger": sent["afzender"],
            "identificatie": "DJI0001",
            "identificatie_retour": sent["identificatie"],
            "dagtekening": date(2026, 11, 20),
            "nummer": sent["nummer"],
            "retourcodes": [{"code": "0200"}],
            "prestaties": [
                {
                    "referentie": p["referentie"],
                    "toegekend": 0 if p["referentie"] in rejected else p["bedrag"],
                    "retourcodes": [
                        {"code": "0611", "elementen": [{"naam": "Tarief", "waarde": p["tarief"]}]}
                    ]
                    if p["referentie"] in rejected
                    else [{"code": "8001"}],
                }
                for p in sent["prestaties"]
            ],
        }
    )

    t1 = time.perf_counter()
    fmt = formats.identify(answer)  # as the inbox routes it
    outcome = svc.apply_outcome(session, declaring.read_answer(fmt, fmt.read(answer)))
    session.commit()
    process_s = time.perf_counter() - t1
    statuses: dict[str, int] = {}
    for line in decl.lines:
        statuses[line.status] = statuses.get(line.status, 0) + 1

    print(f"placements {n}, care pieces {len(care)}, prestaties {n_lines}")
    print(f"GDS801 payload {len(payload) // 1024} kB, GDS802 payload {len(answer) // 1024} kB")
    runs = ", ".join(f"{t:.2f}" for t in timings)
    print(f"GDS801 build+check+store: median {build_s:.3f} s of {REPEATS} runs ({runs})")
    print(f"GDS802 process ({len(rejected)} rejected): {process_s:.3f} s -> {outcome.summary}")
    print(f"line statuses: {statuses}")
    print(f"RESULT fz_gds801_build_check_store {build_s:.3f} s target {TARGET_BUILD}")
    print(f"RESULT fz_gds802_process {process_s:.3f} s target {TARGET_PROCESS}")


if __name__ == "__main__":
    _sys.exit(main())
