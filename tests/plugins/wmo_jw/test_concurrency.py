"""Issue 15: parallel "Voorbereiden" for one financier and month makes one concept, never two
concepts holding the same care (which could both be sent). Guarded by the database: a row lock on
the financier serialises the runs, and the export parts' unique index refuses a registration part
that another run exported at the same moment.

Runs on PostgreSQL (row locks, many sessions at once) and on SQLite, where the same requests queue
on SQLite's single write lock (``lock_row`` takes it first)."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import func, select

from portal.domain import Role
from portal.models import Declaration, DeclarationLine, ExportPart
from portal.models.registration import Registration
from tests.concurrency import parallel_posts

N = 8


def test_parallel_voorbereiden_makes_one_concept(app, db, setup, make_user):
    user = make_user(Role.BACKOFFICE)
    worker = make_user(Role.ZORGPROFESSIONAL)
    for nr in ("5001", "5002"):
        for day in (5, 6, 7):
            db.add(
                Registration(
                    client_id=setup["legs"][nr].client_id,
                    product_id=setup["product"].id,
                    employee_id=worker.id,
                    datum=date(2026, 10, day),
                    starttijd=time(9),
                    duur_minuten=60,
                    status="gefiatteerd",
                )
            )
    db.commit()
    results = parallel_posts(
        app,
        user.email,
        N,
        "/declareren/voorbereiden",
        {"financier_id": setup["fin"].id, "maand": "2026-10"},
    )
    assert all(status == 200 for status, _page in results)
    refused = [page for _s, page in results if "staat al een concept-declaratie klaar" in page]
    assert len(refused) == N - 1  # exactly one request made the concept
    (decl,) = db.scalars(select(Declaration)).all()
    # every request ends on that one concept (the refused ones are sent there)
    assert all(f"/declareren/{decl.id}/indienen" in page for _s, page in results)
    # six registrations, each in exactly one line, each exported once
    assert db.scalar(select(func.count(DeclarationLine.id))) == 2
    parts = db.execute(select(ExportPart.registration_id, ExportPart.active)).all()
    assert len(parts) == 6 and len({r for r, _a in parts}) == 6 and all(a for _r, a in parts)
