"""The audit trail: who did or saw what. Written in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.models import AuditEvent


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
