"""Which clients a care professional may register care for, and every look-up of them.

A Zorgprofessional sees a client when the client belongs to the professional's team
(``Client.team`` equals ``User.team``) or when the back office assigned the professional to the
client (``ClientAssignment``, for care outside the own team). Everything else is, for them, a
client that does not exist: searching does not find it and a posted id gets the same "Kies een
cliënt." as an id that was never used.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from portal.domain import Role
from portal.models import Client, ClientAssignment, User
from portal.services import audit


def visible_clause(user_id: int, team: str | None) -> ColumnElement[bool]:
    """SQL condition on ``Client``: the clients this professional may register for."""
    assigned = exists().where(
        ClientAssignment.client_id == Client.id, ClientAssignment.user_id == user_id
    )
    own_team = func.lower(Client.team) == team.strip().lower() if team and team.strip() else false()
    return or_(own_team, assigned)


def may_register_for(session: Session, user: User, client_id: int) -> bool:
    return (
        session.scalar(
            select(Client.id).where(
                and_(Client.id == client_id, visible_clause(user.id, user.team))
            )
        )
        is not None
    )


def record_lookup(
    session: Session,
    user_id: int,
    client_ids: list[int],
    action: str,
    *,
    ip: str | None = None,
    path: str | None = None,
) -> None:
    """One audit event per client whose data was shown (NEN 7513: who saw which client, when)."""
    for client_id in dict.fromkeys(client_ids):
        audit.record(
            session,
            action,
            user_id=user_id,
            object_type="client",
            object_id=client_id,
            client_id=client_id,
            detail={"path": path} if path else None,
            ip=ip,
        )


# -- the back office manages assignments --------------------------------------------------------


def care_staff(session: Session) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.ZORGPROFESSIONAL.value, User.active)
            .order_by(func.lower(User.naam))
        )
    )


def assigned_staff(session: Session, client_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(ClientAssignment, ClientAssignment.user_id == User.id)
            .where(ClientAssignment.client_id == client_id)
            .order_by(func.lower(User.naam))
        )
    )


def team_staff(session: Session, team: str | None) -> list[User]:
    if not team or not team.strip():
        return []
    return list(
        session.scalars(
            select(User)
            .where(
                User.role == Role.ZORGPROFESSIONAL.value,
                User.active,
                func.lower(User.team) == team.strip().lower(),
            )
            .order_by(func.lower(User.naam))
        )
    )


def assign(session: Session, client_id: int, user: User, *, actor_id: int | None) -> bool:
    """Let ``user`` register for the client; False when already assigned (a second click)."""
    if session.get(ClientAssignment, (client_id, user.id)) is not None:
        return False
    session.add(ClientAssignment(client_id=client_id, user_id=user.id))
    audit.record(
        session,
        "client.medewerker-toegewezen",
        user_id=actor_id,
        object_type="client",
        object_id=client_id,
        client_id=client_id,
        detail={"medewerker": user.id},
    )
    return True


def unassign(session: Session, client_id: int, user_id: int, *, actor_id: int | None) -> bool:
    row = session.get(ClientAssignment, (client_id, user_id))
    if row is None:
        return False
    session.delete(row)
    audit.record(
        session,
        "client.medewerker-verwijderd",
        user_id=actor_id,
        object_type="client",
        object_id=client_id,
        client_id=client_id,
        detail={"medewerker": user_id},
    )
    return True
