"""User accounts: creation, passwords, log-in attempts with lock-out, TOTP."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

import pyotp
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.domain import Role
from portal.models import RecoveryCode, User
from portal.models._base import utcnow
from portal.services.sessions import end_all
from portal.validators import check_email

MIN_PASSWORD = 12
MIN_DISTINCT = 6  # 'aaaaaaaaaaa1' and twelve spaces are refused


class UserError(ValueError):
    pass


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords and base words that attackers try first."""
    text = resources.files("portal.data").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiopasdfghjklzxcvbnm")


def password_problem(password: str) -> str | None:
    """A Dutch reason why ``password`` is too weak, or None."""
    if len(password) < MIN_PASSWORD:
        return f"Een wachtwoord heeft minstens {MIN_PASSWORD} tekens."
    if not password.strip() or len(set(password.lower())) < MIN_DISTINCT:
        return (
            "Dit wachtwoord is te eenvoudig: gebruik minstens "
            f"{MIN_DISTINCT} verschillende tekens, niet steeds hetzelfde teken."
        )
    if password.isdigit() or password.isalpha():
        return "Gebruik in een wachtwoord letters én cijfers of leestekens."
    lowered = password.lower()
    core = re.sub(r"[^a-zà-ÿ]", "", lowered)
    if lowered in common_passwords() or core in common_passwords():
        return "Dit wachtwoord staat op de lijst van veelgebruikte wachtwoorden. Kies een ander."
    compact = re.sub(r"\s", "", lowered)
    for candidate in {compact, compact.rstrip("0123456789!?.")}:
        if len(candidate) >= MIN_DISTINCT and any(candidate in seq * 2 for seq in _SEQUENCES):
            return "Een reeks als 'abcdef…' of '123456…' is geen veilig wachtwoord."
    return None


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()


def create_user(
    session: Session, *, email: str, naam: str, role: str, password: str, team: str | None = None
) -> User:
    email = email.strip().lower()
    if problem := check_email(email) or (None if email else "E-mailadres is verplicht."):
        raise UserError(problem)
    if not naam.strip():
        raise UserError("Naam is verplicht.")
    if role not in {r.value for r in Role}:
        raise UserError("Onbekende rol.")
    if problem := password_problem(password):
        raise UserError(problem)
    if find_by_email(session, email):
        raise UserError("Er is al een gebruiker met dit e-mailadres.")
    user = User(email=email, naam=naam.strip(), role=role, team=team or None, session_version=0)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def create_or_reset_admin(session: Session, *, email: str, naam: str, password: str) -> User:
    user = find_by_email(session, email)
    if user is None:
        return create_user(
            session, email=email, naam=naam, role=Role.BEHEERDER.value, password=password
        )
    if problem := password_problem(password):
        raise UserError(problem)
    user.role, user.active = Role.BEHEERDER.value, True
    user.failed_logins, user.locked_until, user.totp_failures = 0, None, 0
    user.set_password(password)  # bumps the session version: every session of the user ends
    end_all(session, user.id)
    return user


class LoginResult:
    OK = "ok"
    BAD = "bad"
    LOCKED = "locked"  # too many wrong two-step codes
    THROTTLED = "throttled"  # too many wrong passwords from here: wait a while


@dataclass(frozen=True)
class LoginAttempt:
    result: str
    user: User | None = None
    wait_seconds: int = 0


# A hash of a password nobody knows, made like real ones: checking it costs what checking a real
# password costs, so an unknown or inactive address answers as slowly as a wrong password.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def verify_password(password_hash: str, password: str) -> bool:
    """The one place a password is checked against a hash (tests count the calls)."""
    return check_password_hash(password_hash, password)


def _aware(value):
    if value is not None and value.tzinfo is None:  # SQLite drops the zone
        return value.replace(tzinfo=utcnow().tzinfo)
    return value


