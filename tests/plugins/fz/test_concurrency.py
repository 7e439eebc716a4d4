"""A double click (or eight browsers at once) on "Aanvang zorg melden" sends one FZ823: the
placement's row is locked and its stand moves on in the same transaction."""

from __future__ import annotations

from sqlalchemy import func, select

from plugins.fz import placements
from portal.domain import Role
from portal.models import Legitimation, Message
from tests.concurrency import parallel_posts
from tests.plugins.fz.conftest import place

N = 8


def test_parallel_start_reports_send_one_fz823(app, db, hooks, dji_settings, master, make_user):
    leg = place(db, hooks, dji_settings)
    user = make_user(Role.BACKOFFICE)
    results = parallel_posts(
        app, user.email, N, f"/f/fz/plaatsingen/{leg.id}/aanvang", {"datum": "2026-01-05"}
    )
    assert all(status == 200 for status, _page in results)
    sent = [page for _s, page in results if "is verstuurd naar DJI" in page]
    refused = [page for _s, page in results if "al gemeld" in page]
    assert (len(sent), len(refused)) == (1, N - 1)
    db.expire_all()
    assert db.scalar(select(func.count(Message.id)).where(Message.code == "FZ823")) == 1
    assert db.get(Legitimation, leg.id).keten_stand == placements.AANVANG_VERZONDEN
