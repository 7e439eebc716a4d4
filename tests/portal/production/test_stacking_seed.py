"""The seed's examples (seeds/gestapeld-financieren.txt, DESIGN §6) end to end on the database."""

from __future__ import annotations

from datetime import date, time

import pytest

from portal.services import stacking
from tests.portal.production.factory import organisation, registration, seed_client


@pytest.fixture
def employee(make_user):
    return make_user("zorgprofessional")


def _split(result, client_id):
    out = {}
    for w in result.week_totals:
        if w.client_id == client_id:
            out[w.financing] = out.get(w.financing, 0) + w.minutes
    nc = sum(w.minutes for w in result.not_covered if w.client_id == client_id)
    return out, nc


def test_two_hours_wlz_two_hours_private(db, employee, hooks):
    org = organisation(db)
    client, _wlz, _prive = seed_client(db, org)
    for day, start in ((date(2019, 1, 7), time(9)), (date(2019, 1, 9), time(9))):
        registration(db, client, org.pv, employee.id, day, 120, start=start)
    db.commit()
    result = stacking.allocate(db, hooks=hooks, start=date(2019, 1, 7), end=date(2019, 1, 13))
    assert _split(result, client.id) == ({"wlz": 120, "particulier": 120}, 0)
    # chronological: Monday fills Wlz, Wednesday goes to particulier
    by_reg = [(a.day, a.financing, a.minutes) for a in result.allocations]
    assert by_reg == [
        (date(2019, 1, 7), "wlz", 120),
        (date(2019, 1, 9), "particulier", 120),
    ]


def test_beyond_every_legitimation_is_niet_gedekt(db, employee, hooks):
    org = organisation(db)
    client, _wlz, _prive = seed_client(db, org)
    registration(db, client, org.pv, employee.id, date(2019, 1, 7), 300)
    db.commit()
    result = stacking.allocate(db, hooks=hooks, start=date(2019, 1, 7), end=date(2019, 1, 7))
    assert _split(result, client.id) == ({"wlz": 120, "particulier": 120}, 60)
    assert [(w.week_start, w.minutes) for w in result.not_covered] == [(date(2019, 1, 7), 60)]


def test_rounding_of_the_top_financing_applies_to_the_whole_stack(db, employee, hooks):
    # Wlz rounds to 0 minutes, the private contract to 30: a 4-hour week is 2:00 + 2:00
    org = organisation(db, wlz_round=0, prive_round=30)
    client, _wlz, _prive = seed_client(db, org)
    for d in (7, 8, 9, 10):
        registration(db, client, org.pv, employee.id, date(2019, 1, d), 60)
    db.commit()
    result = stacking.allocate(db, hooks=hooks, start=date(2019, 1, 7), end=date(2019, 1, 13))
    assert _split(result, client.id) == ({"wlz": 120, "particulier": 120}, 0)


def test_rounding_uses_top_rule_not_the_lower_one(db, employee, hooks):
    # Wlz rounds up to 30 minutes: 2:10 delivered is 2:00 Wlz + 0:30 private (0:10 rounded up
    # with Wlz's rule); with the private rule of 0 it would be 0:10.
    org = organisation(db, wlz_round=30, prive_round=0)
    client, _wlz, _prive = seed_client(db, org)
    registration(db, client, org.pv, employee.id, date(2019, 1, 7), 130)
    db.commit()
    result = stacking.allocate(db, hooks=hooks, start=date(2019, 1, 7), end=date(2019, 1, 13))
    assert _split(result, client.id) == ({"wlz": 120, "particulier": 30}, 0)


@pytest.mark.parametrize("order", ["january_first", "february_first"])
def test_week_5_across_the_month_boundary(db, employee, order, hooks):
    org = organisation(db)
    client, _wlz, _prive = seed_client(db, org)
    registration(db, client, org.pv, employee.id, date(2019, 1, 29), 120)  # Tuesday week 5
    registration(db, client, org.pv, employee.id, date(2019, 2, 2), 120)  # Saturday week 5
    db.commit()
    months = [(date(2019, 1, 1), date(2019, 1, 31)), (date(2019, 2, 1), date(2019, 2, 28))]
    if order == "february_first":
        months.reverse()
    exported = {"wlz": 0, "particulier": 0}
    for start, end in months:
        for financing in ("wlz", "particulier"):
            plan = stacking.export_plan(db, hooks=hooks, financing=financing, start=start, end=end)
            assert not plan.changed
            exported[financing] += sum(w.minutes for w in plan.new)
            stacking.record_export(db, "test", financing, plan.new, reference=order)
            db.commit()
    assert exported == {"wlz": 120, "particulier": 120}


def test_a_week_is_never_recorded_twice(db, employee, hooks):
    org = organisation(db)
    client, _wlz, _prive = seed_client(db, org)
    registration(db, client, org.pv, employee.id, date(2019, 1, 29), 120)
    db.commit()
    plan = stacking.export_plan(
        db, hooks=hooks, financing="wlz", start=date(2019, 1, 1), end=date(2019, 1, 31)
    )
    stacking.record_export(db, "AW319", "wlz", plan.new)
    db.commit()
    with pytest.raises(stacking.WeekAlreadyExported):
        stacking.record_export(db, "AW319", "wlz", plan.new)
    db.rollback()
    again = stacking.export_plan(
        db, hooks=hooks, financing="wlz", start=date(2019, 2, 1), end=date(2019, 2, 28)
    )
    assert again.new == [] and len(again.unchanged) == 1


def test_partly_exported_week_is_recomputed_whole(db, employee, hooks):
    """Without whole-week approval a later registration changes an exported week: it is offered
    as 'changed' (the whole recomputed week), never as a second independent week."""
    org = organisation(db)
    client, _wlz, _prive = seed_client(db, org)
    registration(db, client, org.pv, employee.id, date(2019, 1, 29), 120)
    db.commit()
    plan = stacking.export_plan(
        db, hooks=hooks, financing="wlz", start=date(2019, 1, 1), end=date(2019, 1, 31)
    )
    stacking.record_export(db, "AW319", "wlz", plan.new)
    registration(db, client, org.pv, employee.id, date(2019, 2, 2), 120)
    db.commit()
    wlz = stacking.export_plan(
        db, hooks=hooks, financing="wlz", start=date(2019, 2, 1), end=date(2019, 2, 28)
    )
    assert wlz.new == [] and wlz.changed == [] and len(wlz.unchanged) == 1
    prive = stacking.export_plan(
        db, hooks=hooks, financing="particulier", start=date(2019, 2, 1), end=date(2019, 2, 28)
    )
    assert [w.minutes for w in prive.new] == [120]
