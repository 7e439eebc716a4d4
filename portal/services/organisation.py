from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Organisation


def get_organisation(session: Session) -> Organisation | None:
    """The one organisation of this installation (None before set-up)."""
    return session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).first()