def attempt_login(
    session: Session,
    email: str,
    password: str,
    *,
    source: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> LoginAttempt:
    """Check a password, with a growing delay after repeated failures.

    Every path that reaches a password check checks exactly one hash: the user's own, or a dummy
    one for an unknown or inactive address, so the time taken does not tell which addresses
    exist. Failures are counted per address and source (and, with a higher threshold, per
    address), for known and unknown addresses alike (see ``portal.services.throttle``): nobody can
    lock someone else out by typing wrong passwords, they only slow themselves down.
    """
    from portal.services import throttle

    config = config or {}
    now = utcnow()
    wait = throttle.wait_seconds(session, email, source, now=now)
    if wait > 0:
        return LoginAttempt(LoginResult.THROTTLED, None, wait)
    user = find_by_email(session, email)
    usable = user is not None and user.active
    ok = verify_password(user.password_hash if usable else _DUMMY_HASH, password)
    if not (ok and usable):
        throttle.record_failure(session, email, source, config=config, now=now)
        return LoginAttempt(LoginResult.BAD, user if usable else None)
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        return LoginAttempt(LoginResult.LOCKED, user, int((locked_until - now).total_seconds()) + 1)
    throttle.record_success(session, email, source)
    user.failed_logins, user.last_login_at = 0, now
    return LoginAttempt(LoginResult.OK, user)


# -- two-step log-in ---------------------------------------------------------------------------

TOTP_STEP = 30


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def totp_step(secret: str | None, code: str, *, at: float | None = None) -> int | None:
    """The time step (30 s) whose code ``code`` is, within one step either side; else None."""
    code = (code or "").replace(" ", "")
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time() if at is None else at)
    current = now // TOTP_STEP
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


def verify_totp(secret: str | None, code: str) -> bool:
    """A code from the app during set-up (no replay guard yet: nothing is protected by it)."""
    return totp_step(secret, code) is not None


def _claim_step(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used before.

    One conditional UPDATE, so two requests with the same code cannot both get in.
    """
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    if result.rowcount == 1:
        user.totp_last_step = step
        return True
    return False


def check_second_factor(
    session: Session, user: User, code: str, *, max_failures: int, lock_minutes: int
) -> str:
    """The code step of a log-in: a code from the app or an unused recovery code.

    Wrong codes are counted on the user across log-ins and reset only by a right code; every
    ``max_failures`` wrong codes lock the account, each lock twice as long as the one before.
    Returns a LoginResult.
    """
    now = utcnow()
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > now:
        return LoginResult.LOCKED
    step = totp_step(user.totp_secret, code)
    if (step is not None and _claim_step(session, user, step)) or use_recovery_code(
        session, user, code
    ):
        user.totp_failures, user.locked_until = 0, None
        return LoginResult.OK
    user.totp_failures = (user.totp_failures or 0) + 1
    if user.totp_failures % max_failures == 0:
        rounds = user.totp_failures // max_failures
        user.locked_until = now + timedelta(minutes=lock_minutes * 2 ** min(rounds - 1, 8))
        return LoginResult.LOCKED
    return LoginResult.BAD


RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _recovery_hash(code: str) -> str:
    normal = re.sub(r"[^a-z0-9]", "", (code or "").lower())
    return hashlib.sha256(f"herstelcode:{normal}".encode()).hexdigest()


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones; the codes are returned to be shown once.

    Only their hashes are stored. Each code has 50 random bits, so a plain SHA-256 is enough
    (like an API token); a slow hash is for passwords that people choose.
    """
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Spend one recovery code; True when it was valid and unused (never twice)."""
    if len(re.sub(r"[^a-z0-9]", "", (code or "").lower())) != 10:
        return False
    row_id = session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row_id is None:
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


def recovery_codes_left(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def clear_two_step(session: Session, user: User) -> None:
    """Remove the authenticator and the recovery codes (turned off, or reset by a beheerder)."""
    user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, None
    user.totp_failures = 0
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
