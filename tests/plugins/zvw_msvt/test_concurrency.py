"""Money counted once, by the database: two back-office users preparing the same insurer's month
at the same moment make one concept; sending it twice at once makes one AW319; moving a rejected
line to particulier twice at once moves it once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from portal.domain import Role
from portal.models import Declaration, ExportPart, Message
from portal.services import declarations
from tests.concurrency import parallel_calls, parallel_posts
from tests.plugins.zvw_msvt.conftest import MARCH
from tests.portal.invoices import builders as b


def test_parallel_prepare_and_submit_make_one_aw319(app, db, hooks, world):
    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=6)
    world.care(world.vp, [date(2025, 3, 10), date(2025, 3, 17)], 60)
    db.commit()
    fin_id = world.zv.id

    def prepare(_i):
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            try:
                fin = session.get(type(world.zv), fin_id)
                prepared = declarations.prepare(session, fin, MARCH, hooks=hooks, replace=False)
                session.commit()
                return prepared.declaration.id
            finally:
                session.close()

    results = parallel_calls(2, prepare)
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, declarations.DeclarationError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert "al een concept-declaratie" in str(refused[0])
    assert db.scalar(select(func.count(Declaration.id))) == 1
    doubles = db.scalar(
        select(func.count()).select_from(
            select(ExportPart.registration_id)
            .where(ExportPart.active.is_(True))
            .group_by(ExportPart.registration_id, ExportPart.legitimation_id)
            .having(func.count() > 1)
            .subquery()
        )
    )
    assert doubles == 0

    def submit(_i):
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            try:
                sent = declarations.submit(session, made[0], hooks)
                session.commit()
                return len(sent)
            finally:
                session.close()

    results = parallel_calls(2, submit)
    assert sorted(str(type(r).__name__) for r in results) == ["DeclarationError", "int"], results
    assert db.scalar(select(func.count(Message.id)).where(Message.code == "AW319")) == 1


def test_a_double_move_to_particulier_moves_once(app, db, hooks, make_user, world, answered):
    from portal.services.invoicing import create_run

    user = make_user(Role.BACKOFFICE)
    b.contract_line(db, world.private, world.vp, 6200, afronding_minuten=0)
    db.commit()
    (line,) = declarations.rejected_lines(db, "zvw_msvt")
    results = parallel_posts(
        app, user.email, 3, f"/declareren/vervolg/regels/{line.id}/particulier",
        {"aanmaken": "1", "next": "/f/zvw_msvt/"},
    )  # fmt: skip
    assert all(status == 200 for status, _ in results)
    assert sum("factuurrun factureert het" in page for _, page in results) == 1
    run = create_run(
        db, hooks, "particulier", date(2025, 3, 1), date(2025, 3, 31),
        today=date(2025, 4, 10), enqueue_render=False,
    )  # fmt: skip
    assert [inv.totaal_cents for inv in run.invoices] == [6200]
