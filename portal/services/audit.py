"""The audit trail: who did or saw what. Written in the same transaction as the change itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.models import AuditEvent, Client, User


def record(
    session: Session,
    action: str,
    *,
    user_id: int | None,
    object_type: str | None = None,
    object_id: Any = None,
    client_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        user_id=user_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        client_id=client_id,
        detail=detail or {},
        ip=ip,
    )
    session.add(event)
    return event


# -- reading the trail (NEN 7513: who looked at which client, when) ---------------------------

ACTION_LABELS = {
    "login": "Ingelogd",
    "logout": "Uitgelogd",
    "login.mislukt": "Inloggen mislukt",
    "login.code-mislukt": "Onjuiste code bij inloggen",
    "client.bekeken": "Cliënt bekeken",
    "client.bsn_getoond": "Volledig BSN getoond",
    "client.bsn-gezocht": "Gezocht op BSN",
    "client.formulier_bekeken": "Cliëntformulier geopend",
    "legitimatie.formulier_bekeken": "Legitimatieformulier geopend",
    "zorg.client-gezocht": "Cliënt gevonden bij registreren",
    "zorg.client-getoond": "Cliënt getoond bij registreren",
    "factuur.bekeken": "Factuur bekeken",
    "factuur.pdf": "Factuur-PDF geopend",
    "factuurrun.zip": "Alle facturen van een run gedownload",
    "declaratie.bekeken": "Declaratie bekeken",
    "bericht.bekeken": "Bericht bekeken",
    "bericht.gedownload": "Bericht gedownload",
    "audit.bekeken": "Audittrail doorzocht",
    "audit.geexporteerd": "Audittrail geëxporteerd",
}


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


@dataclass
class AuditFilter:
    """What the audit screen searches on. ``client_ids`` is resolved from a client term."""

    gebruiker: str = ""
    client: str = ""
    actie: str = ""
    van: date | None = None
    tot: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.gebruiker or self.client or self.actie or self.van or self.tot)


def matching_clients(session: Session, term: str, limit: int = 200) -> list[int]:
    """Client ids for a term: a BSN (with or without dots), a client number or a surname."""
    term = term.strip()
    digits = re.sub(r"[.\s]", "", term)
    if re.fullmatch(r"\d{9}", digits):
        q = select(Client.id).where(or_(Client.bsn == digits, Client.clientnummer == term))
    elif term.isdigit() and len(term) <= 18:
        q = select(Client.id).where(or_(Client.id == int(term), Client.clientnummer == term))
    else:
        q = select(Client.id).where(
            or_(
                func.lower(Client.achternaam) == term.lower(),
                Client.clientnummer == term,
            )
        )
    return list(session.scalars(q.limit(limit)))


def search(
    session: Session, flt: AuditFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[tuple[AuditEvent, User | None, Client | None]], bool]:
    """Events newest first with their user and client; and whether there are more."""
    q = (
        select(AuditEvent, User, Client)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .outerjoin(Client, Client.id == AuditEvent.client_id)
    )
    if flt.gebruiker:
        like = f"%{flt.gebruiker.strip().lower()}%"
        q = q.where(or_(func.lower(User.email).like(like), func.lower(User.naam).like(like)))
    if flt.client:
        q = q.where(AuditEvent.client_id.in_(matching_clients(session, flt.client)))
    if flt.actie:
        q = q.where(AuditEvent.action.like(f"{flt.actie.strip()}%"))
    if flt.van:
        q = q.where(AuditEvent.at >= datetime.combine(flt.van, time.min, tzinfo=AMSTERDAM))
    if flt.tot:
        q = q.where(
            AuditEvent.at
            < datetime.combine(flt.tot + timedelta(days=1), time.min, tzinfo=AMSTERDAM)
        )
    rows = session.execute(
        q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset).limit(limit + 1)
    ).all()
    return [tuple(r) for r in rows[:limit]], len(rows) > limit
