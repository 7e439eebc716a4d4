"""Slowing down password guessing without letting anyone lock someone else out.

Failed log-ins are counted per e-mail address *and source* (IP address), and — with a higher
threshold — per e-mail address alone, for known and unknown addresses alike (so the answers do not
tell which addresses exist). After the free tries, each further failure makes the next try wait
longer: ``LOGIN_DELAY_SECONDS``, then twice that, and so on, up to ``LOGIN_LOCK_MINUTES``. A user
typing at their own desk is not held up by someone guessing from elsewhere until that someone has
made many more failures, and even then only by a delay, never a lock that needs a beheerder.
A successful log-in clears the counters of that address and source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.models import LoginThrottle
from portal.models._base import utcnow

# Counters older than this start again from zero.
FORGET_AFTER = timedelta(hours=24)


def _key(*parts: str | None) -> str:
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def _keys(email: str, source: str | None) -> tuple[str, str]:
    address = (email or "").strip().lower()
    return _key("bron", address, source), _key("adres", address)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite drops the zone
        return value.replace(tzinfo=utcnow().tzinfo)
    return value


def wait_seconds(
    session: Session, email: str, source: str | None, *, now: datetime | None = None
) -> int:
    """Seconds before this address may be tried again from this source (0: now)."""
    now = now or utcnow()
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(_keys(email, source))))
    waits = [
        (until - now).total_seconds()
        for row in rows
        if (until := _aware(row.blocked_until)) is not None and until > now
    ]
    return int(max(waits) + 0.999) if waits else 0


def delay_after(failures: int, free: int, config: Mapping[str, Any]) -> int:
    """The wait after ``failures`` failures when ``free`` are allowed without one."""
    if failures < free:
        return 0
    base = int(config.get("LOGIN_DELAY_SECONDS", 30))
    cap = int(config.get("LOGIN_LOCK_MINUTES", 15)) * 60
    return min(cap, base * 2 ** min(failures - free, 20))


def record_failure(
    session: Session,
    email: str,
    source: str | None,
    *,
    config: Mapping[str, Any],
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    per_source = int(config.get("LOGIN_MAX_FAILURES", 5))
    per_address = int(config.get("LOGIN_ACCOUNT_MAX_FAILURES", 4 * per_source))
    for key, free in zip(_keys(email, source), (per_source, per_address), strict=True):
        failures = _increment(session, key, now)
        delay = delay_after(failures, free, config)
        if delay:
            session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(blocked_until=now + timedelta(seconds=delay))
            )


def _increment(session: Session, key: str, now: datetime) -> int:
    """Add one failure under ``key``, atomically; returns the new count."""
    for _ in range(3):
        row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
        if row is not None:
            updated = _aware(row.updated_at)
            if updated is not None and now - updated > FORGET_AFTER:
                row.failures, row.blocked_until = 0, None
            row.failures = (row.failures or 0) + 1
            row.updated_at = now
            session.flush()
            return row.failures
        try:
            with session.begin_nested():
                session.add(LoginThrottle(key=key, failures=1, updated_at=now))
            return 1
        except IntegrityError:  # another request inserted it first: count on that row
            continue
    return 1


def record_success(session: Session, email: str, source: str | None) -> None:
    """A right password clears this source's counter (the per-address one too)."""
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key.in_(_keys(email, source)))
        .values(failures=0, blocked_until=None)
    )
