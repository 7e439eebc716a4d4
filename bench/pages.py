"""Server time of the clients list and the client detail page with 100,000 clients.

Creates a fresh PostgreSQL database next to ``DATABASE_URL`` (which must point at PostgreSQL),
migrates it, fills it with ``bench.generate.generate_organisation`` and measures requests through
the real Flask app (its test client: the time is the server's own handling of the request,
including templates, queries and the audit-trail write of a detail view). The database is dropped
afterwards.

Measured, per page kind, after a warm-up:

* list, first page (``/clienten/``)
* list, search by surname (``?q=<surname>``, common and rare names, part of a name)
* list, filtered (team, financing of an active legitimation, inactive clients)
* list, a later page (``?pagina=N``)
* list, the htmx live-search fragment (a POST as the search box sends it)
* client detail (``/clienten/<id>``) for many different clients

Target: p95 under 100 ms for the list (the worst of the list kinds) and for the detail page.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python -m bench.pages
    ... python -m bench.pages --quick      # 10,000 clients, well under a minute
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, make_url, select, text

TARGET_MS = 100.0


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    resp = fn()
    ms = (time.perf_counter() - t0) * 1000
    if resp.status_code != 200:  # type: ignore[attr-defined]
        raise RuntimeError(f"request failed with {resp.status_code}")  # type: ignore[attr-defined]
    return ms


def run(base_url: str, n_clients: int, samples: int, seed: int) -> dict[str, list[float]]:
    from bench.generate import COMMON_LAST, TEAMS, generate_organisation
    from portal.app import create_app
    from portal.db import make_engine
    from portal.migrate import upgrade

    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        t0 = time.perf_counter()
        upgrade(url)
        engine = make_engine(url)
        info = generate_organisation(engine, n_clients, seed)
        engine.dispose()
        print(
            f"generated {info['n_clients']} clients, {info['n_legitimations']} legitimations "
            f"in {info['seconds']} s (with migrations {time.perf_counter() - t0:.1f} s)"
        )
        app = create_app(
            {
                "DATABASE_URL": url,
                "REDIS_URL": os.environ.get("REDIS_URL"),
                "SECRET_KEY": "bench",
                "SESSION_COOKIE_SECURE": False,
                "WTF_CSRF_ENABLED": False,  # only this benchmark's own requests
                "LOAD_ENTRYPOINT_PLUGINS": False,
            }
        )
        return _measure(app, info, samples, seed, COMMON_LAST, TEAMS)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _measure(app, info, samples: int, seed: int, common_last, teams) -> dict[str, list[float]]:
    from portal.models import Client
    from portal.services.users import create_user

    rng = random.Random(seed)
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        create_user(
            session, email="bench@example.nl", naam="Bench", role="backoffice",
            password="bench-wachtwoord-2026",
        )  # fmt: skip
        session.commit()
        surnames = [last for _tv, last in common_last]
        rare = list(session.scalars(select(Client.achternaam).distinct().limit(400)))
        session.close()
    client = app.test_client()
    resp = client.post(
        "/login", data={"email": "bench@example.nl", "password": "bench-wachtwoord-2026"}
    )
    if resp.status_code != 302:
        raise RuntimeError("log-in for the benchmark failed")

    first, last = info["client_ids"]
    pages = max(1, (last - first + 1) // 25)
    kinds: dict[str, Callable[[], object]] = {
        "list_first_page": lambda: client.get("/clienten/"),
        "list_search_surname": lambda: client.get(
            "/clienten/", query_string={"q": rng.choice(surnames + rare)}
        ),
        "list_search_part": lambda: client.get(
            "/clienten/", query_string={"q": rng.choice(surnames)[:4].lower()}
        ),
        "list_filtered": lambda: client.get(
            "/clienten/",
            query_string=rng.choice(
                [
                    {"team": rng.choice(teams)},
                    {"financiering": rng.choice(["wlz", "pgb", "wmo_jw", "fz", "zvw_msvt"])},
                    {"status": "inactief"},
                    {"team": rng.choice(teams), "financiering": "particulier"},
                ]
            ),
        ),
        "list_later_page": lambda: client.get(
            "/clienten/", query_string={"pagina": rng.randint(2, min(pages, 2000))}
        ),
        "list_live_search_fragment": lambda: client.post(
            "/clienten/",
            data={"q": rng.choice(surnames)},
            headers={"HX-Request": "true"},
        ),
        "client_detail": lambda: client.get(f"/clienten/{rng.randint(first, last)}"),
    }
    for fn in kinds.values():  # warm-up: templates compiled, connections pooled, caches warm
        for _ in range(5):
            _timed(fn)
    results: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(samples):
        for kind, fn in kinds.items():
            results[kind].append(_timed(fn))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Clients list and detail: server time")
    parser.add_argument("--quick", action="store_true", help="10,000 clients, fewer samples")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--samples", type=int, default=None, help="requests per page kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        print("DATABASE_URL must point at PostgreSQL (a fresh database is made next to it)")
        return 2
    n = args.clients or (10_000 if args.quick else 100_000)
    samples = args.samples or (60 if args.quick else 200)
    results = run(base, n, samples, args.seed)

    print(f"\n{n} clients, {samples} requests per kind (ms)")
    print(f"{'page':28} {'p50':>8} {'p95':>8} {'max':>8}")
    for kind, ms in results.items():
        print(f"{kind:28} {statistics.median(ms):8.1f} {percentile(ms, 95):8.1f} {max(ms):8.1f}")
    list_kinds = [k for k in results if k.startswith("list_")]
    list_all = [v for k in list_kinds for v in results[k]]
    list_p95 = max(percentile(results[k], 95) for k in list_kinds)  # the worst list kind
    detail = results["client_detail"]
    print(f"RESULT clients_list_p50 {statistics.median(list_all):.1f} ms target {TARGET_MS:.0f}")
    print(f"RESULT clients_list_p95 {list_p95:.1f} ms target {TARGET_MS:.0f}")
    print(f"RESULT client_detail_p50 {statistics.median(detail):.1f} ms target {TARGET_MS:.0f}")
    print(f"RESULT client_detail_p95 {percentile(detail, 95):.1f} ms target {TARGET_MS:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
