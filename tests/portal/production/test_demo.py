"""The demo organisation has production to try: two months of care, older weeks approved."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from portal.demo import seed
from portal.models import ApprovalRun, Registration
from portal.services import approval, stacking


def test_demo_has_registrations_of_the_last_two_months(db, hooks):
    assert seed(db)
    db.commit()
    today = date.today()
    regs = db.query(Registration).filter(Registration.starttijd.is_not(None)).all()
    assert len(regs) > 100
    assert min(r.datum for r in regs) >= today - timedelta(weeks=9)
    assert max(r.datum for r in regs) < today
    assert {r.status for r in regs} == {"concept", "gefiatteerd"}
    run = (
        db.query(ApprovalRun)
        .filter(ApprovalRun.filters["demo"].as_string() == "registraties")
        .one()
    )
    assert run.periode_start.weekday() == 0 and run.periode_eind.weekday() == 6
    # no overlapping time for the demo employee, and the back office can approve last week
    by_day = {}
    for r in regs:
        by_day.setdefault((r.employee_id, r.datum), []).append(r)
    for day_regs in by_day.values():
        day_regs.sort(key=lambda r: r.starttijd)
        for a, b in pairwise(day_regs):
            assert a.eind_minuut <= b.starttijd.hour * 60 + b.starttijd.minute
    monday = today - timedelta(days=today.weekday() + 7)
    pv = approval.preview(db, approval.Filters(start=monday, end=monday + timedelta(days=6)), hooks)
    assert not pv.problems and pv.count > 0
    result = stacking.allocate(db, hooks=hooks, start=run.periode_start, end=run.periode_eind)
    assert {w.financing for w in result.week_totals} >= {"wlz"}
