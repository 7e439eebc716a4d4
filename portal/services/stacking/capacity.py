"""Capacity: which legitimations a registration's care flows through and what they hold per week.

The same stacks the allocation uses (DESIGN §6.1–6.4 and §6.9: top legitimation by the
uursoort's financieringsprioriteit, then the lower legitimations its stack rule chain reaches),
for those who only need to know where care would go and how much fits — approval's warnings::

    capacity = Capacity(session, start=..., end=..., client_ids=[...], stackable=...)
    stack = capacity.stack(client_id, product_id, uursoort_id, day)
    stack.top, stack.levels, stack.stacked, stack.weekly_room   # None: no weekly limit
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from portal.services.stacking.allocation import _INF, _Context
from portal.services.stacking.weeks import week_start


@dataclass(frozen=True, slots=True)
class Level:
    """One legitimation in a stack."""

    legitimation_id: int
    financing: str
    weekly_minutes: int | None  # its weekly volume in minutes; None: no weekly limit


@dataclass(frozen=True, slots=True)
class Stack:
    """Where a registration's care goes: ``levels`` top first (empty: no legitimation covers
    it); ``stacked``: the care overflows down the levels, otherwise it all goes to the top."""

    levels: tuple[Level, ...]
    stacked: bool
    weekly_room: int | None  # what the stack holds in a week; None: no weekly limit

    @property
    def top(self) -> Level | None:
        return self.levels[0] if self.levels else None


NO_STACK = Stack((), False, None)


class Capacity:
    """The client's legitimations valid in the whole ISO weeks around [start, end], loaded once,
    set-based. ``stackable(financing)`` says whether a financing's plugin can stack (from the
    ``Hooks`` facade)."""

    def __init__(
        self,
        session: Session,
        *,
        start: date,
        end: date,
        stackable: Callable[[str | None], bool],
        client_ids: Iterable[int] | None = None,
    ):
        self._ctx = _Context(
            session,
            week_start(start),
            week_start(end) + timedelta(days=6),
            list(client_ids) if client_ids is not None else None,
            stackable,
        )
        self._stacks: dict[tuple, Stack] = {}
        self._levels: dict[int, Level] = {}

    def product_uursoort(self, product_id: int) -> int | None:
        return self._ctx.product_uursoort.get(product_id)

    def stack(self, client_id: int, product_id: int, uursoort_id: int | None, day: date) -> Stack:
        """The stack of care for this client and product (registered under ``uursoort_id``,
        else the product's own uursoort) on ``day``."""
        ctx = self._ctx
        uid = uursoort_id or ctx.product_uursoort.get(product_id)
        key = (client_id, product_id, uid, bisect_right(ctx.bounds.get(client_id, ()), day))
        hit = self._stacks.get(key)
        if hit is None:
            legits, stacked = ctx.stack_for(client_id, product_id, uid, day)
            if not legits:
                hit = NO_STACK
            else:
                levels = tuple(self._level(lg) for lg in legits)
                caps = [lg.cap for lg in (legits if stacked else legits[:1])]
                room = sum(caps)
                hit = Stack(levels, stacked, None if room >= _INF else room)
            self._stacks[key] = hit
        return hit

    def _level(self, lg) -> Level:
        level = self._levels.get(lg.id)
        if level is None:
            cap = None if lg.cap >= _INF else lg.cap
            level = self._levels[lg.id] = Level(lg.id, lg.financing, cap)
        return level


__all__ = ["NO_STACK", "Capacity", "Level", "Stack"]
