"""The outbox and inbox: creating outgoing messages, storing incoming ones, status bookkeeping.

Interface used by the plugins (through the declaration and chain services):

* :func:`create_outgoing` stores a message with its own traceerId/conversatieId and has it sent as
  soon as the caller commits ("what a user creates is sent at once").
* :func:`receive_payload` stores a payload fetched from VECOZO (after checking its size and
  SHA-256), lets the plugin that recognises it parse it, and links it to what it answers.

Everything here is plain functions on a session; sending and fetching happen in
``portal.jobs.vecozo`` (RQ jobs on the "vecozo" queue).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, object_session

from portal.domain import Issue, MessageDraft, ParseOutcome
from portal.models import Financier, Message, MessageStatusEvent
from portal.models._base import utcnow
from portal.models.message import IN, OUT, OUTSTANDING
from portal.plugins import Hooks
from portal.services import declarations

log = logging.getLogger(__name__)

_PENDING_KEY = "vecozo_send_pending"
_LISTENING_KEY = "vecozo_send_listening"


class PayloadMismatch(ValueError):
    """The downloaded payload is not what the metadata announced (size or checksum)."""


# ---------------------------------------------------------------------------------------------
# outgoing
# ---------------------------------------------------------------------------------------------


def create_outgoing(
    session: Session, draft: MessageDraft, *, financing: str, created_by: int | None = None
) -> Message:
    """Store an outgoing message with new ids; it is put on the send queue after commit.

    Validates nothing itself (the plugin did). ``draft.conversation_id`` and ``draft.answers_to``
    are kept; otherwise a new conversatieId is made. The caller commits; sending never starts
    before the row is committed.
    """
    from portal.vecozo.berichtstromen import berichtstroom_for

    payload = bytes(draft.payload)
    afzender = draft.afzender or _default_afzender(session)
    geadresseerde = draft.geadresseerde
    message = Message(
        direction=OUT,
        financing=financing,
        standard=draft.standard,
        code=draft.code,
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        filename=draft.filename,
        traceer_id=str(uuid.uuid4()),
        conversatie_id=draft.conversation_id or str(uuid.uuid4()),
        als_antwoord_op=draft.answers_to,
        berichtstroom=berichtstroom_for(draft.code, financing),
        afzender_rol=afzender[0] if afzender else None,
        afzender_code=afzender[1] if afzender else None,
        geadresseerde_rol=geadresseerde[0] if geadresseerde else None,
        geadresseerde_code=geadresseerde[1] if geadresseerde else None,
        reference=draft.reference,
        status="wachtrij",
        needs_action=False,
        issues=[],
        meldingen=[],
        client_ids=[],
        created_by=created_by,
    )
    if geadresseerde:
        cache = session.info.setdefault("vecozo_financier_ids", {})
        key = (financing, geadresseerde[1])
        if key not in cache:
            cache[key] = session.scalar(
                select(Financier.id).where(
                    Financier.financing == financing, Financier.code == geadresseerde[1]
                )
            )
        message.financier_id = cache[key]
    if draft.answers_to:
        message.answers_id = session.scalar(
            select(Message.id).where(Message.traceer_id == draft.answers_to)
        )
    session.add(message)
    add_event(message, "wachtrij", "portal", "Aangemaakt; wordt verstuurd zodra het is opgeslagen.")
    session.flush()
    _send_after_commit(session, message.id)
    return message


def _default_afzender(session: Session) -> tuple[str, str] | None:
    from portal.models import Organisation

    org = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if org is None or not org.main_agb:
        return None
    return ("Instelling", org.main_agb)


def _send_after_commit(session: Session, message_id: int) -> None:
    """Remember the id; enqueue the send job once the surrounding transaction has committed."""
    session.info.setdefault(_PENDING_KEY, []).append(message_id)
    if has_app_context():
        session.info["vecozo_app"] = current_app._get_current_object()  # type: ignore[attr-defined]
    if not session.info.get(_LISTENING_KEY):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
        session.info[_LISTENING_KEY] = True


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():  # only a SAVEPOINT; ids of removed rows are harmless
        return
    session.info.pop(_PENDING_KEY, None)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released; the real commit comes later
        return
    ids = session.info.pop(_PENDING_KEY, None)
    if not ids:
        return
    app: Flask | None = session.info.get("vecozo_app")
    if app is None and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app is None:
        log.warning("no app to enqueue sends %s; the status checker will pick them up", ids)
        return
    from portal.jobs.vecozo import enqueue_send_batch

    with app.app_context():
        sm = app.extensions["db_sessionmaker"]
        try:
            with sm() as s:
                enqueue_send_batch(s, ids)
        except Exception:  # Redis down: the periodic checker re-enqueues "wachtrij" rows
            log.exception("could not enqueue the send of messages %s", ids)


# ---------------------------------------------------------------------------------------------
# incoming
# ---------------------------------------------------------------------------------------------


def verify_payload(metadata: dict, payload: bytes) -> None:
    """Raise :class:`PayloadMismatch` unless size and checksum match the pull metadata."""
    download = (metadata.get("basisgegevens") or {}).get("payload") or {}
    size = download.get("grootte")
    if size is not None and int(size) != len(payload):
        raise PayloadMismatch(
            f"Grootte klopt niet: verwacht {size} bytes, ontvangen {len(payload)}"
        )
    checksum = download.get("checksum") or {}
    algorithm = (checksum.get("algoritme") or "SHA256").upper().replace("-", "")
    expected = (checksum.get("waarde") or "").lower()
    if algorithm != "SHA256":
        raise PayloadMismatch(f"Onbekend checksum-algoritme {checksum.get('algoritme')!r}")
    actual = hashlib.sha256(payload).hexdigest()
    if expected and expected != actual:
        raise PayloadMismatch("Controlegetal (SHA-256) klopt niet; bericht is beschadigd")


def find_by_traceer_id(session: Session, traceer_id: str) -> Message | None:
    return session.scalar(select(Message).where(Message.traceer_id == traceer_id))


def receive_payload(session: Session, *, metadata: dict, payload: bytes, hooks: Hooks) -> Message:
    """Store a fetched message (idempotent on traceerId), parse it and link it. Caller commits.

    Raises :class:`PayloadMismatch` when the payload is not what the metadata announced (nothing
    is stored then; the message stays at VECOZO and is fetched again).
    """
    verify_payload(metadata, payload)
    ref = metadata.get("referentiegegevens") or {}
    route = metadata.get("routeringgegevens") or {}
    traceer_id = ref["traceerId"]
    existing = find_by_traceer_id(session, traceer_id)
    if existing is not None:
        return existing
    afzender = route.get("afzender") or {}
    geadresseerde = (route.get("geadresseerden") or [{}])[0]
    stroom = route.get("berichtstroom") or {}
    received = _parse_datetime((metadata.get("basisgegevens") or {}).get("ontvangenOp"))
    message = Message(
        direction=IN,
        standard=None,
        code=stroom.get("berichtsubtype") or stroom.get("berichttype"),
        payload=payload,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        traceer_id=traceer_id,
        conversatie_id=ref.get("conversatieId") or traceer_id,
        als_antwoord_op=ref.get("alsAntwoordOp"),
        berichtstroom=stroom or None,
        afzender_rol=afzender.get("rol"),
        afzender_code=afzender.get("code"),
        geadresseerde_rol=geadresseerde.get("rol"),
        geadresseerde_code=geadresseerde.get("code"),
        status="onbekend",
        needs_action=True,
        issues=[],
        meldingen=[],
        client_ids=[],
        received_at=received or utcnow(),
    )
    if message.als_antwoord_op:
        heen = find_by_traceer_id(session, message.als_antwoord_op)
        if heen is not None:
            message.answers_id = heen.id
            message.financing = heen.financing
            message.financier_id = heen.financier_id
    session.add(message)
    add_event(
        message, "ontvangen", "vecozo", "Opgehaald bij VECOZO; grootte en controlegetal klopten."
    )
    session.flush()
    _parse(session, message, hooks)
    _mark_answered(session, message)
    return message


def _route(session: Session, message: Message, hooks) -> str | None:
    """Decide the financing of an incoming message; returns a Dutch reason when it cannot.

    What it answers decides first (``alsAntwoordOp``, set in :func:`receive_payload`); else the
    plugins that recognise it (hook ``recognise_message``): one claim routes it, two or more
    leave it for a person. Nothing is guessed from the name of a standard.
    """
    if message.financing:
        return None
    claims = {r.financing: r for r in hooks.recognise_message(message, session)}
    if len(claims) > 1:
        labels = ", ".join(hooks.financing_label(code) for code in sorted(claims))
        return (
            f"Meer dan één financiering herkent dit bericht ({labels}) en het verwijst niet naar "
            "een verstuurd bericht; het is bewaard voor controle en niet verwerkt."
        )
    if claims:
        (claim,) = claims.values()
        message.financing = claim.financing
        message.code = claim.code or message.code
        message.standard = claim.standard or message.standard
        if message.financier_id is None and message.afzender_code:
            message.financier_id = session.scalar(
                select(Financier.id).where(
                    Financier.financing == claim.financing,
                    Financier.code == message.afzender_code,
                )
            )
    return None


def financings_that_sent(session: Session, *, reference: str, code: str | None = None) -> set[str]:
    """The financings that sent an outgoing message with this reference (and message code).

    For ``recognise_message``: a retour that names what it answers (an AW320 names its AW319's
    invoice number) belongs to the financing that sent that message.
    """
    query = select(Message.financing).where(
        Message.direction == OUT, Message.reference == reference, Message.financing.is_not(None)
    )
    if code:
        query = query.where(Message.code == code)
    return {f for f in session.scalars(query.distinct()) if f}


def _parse(session: Session, message: Message, hooks: Hooks) -> None:
    outcome: ParseOutcome | None
    try:
        with session.begin_nested():
            refused = _route(session, message, hooks)
            if refused:
                message.status, message.needs_action = "onbekend", True
                message.summary = refused
                add_event(message, "onbekend", "portal", refused)
                return
            outcome = declarations.apply_outcome(
                session, hooks.parse_message_for(message.financing, message, session)
            )
            if outcome is not None:
                for draft in outcome.replies:
                    draft.answers_to = draft.answers_to or message.traceer_id
                    draft.conversation_id = draft.conversation_id or message.conversatie_id
                    create_outgoing(
                        session,
                        draft,
                        financing=message.financing or outcome.financing or "",
                    )
    except Exception as exc:  # the plugin failed: keep the message, show the error
        log.exception("parse of message %s failed", message.id)
        message.status, message.needs_action = "fout", True
        message.error = f"{type(exc).__name__}: {exc}"
        message.summary = "Het bericht kon niet worden verwerkt; het is wel bewaard."
        add_event(message, "fout", "portal", message.summary)
        return
    if outcome is None:
        message.status, message.needs_action = "onbekend", True
        message.summary = "Geen financiering herkent dit bericht; het is bewaard voor controle."
        add_event(message, "onbekend", "portal", message.summary)
        return
    message.standard = outcome.standard
    message.code = outcome.code or message.code
    message.summary = outcome.summary
    message.needs_action = outcome.needs_action or any(i.blocking for i in outcome.issues)
    message.issues = [issue_to_dict(i) for i in outcome.issues]
    message.reference = outcome.reference
    message.answers_reference = outcome.answers_reference
    message.client_ids = list(outcome.client_ids)
    message.financing = message.financing or outcome.financing
    if message.answers_id is None and outcome.answers_reference:
        message.answers_id = session.scalar(
            select(Message.id)
            .where(Message.direction == OUT, Message.reference == outcome.answers_reference)
            .order_by(Message.id.desc())
            .limit(1)
        )
    message.status = "verwerkt"
    add_event(message, "verwerkt", "plugin", outcome.summary)


def _mark_answered(session: Session, message: Message) -> None:
    """The heenbericht this message answers shows that its answer is in."""
    if message.answers_id is None:
        return
    heen = session.get(Message, message.answers_id)
    if heen is None:
        return
    message.financier_id = message.financier_id or heen.financier_id
    if heen.status not in ("afgekeurd", "mislukt"):
        heen.status = "beantwoord"
    heen.needs_action = heen.needs_action or message.needs_action
    add_event(heen, heen.status, "financier", f"Antwoord ontvangen: {message.summary}")


def issue_to_dict(issue: Issue) -> dict[str, Any]:
    data = asdict(issue)
    data["severity"] = str(issue.severity)
    return data


def _parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# status bookkeeping
# ---------------------------------------------------------------------------------------------


def add_event(
    message: Message,
    status: str,
    source: str,
    text: str | None = None,
    *,
    vecozo_status: str | None = None,
    meldingen: Iterable[dict] | None = None,
) -> MessageStatusEvent:
    event_row = MessageStatusEvent(
        status=status,
        source=source,
        text=text,
        vecozo_status=vecozo_status,
        meldingen=list(meldingen or []),
        at=utcnow(),
    )
    session = object_session(message)
    if message.id is not None and session is not None and "events" not in message.__dict__:
        # a stored message: add the row without loading its whole history first
        event_row.message_id = message.id
        session.add(event_row)
    else:
        message.events.append(event_row)
    return event_row


def schedule_check(message: Message, *, soon: bool = False, now: datetime | None = None) -> None:
    """Next status check with back-off: 1, 2, 4, 8 minutes… at most 15 minutes apart."""
    now = now or utcnow()
    if soon:
        delay = timedelta(seconds=current_app.config.get("VECOZO_FIRST_CHECK_SECONDS", 60))
    else:
        minutes = min(15, 2 ** min(message.check_count, 4))
        delay = timedelta(minutes=minutes)
    message.next_check_at = now + delay


def counts_needing_action(session: Session) -> dict[str, int]:
    """For the start page: inbox items and outgoing messages that need someone."""
    rows = session.execute(
        select(Message.direction, func.count())
        .where(Message.needs_action.is_(True))
        .group_by(Message.direction)
    ).all()
    result = {IN: 0, OUT: 0}
    result.update({direction: n for direction, n in rows})
    result["onderweg"] = (
        session.scalar(
            select(func.count()).where(Message.direction == OUT, Message.status.in_(OUTSTANDING))
        )
        or 0
    )
    return result


def mark_handled(session: Session, message: Message, user_id: int | None) -> None:
    """A person has looked at it: the message no longer asks for action."""
    if not message.needs_action:
        return
    message.needs_action = False
    add_event(message, message.status, "portal", "Afgehandeld door een medewerker.")
    from portal.services import audit

    audit.record(
        session,
        "bericht.afgehandeld",
        user_id=user_id,
        object_type="message",
        object_id=str(message.id),
    )


# ---------------------------------------------------------------------------------------------
# screens
# ---------------------------------------------------------------------------------------------


@dataclass
class MessageFilter:
    direction: str
    status: str | None = None
    financing: str | None = None
    financier_id: int | None = None
    van: date | None = None
    tot: date | None = None
    actie: bool = False


def list_messages(
    session: Session, f: MessageFilter, *, page: int = 1, page_size: int = 25
) -> tuple[list[Message], int]:
    """One page of the inbox or outbox, newest first, with the total count."""
    query = select(Message).where(Message.direction == f.direction)
    if f.status:
        query = query.where(Message.status == f.status)
    if f.financing:
        query = query.where(Message.financing == f.financing)
    if f.financier_id:
        query = query.where(Message.financier_id == f.financier_id)
    if f.van:
        query = query.where(Message.created_at >= _day_start(f.van))
    if f.tot:
        query = query.where(Message.created_at < _day_start(f.tot + timedelta(days=1)))
    if f.actie:
        query = query.where(Message.needs_action.is_(True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Message.created_at.desc(), Message.id.desc())
        .limit(page_size)
        .offset(max(0, page - 1) * page_size)
    ).all()
    return list(rows), total


def _day_start(day: date) -> datetime:
    from portal.web import AMSTERDAM

    return datetime.combine(day, datetime.min.time(), tzinfo=AMSTERDAM)
