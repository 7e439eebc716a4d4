"""Webhooks: the change feed pushed to a koppeling's own address, signed.

Each delivery posts the changes after the koppeling's cursor (at most ``PAGE``) as JSON, the same
items as ``GET /api/v1/wijzigingen``. The body is signed with the koppeling's secret:
``X-Portaal-Handtekening: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, so the receiver
can check it came from the portal and is recent. Only a 2xx answer moves the cursor on; anything
else is recorded on the koppeling and retried with back-off by the worker (``portal.jobs.webhooks``).
A receiver may get a change twice (after a time-out), never miss one: it should be idempotent on
``cursor``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict

import requests
from sqlalchemy.orm import Session

from portal.models import ApiKoppeling
from portal.models._base import utcnow
from portal.services import statuses

PAGE = 500
TIMEOUT_SECONDS = 10
HEADER = "X-Portaal-Handtekening"


class DeliveryFailed(RuntimeError):
    pass


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, body: bytes, header: str, *, max_age: int = 300) -> bool:
    """What a receiver does (used by the example client and the tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > max_age:
        return False
    return hmac.compare_digest(sign(secret, body, t), header)


def pending(session: Session, koppeling: ApiKoppeling) -> bool:
    rows, _cursor = statuses.changes(session, koppeling.webhook_cursor, limit=1)
    return bool(rows)


def deliver(session: Session, koppeling: ApiKoppeling) -> int:
    """Post the next page of changes; returns how many were delivered (0: nothing new)."""
    if not koppeling.webhook_url or not koppeling.webhook_secret or not koppeling.actief:
        return 0
    rows, cursor = statuses.changes(session, koppeling.webhook_cursor, limit=PAGE)
    if not rows:
        return 0
    body = json.dumps(
        {"wijzigingen": [asdict(r) for r in rows], "volgende": cursor}, separators=(",", ":")
    ).encode()
    koppeling.webhook_laatste_poging = utcnow()
    try:
        resp = requests.post(
            koppeling.webhook_url,
            data=body,
            headers={
                "Content-Type": "application/json",
                HEADER: sign(koppeling.webhook_secret, body),
            },
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        problem = f"Geen verbinding met {koppeling.webhook_url}: {type(exc).__name__}"
    else:
        if 200 <= resp.status_code < 300:
            koppeling.webhook_cursor = cursor
            koppeling.webhook_laatste_fout = None
            return len(rows)
        problem = f"Het webadres antwoordde met status {resp.status_code}"
    koppeling.webhook_laatste_fout = problem[:500]
    session.commit()  # the failure stays visible, whatever the worker does next
    raise DeliveryFailed(problem)
