"""Synthetic organisations of any size, fast: the workload generator every benchmark builds on.

    from bench.generate import generate_organisation
    info = generate_organisation(engine, n_clients=100_000, seed=1)

``engine`` is a SQLAlchemy engine on a migrated database (``portal.migrate.upgrade(url)``) that
has no clients yet. It builds one organisation with two AGB codes, the financiers of all seven
financings (gemeenten, zorgkantoren, verzekeraars, DJI, budget holder, the client, a main
contractor), own products, uursoorten with their financing priorities, a contract per financier
with product lines, ``n_clients`` clients with valid unique BSNs (``portal.demo.generate_bsn``)
and 2-3 legitimations per client in a mix that is realistic for stacking (Wlz + particulier or
PGB, Wmo/Jw next to Zvw wijkverpleging, …). Every legitimation passes its plugin's checks.

Reference data goes through the ORM (a few hundred rows); clients, legitimations and their
products go in bulk: ``COPY`` on PostgreSQL, ``executemany`` in batches elsewhere, with ids
assigned here (sequences are moved past them afterwards). 100,000 clients take well under a
minute on PostgreSQL.

It returns a dict with the ids a later generator needs (e.g. a year of registrations on top)::

    {"organisation_id", "financier_ids": {key: id}, "product_ids": {code: id},
     "uursoort_ids": {code: id}, "client_ids": (first, last), "n_clients",
     "n_legitimations", "seconds"}

CLI: ``python -m bench.generate --clients 10000 [--seed 1] [--database-url URL]`` (defaults to
``DATABASE_URL``; migrates the database first).
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import io
import json
import os
import random
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from portal import demo
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
    Uursoort,
    UursoortFinancing,
    legitimation_product,
)

BATCH = 5_000

# The demo's names plus more, so 100,000 clients do not all look alike.
FIRST = [
    *demo.FIRST,
    "Emma",
    "Lucas",
    "Sophie",
    "Daan",
    "Tess",
    "Finn",
    "Mila",
    "Levi",
    "Saar",
    "Bram",
    "Nora",
    "Gijs",
    "Fenna",
    "Ahmed",
    "Aylin",
    "Wout",
    "Roos",
    "Joost",
]
COMMON_LAST = demo.LAST
_STEMS = [
    "Berg",
    "Bos",
    "Brink",
    "Dijk",
    "Haan",
    "Hoek",
    "Kamp",
    "Meer",
    "Veld",
    "Wal",
    "Hof",
    "Laar",
    "Mol",
    "Pol",
    "Ree",
    "Sloot",
    "Steen",
    "Water",
    "Wind",
    "Zand",
    "Boom",
    "Horst",
    "Linde",
    "Ven",
    "Kuip",
    "Smeets",
    "Raat",
    "Hout",
    "Beek",
    "Heuvel",
]
_ENDINGS = ["", "man", "mans", "sma", "stra", "huis", "kamp", "ink", "ing", "ers", "hof", "veld"]
TEAMS = [
    f"Team {t}"
    for t in [
        "Utrecht",
        "Amersfoort",
        "Hilversum",
        "Nieuwegein",
        "Zeist",
        "Houten",
        "Soest",
        "Baarn",
    ]
]
STREETS = [*demo.STREETS, "Nieuwstraat"]
TOWNS = [
    "Utrecht",
    "Amersfoort",
    "Hilversum",
    "Nieuwegein",
    "Zeist",
    "Houten",
    "Soest",
    "Baarn",
    "Bunnik",
    "Woerden",
]

GEMEENTEN = [
    ("0344", "Utrecht"), ("0307", "Amersfoort"), ("0402", "Hilversum"), ("0356", "Nieuwegein"),
    ("0355", "Zeist"), ("0321", "Houten"), ("0342", "Soest"), ("0308", "Baarn"),
    ("0312", "Bunnik"), ("0632", "Woerden"), ("0310", "De Bilt"), ("0353", "IJsselstein"),
]  # fmt: skip
ZORGKANTOREN = [("5503", "Zorgkantoor Utrecht"), ("5504", "Zorgkantoor Amersfoort")]
VERZEKERAARS = [("3311", "Zorgverzekeraar Midden"), ("3343", "Zorgverzekeraar Noord"),
                ("0101", "Zorgverzekeraar West")]  # fmt: skip


def _surnames() -> list[tuple[str, str]]:
    synthetic = [("", stem + end) for stem in _STEMS for end in _ENDINGS]
    # The common names come up far more often, as in a real client file.
    return COMMON_LAST * 12 + synthetic


def _reference(session: Session, year_start: date) -> dict[str, Any]:
    org = Organisation(
        naam="Zorggroep Benchmark",
        kvk_nummer="41234568",
        iban="NL91ABNA0417164300",
        straat="Lindelaan",
        huisnummer="12",
        postcode="3511AB",
        plaats="Utrecht",
    )
    org.agb_codes = [
        OrganisationAgb(agb_code="73731001", locatie="Hoofdlocatie", hoofd=True),
        OrganisationAgb(agb_code="73731002", locatie="Wijkteams"),
    ]
    session.add(org)

    fin: dict[str, Financier] = {}

    def financier(key, financing, soort, code, naam, **kw):
        fin[key] = Financier(financing=financing, soort=soort, code=code, naam=naam, **kw)
        session.add(fin[key])

    for code, town in GEMEENTEN:
        financier(f"gemeente:{code}", "wmo_jw", "gemeente", code, f"Gemeente {town}", plaats=town)
    for code, naam in ZORGKANTOREN:
        financier(f"zorgkantoor:{code}", "wlz", "zorgkantoor", code, naam)
    for code, naam in VERZEKERAARS:
        financier(f"verzekeraar:{code}", "zvw_msvt", "zorgverzekeraar", code, naam)
    financier("dji", "fz", "dji", "9992", "Dienst Justitiële Inrichtingen")
    financier("budgethouder", "pgb", "budgethouder", None, "Budgethouder (PGB)")
    financier("particulier", "particulier", "client", None, "Cliënt zelf")
    financier(
        "hoofdaannemer", "onderaanneming", "instelling", "73999991", "Thuiszorg Regio Midden",
        postcode="3811BB", huisnummer="1", plaats="Amersfoort", kvk_nummer="30123456",
    )  # fmt: skip

    uursoorten: dict[str, Uursoort] = {}
    for code, naam, financings in [
        ("PV", "Persoonlijke verzorging", ["wlz", "zvw_msvt", "pgb", "particulier"]),
        ("VP", "Verpleging", ["zvw_msvt", "wlz", "particulier"]),
        ("BG", "Begeleiding", ["wmo_jw", "wlz", "pgb", "particulier"]),
        ("HH", "Huishoudelijke hulp", ["wmo_jw", "particulier"]),
        ("FZ", "Forensische begeleiding", ["fz"]),
        ("OA", "Onderaanneming thuiszorg", ["onderaanneming"]),
    ]:
        u = Uursoort(code=code, naam=naam)
        u.financings = [
            UursoortFinancing(financing=f, position=i + 1) for i, f in enumerate(financings)
        ]
        session.add(u)
        uursoorten[code] = u

    products: dict[str, Product] = {}
    for code, naam, eenheid, us in [
        ("PV-UUR", "Persoonlijke verzorging", "uur", "PV"),
        ("VP-UUR", "Verpleging", "uur", "VP"),
        ("BG-IND", "Begeleiding individueel", "uur", "BG"),
        ("BG-GRP", "Begeleiding groep (dagdeel)", "dagdeel", "BG"),
        ("HH-UUR", "Huishoudelijke hulp", "uur", "HH"),
        ("FZ-BEG", "Forensische ambulante begeleiding", "uur", "FZ"),
        ("OA-PV", "Persoonlijke verzorging in onderaanneming", "uur", "OA"),
    ]:
        products[code] = Product(code=code, naam=naam, eenheid=eenheid, uursoort=uursoorten[us])
        session.add(products[code])
    session.flush()

    lines_by_financing = {
        "wmo_jw": [("BG-IND", "07", "07A05", 6450), ("BG-GRP", "07", "07A07", 5200),
                   ("HH-UUR", "01", "01A02", 3150)],
        "wlz": [("PV-UUR", None, "H126", 5896), ("VP-UUR", None, "H127", 7850),
                ("BG-IND", None, "H300", 6250)],
        "zvw_msvt": [("VP-UUR", None, "1004", 7600), ("PV-UUR", None, "1003", 6100)],
        "fz": [("FZ-BEG", None, "FZ3A", 9800)],
        "pgb": [("PV-UUR", None, None, 5500), ("BG-IND", None, None, 5800)],
        "particulier": [("PV-UUR", None, None, 6200), ("HH-UUR", None, None, 3500)],
        "onderaanneming": [("OA-PV", None, "OA-PV", 5400)],
    }  # fmt: skip
    rounding = {"zvw_msvt": 5, "pgb": 30, "particulier": 15}
    for f in fin.values():
        contract = Contract(financier=f, naam=f"{f.naam} {year_start.year}", begindatum=year_start)
        unit = {"BG-GRP": "dagdeel"}
        contract.lines = [
            ContractLine(
                product=products[p],
                productcategorie=cat,
                productcode=pc,
                eenheid=unit.get(p, "uur"),
                tarief_cents=cents,
                begindatum=year_start,
                afronding_minuten=rounding.get(f.financing, 0),
            )
            for p, cat, pc, cents in lines_by_financing[f.financing]
        ]
        session.add(contract)
    session.flush()
    return {"organisation": org, "financiers": fin, "products": products, "uursoorten": uursoorten}


def _next_id(conn, table) -> int:
    return (conn.scalar(select(func.max(table.c.id))) or 0) + 1


def _bulk(conn, table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert many rows: COPY on PostgreSQL, batched executemany elsewhere."""
    n = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection  # psycopg 3
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in rows:  # JSON columns travel as text
                copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row])
                n += 1
        return n
    batch: list[dict] = []
    stmt = table.insert()
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= BATCH:
            conn.execute(stmt, batch)
            n += len(batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)
        n += len(batch)
    return n


