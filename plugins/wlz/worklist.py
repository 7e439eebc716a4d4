"""What the Wlz chain asks of the back office, as SQL conditions shared by the worklist screen and
the start page counts (so the two never disagree):

* new toewijzingen to start (an AW35, or an AW39 "nog niet" when care cannot start yet);
* toewijzingen that ended, changed or were withdrawn after care started: an AW39 is due;
* meldingen the zorgkantoor rejected (AW36/AW310 with a retourcode);
* AW33/AW35/AW39 traffic without an answer after one working day (iWlz OP090: the zorgkantoor
  answers within one).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from plugins.wlz import chain
from portal.domain import ActionCount, MenuItem
from portal.models import Legitimation, Message

ANSWER_WORKDAYS = 1


def _aw33(stand):
    return and_(
        Legitimation.financing == chain.CODE,
        Legitimation.toewijzingnummer.is_not(None),
        stand,
    )


def to_start():
    return _aw33(and_(Legitimation.status == "actief", Legitimation.keten_stand == chain.NIEUW))


def to_end(today: date):
    return _aw33(
        or_(
            Legitimation.keten_stand == chain.EINDE_MELDEN,
            and_(
                Legitimation.keten_stand == "gestart",
                or_(Legitimation.status != "actief", Legitimation.einddatum < today),
            ),
        )
    )


def rejected():
    return _aw33(Legitimation.keten_stand.in_(("start_afgewezen", "mutatie_afgewezen")))


def workday_before(day: date, n: int = ANSWER_WORKDAYS) -> date:
    while n > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def unanswered(now: datetime | None = None):
    now = now or datetime.now().astimezone()
    cutoff = datetime.combine(
        workday_before(now.date()), time(now.hour, now.minute), tzinfo=now.tzinfo
    )
    return and_(
        Message.financing == chain.CODE,
        Message.direction == "uit",
        Message.code.in_(("AW35", "AW39")),
        Message.status.in_(("verzonden", "bezorgd")),
        Message.sent_at < cutoff,
    )


def action_counts(session: Session, today: date) -> list[ActionCount]:
    start, end, bad = session.execute(
        select(
            func.count(Legitimation.id).filter(to_start()),
            func.count(Legitimation.id).filter(to_end(today)),
            func.count(Legitimation.id).filter(rejected()),
        ).where(Legitimation.financing == chain.CODE)
    ).one()
    late = session.scalar(select(func.count(Message.id)).where(unanswered())) or 0
    item = dict(endpoint="wlz.index", permission="legitimations.view")
    return [
        ActionCount("wlz.starten", "Wlz-toewijzingen zonder start (AW35)", start or 0, **item),
        ActionCount(
            "wlz.einde", "Wlz-toewijzingen beëindigd of gewijzigd: AW39 melden", end or 0, **item
        ),
        ActionCount(
            "wlz.afgewezen", "Wlz-meldingen afgewezen door het zorgkantoor", bad or 0, **item
        ),
        ActionCount(
            "wlz.onbeantwoord",
            "Wlz-meldingen zonder antwoord na een werkdag",
            late,
            endpoint="wlz.index",
            permission="messages.view",
        ),
    ]


def menu_items() -> list[MenuItem]:
    return [MenuItem("wlz.index", "Wlz", "legitimations.view")]
