"""Log-in sessions kept on the server, so that logging out really ends them.

The browser's (signed) session cookie carries a random token; the ``user_session`` row for it
says whether the session still counts and when it was last used. Log-out ends the row, so a copy
of the cookie made before stops working; a changed or reset password bumps the user's session
version, which ends all of the user's sessions at once. The idle time-out is measured on the
server too, from the last request that was the user's own doing (a polling progress fragment
does not count).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import UserSession
from portal.models._base import utcnow

# Activity is written at most this often per session (one UPDATE, not one per request).
TOUCH_EVERY = timedelta(seconds=15)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def start(session: Session, user_id: int, *, ip: str | None = None) -> str:
    """A new session for ``user_id``; returns the token for the cookie (never stored as is)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            token_hash=_hash(token), user_id=user_id, created_at=now, last_seen_at=now, ip=ip
        )
    )
    return token


def find(session: Session, token: str | None) -> UserSession | None:
    """The live session row for ``token``, or None when unknown or ended."""
    if not token or not isinstance(token, str):
        return None
    row = session.scalars(select(UserSession).where(UserSession.token_hash == _hash(token))).first()
    if row is None or row.ended_at is not None:
        return None
    return row


def idle_seconds(row: UserSession, now: datetime | None = None) -> float:
    return ((now or utcnow()) - _aware(row.last_seen_at)).total_seconds()


def touch(session: Session, row: UserSession, now: datetime | None = None) -> bool:
    """Note activity; writes only when the last note is older than TOUCH_EVERY."""
    now = now or utcnow()
    if now - _aware(row.last_seen_at) < TOUCH_EVERY:
        return False
    session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    row.last_seen_at = now
    return True


def end(session: Session, token: str | None) -> None:
    row = find(session, token)
    if row is not None:
        row.ended_at = utcnow()


def end_all(session: Session, user_id: int) -> int:
    """End every session of a user (password change or reset, deactivation)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return result.rowcount or 0
