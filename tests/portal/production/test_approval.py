"""Fiatteren: preview warnings, approve/freeze, withdraw, credit, the whole-week rule."""

from __future__ import annotations

from datetime import date

import pytest

from portal.models import ApprovalRun, AuditEvent, Registration, StackRule
from portal.services import approval, stacking
from tests.portal.production.factory import new_client, organisation, registration, seed_client


@pytest.fixture
def employee(make_user):
    return make_user("zorgprofessional")


@pytest.fixture
def office(make_user):
    return make_user("backoffice")


def F(start, end, **kw):
    return approval.Filters(start=start, end=end, **kw)


def test_week_5_partial_period_refused_with_explanation(db, employee, office, hooks):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)  # creates a stack rule: stacking active
    registration(db, client, org.pv, employee.id, date(2019, 1, 29), 120, status="concept")
    db.commit()
    with pytest.raises(approval.ApprovalError) as exc:
        approval.approve(db, F(date(2019, 1, 28), date(2019, 1, 31)), hooks, user_id=office.id)
    msg = str(exc.value)
    assert "Gestapeld financieren staat aan" in msg
    assert "donderdag 31-01-2019" in msg and "zondag 03-02-2019" in msg
    assert db.query(ApprovalRun).count() == 0
    assert db.query(Registration).filter_by(status="gefiatteerd").count() == 0
    # the whole week is fine
    run = approval.approve(db, F(date(2019, 1, 28), date(2019, 2, 3)), hooks, user_id=office.id)
    assert run.aantal == 1


def test_without_stacking_any_period_is_allowed(db, employee, office, hooks):
    org = organisation(db)
    client, _w, _p = seed_client(db, org, stack=False)
    assert db.query(StackRule).count() == 0
    registration(db, client, org.pv, employee.id, date(2019, 1, 29), 60, status="concept")
    db.commit()
    run = approval.approve(db, F(date(2019, 1, 1), date(2019, 1, 31)), hooks, user_id=office.id)
    assert run.aantal == 1


def test_preview_shows_every_warning(db, employee, office, make_user, hooks):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    nobody = new_client(db, achternaam="Zonder")
    colleague = make_user("zorgprofessional")
    r_ok = registration(db, client, org.pv, employee.id, date(2019, 1, 28), 120, status="concept")
    r_over = registration(db, client, org.pv, employee.id, date(2019, 1, 29), 180, status="concept")
    r_none = registration(db, nobody, org.pv, employee.id, date(2019, 1, 30), 60, status="concept")
    from datetime import time

    r_dup = registration(
        db, client, org.pv, colleague.id, date(2019, 1, 28), 30, start=time(9, 30), status="concept"
    )
    db.commit()
    pv = approval.preview(db, F(date(2019, 1, 28), date(2019, 2, 3)), hooks)
    by_id = {ln.registration_id: ln for ln in pv.lines}
    assert any("niet gedekt" in w and "1:30" in w for w in by_id[r_over.id].warnings)
    assert any("geen" in w.lower() and "legitimatie" in w for w in by_id[r_none.id].warnings)
    assert any("Overlapt" in w for w in by_id[r_dup.id].warnings)
    assert any("Overlapt" in w for w in by_id[r_ok.id].warnings)
    assert pv.count == 4


def test_approve_freezes_and_double_click_is_harmless(db, employee, office, hooks):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    reg = registration(db, client, org.pv, employee.id, date(2019, 1, 29), 60, status="concept")
    db.commit()
    f = F(date(2019, 1, 28), date(2019, 2, 3))
    run1 = approval.approve(db, f, hooks, user_id=office.id, token="abc")
    run2 = approval.approve(db, f, hooks, user_id=office.id, token="abc")
    assert run1.id == run2.id and db.query(ApprovalRun).count() == 1
    db.expire_all()
    assert db.get(Registration, reg.id).status == "gefiatteerd"
    with pytest.raises(approval.ApprovalError, match="geen registraties"):
        approval.approve(db, f, hooks, user_id=office.id, token="other")
    assert db.query(AuditEvent).filter_by(action="approval.approved").count() == 1


def test_withdraw_until_exported_then_only_credit(db, employee, office, hooks):
    org = organisation(db)
    client, _w, _p = seed_client(db, org)
    reg = registration(db, client, org.pv, employee.id, date(2019, 1, 29), 60, status="concept")
    db.commit()
    f = F(date(2019, 1, 28), date(2019, 2, 3))
    run = approval.approve(db, f, hooks, user_id=office.id)
    approval.withdraw(db, run.id, user_id=office.id)
    assert db.get(Registration, reg.id).status == "concept"
    assert db.get(ApprovalRun, run.id).withdrawn
    run = approval.approve(db, f, hooks, user_id=office.id)
    plan = stacking.export_plan(db, hooks=hooks, financing="wlz", start=f.start, end=f.end)
    stacking.record_export(db, "AW319", "wlz", plan.new)
    db.commit()
    with pytest.raises(approval.ApprovalError, match="creditregel"):
        approval.withdraw(db, run.id, user_id=office.id)
    credit = approval.credit(db, reg.id, user_id=office.id, reden="Verkeerde cliënt")
    db.expire_all()
    assert credit.duur_minuten == -60 and credit.credit_of_id == reg.id
    assert db.get(Registration, reg.id).status == "gecrediteerd"
    # the exported week is now offered as changed: 60 minutes exported, 0 now
    again = stacking.export_plan(db, hooks=hooks, financing="wlz", start=f.start, end=f.end)
    assert again.new == [] and again.unchanged == []
    assert [(w.minutes, before) for w, before in again.changed] == [(0, 60)]
    assert db.query(AuditEvent).filter_by(action="registration.credited").count() == 1
