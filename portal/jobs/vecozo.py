"""Message traffic jobs (queue "vecozo"): send, check statuses, fetch.

Rules that keep traffic honest:

* A message is *claimed* for sending by one conditional UPDATE (``wachtrij`` → ``verzenden``),
  committed before the HTTP call; a second job for the same message finds nothing to claim.
* When a send ends without a clear answer (time-out, dropped connection, 5xx, worker killed), the
  message becomes ``onzeker`` and only the status API decides: known at VECOZO → sent; unknown
  after a grace period → back to ``wachtrij`` (it never arrived, so this is not sending twice).
* Fetching stores and parses each payload, commits, and only then acknowledges it; a payload that
  is already stored (same traceerId) is acknowledged without being stored again.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from rq.job import Job
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.jobs import enqueue, get_queue, redis_connection
from portal.models import BackgroundJob, Message, PollRun
from portal.models._base import utcnow
from portal.models.message import OUT
from portal.plugins import Hooks
from portal.services.messages import (
    PayloadMismatch,
    add_event,
    find_by_traceer_id,
    receive_payload,
    schedule_check,
)
from portal.vecozo import certificates as _certificates  # noqa: F401  (see client_for)
from portal.vecozo.client import (
    VecozoClient,
    VecozoConfigError,
    VecozoError,
    VecozoRejected,
    VecozoUnavailable,
    build_metadata,
    client_for,
)

log = logging.getLogger(__name__)

SEND_FUNC = "portal.jobs.vecozo.send_message"
SEND_BATCH_FUNC = "portal.jobs.vecozo.send_messages"
POLL_FUNC = "portal.jobs.vecozo.poll"

# v3 Berichtstatus → portal status of an outgoing message
VECOZO_TO_PORTAL = {
    "Ontvangen": "verzonden",
    "DeelsOntvangen": "verzonden",
    "WordtVerwerkt": "verzonden",
    "VerwerkingVoltooid": "verzonden",
    "WordtAangeboden": "verzonden",
    "Bezorgd": "bezorgd",
    "AfgekeurdDoorDienst": "afgekeurd",
    "DeelberichtAanleveringAfgekeurd": "afgekeurd",
    "AanbiedenMislukt": "mislukt",
    "BezorgingAfgebroken": "mislukt",
}
TERMINAL = {"AfgekeurdDoorDienst", "Bezorgd", "AanbiedenMislukt", "BezorgingAfgebroken"}
VECOZO_LABELS = {
    "Ontvangen": "Ontvangen door VECOZO",
    "DeelsOntvangen": "Deels ontvangen",
    "DeelberichtAanleveringAfgekeurd": "Deel van de aanlevering afgekeurd",
    "WordtVerwerkt": "VECOZO controleert het bericht",
    "AfgekeurdDoorDienst": "Afgekeurd door VECOZO",
    "VerwerkingVoltooid": "Controle door VECOZO voltooid",
    "WordtAangeboden": "Klaargezet voor de financier",
    "Bezorgd": "Opgehaald door de financier",
    "AanbiedenMislukt": "Aanbieden aan de financier mislukt",
    "BezorgingAfgebroken": "Bezorging afgebroken",
}


# ---------------------------------------------------------------------------------------------
# enqueueing
# ---------------------------------------------------------------------------------------------


def _send_job_id(message_id: int, attempt: int) -> str:
    from portal.jobs import job_key

    return job_key(f"vecozo-send-{message_id}-{attempt}")


def enqueue_send(session: Session, message_id: int) -> str | None:
    """Put the send job of a "wachtrij" message on the vecozo queue (idempotent per attempt).

    When the job row exists but Redis lost the job (e.g. a Redis restart), it is put back.
    """
    message = session.get(Message, message_id, populate_existing=True)
    if message is None or message.status != "wachtrij":
        return None
    job_id = _send_job_id(message.id, message.send_attempts)
    row = session.get(BackgroundJob, job_id)
    if row is not None and row.status in ("wachtend", "bezig"):
        if Job.exists(job_id, connection=redis_connection()):
            return job_id
        row.status = "mislukt"  # lost with Redis: let enqueue() put it back
        row.message = "Taak kwijtgeraakt in de wachtrij; opnieuw ingepland."
        session.commit()
    enqueue(
        session,
        SEND_FUNC,
        message.id,
        kind="vecozo.verzenden",
        label=f"Bericht {message.code or ''} versturen (#{message.id})",
        queue="vecozo",
        job_id=job_id,
        created_by=message.created_by,
        retries=0,
        timeout=600,
    )
    return job_id


SEND_CHUNK = 50


def enqueue_send_batch(session: Session, message_ids: list[int]) -> list[str]:
    """The messages of one commit: one send job per chunk (a single message: its own job id)."""
    if len(message_ids) == 1:
        job_id = enqueue_send(session, message_ids[0])
        return [job_id] if job_id else []
    jobs = []
    for start in range(0, len(message_ids), SEND_CHUNK):
        chunk = list(message_ids[start : start + SEND_CHUNK])
        row = enqueue(
            session,
            SEND_BATCH_FUNC,
            chunk,
            kind="vecozo.verzenden",
            label=f"{len(chunk)} berichten versturen",
            queue="vecozo",
            retries=0,
            timeout=1800,
        )
        jobs.append(row.id)
    return jobs


def enqueue_poll(session: Session, *, trigger: str, user_id: int | None = None) -> BackgroundJob:
    """Start a fetch now, unless one is already waiting or running (a double click is one)."""
    recent = utcnow() - timedelta(minutes=15)
    running = session.scalar(
        select(BackgroundJob)
        .where(
            BackgroundJob.kind == "vecozo.ophalen",
            BackgroundJob.status.in_(("wachtend", "bezig")),
            BackgroundJob.created_at >= recent,
        )
        .order_by(BackgroundJob.created_at.desc())
        .limit(1)
    )
    if running is not None and _poll_alive(session, running):
        return running
    if running is not None:  # left behind by a killed worker: visible, and start a new one
        running.status, running.finished_at = "mislukt", utcnow()
        running.message = "Onderbroken (worker gestopt)."
        session.commit()
    return enqueue(
        session,
        POLL_FUNC,
        trigger,
        kind="vecozo.ophalen",
        label="Berichten ophalen bij VECOZO" + (" (gepland)" if trigger == "gepland" else ""),
        queue="vecozo",
        created_by=user_id,
        retries=0,
        timeout=3600,
    )


def _poll_alive(session: Session, row: BackgroundJob) -> bool:
    """A waiting poll still in Redis, or a running one whose run shows a recent heartbeat."""
    from flask import current_app

    if row.status == "wachtend":
        return Job.exists(row.id, connection=redis_connection())
    run = session.scalar(select(PollRun).where(PollRun.job_id == row.id).limit(1))
    if run is None:  # just started; give it a moment
        started = row.started_at or row.created_at
        if started.tzinfo is None:
            started = started.replace(tzinfo=utcnow().tzinfo)
        return utcnow() - started < timedelta(seconds=60)
    stale = timedelta(seconds=current_app.config.get("VECOZO_POLL_STALE_SECONDS", 60))
    beat = run.heartbeat_at
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=utcnow().tzinfo)
    return run.status == "bezig" and utcnow() - beat < stale


def poll_crons(app: Flask) -> list[str]:
    """Cron expressions (scheduler's local time) for VECOZO_POLL_TIMES ("HH:MM" each)."""
    result = []
    for text in app.config.get("VECOZO_POLL_TIMES") or []:
        hours, _, minutes = str(text).strip().partition(":")
        h, m = int(hours), int(minutes or 0)
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError(f"VECOZO_POLL_TIMES: ongeldige tijd {text!r}")
        result.append(f"{m} {h} * * *")
    return result


def poll_cron_entries(app: Flask) -> list[dict]:
    entries = [
        {"func": "portal.jobs.vecozo.poll_scheduled", "cron": cron, "queue": "vecozo"}
        for cron in poll_crons(app)
    ]
    entries.append(
        {
            "func": "portal.jobs.vecozo.check_statuses_scheduled",
            "cron": app.config.get("VECOZO_STATUS_CRON") or "* * * * *",
            "queue": "vecozo",
        }
    )
    return entries


def next_poll_at(app: Flask, after: datetime | None = None) -> datetime | None:
    """When the scheduler fetches next (aware datetime), or None without poll times."""
    from croniter import croniter

    base = (after or utcnow()).astimezone()
    candidates = [croniter(c, base).get_next(datetime) for c in poll_crons(app)]
    return min(candidates) if candidates else None


def poll_scheduled() -> str:
    """Runs from RQ's cron scheduler at each VECOZO_POLL_TIMES entry."""
    from portal.db import session_scope
    from portal.jobs.runner import worker_app

    app = worker_app()
    with app.app_context(), session_scope() as session:
        return enqueue_poll(session, trigger="gepland").id


def check_statuses_scheduled() -> dict[str, int]:
    """Runs from RQ's cron scheduler every minute: follow outstanding outgoing messages."""
    from portal.jobs.runner import worker_app

    app = worker_app()
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        try:
            return check_outstanding(app, session)
        finally:
            session.close()


# ---------------------------------------------------------------------------------------------
# sending
# ---------------------------------------------------------------------------------------------


def send_message(ctx, message_id: int) -> dict[str, Any]:
    """RQ job: send one committed outgoing message, exactly once."""
    return send_one(ctx.app, ctx.session, message_id)


def send_messages(ctx, message_ids: list[int]) -> dict[str, Any]:
    """RQ job: send the messages committed together (one job per commit, in chunks)."""
    results: dict[str, int] = {}
    with client_session(ctx.app, ctx.session) as client:
        for message_id in message_ids:
            outcome = send_one(ctx.app, ctx.session, message_id, client=client)
            key = next(iter(outcome))
            results[key] = results.get(key, 0) + 1
    return results


def send_one(
    app: Flask, session: Session, message_id: int, client: VecozoClient | None = None
) -> dict[str, Any]:
    now = utcnow()
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "wachtrij")
        .values(
            status="verzenden",
            send_started_at=now,
            send_attempts=Message.send_attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    message = session.get(Message, message_id, populate_existing=True)
    if message is None or not claimed:
        session.commit()
        return {"overgeslagen": message.status if message else "bestaat niet"}
    session.commit()  # claimed (status, attempt, time) before the HTTP call

    if not message.berichtstroom:  # configured since it was created?
        from portal.vecozo.berichtstromen import berichtstroom_for

        message.berichtstroom = berichtstroom_for(message.code, message.financing)
    try:
        metadata = build_metadata(message)
        with client_session(app, session, client) as http:
            http.submit(metadata, message.payload, message.filename or f"{message.code}.bin")
    except VecozoConfigError as exc:
        message.status, message.needs_action, message.error = "wachtrij", True, str(exc)
        message.next_check_at = utcnow() + timedelta(minutes=15)
        add_event(message, "wachtrij", "portal", f"Niet verstuurd: {exc}")
        session.commit()
        return {"niet_verstuurd": str(exc)}
    except VecozoRejected as exc:
        if exc.status == 422 and message.send_attempts > 1:
            # refused on a later attempt: perhaps because an earlier attempt did arrive
            # (e.g. "traceerId niet uniek"). Only the status API can tell.
            return _uncertain(app, session, message, f"geweigerd bij nieuwe poging: {exc}")
        message.status, message.needs_action = "afgekeurd", True
        message.meldingen = exc.meldingen
        message.error = str(exc)
        message.next_check_at = None
        add_event(
            message,
            "afgekeurd",
            "vecozo",
            "VECOZO heeft het bericht geweigerd bij ontvangst"
            + (" (niet opnieuw aanbieden zonder wijziging)." if exc.status == 422 else "."),
            meldingen=exc.meldingen,
        )
        session.commit()
        return {"afgekeurd": exc.status}
    except VecozoUnavailable as exc:
        return _uncertain(app, session, message, str(exc))
    message.status, message.error, message.needs_action = "verzonden", None, False
    message.sent_at = utcnow()
    message.vecozo_status = "Ontvangen"
    message.check_count = 0
    schedule_check(message, soon=True)
    add_event(
        message,
        "verzonden",
        "vecozo",
        f"Ontvangen door VECOZO (verstuurd, poging {message.send_attempts}).",
        vecozo_status="Ontvangen",
    )
    session.commit()
    return {"verzonden": message.traceer_id}


@contextmanager
def client_session(app: Flask, session: Session, client: VecozoClient | None = None):
    """The given client, or a new one for this call."""
    if client is not None:
        yield client
        return
    with client_for(app, session) as own:
        yield own


def _uncertain(app: Flask, session: Session, message: Message, reason: str) -> dict[str, Any]:
    message.status = "onzeker"
    message.error = reason
    message.check_count = 0
    message.next_check_at = utcnow() + timedelta(
        seconds=app.config.get("VECOZO_UNCERTAIN_CHECK_SECONDS", 30)
    )
    add_event(
        message,
        "onzeker",
        "portal",
        f"Verstuurd (poging {message.send_attempts}), maar geen bevestiging van VECOZO "
        f"({reason}). De status wordt nagevraagd; het bericht wordt niet zomaar opnieuw "
        "verstuurd.",
    )
    session.commit()
    return {"onzeker": reason}


# ---------------------------------------------------------------------------------------------
# status checks
# ---------------------------------------------------------------------------------------------


def apply_status(session: Session, message: Message, rows: list[dict[str, Any]], app: Flask):
    """Take VECOZO's status answer for one outgoing message; schedule the next check."""
    own = [
        r
        for r in rows
        if (r.get("referentiegegevens") or {}).get("traceerId") == message.traceer_id
    ]
    now = utcnow()
    if not own:
        if message.status in ("onzeker", "verzenden"):
            grace = timedelta(seconds=app.config.get("VECOZO_RESEND_GRACE_SECONDS", 120))
            started = message.send_started_at or message.created_at
            if started is not None and started.tzinfo is None:
                started = started.replace(tzinfo=now.tzinfo)
            if message.send_attempts >= app.config.get("VECOZO_MAX_SEND_ATTEMPTS", 5):
                message.status, message.needs_action = "mislukt", True
                message.next_check_at = None
                add_event(
                    message,
                    "mislukt",
                    "portal",
                    f"Na {message.send_attempts} pogingen is het bericht niet bij VECOZO "
                    "aangekomen. Controleer de verbinding en maak het bericht zo nodig opnieuw.",
                )
                return
            if started is None or now - started >= grace:
                message.status = "wachtrij"
                message.next_check_at = None
                add_event(
                    message,
                    "wachtrij",
                    "vecozo",
                    "VECOZO kent het bericht niet: het is nooit aangekomen en wordt nu verstuurd.",
                )
                from portal.services.messages import _send_after_commit

                _send_after_commit(session, message.id)
                return
        message.check_count += 1
        schedule_check(message)
        if message.status in ("onzeker", "verzenden") and started is not None:
            # not known yet within the grace period: ask again when it ends, not minutes later
            message.next_check_at = min(message.next_check_at, started + grace)
        return
    state = own[-1]
    vstatus = state.get("berichtstatus")
    meldingen = state.get("meldingen") or []
    was = message.status
    if was in ("onzeker", "verzenden"):
        message.sent_at = message.sent_at or _dt(state.get("berichtOntvangenOp")) or now
        message.error = None
        add_event(
            message,
            "verzonden",
            "vecozo",
            "VECOZO heeft het bericht wel ontvangen; het is niet opnieuw verstuurd.",
            vecozo_status=vstatus,
        )
        message.status = "verzonden"
    if vstatus != message.vecozo_status or meldingen != (message.meldingen or []):
        new = VECOZO_TO_PORTAL.get(vstatus or "", "verzonden")
        if message.status == "beantwoord" and new in ("verzonden", "bezorgd"):
            new = "beantwoord"
        message.status = new
        message.vecozo_status = vstatus
        if meldingen:
            message.meldingen = meldingen
        if new in ("afgekeurd", "mislukt"):
            message.needs_action = True
        add_event(
            message,
            new,
            "vecozo",
            VECOZO_LABELS.get(vstatus or "", vstatus),
            vecozo_status=vstatus,
            meldingen=meldingen,
        )
    if vstatus in TERMINAL:
        message.next_check_at = None
    else:
        message.check_count += 1
        schedule_check(message)


def check_message(app: Flask, session: Session, client: VecozoClient, message: Message) -> None:
    rows = client.statuses(traceer_id=message.traceer_id)
    apply_status(session, message, rows, app)


def check_outstanding(
    app: Flask, session: Session, limit: int = 500, shard: tuple[int, int] | None = None
) -> dict[str, int]:
    """Ask VECOZO about every outgoing message that is due; put lost sends back on the queue.

    ``shard=(i, n)`` looks only at messages whose id modulo n is i (to spread a big backlog
    over several workers)."""
    now = utcnow()
    timeout = float(app.config.get("VECOZO_TIMEOUT_SECONDS") or 30)
    stale_send = now - timedelta(
        seconds=app.config.get("VECOZO_STALE_SEND_SECONDS") or (timeout + 60)
    )
    requeue_after = now - timedelta(seconds=app.config.get("VECOZO_REQUEUE_SECONDS", 120))
    done = {"nagevraagd": 0, "opnieuw_ingepland": 0, "fouten": 0}

    # a worker died in the middle of a send: the outcome is unknown, ask
    for message in session.scalars(
        select(Message)
        .where(
            Message.direction == OUT,
            Message.status == "verzenden",
            Message.send_started_at < stale_send,
        )
        .execution_options(populate_existing=True)
    ):
        message.status = "onzeker"
        message.next_check_at = now
        add_event(
            message,
            "onzeker",
            "portal",
            "Het versturen is onderbroken; de status wordt bij VECOZO nagevraagd.",
        )
    session.commit()

    # sends whose job was lost (Redis restarted, enqueue failed)
    waiting = session.scalars(
        select(Message.id).where(
            Message.direction == OUT,
            Message.status == "wachtrij",
            Message.updated_at < requeue_after,
            or_(Message.next_check_at.is_(None), Message.next_check_at <= now),
        )
    ).all()
    for message_id in waiting:
        try:
            if enqueue_send(session, message_id):
                done["opnieuw_ingepland"] += 1
        except Exception:
            # the database or Redis went away: leave the session usable for the next message
            # (they would all fail on a broken transaction otherwise, one log line each)
            session.rollback()
            log.exception("could not re-enqueue message %s", message_id)

    due = session.scalars(
        select(Message)
        .where(
            Message.direction == OUT,
            Message.status.in_(("verzonden", "onzeker", "bezorgd", "beantwoord")),
            Message.next_check_at.is_not(None),
            Message.next_check_at <= now,
            (Message.id % shard[1] == shard[0]) if shard else Message.id.is_not(None),
        )
        .order_by(Message.next_check_at)
        .limit(limit)
        .execution_options(populate_existing=True)  # other workers change these rows too
    ).all()
    if not due:
        return done
    try:
        with client_for(app, session) as client:
            for n, message in enumerate(due, start=1):
                try:
                    check_message(app, session, client, message)
                    done["nagevraagd"] += 1
                except VecozoError as exc:
                    done["fouten"] += 1
                    message.check_count += 1
                    schedule_check(message)
                    log.warning("status check of %s failed: %s", message.id, exc)
                if n % 50 == 0:  # a lost batch of answers is simply asked again
                    session.commit()
            session.commit()
    except VecozoConfigError as exc:
        log.warning("status checks skipped: %s", exc)
    return done


def check_statuses(ctx, shard: int | None = None, shards: int | None = None) -> dict[str, int]:
    """RQ job form of :func:`check_outstanding` (tests, benchmark)."""
    part = (shard, shards) if shards else None
    return check_outstanding(ctx.app, ctx.session, limit=2000, shard=part)


# ---------------------------------------------------------------------------------------------
# fetching
# ---------------------------------------------------------------------------------------------


def poll(
    ctx, trigger: str = "handmatig", shard: int | None = None, shards: int | None = None
) -> dict[str, Any]:
    """RQ job: fetch every ready message (list → download → verify → store → parse → ack)."""
    return poll_once(
        ctx.app,
        ctx.session,
        trigger=trigger,
        job_id=ctx.job_id,
        progress=ctx.progress,
        shard=(shard, shards) if shards else None,
    )


def _in_shard(traceer_id: str, shard: tuple[int, int] | None) -> bool:
    return shard is None or int(traceer_id.replace("-", "")[:8], 16) % shard[1] == shard[0]


def poll_once(
    app: Flask,
    session: Session,
    *,
    trigger: str,
    job_id: str | None = None,
    progress=None,
    max_rounds: int = 400,
    shard: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Fetch until the list is empty. ``shard=(i, n)``: several pollers share one big backlog,
    each taking the messages whose traceerId falls in its part."""
    _close_interrupted_runs(session, app.config.get("VECOZO_POLL_STALE_SECONDS", 60))
    run = PollRun(trigger=trigger, job_id=job_id, status="bezig")
    session.add(run)
    session.commit()
    limit = int(app.config.get("VECOZO_PULL_LIMIT", 250))
    try:
        with client_for(app, session) as client:
            for _round in range(max_rounds):
                items = client.list_ready(limit=limit)
                if not items:
                    break
                mine = [
                    m
                    for m in items
                    if _in_shard((m.get("referentiegegevens") or {}).get("traceerId") or "0", shard)
                ]
                if not mine:
                    if len(items) < limit:
                        break  # the rest belongs to the other pollers
                    time.sleep(0.2)  # wait until the others acknowledged theirs
                    continue
                run.listed += len(mine)
                progress_made = False
                seen: set[str] = set()
                for meta in mine:
                    tid = (meta.get("referentiegegevens") or {}).get("traceerId")
                    if not tid or tid in seen:
                        run.duplicates += 1 if tid else 0
                        continue
                    seen.add(tid)
                    if _fetch_one(session, client, meta, run, app.extensions["hooks"]):
                        progress_made = True
                    run.heartbeat_at = utcnow()
                session.commit()
                if progress is not None:
                    progress(run.stored, None, f"{run.stored} bericht(en) opgehaald")
                if not progress_made:
                    break
    except VecozoError as exc:
        session.rollback()
        run.status, run.error = "mislukt", str(exc)
        run.finished_at = utcnow()
        session.commit()
        raise
    run.status, run.finished_at = "klaar", utcnow()
    session.commit()
    return {
        "opgehaald": run.stored,
        "dubbel": run.duplicates,
        "bevestigd": run.acknowledged,
        "mislukt": run.failed,
    }


def _fetch_one(
    session: Session, client: VecozoClient, meta: dict, run: PollRun, hooks: Hooks
) -> bool:
    """Store (if new) and acknowledge one listed message. True when something moved."""
    tid = meta["referentiegegevens"]["traceerId"]
    message = find_by_traceer_id(session, tid)
    if message is not None:
        run.duplicates += 1
    else:
        try:
            payload = client.download(meta)
        except PayloadMismatch as exc:
            run.failed += 1
            run.error = f"{tid}: {exc}"
            return False
        except VecozoUnavailable as exc:
            run.failed += 1
            run.error = f"{tid}: {exc}"
            return False
        try:
            message = receive_payload(session, metadata=meta, payload=payload, hooks=hooks)
            session.commit()
            run.stored += 1
        except IntegrityError:  # stored at the same moment by another run
            session.rollback()
            run.duplicates += 1
            message = find_by_traceer_id(session, tid)
    try:
        client.acknowledge(tid)
    except VecozoUnavailable as exc:
        run.error = f"{tid}: bevestigen mislukt ({exc}); volgende keer opnieuw"
        return True
    run.acknowledged += 1
    if message is not None and message.acknowledged_at is None:
        message.acknowledged_at = utcnow()
    return True


def _close_interrupted_runs(session: Session, stale_seconds: float = 60) -> None:
    """Runs left "bezig" by a killed worker (no heartbeat for a minute) become visible."""
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    for run in session.scalars(
        select(PollRun).where(PollRun.status == "bezig", PollRun.heartbeat_at < cutoff)
    ):
        run.status, run.finished_at = "mislukt", utcnow()
        run.error = run.error or (
            "Onderbroken (worker gestopt); wat nog niet bevestigd was, wordt opnieuw opgehaald."
        )
    session.commit()


def _dt(value: str | None) -> datetime | None:
    from portal.services.messages import _parse_datetime

    return _parse_datetime(value)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1) -> bool:
    """Small polling helper for callers that wait on the stand-in (tests, benchmark)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


__all__ = [
    "check_outstanding",
    "enqueue_poll",
    "enqueue_send",
    "get_queue",
    "poll_once",
    "send_one",
]
