"""A year (or any span) of registrations on top of ``bench.generate.generate_organisation``.

    from bench.gen_production import add_registrations, add_stack_rules
    n = add_registrations(engine, start=date(2025, 1, 6), weeks=52, per_day=3, status="gefiatteerd")

About ``per_day`` registrations per client per working day (Monday–Friday), 15–75 minutes each,
on the time products the client's legitimations cover, by a pool of employees, start times spread
three clients per employee in
separate 90-minute slots, so no employee overlaps. Rows go in with ``COPY`` (psycopg 3) on PostgreSQL, batched executemany
elsewhere. Ids are assigned here.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, func, select, text

from bench.generate import _bulk, _fix_sequence
from portal.models import Legitimation, Product, Registration, StackRule, User, legitimation_product

REG_COLUMNS = (
    "id", "client_id", "product_id", "uursoort_id", "employee_id", "datum", "starttijd",
    "duur_minuten", "aantal", "opmerking", "status", "approval_run_id", "bron", "import_bestand",
    "waarschuwingen", "credit_of_id", "credit_reden", "created_at", "updated_at",
)  # fmt: skip


def add_stack_rules(engine: Engine) -> int:
    """PV stacks onto itself, onto lower legitimations (the seed's Wlz + particulier case)."""
    with engine.begin() as conn:
        prods = dict(conn.execute(select(Product.code, Product.id)).all())
        rules = [
            (prods[c], prods[o]) for c, o in (("PV-UUR", "PV-UUR"),) if c in prods and o in prods
        ]
        now = datetime.now(UTC)
        for p, o in rules:
            conn.execute(
                StackRule.__table__.insert().values(product_id=p, onto_product_id=o, created_at=now)
            )
    return len(rules)


def _employees(conn, n: int) -> list[int]:
    now = datetime.now(UTC)
    first = (conn.scalar(select(func.max(User.id))) or 0) + 1
    rows = [
        (first + i, f"bench-zorg-{first + i}@example.org", f"Zorg {i}", "zorgprofessional", "x",
         True, "Team", None, False, 0, None, None, 1, now, now)
        for i in range(n)
    ]  # fmt: skip
    cols = ("id", "email", "naam", "role", "password_hash", "active", "team", "totp_secret",
            "totp_enabled", "failed_logins", "locked_until", "last_login_at", "session_version",
            "created_at", "updated_at")  # fmt: skip
    _bulk(conn, User.__table__, cols, rows)
    _fix_sequence(conn, User.__table__)
    return [r[0] for r in rows]


def add_registrations(
    engine: Engine,
    *,
    start: date,
    weeks: int,
    per_day: int = 3,
    status: str = "gefiatteerd",
    client_ids: tuple[int, int] | None = None,
    seed: int = 1,
) -> int:
    rng = random.Random(seed)
    start = start - timedelta(days=start.weekday())
    with engine.begin() as conn:
        products = {
            pid: (unit, us)
            for pid, unit, us in conn.execute(
                select(Product.id, Product.eenheid, Product.uursoort_id)
            )
        }
        q = (
            select(Legitimation.client_id, legitimation_product.c.product_id)
            .join(legitimation_product, legitimation_product.c.legitimation_id == Legitimation.id)
            .distinct()
        )
        if client_ids:
            q = q.where(Legitimation.client_id.between(*client_ids))
        per_client: dict[int, list[int]] = defaultdict(list)
        for cid, pid in conn.execute(q):
            if products[pid][0] in ("uur", "minuut"):
                per_client[cid].append(pid)
        # three clients per employee, each visit in its own 90-minute slot: nobody overlaps
        employees = _employees(conn, max(1, (len(per_client) + 2) // 3))
        next_id = (conn.scalar(select(func.max(Registration.id))) or 0) + 1
        now = datetime.now(UTC)
        slots = [time(7 + (k * 90) // 60, (k * 90) % 60) for k in range(3 * per_day)]
        days = [start + timedelta(days=w * 7 + d) for w in range(weeks) for d in range(5)]
        n_emp = len(employees)

        def rows():
            nonlocal next_id
            for idx, (cid, prods) in enumerate(sorted(per_client.items())):
                prods.sort()
                emp = employees[(idx // 3) % n_emp]
                mine = [slots[r * 3 + idx % 3] for r in range(per_day)]
                for day in days:
                    for st in mine:
                        pid = prods[rng.randrange(len(prods))]
                        yield (
                            next_id, cid, pid, products[pid][1], emp, day, st,
                            rng.randrange(15, 76, 5), None, None, status, None, "import",
                            None, "[]", None, None, now, now,
                        )  # fmt: skip
                        next_id += 1

        n = _bulk(conn, Registration.__table__, REG_COLUMNS, rows())
        _fix_sequence(conn, Registration.__table__)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE registration"))
    return n
