"""Fault switches on the stand-in: every message arrives exactly once, every retour is stored
exactly once, and nothing is left without a visible status."""

from __future__ import annotations

import time

from sqlalchemy import func, select, update

from portal.models import Message, PollRun
from portal.models._base import utcnow
from portal.services.messages import create_outgoing
from tests.portal.vecozo import proef


def _send(app, db, run_jobs, n: int = 1, start: int = 0) -> list[Message]:
    with app.app_context():
        messages = [
            create_outgoing(db, proef.draft(f"F{start + i:09d}", 100 + i), financing="wmo_jw")
            for i in range(n)
        ]
        db.commit()
    run_jobs()
    for m in messages:
        db.refresh(m)
    return messages


def _check(app, db, rounds: int = 1) -> None:
    from portal.jobs.vecozo import check_outstanding

    for _ in range(rounds):
        db.execute(
            update(Message).where(Message.next_check_at.is_not(None)).values(next_check_at=utcnow())
        )
        db.commit()
        with app.app_context():
            check_outstanding(app, db)


def _settle(app, db, standin, run_jobs, rounds: int = 4) -> None:
    """What the scheduler would do over the next minutes: checks, re-sends, more checks."""
    for _ in range(rounds):
        _check(app, db)
        run_jobs()
        standin.forward()


def _assert_clean(db, standin, messages) -> None:
    db.expire_all()
    counts = standin.submitted()
    for m in messages:
        db.refresh(m)
        assert counts.get(m.traceer_id) == 1, (m.status, [e.text for e in m.events])
        assert m.status in ("verzonden", "bezorgd", "beantwoord"), m.status
    assert standin.store.counters().get("dubbel_ingediend", 0) == 0


def test_server_errors_on_submit(app, db, standin, run_jobs):
    standin.fault("push_500", aantal=2)
    messages = _send(app, db, run_jobs, 3)
    assert sorted(m.status for m in messages).count("onzeker") == 2
    _settle(app, db, standin, run_jobs)
    _assert_clean(db, standin, messages)
    retried = [m for m in messages if m.send_attempts == 2]
    assert len(retried) == 2
    assert any("nooit aangekomen" in (e.text or "") for e in retried[0].events)


def test_timeout_on_submit_is_resolved_by_status_not_resend(app, db, standin, run_jobs):
    app.config["VECOZO_RESEND_GRACE_SECONDS"] = 5
    try:
        standin.fault("push_timeout", aantal=1, seconden=2.5)  # accepts after the client gave up
        (message,) = _send(app, db, run_jobs, 1)
        assert message.status == "onzeker"
        time.sleep(1.5)  # the stand-in finishes accepting it
        _settle(app, db, standin, run_jobs)
    finally:
        app.config["VECOZO_RESEND_GRACE_SECONDS"] = 0
    _assert_clean(db, standin, [message])
    assert message.send_attempts == 1
    assert any("wel ontvangen" in (e.text or "") for e in message.events)


def test_connection_dropped_after_accept(app, db, standin, run_jobs):
    standin.fault("push_verbreken", aantal=1)
    (message,) = _send(app, db, run_jobs, 1)
    assert message.status == "onzeker"
    _settle(app, db, standin, run_jobs)
    _assert_clean(db, standin, [message])
    assert message.send_attempts == 1


def test_status_api_errors_are_retried_later(app, db, standin, run_jobs):
    messages = _send(app, db, run_jobs, 2)
    standin.forward()
    standin.fault("status_500", aantal=2)
    _check(app, db)
    for m in messages:
        db.refresh(m)
        assert m.status == "verzonden" and m.next_check_at is not None
    _check(app, db)
    for m in messages:
        db.refresh(m)
        assert m.status == "bezorgd"


def test_slow_answers_still_work(app, db, standin, run_jobs):
    standin.fault("traag", aantal=-1, seconden=0.2)
    messages = _send(app, db, run_jobs, 2)
    standin.store.set_fault("traag", 0)
    _settle(app, db, standin, run_jobs, rounds=2)
    _assert_clean(db, standin, messages)


