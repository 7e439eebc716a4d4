"""User accounts: creation, passwords, log-in attempts with lock-out, TOTP."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import Role
from portal.models import User
from portal.models._base import utcnow
from portal.validators import check_email

MIN_PASSWORD = 12


class UserError(ValueError):
    pass


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Een wachtwoord heeft minstens {MIN_PASSWORD} tekens."
    if password.isdigit() or password.isalpha():
        return "Gebruik in een wachtwoord letters én cijfers of leestekens."
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
    user.failed_logins, user.locked_until = 0, None
    user.set_password(password)
    return user


class LoginResult:
    OK = "ok"
    BAD = "bad"
    LOCKED = "locked"


def attempt_login(
    session: Session, email: str, password: str, *, max_failures: int, lock_minutes: int
):
    """Check a password; counts failures and locks the account for a while after too many.

    Returns (result, user). The caller shows the same message for an unknown user and a wrong
    password, so the screen does not reveal which e-mail addresses exist.
    """
    user = find_by_email(session, email)
    now = utcnow()
    if user is None or not user.active:
        return LoginResult.BAD, None
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:  # SQLite drops the zone
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until and locked_until > now:
        return LoginResult.LOCKED, user
    if not user.check_password(password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_logins = 0
            return LoginResult.LOCKED, user
        return LoginResult.BAD, user
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    return LoginResult.OK, user


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def verify_totp(secret: str | None, code: str) -> bool:
    code = (code or "").replace(" ", "")
    return bool(secret) and code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1)