def _fix_sequence(conn, table) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table.name}"))'
            )
        )


CLIENT_COLUMNS = (
    "id", "bsn", "clientnummer", "voorletters", "voornamen", "tussenvoegsel", "achternaam",
    "geboortedatum", "geslacht", "straat", "huisnummer", "postcode", "plaats", "team", "actief",
    "budgethouder_is_client", "created_at", "updated_at",
)  # fmt: skip
LEG_COLUMNS = (
    "id", "client_id", "financing", "financier_id", "begindatum", "einddatum", "priority",
    "volume", "eenheid", "frequentie", "budget_cents", "tarief_cents", "productcategorie",
    "productcode", "toewijzingnummer", "referentienummer", "status", "bron", "sleutels",
    "created_at", "updated_at",
)  # fmt: skip


def generate_organisation(engine: Engine, n_clients: int, seed: int = 1) -> dict[str, Any]:
    """Build a synthetic organisation with ``n_clients`` clients; see the module docstring."""
    started = time.perf_counter()
    rng = random.Random(seed)
    today = date.today()
    year_start = date(today.year, 1, 1)
    with Session(engine) as session:
        if session.scalar(select(func.count(Client.id))):
            raise RuntimeError("generate_organisation needs a database without clients")
        ref = _reference(session, year_start)
        session.commit()
        fin = {k: f.id for k, f in ref["financiers"].items()}
        prod = {k: p.id for k, p in ref["products"].items()}
        result = {
            "organisation_id": ref["organisation"].id,
            "financier_ids": fin,
            "product_ids": prod,
            "uursoort_ids": {k: u.id for k, u in ref["uursoorten"].items()},
        }

    client_t, leg_t, lp_t = Client.__table__, Legitimation.__table__, legitimation_product
    surnames = _surnames()
    now = datetime.now(UTC)
    gemeenten = [fin[f"gemeente:{code}"] for code, _ in GEMEENTEN]
    zorgkantoren = [fin[f"zorgkantoor:{code}"] for code, _ in ZORGKANTOREN]
    verzekeraars = [fin[f"verzekeraar:{code}"] for code, _ in VERZEKERAARS]

    with engine.begin() as conn:
        first_client = _next_id(conn, client_t)
        next_leg = _next_id(conn, leg_t)
        used: set[str] = set()
        clients: list[tuple] = []
        legs: list[tuple] = []
        leg_products: list[tuple[int, int]] = []

        def leg(client_id, financing, financier_id, products, *, prio=1, **kw):
            nonlocal next_leg
            begin = year_start - timedelta(days=rng.randint(0, 400))
            end = None if rng.random() < 0.85 else today + timedelta(days=rng.randint(-60, 300))
            legs.append((
                next_leg, client_id, financing, financier_id, begin, end, prio,
                kw.get("volume"), kw.get("eenheid"), kw.get("frequentie"), None,
                kw.get("tarief"), kw.get("categorie"), kw.get("code"), kw.get("toewijzing"),
                kw.get("referentie"), "actief", kw.get("bron", "handmatig"),
                kw.get("sleutels", {}), now, now,
            ))  # fmt: skip
            for p in products:
                leg_products.append((next_leg, prod[p]))
            next_leg += 1

        for i in range(n_clients):
            cid = first_client + i
            bsn = generate_bsn(rng)
            while bsn in used:
                bsn = generate_bsn(rng)
            used.add(bsn)
            first = rng.choice(FIRST)
            tv, last = rng.choice(surnames)
            clients.append((
                cid, bsn, f"K{cid:07d}", first[0] + ".", first, tv or None, last,
                date(rng.randint(1925, 2018), rng.randint(1, 12), rng.randint(1, 28)),
                rng.choice("12"), rng.choice(STREETS), str(rng.randint(1, 250)),
                f"{rng.randint(1000, 9999)}{rng.choice('ABCDEGHJKLMNPRST')}{rng.choice('ABCDEGHJKLMNPRSTVWXZ')}",
                rng.choice(TOWNS), rng.choice(TEAMS), rng.random() > 0.08, True, now, now,
            ))  # fmt: skip
            hours = dict(eenheid="uur", frequentie="week")
            # who set the indicatie (the Zvw plugin asks for it)
            zvw = dict(sleutels={"indicatiesteller": "Wijkverpleegkundige"}, **hours)
            kind = rng.random()
            wlz = dict(volume=rng.choice((2, 3, 4, 6)), code="H126", **hours)
            if kind < 0.30:  # Wlz PV stacked with private PV, sometimes Wmo begeleiding too
                leg(cid, "wlz", rng.choice(zorgkantoren), ["PV-UUR"], **wlz)
                leg(cid, "particulier", fin["particulier"], ["PV-UUR"], prio=2, volume=2,
                    tarief=6200, **hours)  # fmt: skip
                if rng.random() < 0.3:
                    _wmo(leg, cid, rng, gemeenten)
            elif kind < 0.45:  # Wlz PV stacked with PGB
                leg(cid, "wlz", rng.choice(zorgkantoren), ["PV-UUR"], **wlz)
                leg(cid, "pgb", fin["budgethouder"], ["PV-UUR", "BG-IND"], prio=2, volume=3,
                    tarief=5500, sleutels={"wet": "wlz"}, **hours)  # fmt: skip
            elif kind < 0.70:  # Wmo begeleiding next to wijkverpleging
                _wmo(leg, cid, rng, gemeenten)
                leg(cid, "zvw_msvt", rng.choice(verzekeraars), ["VP-UUR", "PV-UUR"],
                    volume=rng.choice((3, 4, 6)), **zvw)  # fmt: skip
                if rng.random() < 0.4:
                    leg(cid, "particulier", fin["particulier"], ["PV-UUR"], prio=2, volume=1,
                        tarief=6200, **hours)  # fmt: skip
            elif kind < 0.88:  # wijkverpleging stacked with private care, Wmo household help
                leg(cid, "zvw_msvt", rng.choice(verzekeraars), ["VP-UUR", "PV-UUR"], volume=4,
                    **zvw)  # fmt: skip
                leg(cid, "particulier", fin["particulier"], ["PV-UUR"], prio=2, volume=2,
                    tarief=6200, **hours)  # fmt: skip
                if rng.random() < 0.5:
                    _wmo(leg, cid, rng, gemeenten, product="HH-UUR", cat="01", code="01A02")
            elif kind < 0.94:  # forensische zorg with Wmo
                leg(cid, "fz", fin["dji"], ["FZ-BEG"], volume=3, code="FZ3A",
                    referentie=f"DJI-{cid}", **hours)  # fmt: skip
                _wmo(leg, cid, rng, gemeenten)
            else:  # onderaanneming next to wijkverpleging
                leg(cid, "onderaanneming", fin["hoofdaannemer"], ["OA-PV"], volume=3,
                    referentie="ORD-2026-118", **hours)  # fmt: skip
                leg(cid, "zvw_msvt", rng.choice(verzekeraars), ["VP-UUR"], volume=2, **zvw)

        _bulk(conn, client_t, CLIENT_COLUMNS, clients)
        _bulk(conn, leg_t, LEG_COLUMNS, legs)
        _bulk(conn, lp_t, ("legitimation_id", "product_id"), leg_products)
        _fix_sequence(conn, client_t)
        _fix_sequence(conn, leg_t)

    if engine.dialect.name == "postgresql":
        # Statistics for the planner, and the trigram GIN indexes' pending lists merged (until
        # then PostgreSQL will not use them for ILIKE search).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for t in (client_t, leg_t, lp_t):
                conn.execute(text(f'VACUUM ANALYZE "{t.name}"'))

    result.update(
        client_ids=(first_client, first_client + n_clients - 1),
        n_clients=n_clients,
        n_legitimations=len(legs),
        seconds=round(time.perf_counter() - started, 2),
    )
    return result


def _wmo(leg, cid, rng, gemeenten, product="BG-IND", cat="07", code="07A05") -> None:
    leg(
        cid, "wmo_jw", rng.choice(gemeenten), [product], volume=rng.choice((2, 3, 4, 8)),
        eenheid="uur", frequentie="week", categorie=cat, code=code,
        toewijzing=str(10_000_000 + cid)[-8:], bron="bericht",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("geef --database-url of zet DATABASE_URL")
    from portal.db import make_engine
    from portal.migrate import upgrade

    upgrade(args.database_url)
    engine = make_engine(args.database_url)
    info = generate_organisation(engine, args.clients, args.seed)
    out = io.StringIO()
    json.dump({k: v for k, v in info.items() if k != "financier_ids"}, out, default=str)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
