"""Koppelingen and their API tokens: create, find by token, revoke, record use.

A token is ``dpk_`` plus 32 random bytes (URL-safe base64). Only its SHA-256 is stored: with that
much randomness a slow password hash adds nothing, and the lookup is one indexed equality. The
token itself is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import ApiKoppeling, ApiToken
from portal.models._base import utcnow
from portal.models.api import SCOPES
from portal.services import audit, statuses

TOKEN_PREFIX = "dpk_"
MAX_DAYS = 2 * 366


class TokenInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_koppeling(
    session: Session,
    *,
    naam: str,
    omschrijving: str = "",
    webhook_url: str = "",
    user_id: int | None,
) -> ApiKoppeling:
    naam = (naam or "").strip()
    errors: dict[str, str] = {}
    if not naam:
        errors["naam"] = "Geef de koppeling een naam, bijvoorbeeld de naam van het ECD."
    elif len(naam) > 100:
        errors["naam"] = "De naam mag hoogstens 100 tekens hebben."
    elif session.scalar(select(ApiKoppeling.id).where(ApiKoppeling.naam == naam)):
        errors["naam"] = "Er is al een koppeling met deze naam."
    url = (webhook_url or "").strip()
    if problem := check_webhook_url(url):
        errors["webhook_url"] = problem
    if errors:
        raise TokenInvalid(errors)
    koppeling = ApiKoppeling(
        naam=naam,
        omschrijving=(omschrijving or "").strip()[:2000] or None,
        actief=True,
        webhook_url=url or None,
        webhook_secret=secrets.token_urlsafe(32) if url else None,
        webhook_cursor=statuses.latest_cursor(session) if url else None,
        created_by=user_id,
    )
    session.add(koppeling)
    session.flush()
    audit.record(
        session,
        "api.koppeling_aangemaakt",
        user_id=user_id,
        object_type="api_koppeling",
        object_id=koppeling.id,
        detail={"naam": naam, "webhook": bool(url)},
    )
    return koppeling


def check_webhook_url(url: str) -> str | None:
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        return "Vul een volledig webadres in, bijvoorbeeld https://ecd.example.nl/portaal-hook."
    if len(url) > 500:
        return "Het webadres mag hoogstens 500 tekens hebben."
    return None


def set_webhook(
    session: Session, koppeling: ApiKoppeling, url: str, *, user_id: int | None
) -> None:
    url = (url or "").strip()
    if problem := check_webhook_url(url):
        raise TokenInvalid({"webhook_url": problem})
    if url and not koppeling.webhook_url:  # from now on; earlier changes are in the feed
        koppeling.webhook_cursor = statuses.latest_cursor(session)
    koppeling.webhook_url = url or None
    if url and not koppeling.webhook_secret:
        koppeling.webhook_secret = secrets.token_urlsafe(32)
    if not url:
        koppeling.webhook_secret = None
    audit.record(
        session,
        "api.webhook_gewijzigd",
        user_id=user_id,
        object_type="api_koppeling",
        object_id=koppeling.id,
        detail={"webhook": bool(url)},
    )


@dataclass
class MadeToken:
    token: str  # shown once
    row: ApiToken


def create_token(
    session: Session,
    koppeling: ApiKoppeling,
    *,
    naam: str,
    scopes: list[str],
    days: int | str,
    user_id: int | None,
    rate_limit_per_minute: int = 600,
    now: datetime | None = None,
) -> MadeToken:
    errors: dict[str, str] = {}
    naam = (naam or "").strip() or "Token"
    if len(naam) > 100:
        errors["naam"] = "De naam mag hoogstens 100 tekens hebben."
    chosen = [s for s in scopes if s in SCOPES]
    if not chosen or len(chosen) != len(set(scopes)):
        errors["scopes"] = "Kies ten minste één bevoegdheid."
    try:
        n_days = int(str(days).strip())
    except ValueError:
        n_days = 0
    if not 1 <= n_days <= MAX_DAYS:
        errors["dagen"] = f"Een token is 1 tot {MAX_DAYS} dagen geldig."
    if not koppeling.actief:
        errors["_form"] = "Deze koppeling is uitgeschakeld."
    if errors:
        raise TokenInvalid(errors)
    token = new_token()
    now = now or utcnow()
    row = ApiToken(
        koppeling_id=koppeling.id,
        naam=naam,
        prefix=token[:12],
        token_hash=hash_token(token),
        scopes=sorted(set(chosen)),
        expires_at=now + timedelta(days=n_days),
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "api.token_aangemaakt",
        user_id=user_id,
        object_type="api_token",
        object_id=row.id,
        detail={"koppeling": koppeling.naam, "scopes": row.scopes, "dagen": n_days},
    )
    return MadeToken(token, row)


def revoke_token(session: Session, token: ApiToken, *, user_id: int | None) -> bool:
    """Intrekken: from this moment the token is refused. A second click changes nothing."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    token.revoked_by = user_id
    audit.record(
        session,
        "api.token_ingetrokken",
        user_id=user_id,
        object_type="api_token",
        object_id=token.id,
        detail={"koppeling_id": token.koppeling_id},
    )
    return True


@dataclass
class TokenCheck:
    token: ApiToken | None
    problem: str | None  # Dutch reason when refused
    code: str | None = None


def find_token(session: Session, raw: str | None, *, now: datetime | None = None) -> TokenCheck:
    """The token a request carries, or why it is refused."""
    if not raw:
        return TokenCheck(
            None,
            "Geen API-token meegestuurd. Stuur de kop 'Authorization: Bearer <token>'.",
            "token-ontbreekt",
        )
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if row is None:
        return TokenCheck(None, "Dit API-token is onbekend.", "token-onbekend")
    now = now or utcnow()
    if row.revoked_at is not None:
        return TokenCheck(row, "Dit API-token is ingetrokken.", "token-ingetrokken")
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite gives naive datetimes back
        expires = expires.replace(tzinfo=UTC)
    if expires <= now:
        return TokenCheck(
            row, f"Dit API-token is verlopen op {expires:%d-%m-%Y}.", "token-verlopen"
        )
    koppeling = session.get(ApiKoppeling, row.koppeling_id)
    if koppeling is None or not koppeling.actief:
        return TokenCheck(row, "De koppeling van dit API-token is uitgeschakeld.", "koppeling-uit")
    return TokenCheck(row, None)


def touch(session: Session, token_id: int, when: datetime | None = None) -> None:
    session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=when or utcnow())
    )


def koppelingen(session: Session) -> list[ApiKoppeling]:
    return list(session.scalars(select(ApiKoppeling).order_by(ApiKoppeling.naam)))
