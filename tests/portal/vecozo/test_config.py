"""Configuration: poll times become cron entries, berichtstromen are data, base URLs per
environment, and a message whose routing is not configured waits visibly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rq.cron import CronScheduler

from portal.jobs import queue_name, redis_connection
from portal.jobs.schedule import periodic_jobs
from portal.jobs.vecozo import next_poll_at, poll_crons
from portal.services.messages import create_outgoing
from portal.vecozo.berichtstromen import berichtstroom_for, code_for
from portal.vecozo.client import VecozoConfigError, base_url
from tests.portal.vecozo import proef


def test_poll_times_are_cron_entries_on_rqs_scheduler(app):
    saved = app.config["VECOZO_POLL_TIMES"]
    app.config["VECOZO_POLL_TIMES"] = ["06:30", "13:05"]
    try:
        assert poll_crons(app) == ["30 6 * * *", "5 13 * * *"]
        jobs = [j for j in periodic_jobs(app) if j["func"].startswith("portal.jobs.vecozo")]
        assert [j["cron"] for j in jobs] == ["30 6 * * *", "5 13 * * *", "* * * * *"]
        after = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).astimezone()
        upcoming = next_poll_at(app, after)
        assert upcoming > after and (upcoming.hour, upcoming.minute) in {(6, 30), (13, 5)}
        # the scheduler accepts them (the dotted paths are resolved to functions)
        import importlib

        with app.app_context():
            cron = CronScheduler(connection=redis_connection(app), name="test-cron")
            for job in periodic_jobs(app):
                module, _, name = job["func"].rpartition(".")
                cron.register(
                    getattr(importlib.import_module(module), name),
                    queue_name=queue_name(job["queue"], app),
                    args=job.get("args"),
                    cron=job.get("cron"),
                    interval=job.get("interval"),
                )
    finally:
        app.config["VECOZO_POLL_TIMES"] = saved


def test_a_wrong_poll_time_is_refused(app):
    saved = app.config["VECOZO_POLL_TIMES"]
    app.config["VECOZO_POLL_TIMES"] = ["25:00"]
    try:
        with pytest.raises(ValueError, match="ongeldige tijd"):
            poll_crons(app)
    finally:
        app.config["VECOZO_POLL_TIMES"] = saved


def test_berichtstromen_come_from_the_table_and_settings(app):
    assert berichtstroom_for("JW315") == {
        "berichttype": "JW",
        "berichtsubtype": "JW315",
        "berichtversie": 3,
        "berichtsubversie": 2,
        "actie": "VerzoekToewijzing",
    }
    assert berichtstroom_for("XYZ999") is None
    with app.app_context():
        app.config["VECOZO_BERICHTSTROMEN"] = {
            "XYZ999": {"berichttype": "X", "berichtversie": 1, "berichtsubversie": 0, "actie": "Y"}
        }
        try:
            assert berichtstroom_for("XYZ999")["berichttype"] == "X"
            assert code_for(berichtstroom_for("XYZ999")) == "XYZ999"
        finally:
            app.config["VECOZO_BERICHTSTROMEN"] = {}


def test_base_urls_per_environment():
    assert base_url({"VECOZO_ENVIRONMENT": "productie"}) == "https://api.vecozo.nl"
    assert base_url({"VECOZO_ENVIRONMENT": "acceptatie"}) == "https://tst-api.vecozo.nl/acc"
    assert base_url({"VECOZO_ENVIRONMENT": "test"}) == "https://tst-api.vecozo.nl/tst"
    assert base_url({"VECOZO_ENVIRONMENT": "standin"}) == "http://127.0.0.1:5001"
    assert base_url({"VECOZO_ENVIRONMENT": "x", "VECOZO_BASE_URL": "http://h:1"}) == "http://h:1"
    with pytest.raises(VecozoConfigError):
        base_url({"VECOZO_ENVIRONMENT": "elders"})


def test_production_without_certificate_waits_visibly(app, db, standin, run_jobs):
    app.config["VECOZO_BASE_URL"] = "https://api.vecozo.nl"  # never reached: no certificate
    with app.app_context():
        message = create_outgoing(db, proef.draft("CONF000001", 1), financing="wmo_jw")
        db.commit()
    run_jobs()
    db.refresh(message)
    assert message.status == "wachtrij" and message.needs_action
    assert "geen VECOZO-systeemcertificaat" in message.error
    assert message.next_check_at is not None  # tried again later by the status checker


def test_unconfigured_code_waits_visibly(app, db, standin, run_jobs):
    draft = proef.draft("CONF000002", 1)
    draft.code = "XYZ999"
    with app.app_context():
        message = create_outgoing(db, draft, financing="wmo_jw")
        db.commit()
    run_jobs()
    db.refresh(message)
    assert message.status == "wachtrij" and message.needs_action
    assert "geen VECOZO-berichtstroom ingesteld" in message.error
    assert standin.submitted() == {}
