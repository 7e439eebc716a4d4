"""A message goes out, VECOZO's statuses come back, the financier's answer is fetched and parsed."""

from __future__ import annotations

from sqlalchemy import select, update

from portal.models import Message, PollRun
from portal.models._base import utcnow
from portal.services.messages import create_outgoing
from tests.portal.vecozo import proef


def _due_now(db) -> None:
    db.execute(
        update(Message).where(Message.next_check_at.is_not(None)).values(next_check_at=utcnow())
    )
    db.commit()


def test_send_status_answer_roundtrip(app, db, standin, run_jobs):
    from portal.jobs.vecozo import check_outstanding, poll_once

    message = create_outgoing(db, proef.draft("REF0000001", 1234), financing="wmo_jw")
    assert message.traceer_id and message.conversatie_id
    assert standin.submitted() == {}  # nothing leaves before the row is committed
    db.commit()
    run_jobs()

    db.refresh(message)
    assert message.status == "verzonden"
    assert standin.submitted() == {message.traceer_id: 1}
    stored = standin.store.get(message.traceer_id)
    assert bytes(stored["payload"]) == message.payload
    meta_stroom = stored["berichtstroom"]
    assert '"berichttype": "Test"' in meta_stroom

    standin.forward()  # chain check passes, the simulated financier fetches and answers
    _due_now(db)
    with app.app_context():
        check_outstanding(app, db)
    db.refresh(message)
    assert message.vecozo_status == "Bezorgd"
    assert message.status == "bezorgd"
    seen = [e.vecozo_status for e in message.events if e.vecozo_status]
    assert seen[0] == "Ontvangen" and seen[-1] == "Bezorgd"

    with app.app_context():
        result = poll_once(app, db, trigger="handmatig")
    assert result["opgehaald"] == 1
    answer = db.scalar(select(Message).where(Message.direction == "in"))
    assert answer.als_antwoord_op == message.traceer_id
    assert answer.answers_id == message.id
    assert answer.status == "verwerkt"
    assert answer.summary == "Retour op REF0000001: Goedgekeurd"
    assert answer.acknowledged_at is not None
    assert answer.financing == "wmo_jw"
    db.refresh(message)
    assert message.status == "beantwoord"
    assert standin.ready() == 0  # acknowledged: gone from the mailbox
    run = db.scalar(select(PollRun))
    assert (run.status, run.stored, run.acknowledged) == ("klaar", 1, 1)


def test_retourcode_needs_action_and_is_explained(app, db, standin, run_jobs):
    from portal.jobs.vecozo import poll_once

    message = create_outgoing(db, proef.draft("REF0000002", 0), financing="wmo_jw")
    db.commit()
    run_jobs()
    standin.forward()
    with app.app_context():
        poll_once(app, db, trigger="handmatig")
    answer = db.scalar(select(Message).where(Message.direction == "in"))
    assert answer.needs_action is True
    assert answer.issues[0]["code"] == "8001"
    assert "Bedrag is nul" in answer.issues[0]["message"]
    db.refresh(message)
    assert message.needs_action is True


def test_chain_check_rejection_shows_meldingen(app, db, standin, run_jobs):
    from portal.jobs.vecozo import check_outstanding

    draft = proef.draft("REF0000003", 5)
    draft.payload = b"H" + b"X" * 5 + b"\r\nkort\r\n"  # records of different lengths
    message = create_outgoing(db, draft, financing="wmo_jw")
    db.commit()
    run_jobs()
    standin.forward()
    _due_now(db)
    with app.app_context():
        check_outstanding(app, db)
    db.refresh(message)
    assert message.status == "afgekeurd"
    assert message.vecozo_status == "AfgekeurdDoorDienst"
    assert message.needs_action
    assert message.meldingen[0]["code"] == "KC03"
    assert message.next_check_at is None


def test_receipt_check_422_is_not_resent(app, db, standin, run_jobs):
    draft = proef.draft("REF0000004", 5)
    draft.afzender = ("Instelling", "00000000")  # unknown at VECOZO: BRS01
    message = create_outgoing(db, draft, financing="wmo_jw")
    db.commit()
    run_jobs()
    db.refresh(message)
    assert message.status == "afgekeurd"
    assert any("BRS01" in m["omschrijving"] for m in message.meldingen)
    assert standin.submitted() == {}


def test_unknown_inbound_message_is_kept_as_onbekend(app, db, standin):
    from portal.jobs.vecozo import poll_once

    standin.place(postbus="12345678", afzender_code="0363", code="WMO301", payload="<onbekend/>")
    with app.app_context():
        poll_once(app, db, trigger="handmatig")
    message = db.scalar(select(Message))
    assert message.status == "onbekend" and message.needs_action
    assert message.payload == b"<onbekend/>"
    assert standin.ready() == 0


def test_parse_failure_keeps_the_message(app, db, standin, proef_plugin, run_jobs):
    from portal.jobs.vecozo import poll_once

    proef_plugin.fail_on.add("REF0000005")
    create_outgoing(db, proef.draft("REF0000005", 5), financing="wmo_jw")
    db.commit()
    run_jobs()
    standin.forward()
    with app.app_context():
        poll_once(app, db, trigger="handmatig")
    answer = db.scalar(select(Message).where(Message.direction == "in"))
    assert answer.status == "fout" and answer.needs_action
    assert "kapot bericht REF0000005" in answer.error
    assert standin.ready() == 0


def test_inbound_with_reply_sends_the_reply(app, db, standin, run_jobs):
    from portal.jobs.vecozo import poll_once

    tid = standin.place(
        postbus="12345678",
        afzender_code="0363",
        code="TEST",
        payload="T" + "TOEW000001" + " " * 8 + "\n",
    )
    with app.app_context():
        poll_once(app, db, trigger="handmatig")
    inbound = db.scalar(select(Message).where(Message.direction == "in"))
    reply = db.scalar(select(Message).where(Message.direction == "uit"))
    assert inbound.summary == "Toewijzing TOEW000001 ontvangen"
    assert reply.als_antwoord_op == tid and reply.conversatie_id == inbound.conversatie_id
    run_jobs()
    db.refresh(reply)
    assert reply.status == "verzonden"
    assert standin.submitted() == {reply.traceer_id: 1}