def test_duplicate_delivery_is_stored_once(app, db, standin, run_jobs):
    from portal.jobs.vecozo import poll_once

    messages = _send(app, db, run_jobs, 5)
    standin.forward()  # five retours wait in the provider's mailbox
    standin.fault("dubbel", aantal=-1)
    with app.app_context():
        result = poll_once(app, db, trigger="handmatig")
    standin.store.set_fault("dubbel", 0)
    assert result["opgehaald"] == 5
    assert result["dubbel"] >= 5  # each was offered again (in the list and after its ack)
    n = db.scalar(select(func.count()).where(Message.direction == "in"))
    assert n == 5
    assert standin.ready() == 0
    for m in messages:
        db.refresh(m)
        assert m.status == "beantwoord"


def test_pull_errors_fail_the_run_visibly_and_the_next_run_recovers(app, db, standin, run_jobs):
    import pytest

    from portal.jobs.vecozo import poll_once
    from portal.vecozo.client import VecozoUnavailable

    _send(app, db, run_jobs, 3)
    standin.forward()
    standin.fault("pull_500", aantal=1)
    with app.app_context(), pytest.raises(VecozoUnavailable):
        poll_once(app, db, trigger="gepland")
    run = db.scalar(select(PollRun))
    assert run.status == "mislukt" and "serverfout" in run.error
    standin.fault("pull_timeout", aantal=1, seconden=2.5)
    with app.app_context(), pytest.raises(VecozoUnavailable):
        poll_once(app, db, trigger="gepland")
    with app.app_context():
        result = poll_once(app, db, trigger="gepland")
    assert result["opgehaald"] == 3
    assert db.scalar(select(func.count()).where(Message.direction == "in")) == 3


def test_corrupt_download_is_not_acknowledged(app, db, standin):
    from portal.jobs.vecozo import poll_once

    tid = standin.place(postbus="12345678", afzender_code="0363", code="WMO301", payload="<x/>")
    with standin.store.write() as conn:  # the announced checksum no longer matches
        conn.execute("UPDATE bericht SET sha256 = ? WHERE traceer_id = ?", ("0" * 64, tid))
    with app.app_context():
        result = poll_once(app, db, trigger="handmatig")
    assert result["opgehaald"] == 0 and result["mislukt"] == 1
    assert db.scalar(select(func.count()).select_from(Message)) == 0
    assert standin.ready() == 1  # still at VECOZO, fetched again next time
    run = db.scalar(select(PollRun))
    assert "SHA-256" in run.error


def test_gives_up_visibly_after_repeated_failures(app, db, standin, run_jobs):
    standin.fault("push_500", aantal=-1)
    (message,) = _send(app, db, run_jobs, 1)
    _settle(app, db, standin, run_jobs, rounds=6)
    standin.store.set_fault("push_500", 0)
    db.refresh(message)
    assert message.status == "mislukt" and message.needs_action, [
        (e.status, e.text) for e in message.events
    ]
    assert standin.submitted() == {}


def test_two_pollers_share_a_backlog_without_doubles(app, db, standin):
    import threading

    from portal.jobs.vecozo import poll_once

    placed = {
        standin.place(
            postbus="12345678", afzender_code="0363", code="WMO301", payload=f"<a n='{i}'/>"
        )
        for i in range(12)
    }
    app.config["VECOZO_PULL_LIMIT"] = 5
    errors = []

    def run(i: int) -> None:
        with app.app_context():
            s = app.extensions["db_sessionmaker"]()
            try:
                poll_once(app, s, trigger="handmatig", shard=(i, 2))
            except Exception as exc:  # pragma: no cover - shown in the assert below
                errors.append(exc)
            finally:
                s.close()

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        app.config["VECOZO_PULL_LIMIT"] = 250
    assert not errors
    ids = db.scalars(select(Message.traceer_id)).all()
    assert sorted(ids) == sorted(placed)
    assert standin.ready() == 0
