"""Benchmark: a month of wijkverpleging AW319s for 5,000 clients at 10 insurers, and their AW320s.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench python bench/zvw.py [--quick]

Builds a scratch organisation (the reference data of ``bench.generate``, seven more insurers with
the same wijkverpleging contract) where every client has a wijkverpleging indicatie (3, 4 or 6
hours a week at one of 10 insurers) and 20 % also a private agreement for 2 hours a week below
it; PV stacks onto itself; about one approved visit per working day (15–75 minutes) over the weeks
around one month, so stacked clients overflow onto particulier and the others' hours above the
indicatie are "niet gedekt".

Times (1) the month's AW319s: for every insurer the core's declaration run (choose the care per
whole ISO week, the plugin's lines, numbers, store lines and export parts) plus submit (the
plugin's checks, the AW319 built and checked against the layout, the outgoing message stored);
(2) the AW320s: the simulated insurer answers each AW319 (not timed; 5 % of the clients are not
insured with it, so about 5 % of the prestaties are rejected with 0402), then each AW320 is
received as from VECOZO (stored, routed, parsed line by line, applied to the lines). ``--quick``:
1,000 clients. Needs PostgreSQL.
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
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.gen_production import add_registrations, add_stack_rules
from bench.generate import CLIENT_COLUMNS, LEG_COLUMNS, _bulk, _fix_sequence, _reference
from bench.stacking import scratch_database
from portal.demo import generate_bsn
from portal.migrate import upgrade
from portal.models import (
    Client,
    Contract,
    ContractLine,
    DeclarationLine,
    Financier,
    Legitimation,
    legitimation_product,
)

TARGET_AW319 = 10.0
TARGET_AW320 = 3.0
MORE_INSURERS = [
    ("7029", "Zorgverzekeraar Kust"),
    ("3351", "Zorgverzekeraar Oost"),
    ("0203", "Zorgverzekeraar Zuid"),
    ("3358", "Zorgverzekeraar Rivierenland"),
    ("0212", "Zorgverzekeraar Noordwest"),
    ("3361", "Zorgverzekeraar Delta"),
    ("9018", "Zorgverzekeraar Heuvelland"),
]


def build(engine, n_clients: int, month: date, store) -> list[int]:
    """The organisation, 10 insurers, the clients; returns the client ids the insurers do not
    know (5 %)."""
    rng = random.Random(12)
    year_start = date(month.year - 1, 1, 1)
    with Session(engine) as session:
        ref = _reference(session, year_start)
        session.flush()
        template = [
            cl
            for cl in session.scalars(
                select(ContractLine)
                .join(Contract)
                .join(Financier)
                .where(Financier.financing == "zvw_msvt")
            )
        ]
        first = template[0].contract.financier_id
        for code, naam in MORE_INSURERS:
            fin = Financier(financing="zvw_msvt", soort="zorgverzekeraar", code=code, naam=naam)
            contract = Contract(financier=fin, naam="Wijkverpleging", begindatum=year_start)
            contract.lines = [
                ContractLine(product_id=cl.product_id, productcategorie="065",
                             productcode=cl.productcode, eenheid=cl.eenheid,
                             tarief_cents=cl.tarief_cents, begindatum=year_start,
                             afronding_minuten=cl.afronding_minuten)
                for cl in template
                if cl.contract.financier_id == first
            ]  # fmt: skip
            session.add(contract)
        session.commit()
        insurers = {
            f.id: f.code
            for f in session.scalars(select(Financier).where(Financier.financing == "zvw_msvt"))
        }
        for cl in session.scalars(
            select(ContractLine)
            .join(Contract)
            .join(Financier)
            .where(Financier.financing == "zvw_msvt")
        ):
            store.contract(
                insurers[cl.contract.financier_id], "065", cl.productcode, cl.tarief_cents
            )
        particulier = ref["financiers"]["particulier"].id
        pv = ref["products"]["PV-UUR"].id
    now = datetime.now(UTC)
    clients, legs, leg_products, insured, unknown = [], [], [], [], []
    used: set[str] = set()
    ids = sorted(insurers)
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
            fin = ids[i % len(ids)]
            verz = f"{cid:09d}"
            keys = {"soort": "wijkverpleging", "indicatiesteller": "Wijkverpleegkundige",
                    "verzekerdennummer": verz}  # fmt: skip
            own = [("zvw_msvt", fin, 1, rng.choice((3, 4, 6)), None, keys)]
            if rng.random() < 0.2:  # stacked onto a private agreement
                own.append(("particulier", particulier, 2, 2, 6200, {}))
            for financing, financier, prio, volume, tarief, sleutels in own:
                legs.append((
                    next_leg, cid, financing, financier, year_start, None, prio, volume, "uur",
                    "week", None, tarief, None, None, None, None, "actief", "handmatig",
                    sleutels, now, now,
                ))  # fmt: skip
                leg_products.append((next_leg, pv))
                next_leg += 1
            if rng.random() < 0.05:
                unknown.append(cid)
            else:
                insured.append((insurers[fin], bsn, date(2015, 1, 1), None))
        _bulk(conn, Client.__table__, CLIENT_COLUMNS, clients)
        _bulk(conn, Legitimation.__table__, LEG_COLUMNS, legs)
        _bulk(conn, legitimation_product, ("legitimation_id", "product_id"), leg_products)
        _fix_sequence(conn, Client.__table__)
        _fix_sequence(conn, Legitimation.__table__)
    store.insure_many(insured)
    add_stack_rules(engine)
    return unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=None)
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    if not url.startswith("postgresql"):
        print("bench/zvw.py needs PostgreSQL (DATABASE_URL)", file=sys.stderr)
        return 2
    n_clients = args.clients or (1000 if args.quick else 5000)
    url = scratch_database(url, "bench_zvw")
    upgrade(url)
    engine = create_engine(url)

    from plugins.zvw_msvt import financier as insurer
    from portal.plugins import Hooks, get_plugin_manager
    from portal.services import declarations
    from portal.services.messages import receive_payload

    settings = {"zvw_msvt": {"verzekeraar_db": f"{tempfile.mkdtemp(prefix='bench_zvw_')}/v.db"}}
    store = insurer.store_for(settings)
    today = date.today()
    month = (today.replace(day=1) - timedelta(days=40)).replace(day=1)  # an ended month
    t0 = time.perf_counter()
    build(engine, n_clients, month, store)
    first_monday = month - timedelta(days=month.weekday())
    after = (month + timedelta(days=32)).replace(day=1)
    weeks = (after - first_monday).days // 7 + 1
    n_regs = add_registrations(engine, start=first_monday, weeks=weeks, per_day=1)
    print(
        f"generated {n_clients} clients, {n_regs} registrations in {time.perf_counter() - t0:.1f} s"
    )

    hooks = Hooks(get_plugin_manager(load_entrypoints=False), settings)
    messages = []
    with Session(engine) as session:
        financiers = list(
            session.scalars(select(Financier).where(Financier.financing == "zvw_msvt"))
        )
        t, cpu = time.perf_counter(), time.process_time()
        n_lines = skipped = 0
        for fin in financiers:
            prepared = declarations.prepare(session, fin, month, hooks=hooks)
            skipped += len(prepared.skipped)
            for decl in prepared.declarations:
                n_lines += len(decl.lines)
                messages += [
                    (m.payload, fin.code) for m in declarations.submit(session, decl.id, hooks)
                ]
            session.commit()
        aw319_s, aw319_cpu = time.perf_counter() - t, time.process_time() - cpu
    print(
        f"AW319: {len(messages)} files, {n_lines} prestaties, {skipped} held back or skipped, "
        f"{aw319_s:.2f} s ({aw319_cpu:.2f} s CPU in this process; the rest is PostgreSQL)"
    )

    answers = []
    for payload, code in messages:
        (retour,) = insurer.reply(bytes(payload), settings, today=today)
        answers.append((retour.payload, code))
    with Session(engine) as session:
        t, cpu = time.perf_counter(), time.process_time()
        for payload, code in answers:
            metadata = {
                "referentiegegevens": {"traceerId": str(uuid.uuid4())},
                "routeringgegevens": {"afzender": {"rol": "Zorgverzekeraar", "code": code}},
            }
            receive_payload(session, metadata=metadata, payload=payload, hooks=hooks)
            session.commit()
        aw320_s, aw320_cpu = time.perf_counter() - t, time.process_time() - cpu
        counts = dict(
            session.execute(
                select(DeclarationLine.status, func.count()).group_by(DeclarationLine.status)
            ).all()
        )
    rejected = counts.get("afgewezen", 0)
    total = sum(counts.values()) or 1
    print(
        f"AW320: {len(answers)} files, {counts.get('toegekend', 0)} awarded, {rejected} "
        f"rejected ({100 * rejected / total:.1f} %), {aw320_s:.2f} s ({aw320_cpu:.2f} s CPU)"
    )
    print(f"RESULT zvw_aw319_month {aw319_s:.2f} s target {TARGET_AW319}")
    print(f"RESULT zvw_aw320_process {aw320_s:.2f} s target {TARGET_AW320}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
