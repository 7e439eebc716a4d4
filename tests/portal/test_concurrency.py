"""Issue 15: money is counted once, whatever arrives at the same moment.

Many parallel requests (threads, each with its own test client and so its own database session)
for one export: exactly one wins, the others get a clear Dutch message, and nothing is exported
twice. The guarantee is the database's — the unique indexes on what is exported (export parts,
stacked weeks, the invoice's debtor and period) and row locks — not a check before the insert.

On PostgreSQL these requests really run at once. On SQLite the same tests run: SQLite lets one
writer in at a time (its database write lock), so the requests queue there, and the losers are
refused by the same unique indexes after the winner committed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.domain import Role
from portal.models import ExportPart, Invoice, InvoiceRun, StackExportWeek
from portal.services import stacking
from tests.concurrency import parallel_calls, parallel_posts
from tests.portal.invoices import builders as b
from tests.portal.production.factory import organisation, registration, seed_client

N = 10


def test_parallel_facturen_aanmaken_invoices_a_debtor_once(app, db, make_user):
    s = b.pgb_scenario(db)
    user = make_user(Role.BACKOFFICE)
    results = parallel_posts(
        app,
        user.email,
        N,
        "/facturen/nieuw",
        {"financing": "pgb", "periode": "2025-10", "action": "aanmaken"},
    )
    assert all(status == 200 for status, _page in results)
    made = [page for _s, page in results if "facturen aangemaakt" in page]
    refused = [
        page
        for _s, page in results
        if "zojuist al aangemaakt" in page or "niets (meer) te factureren" in page
    ]
    assert len(made) == 1 and len(refused) == N - 1
    assert db.scalar(select(func.count(InvoiceRun.id))) == 1
    (invoice,) = db.scalars(select(Invoice)).all()
    assert invoice.client_id == s["client"].id
    # every invoiced registration is counted once
    parts = db.execute(select(ExportPart.registration_id).where(ExportPart.active.is_(True)))
    ids = [r for (r,) in parts]
    assert len(ids) == len(s["days"]) == len(set(ids))


def test_parallel_stacked_exports_count_a_week_once(app, make_user, hooks):
    """The stacking service's export record: several exports of the same weeks at once (each in
    its own session): one records them, the others are refused with a Dutch message."""
    maker = app.extensions["db_sessionmaker"]
    employee = make_user("zorgprofessional")
    with app.app_context(), maker() as session:
        org = organisation(session)
        client, _wlz, _prive = seed_client(session, org)
        for d in (28, 29, 30, 31):
            registration(session, client, org.pv, employee.id, date(2019, 1, d), 60)
        session.commit()

    def export(i: int) -> str:
        with app.app_context(), maker() as session:
            plan = stacking.export_plan(
                session, hooks=hooks, financing="wlz", start=date(2019, 1, 1), end=date(2019, 1, 31)
            )
            if not plan.new:  # an export that started after the winner committed
                return "niets nieuw"
            try:
                stacking.record_export(session, "AW319", "wlz", plan.new, reference=f"run {i}")
                session.commit()
                return "ok"
            except stacking.WeekAlreadyExported as exc:
                session.rollback()
                return str(exc)

    results = parallel_calls(N, export)
    assert results.count("ok") == 1, results
    refused = [r for r in results if r not in ("ok", "niets nieuw")]
    assert all(isinstance(r, str) and "nooit twee keer" in r for r in refused), refused
    assert refused, "no export ran at the same moment as the winner"
    with app.app_context(), maker() as session:
        weeks = session.scalars(
            select(StackExportWeek.week_start).where(StackExportWeek.active.is_(True))
        ).all()
    assert weeks == [date(2019, 1, 28)]
