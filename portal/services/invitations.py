"""Inviting a user by e-mail: a link with which they choose their own password.

The link carries a signed token with the user's id and session version, valid for
``VALID_HOURS``. Setting the password bumps the session version, so a link works once; inviting
again bumps it too, so only the newest link works.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from portal.models import User
from portal.services import audit, mail
from portal.services.sessions import end_all
from portal.services.users import password_problem

VALID_HOURS = 72
_SALT = "portal-uitnodiging"


class InvitationError(ValueError):
    """The link cannot be used (Dutch message for the person who clicked it)."""


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def make_token(secret_key: str, user: User) -> str:
    return _serializer(secret_key).dumps({"u": user.id, "v": user.session_version})


def user_for_token(session: Session, secret_key: str, token: str) -> User:
    try:
        data = _serializer(secret_key).loads(token, max_age=VALID_HOURS * 3600)
    except SignatureExpired as exc:
        raise InvitationError(
            f"Deze uitnodiging is verlopen (na {VALID_HOURS} uur). Vraag de beheerder om een "
            "nieuwe uitnodiging."
        ) from exc
    except BadSignature as exc:
        raise InvitationError("Deze link is niet geldig.") from exc
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or user.session_version != data.get("v"):
        raise InvitationError(
            "Deze uitnodiging is al gebruikt of vervangen door een nieuwere. Log in, of vraag de "
            "beheerder om een nieuwe uitnodiging."
        )
    return user


def unusable_password() -> str:
    """A password nobody knows, for an invited user until they choose their own."""
    return secrets.token_urlsafe(32)


def send(
    session: Session,
    config: Mapping[str, Any],
    user: User,
    *,
    link_for: Any,
    organisation: str,
    actor_id: int | None,
) -> str:
    """Send (again) an invitation; earlier links stop working. ``link_for(token)`` makes the URL."""
    user.session_version = (user.session_version or 0) + 1
    end_all(session, user.id)
    session.flush()
    link = link_for(make_token(config["SECRET_KEY"], user))
    msg = mail.build_message(
        sender=config.get("MAIL_FROM") or "noreply@localhost",
        sender_name=organisation,
        to=user.email,
        subject=f"Uitnodiging voor het declaratieportaal van {organisation}",
        body=(
            f"Beste {user.naam},\n\n"
            f"U heeft een account gekregen voor het declaratieportaal van {organisation}.\n"
            f"Kies via deze link zelf een wachtwoord (de link werkt één keer en "
            f"{VALID_HOURS} uur lang):\n\n{link}\n\n"
            "Daarna logt u in met uw e-mailadres en dat wachtwoord.\n"
            "Verwachtte u deze uitnodiging niet? Dan kunt u dit bericht negeren.\n"
        ),
    )
    where = mail.send(config, msg)
    audit.record(
        session,
        "gebruiker.uitgenodigd",
        user_id=actor_id,
        object_type="user",
        object_id=user.id,
        detail={"email": user.email},
    )
    return where


def accept(session: Session, user: User, password: str, repeat: str) -> None:
    """Set the invited user's own password (the link is spent by it)."""
    if password != repeat:
        raise InvitationError("De twee wachtwoorden zijn niet gelijk.")
    if problem := password_problem(password):
        raise InvitationError(problem)
    user.set_password(password)  # bumps the session version: the link is used up
    user.failed_logins, user.locked_until = 0, None
    audit.record(
        session,
        "gebruiker.uitnodiging-gebruikt",
        user_id=user.id,
        object_type="user",
        object_id=user.id,
    )
