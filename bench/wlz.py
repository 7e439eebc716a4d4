"""Benchmark: Wlz — the AW319 for 2,000 clients, its AW320, and 1,000 AW33s with their AW34s.

On a fresh database (PostgreSQL when DATABASE_URL points at one, else a SQLite file; REDIS_URL or
an embedded Redis for the send queue), with the real app and the real plugins:

* ``wlz_aw319``: the AW319 for 2,000 Wlz clients for one month, 20 % of them stacked with
  particulier (their care is above the indicatie): choose the care (stacking, whole ISO weeks),
  make the lines, store them with their export parts, check, build the EI file (layout-checked)
  and store the outgoing message — ``declarations.prepare`` + ``declarations.submit``;
* ``wlz_aw320``: an AW320 rejecting 10 % of the lines, read and applied line by line;
* ``wlz_aw33``: 1,000 AW33s (one client each, a ZZP and a functie), each XSD-validated, applied
  (client + legitimations) and answered with its XSD-valid AW34, committed per message.

``--quick`` uses 200 clients and 100 AW33s (well under a minute). Prints RESULT lines.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/wlz.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import random
import time
from datetime import date, timedelta

from bench.wmo_323 import bench_app, fresh_database

TARGET_AW319 = 10.0
TARGET_AW320 = 3.0
TARGET_AW33 = 60.0
MONTH = date(2026, 2, 1)
AGB = "41000001"
ZK = "5509"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_clients = 200 if args.quick else 2000
    n_aw33 = 100 if args.quick else 1000

    from portal.app import hooks

    url, drop = fresh_database()
    try:
        app = bench_app(url, lambda instance: {"wlz": {"zorgkantoor_db": f"{instance}/zk.db"}})
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            fin = _setup(session, n_clients)
            aw319_s, aw320_s, n_lines = _declaration(session, hooks(), fin)
            aw33_s = _aw33s(session, n_aw33)
            session.close()
    finally:
        drop()
    print(f"# {n_clients} clients, {n_lines} prestaties, {n_aw33} AW33s on {url.split(':')[0]}")
    print(f"RESULT wlz_aw319_{n_clients}_clients {aw319_s:.3f} s target {TARGET_AW319}")
    print(f"RESULT wlz_aw320_10pct_rejected {aw320_s:.3f} s target {TARGET_AW320}")
    print(f"RESULT wlz_aw33_{n_aw33}_with_aw34 {aw33_s:.3f} s target {TARGET_AW33}")
    return 0


def _setup(session, n_clients: int):
    from portal.db import bulk_insert
    from portal.demo import generate_bsn
    from portal.models import (
        Client,
        Contract,
        ContractLine,
        Financier,
        Legitimation,
        Organisation,
        OrganisationAgb,
        Product,
        User,
    )
    from portal.models._base import utcnow
    from portal.models.product import Uursoort, UursoortFinancing
    from portal.models.registration import REG_APPROVED, Registration, StackRule

    rng = random.Random(319)
    org = Organisation(naam="Bench Zorg")
    org.agb_codes.append(OrganisationAgb(agb_code=AGB, locatie="Hoofd", hoofd=True))
    zk = Financier(financing="wlz", soort="zorgkantoor", code=ZK, naam="Zorgkantoor Utrecht")
    prive = Financier(financing="particulier", soort="client", naam="Cliënt zelf")
    emp = User(email="zorg@bench.nl", naam="Zorg", role="zorgprofessional", password_hash="x")
    us = Uursoort(code="PV", naam="Persoonlijke verzorging")
    us.financings = [
        UursoortFinancing(financing="wlz", position=1),
        UursoortFinancing(financing="particulier", position=2),
    ]
    pv = Product(code="PV-UUR", naam="Persoonlijke verzorging", eenheid="uur", uursoort=us)
    session.add_all([org, zk, prive, emp, us, pv])
    session.flush()
    session.add(StackRule(product_id=pv.id, onto_product_id=pv.id))
    for fin, cat, code, cents in ((zk, "31", "H126", 5896), (prive, None, None, 6200)):
        c = Contract(financier_id=fin.id, naam=f"Contract {fin.naam}", begindatum=date(2026, 1, 1))
        c.lines.append(
            ContractLine(
                product_id=pv.id,
                productcategorie=cat,
                productcode=code,
                eenheid="uur",
                tarief_cents=cents,
                begindatum=date(2026, 1, 1),
            )
        )
        session.add(c)
    clients = []
    used: set[str] = set()
    for i in range(n_clients):
        bsn = generate_bsn(rng)
        while bsn in used:
            bsn = generate_bsn(rng)
        used.add(bsn)
        clients.append(
            Client(
                bsn=bsn,
                achternaam=f"Client{i}",
                voorletters="A",
                geboortedatum=date(1940, 1, 1) + timedelta(days=i),
                geslacht="2",
            )
        )
    session.add_all(clients)
    session.flush()
    legs = []
    for i, c in enumerate(clients):
        besluit = str(300000001 + i)
        leg = Legitimation(
            client_id=c.id,
            financing="wlz",
            financier_id=zk.id,
            begindatum=date(2026, 1, 1),
            priority=1,
            volume=2,
            eenheid="uur",
            frequentie="week",
            productcategorie="31",
            productcode="H126",
            toewijzingnummer=besluit,
            bron="bericht",
            keten_stand="gestart",
            sleutels={
                "besluitnummer": besluit,
                "soort": "functie",
                "code": "31",
                "toewijzing_ingangsdatum": "2026-01-01",
                "klasse": "K1",
                "instelling": AGB,
                "zorgkantoor": ZK,
            },
        )
        leg.products = [pv]
        legs.append(leg)
        if i % 5 == 0:  # 20 %: a private agreement under the Wlz indicatie
            extra = Legitimation(
                client_id=c.id,
                financing="particulier",
                financier_id=prive.id,
                begindatum=date(2026, 1, 1),
                priority=2,
                volume=4,
                eenheid="uur",
                frequentie="week",
                tarief_cents=6200,
            )
            extra.products = [pv]
            legs.append(extra)
    session.add_all(legs)
    session.flush()
    now = utcnow()
    rows = []
    first = MONTH - timedelta(days=MONTH.weekday())  # the Monday of the first week
    for i, c in enumerate(clients):
        per_week = 3 if i % 5 == 0 else 2  # the stacked clients get care above the indicatie
        day = first
        while day <= date(2026, 3, 1):
            for k in range(per_week):
                rows.append(
                    dict(
                        client_id=c.id,
                        product_id=pv.id,
                        uursoort_id=us.id,
                        employee_id=emp.id,
                        datum=day + timedelta(days=k),
                        duur_minuten=60,
                        status=REG_APPROVED,
                        bron="import",
                        waarschuwingen=[],
                        created_at=now,
                        updated_at=now,
                    )
                )
            day += timedelta(days=7)
    bulk_insert(session, Registration, rows)
    session.commit()
    return zk


def _declaration(session, hooks, fin):
    from plugins.wlz import declaration as d
    from plugins.wlz import financier
    from portal.formats import ei
    from portal.services import declarations

    start = time.perf_counter()
    prepared = declarations.prepare(session, fin, MONTH, hooks=hooks)
    (message,) = declarations.submit(session, prepared.declaration.id, hooks)
    session.commit()
    aw319_s = time.perf_counter() - start
    lines = prepared.declaration.lines
    assert ei.parse(d.AW319, bytes(message.payload)).trailer.int("9904") == len(lines)
    # the zorgkantoor rejects every tenth line: its AW320 is made outside the timing
    reply = financier.reply(bytes(message.payload), hooks.settings, today=date(2026, 3, 15))
    payload = bytes(reply[0].payload)
    rejected = {line.referentie for n, line in enumerate(lines) if n % 10 == 0}
    retour = ei.parse(d.AW320, payload)
    out = []
    for rec in retour.records:
        if rec.type == "99":
            continue
        derived = {f"{rec.type}01", f"{rec.type}02"} if rec.type in ("02", "04") else {"0101"}
        values = {n: v for n, v in rec.values.items() if v not in (None, "") and n not in derived}
        if rec.type == "04" and rec["0431"] in rejected:
            values.update({"0483": 0, "0485": "0553"})
        out.append((rec.type, values))
    payload = ei.build(d.AW320, out)
    start = time.perf_counter()
    declarations.apply_outcome(session, d.read_aw320(payload))
    session.commit()
    aw320_s = time.perf_counter() - start
    session.expire_all()
    statuses = [line.status for line in prepared.declaration.lines]
    assert statuses.count("afgewezen") == len(rejected), statuses.count("afgewezen")
    return aw319_s, aw320_s, len(lines)


def _aw33s(session, n: int) -> float:
    from plugins.wlz import chain
    from plugins.wlz import messages as msgs
    from plugins.wlz.standard import current
    from portal.demo import generate_bsn

    rng = random.Random(33)
    rel = current(date(2026, 3, 1))
    payloads = []
    for i in range(n):
        start = date(2026, 3, 1)
        payloads.append(
            msgs.build_aw33(
                rel,
                msgs.Header(ZK, AGB, f"B{i:011d}", date(2026, 3, 1)),
                [
                    msgs.AW33Client(
                        msgs.Persoon(
                            bsn=generate_bsn(rng),
                            geboortedatum=date(1935, 1, 1) + timedelta(days=i),
                            geslacht="1",
                            achternaam=f"Nieuw{i}",
                            voorletters="B",
                            postcode="3511AB",
                            huisnummer="1",
                        ),
                        msgs.Indicatie(
                            str(310000001 + i),
                            date(2026, 2, 15),
                            start,
                            toewijzingen=[
                                msgs.Toewijzing("zzp", "804", AGB, ZK, start, leveringsvorm="4"),
                                msgs.Toewijzing("functie", "31", AGB, ZK, start, klasse="K2"),
                            ],
                        ),
                    )
                ],
            )
        )
    start_t = time.perf_counter()
    for payload in payloads:
        outcome = chain.process(session, payload, today=date(2026, 3, 2))
        assert outcome.replies and outcome.replies[0].code == "AW34"
        session.commit()
    return time.perf_counter() - start_t


if __name__ == "__main__":
    raise SystemExit(main())
