"""Allocation: the weekly computation (DESIGN §6).

Week totals are computed set-based (SQL sums per client-week) wherever the order of the
registrations cannot change the outcome, and by walking every registration elsewhere; the
per-registration allocations are built by that exact walk when first asked for, in the same
session (so read them before the session closes).

``allocate`` looks at approved registrations (status ``gefiatteerd``; credited originals and credit
rows left out, so it always shows the current truth) of every whole ISO week overlapping
[start, end] — the whole week, always (§6.5, §6.8). Per client-week it takes the care in the
order it was delivered (``CARE_ORDER``: day, start time, then ties broken by what was registered,
never by the order of storage, §6.11):

1. the top legitimation of a registration is the client's legitimation valid on that day that
   covers the product (a legitimation without products covers every product) and whose financing
   is in the uursoort's financieringsprioriteit, taking that list's order first, then
   ``Legitimation.priority`` (1 first), then id;
2. a registration takes part in stacking when its product has a time unit, has a StackRule, and
   the top financing's plugin says ``can_stack`` (Wmo/Jw never). Its levels are the top, then the
   lower legitimations that hold the product it overflows onto (``StackRule`` chain), of
   financings in the uursoort's list only (§6.9);
3. every other registration goes 1:1 to its top legitimation (no cap: being above the volume is a
   warning at approval), or is "niet gedekt" when the client has no legitimation for it. Its
   time-based care uses the legitimation's weekly volume, whatever day it was delivered (§6.10);
4. stacked care then fills each level up to what is left of its weekly volume, in the order of
   care; what exceeds all levels is "niet gedekt" (``legitimation_id=None``);
5. rounding (§6.6, §6.11): per stack (client, week, top legitimation, product) the top
   legitimation's contract line rounding (``afronding_minuten``/``afronding_wijze`` of the
   contract line for the top's financier and the registered product) applies to every part,
   rounded cumulatively so the parts add up to the rounded stack total. Minutes added by rounding
   stay in their stack and move down its levels, then to "niet gedekt"; they only take room on a
   legitimation that no exact care holds, and never put a legitimation above its weekly volume.
   ``round_minutes`` is the one rounding function.

Weekly volume: ``volume`` in ``eenheid`` uur/minuut per ``frequentie`` week (dag: ×7). Other
frequencies (maand, jaar, totaal) or non-time units have no weekly cap here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from portal.domain import Unit
from portal.models import (
    Contract,
    ContractLine,
    Legitimation,
    Product,
    Registration,
    StackRule,
    UursoortFinancing,
    legitimation_product,
)
from portal.models.registration import REG_APPROVED
from portal.services.stacking.weeks import week_start

if TYPE_CHECKING:
    from portal.plugins import Hooks

_INF = 10**12


@dataclass(frozen=True)
class Allocation:
    registration_id: int
    client_id: int
    product_id: int  # the product the care was registered on
    day: date
    week_start: date  # Monday of the ISO week
    legitimation_id: int | None  # None = "niet gedekt"
    financing: str | None
    minutes: int  # this registration's part on this legitimation (exact, before rounding)
    aantal: int = 0  # quantity for non-time products (minutes is then 0)


@dataclass(frozen=True)
class WeekTotal:
    client_id: int
    week_start: date
    legitimation_id: int | None
    financing: str | None
    minutes: int  # rounded with the top financing's rounding of the stack
    aantal: int = 0  # quantity for non-time products
    exact_minutes: int = 0  # before rounding


_ALL = object()
_CLIENT_WEEK = attrgetter("client_id", "week_start")


class StackResult:
    """What ``allocate`` found. ``allocations`` is built on first use from compact rows (a year
    of an organisation is millions of them; most exports only need one financing's:
    ``allocations_for(financing)``)."""

    def __init__(
        self,
        allocations: list[Allocation] | None = None,
        week_totals: list[WeekTotal] | None = None,
        not_covered: list[WeekTotal] | None = None,
        weeks: list[date] | None = None,
        *,
        rows: list[tuple] | None = None,
        loader: Callable | None = None,
    ):
        self._allocations = allocations
        self._rows = rows if allocations is None else None
        self._loader = loader
        self.walked = 0
        self.week_totals = week_totals or []
        self.not_covered = not_covered or []
        self.weeks = weeks or []

    @property
    def allocations(self) -> list[Allocation]:
        if self._allocations is None:
            if self._rows is None and self._loader is not None:
                self._rows = self._loader()
            self._allocations = [Allocation(*r) for r in self._rows or ()]
            self._rows = None
        return self._allocations

    def allocations_for(self, financing: str | None) -> list[Allocation]:
        """One financing's allocations (``None``: the "niet gedekt" parts)."""
        if self._allocations is not None:
            return [a for a in self._allocations if a.financing == financing]
        if self._rows is None and self._loader is not None:
            return [Allocation(*r) for r in self._loader(financing)]
        return [Allocation(*r) for r in self._rows or () if r[6] == financing]

    def for_financing(self, financing: str) -> list[WeekTotal]:
        return [w for w in self.week_totals if w.financing == financing]


# -- financing capabilities (from the plugins) --------------------------------------------------


def can_stack(hooks: Hooks) -> Callable[[str | None], bool]:
    """Whether a financing takes part in stacking, as its plugin says (``FinancingInfo.can_stack``
    through the ``Hooks`` facade); Wmo and Jeugdwet never do (§6.4)."""
    can = {code: info.can_stack for code, info in hooks.financings.items()}
    return lambda financing: bool(financing) and can.get(financing, False)


# -- loading ------------------------------------------------------------------------------------


@dataclass
class _Legit:
    id: int
    financing: str
    financier_id: int
    begin: date
    end: date | None
    priority: int
    cap: int  # weekly minutes, _INF for none
    products: frozenset[int]  # empty = every product


@cache
def _unit_minutes(eenheid: str) -> int | None:
    try:
        return Unit(eenheid).minutes
    except ValueError:
        return None


def _weekly_cap(volume, eenheid, frequentie) -> int:
    if volume is None or not eenheid:
        return _INF
    per = _unit_minutes(eenheid)
    if per is None:
        return _INF
    if frequentie == "week":
        return volume * per
    if frequentie == "dag":
        return volume * per * 7
    return _INF


def round_minutes(minutes: int, step: int, how: str) -> int:
    """The one rounding of DESIGN §6.6: ``minutes`` to a multiple of ``step`` (0: as is),
    ``how`` "omhoog" (up), "omlaag" (down) or "dichtstbij" (nearest, a half step up). Zero and
    negative minutes stay as they are."""
    if step <= 0 or minutes <= 0:
        return minutes
    q, r = divmod(minutes, step)
    if r == 0:
        return minutes
    if how == "omhoog":
        return (q + 1) * step
    if how == "omlaag":
        return q * step
    return (q + 1) * step if r * 2 >= step else q * step


_round = round_minutes


class _Context:
    """Everything allocation needs besides the registrations, loaded set-based."""

    def __init__(self, session: Session, ws: date, we: date, client_ids, stackable):
        self.stackable = stackable
        self.products: dict[int, tuple[bool, int | None]] = {
            pid: (Unit(eenheid).is_time, uursoort_id)
            for pid, eenheid, uursoort_id in session.execute(
                select(Product.id, Product.eenheid, Product.uursoort_id)
            )
        }
        self.product_uursoort = {pid: u for pid, (_t, u) in self.products.items()}
        self.product_time = {pid: t for pid, (t, _u) in self.products.items()}
        self.uursoort_order: dict[int, dict[str, int]] = defaultdict(dict)
        for uid, fin, pos in session.execute(
            select(
                UursoortFinancing.uursoort_id,
                UursoortFinancing.financing,
                UursoortFinancing.position,
            )
        ):
            self.uursoort_order[uid][fin] = pos
        self.rules: dict[int, int] = dict(
            session.execute(select(StackRule.product_id, StackRule.onto_product_id)).all()
        )
        lq = select(
            Legitimation.id,
            Legitimation.client_id,
            Legitimation.financing,
            Legitimation.financier_id,
            Legitimation.begindatum,
            Legitimation.einddatum,
            Legitimation.priority,
            Legitimation.volume,
            Legitimation.eenheid,
            Legitimation.frequentie,
        ).where(
            Legitimation.status == "actief",
            Legitimation.begindatum <= we,
            or_(Legitimation.einddatum.is_(None), Legitimation.einddatum >= ws),
        )
        pq = select(legitimation_product.c.legitimation_id, legitimation_product.c.product_id)
        if client_ids is not None:
            lq = lq.where(Legitimation.client_id.in_(client_ids))
            pq = pq.join(Legitimation, Legitimation.id == legitimation_product.c.legitimation_id)
            pq = pq.where(Legitimation.client_id.in_(client_ids))
        lprod: dict[int, set[int]] = defaultdict(set)
        for lid, pid in session.execute(pq):
            lprod[lid].add(pid)
        # (client, week) where a legitimation starts or ends mid-week: stacks vary per day there
        self.edge_weeks: set[tuple[int, date]] = set()
        # per client the dates on which a legitimation starts or stops being valid
        self.bounds: dict[int, list[date]] = defaultdict(list)
        self.legits: dict[int, list[_Legit]] = defaultdict(list)
        self.legit_by_id: dict[int, _Legit] = {}
        for lid, cid, fin, fid, begin, end, prio, vol, eenheid, freq in session.execute(lq):
            lg = _Legit(
                lid,
                fin,
                fid,
                begin,
                end,
                prio or 1,
                _weekly_cap(vol, eenheid, freq),
                frozenset(lprod.get(lid, ())),
            )
            self.legits[cid].append(lg)
            self.legit_by_id[lid] = lg
            for edge in (begin, end + timedelta(days=1) if end else None):
                if edge is None:
                    continue
                self.bounds[cid].append(edge)
                if edge.weekday() != 0:
                    self.edge_weeks.add((cid, edge - timedelta(days=edge.weekday())))
        self.rounding: dict[tuple[int, int], list[tuple[date, date | None, int, str]]] = (
            defaultdict(list)
        )
        for fid, pid, b, e, mins, how in session.execute(
            select(
                Contract.financier_id,
                ContractLine.product_id,
                ContractLine.begindatum,
                ContractLine.einddatum,
                ContractLine.afronding_minuten,
                ContractLine.afronding_wijze,
            ).join(Contract, Contract.id == ContractLine.contract_id)
        ):
            self.rounding[(fid, pid)].append((b, e, mins or 0, how or "dichtstbij"))
        for b in self.bounds.values():
            b.sort()
        self._stack_cache: dict = {}

    def rounding_for(self, legit_id: int | None, product_id: int, ws: date) -> tuple[int, str]:
        if legit_id is None:
            return 0, "dichtstbij"
        lg = self.legit_by_id[legit_id]
        we = ws + timedelta(days=6)
        for b, e, mins, how in self.rounding.get((lg.financier_id, product_id), ()):
            if b <= we and (e is None or e >= ws):
                return mins, how
        return 0, "dichtstbij"

    def stack_for(self, client_id: int, product_id: int, uursoort_id: int | None, day: date):
        """(levels, stacked): the legitimations a registration flows through, top first."""
        # the valid legitimations only change at a client's bounds: cache per segment between them
        seg = bisect_right(self.bounds.get(client_id, ()), day)
        key = (client_id, product_id, uursoort_id, seg)
        hit = self._stack_cache.get(key)
        if hit is not None:
            return hit
        order = self.uursoort_order.get(uursoort_id) if uursoort_id else None
        valid = [
            lg
            for lg in self.legits.get(client_id, ())
            if lg.begin <= day and (lg.end is None or day <= lg.end)
        ]

        def rank(lg: _Legit):
            pos = order.get(lg.financing, 10**6) if order else 0
            return (pos, lg.priority, lg.id)

        valid.sort(key=rank)
        covering = [
            lg
            for lg in valid
            if (not lg.products or product_id in lg.products)
            and (not order or lg.financing in order)
        ]
        if not covering:
            result = ((), False)
        else:
            top = covering[0]
            is_time = self.products.get(product_id, (False, None))[0]
            if not is_time or product_id not in self.rules or not self.stackable(top.financing):
                result = ((top,), False)
            else:
                levels = [top]
                chain, cur, seen = [], product_id, {product_id}
                while cur in self.rules:
                    nxt = self.rules[cur]
                    chain.append(nxt)
                    if nxt in seen:
                        break
                    seen.add(nxt)
                    cur = nxt
                # §6.9: overflow only onto financings in the uursoort's priority list
                below = [
                    lg for lg in valid[valid.index(top) + 1 :] if not order or lg.financing in order
                ]
                for q in chain:
                    for lg in below:
                        if (
                            lg not in levels
                            and (not lg.products or q in lg.products)
                            and self.stackable(lg.financing)
                        ):
                            levels.append(lg)
                result = (tuple(levels), True)
        self._stack_cache[key] = result
        return result


# §6.11: care is taken in the order it was delivered (day, start time), and that order is total
# and the same on every database: registrations without a start time come after the timed ones
# of their day (SQLite would put NULLs first, PostgreSQL last), ties go by duration, product,
# uursoort and employee, so the order in which registrations were entered or stored (their id)
# only separates registrations that are the same in everything the allocation looks at.
CARE_ORDER = (
    "client_id, datum, starttijd NULLS LAST, duur_minuten NULLS LAST, product_id, "
    "uursoort_id NULLS LAST, employee_id, id"
)


def _registration_rows(session: Session, ws: date, we: date, client_ids, only=None):
    """Approved registrations per client in the order of care (``CARE_ORDER``); ``only``
    (client-weeks) may narrow them down to those weeks (the caller still skips any others)."""
    if session.get_bind().dialect.name == "postgresql":
        yield from _registration_rows_pg(session, ws, we, client_ids, only)
        return
    q = (
        select(
            Registration.id,
            Registration.client_id,
            Registration.product_id,
            Registration.uursoort_id,
            Registration.datum,
            Registration.duur_minuten,
            Registration.aantal,
        )
        .where(
            Registration.status == REG_APPROVED,
            Registration.credit_of_id.is_(None),
            Registration.datum >= ws,
            Registration.datum <= we,
        )
        .order_by(text(CARE_ORDER))
    )
    if client_ids is not None:
        q = q.where(Registration.client_id.in_(client_ids))
    yield from session.execute(q.execution_options(yield_per=20000))


_ONLY_JOIN_MAX = 20_000  # client-weeks; more: read the clients' whole period instead


def _registration_rows_pg(session: Session, ws: date, we: date, client_ids, only=None):
    """The same rows as plain tuples straight from psycopg (a server-side cursor): the ORM
    result machinery costs more than the allocation itself on a year of registrations."""
    params: list = []
    join = ""
    if only is not None and len(only) <= _ONLY_JOIN_MAX:
        # just the weeks asked for (the few walked ones), not the clients' whole period
        keys = sorted(only)
        join = (
            "JOIN unnest(%s::int[], %s::date[]) AS only_week(c, w) "
            f"ON client_id = only_week.c AND {_WEEK_SQL['postgresql']} = only_week.w "
        )
        params += [[c for c, _w in keys], [w for _c, w in keys]]
    sql = (
        "SELECT id, client_id, product_id, uursoort_id, datum, duur_minuten, aantal "
        f"FROM registration {join}WHERE status = %s AND credit_of_id IS NULL "
        "AND datum >= %s AND datum <= %s"
    )
    params += [REG_APPROVED, ws, we]
    if client_ids is not None:
        sql += " AND client_id = ANY(%s)"
        params.append(list(client_ids))
    sql += f" ORDER BY {CARE_ORDER}"
    raw = session.connection().connection.driver_connection
    with raw.cursor(name="stacking_rows", binary=True) as cur:
        cur.execute(sql, params)
        while True:
            batch = cur.fetchmany(50_000)
            if not batch:
                break
            yield from batch


# -- allocation ---------------------------------------------------------------------------------


class _Group:
    """One stack within a client-week: its levels in order and the exact minutes per level."""

    __slots__ = ("aantal", "order", "parts", "stacked")

    def __init__(self, stacked: bool):
        self.stacked = stacked
        self.order: list[int] = []
        self.parts: dict[int | None, int] = {}
        self.aantal: dict[int | None, int] = {}


def _flush(ctx: _Context, groups: dict, client_id: int, wk: date, week_totals, not_covered):
    """Round each stack of one client-week with its top's rule and add the week totals.

    §6.6: within a stack (top legitimation, product) the top's rounding applies to every part,
    cumulatively, so the parts add up to the rounded stack total. §6.10: care without a stack rule
    is rounded first and uses its legitimation's volume. §6.11: the minutes rounding adds stay
    with the stack that was rounded and move down its own levels (legitimations that hold the
    product its rule points to), then to "niet gedekt"; they never take room that exact care of
    another stack holds on a legitimation. Stacks are rounded in the order of their first care.
    """
    legit_by_id = ctx.legit_by_id
    rounded_used: dict[int, int] = defaultdict(int)  # rounded minutes given on a legitimation
    pending: dict[int, int] = defaultdict(int)  # exact stacked minutes not rounded yet
    per_legit: dict[int | None, list[int]] = {}  # legit -> [rounded, exact, aantal]
    stacks = []
    for (top_id, product_id), g in groups.items():
        for lid, qty in g.aantal.items():
            per_legit.setdefault(lid, [0, 0, 0])[2] += qty
        if g.stacked:
            stacks.append((top_id, product_id, g))
            for lid, exact in g.parts.items():
                if lid is not None:
                    pending[lid] += exact
            continue
        for lid, exact in g.parts.items():  # one part: the top (or "niet gedekt")
            rounded = (
                exact if lid is None else _round(exact, *ctx.rounding_for(lid, product_id, wk))
            )
            if lid is not None:
                rounded_used[lid] += rounded
            if rounded or exact:
                slot = per_legit.setdefault(lid, [0, 0, 0])
                slot[0] += rounded
                slot[1] += exact
    for top_id, product_id, g in stacks:
        step, how = ctx.rounding_for(top_id, product_id, wk)
        cum_exact = cum_rounded = 0
        for lid in [*g.order, None]:
            exact = g.parts.get(lid, 0)
            cum_exact += exact
            part = _round(cum_exact, step, how) - cum_rounded
            if lid is not None:
                pending[lid] -= exact
                cap = legit_by_id[lid].cap
                if cap < _INF:
                    part = max(0, min(part, cap - rounded_used[lid] - pending[lid]))
                rounded_used[lid] += part
            cum_rounded += part
            if part or exact:
                slot = per_legit.setdefault(lid, [0, 0, 0])
                slot[0] += part
                slot[1] += exact
    for lid, (rounded, exact, qty) in per_legit.items():
        if lid is None:
            not_covered.append(WeekTotal(client_id, wk, None, None, rounded, qty, exact))
        else:
            fin = legit_by_id[lid].financing
            week_totals.append(WeekTotal(client_id, wk, lid, fin, rounded, qty, exact))


def _walk(
    session: Session,
    ctx: _Context,
    ws: date,
    we: date,
    client_ids,
    *,
    with_allocations: bool = True,
    only: set[tuple[int, date]] | None = None,
):
    """The exact computation: every registration of each client-week in the order of care.
    Returns (allocation rows, week totals, not covered). ``only``: just these client-weeks."""
    allocations: list[tuple] = []  # Allocation fields, built lazily by StackResult
    week_totals: list[WeekTotal] = []
    not_covered: list[WeekTotal] = []
    stack_cache: dict = {}
    out = allocations if with_allocations else []
    cur_key = None
    rows: list[tuple] = []
    skip = False
    last_day = wk = None
    for rid, cid, pid, uid, day, minutes, aantal in _registration_rows(
        session, ws, we, client_ids, only
    ):
        if day != last_day:
            last_day = day
            wk = day - timedelta(days=day.weekday())
        key = (cid, wk)
        if key != cur_key:
            if rows:
                _walk_week(ctx, *cur_key, rows, stack_cache, out, week_totals, not_covered)
                rows = []
                if not with_allocations:
                    out.clear()
            if cur_key is not None and cur_key[0] != cid:  # keep memory flat over many clients
                stack_cache.clear()
                ctx._stack_cache.clear()
            cur_key = key
            skip = only is not None and key not in only
        if not skip:
            rows.append((rid, pid, uid, day, minutes or 0, aantal or 0))
    if rows:
        _walk_week(ctx, *cur_key, rows, stack_cache, out, week_totals, not_covered)
    return allocations, week_totals, not_covered


def _walk_week(ctx: _Context, cid: int, wk: date, rows, stack_cache, allocations, wt, nc) -> None:
    """One client-week, its registrations in the order of care. §6.10 first: care without a
    stack rule goes 1:1 to its top legitimation and takes its part of the weekly volume, whatever
    day it was delivered; then the stacked care fills what is left, level by level."""
    product_uursoort = ctx.product_uursoort
    product_time = ctx.product_time
    edge = (cid, wk) in ctx.edge_weeks
    stacks = []
    used: dict[int, int] = {}  # minutes on a legitimation so far (unstacked care first)
    for _rid, pid, uid, day, minutes, _aantal in rows:
        skey = (pid, uid, day if edge else wk)
        hit = stack_cache.get(skey)
        if hit is None:
            hit = stack_cache[skey] = ctx.stack_for(cid, pid, uid or product_uursoort.get(pid), day)
        stacks.append(hit)
        levels, stacked = hit
        if levels and not stacked and product_time.get(pid, False):
            top_id = levels[0].id
            used[top_id] = used.get(top_id, 0) + minutes
    # (top legit id, product id) -> _Group: the stack's levels in order and exact minutes per level
    groups: dict[tuple[int | None, int], _Group] = {}
    for (rid, pid, _uid, day, minutes, aantal), (levels, stacked) in zip(rows, stacks, strict=True):
        top = levels[0] if levels else None
        top_id = top.id if top is not None else None
        g = groups.get((top_id, pid))
        if g is None:
            g = groups[(top_id, pid)] = _Group(stacked)
        if not product_time.get(pid, False):
            g.aantal[top_id] = g.aantal.get(top_id, 0) + aantal
            fin = top.financing if top is not None else None
            allocations.append((rid, cid, pid, day, wk, top_id, fin, 0, aantal))
            continue
        remaining = minutes
        parts = g.parts
        if not stacked:
            if top is not None and top_id not in parts:
                g.order.append(top_id)
            parts[top_id] = parts.get(top_id, 0) + remaining
            fin = top.financing if top is not None else None
            allocations.append((rid, cid, pid, day, wk, top_id, fin, remaining, 0))
            continue
        for lg in levels:
            if lg.id not in parts:
                g.order.append(lg.id)
                parts[lg.id] = 0
            if remaining <= 0:
                continue
            room = lg.cap - used.get(lg.id, 0)
            if room <= 0:
                continue
            take = remaining if remaining <= room else room
            used[lg.id] = used.get(lg.id, 0) + take
            remaining -= take
            parts[lg.id] += take
            allocations.append((rid, cid, pid, day, wk, lg.id, lg.financing, take, 0))
        if remaining > 0:
            parts[None] = parts.get(None, 0) + remaining
            allocations.append((rid, cid, pid, day, wk, None, None, remaining, 0))
    _flush(ctx, groups, cid, wk, wt, nc)


_new_object = object.__new__
_set_attribute = object.__setattr__


def _week_total(client_id, wk, lid, fin, minutes, aantal, exact) -> WeekTotal:
    """``WeekTotal(...)`` without the frozen dataclass ``__init__`` (one per client-week and
    legitimation: a year of an organisation makes over a million); equal in every way."""
    wt = _new_object(WeekTotal)
    _set_attribute(
        wt,
        "__dict__",
        {
            "client_id": client_id,
            "week_start": wk,
            "legitimation_id": lid,
            "financing": fin,
            "minutes": minutes,
            "aantal": aantal,
            "exact_minutes": exact,
        },
    )
    return wt


def _fast_weeks(ctx: _Context, sums, week_totals, not_covered, weeks_seen, slow) -> None:
    """Week totals from the per-week sums (ordered by client and week). Client-weeks with at
    most one stacked product sum (nearly all) are done here the lean way: the same stacks (top
    legitimation, product), volume, rounding and totals as ``_walk_week`` + ``_flush`` (with one
    stack the order of the care cannot change them). Weeks with more stacks, or where a
    legitimation starts or ends, go to ``slow`` for the walk."""
    product_uursoort = ctx.product_uursoort
    product_time = ctx.product_time
    edge_weeks = ctx.edge_weeks
    bounds = ctx.bounds
    stack_for = ctx.stack_for
    rounding_for = ctx.rounding_for
    roundings: dict = {}  # (financier, product, week) -> (step, how)
    # per client: (product, uursoort, segment) -> (top id, financing, financier, time product,
    # levels (id, financing, weekly cap) when stacked else None)
    stacks: dict = {}
    wt_append, nc_append = week_totals.append, not_covered.append

    def lean(cid: int, wk: date, entries: list[tuple]) -> bool:
        seg = bisect_right(bounds.get(cid, ()), wk)
        groups: dict = {}  # (top legit id, product) -> [stack, minutes, aantal]
        n_stacked = 0
        for e in entries:
            pid, uid = e[0], e[1]
            st = stacks.get((pid, uid, seg))
            if st is None:
                levels, stacked = stack_for(cid, pid, uid or product_uursoort.get(pid), wk)
                if levels:
                    top = levels[0]
                    st = (
                        top.id,
                        top.financing,
                        top.financier_id,
                        product_time.get(pid, False),
                        tuple((lg.id, lg.financing, lg.cap) for lg in levels) if stacked else None,
                    )
                else:
                    st = (None, None, None, product_time.get(pid, False), None)
                stacks[(pid, uid, seg)] = st
            if st[4] is not None:
                n_stacked += 1
                if n_stacked > 1:
                    return False  # stacks share capacity: the order decides (the walk)
            g = groups.get((st[0], pid))
            if g is None:
                groups[(st[0], pid)] = [st, e[2], e[3]]
            else:
                g[1] += e[2]
                g[2] += e[3]
        per_legit: dict = {}  # legit -> [rounded, exact, aantal, financing]
        reserved: dict = {}  # §6.10: exact minutes of care without a stack rule, per legitimation
        reserved_rounded: dict = {}  # the same, rounded
        the_stack = None
        for (lid, pid), (st, minutes, qty) in groups.items():
            if st[4] is not None:
                the_stack = (lid, pid, st, minutes)  # rounded after the care without a rule
            elif st[3]:  # time product: one part, rounded with the top's rule (none: as is)
                if lid is None:
                    rounded = minutes
                else:
                    rk = (st[2], pid, wk)
                    rule = roundings.get(rk)
                    if rule is None:
                        rule = roundings[rk] = rounding_for(lid, pid, wk)
                    rounded = _round(minutes, *rule)
                    reserved[lid] = reserved.get(lid, 0) + minutes
                    reserved_rounded[lid] = reserved_rounded.get(lid, 0) + rounded
                if rounded or minutes:
                    slot = per_legit.get(lid)
                    if slot is None:
                        per_legit[lid] = [rounded, minutes, 0, st[1]]
                    else:
                        slot[0] += rounded
                        slot[1] += minutes
            else:
                slot = per_legit.get(lid)
                if slot is None:
                    per_legit[lid] = [0, 0, qty, st[1]]
                else:
                    slot[2] += qty
        if the_stack is not None:  # the one stacked sum: fill what is left, level by level
            lid, pid, st, minutes = the_stack
            rk = (st[2], pid, wk)
            rule = roundings.get(rk)
            if rule is None:
                rule = roundings[rk] = rounding_for(lid, pid, wk)
            step, how = rule
            remaining = minutes
            cum_exact = cum_rounded = 0
            for level_id, fin, cap in st[4]:
                room = cap - reserved.get(level_id, 0) if reserved else cap
                take = remaining if remaining < room else (room if room > 0 else 0)
                remaining -= take
                cum_exact += take
                part = _round(cum_exact, step, how) - cum_rounded
                if cap < _INF:  # rounding up never goes above the weekly volume
                    part = min(part, cap - reserved_rounded.get(level_id, 0))
                    if part < 0:
                        part = 0
                cum_rounded += part
                if part or take:
                    slot = per_legit.get(level_id)
                    if slot is None:
                        per_legit[level_id] = [part, take, 0, fin]
                    else:
                        slot[0] += part
                        slot[1] += take
            exact = remaining if remaining > 0 else 0
            part = _round(cum_exact + exact, step, how) - cum_rounded
            if part or exact:
                slot = per_legit.get(None)
                if slot is None:
                    per_legit[None] = [part, exact, 0, None]
                else:
                    slot[0] += part
                    slot[1] += exact
        for lid, (rounded, exact, qty, fin) in per_legit.items():
            wt = _week_total(cid, wk, lid, fin, rounded, qty, exact)
            if lid is None:
                nc_append(wt)
            else:
                wt_append(wt)
        return True

    cur_c = cur_w = None
    entries: list[tuple] = []
    for cid, wk, pid, uid, minutes, aantal in sums:
        if wk != cur_w or cid != cur_c:
            if entries:
                weeks_seen.add(cur_w)
                if (cur_c, cur_w) in edge_weeks or not lean(cur_c, cur_w, entries):
                    slow.add((cur_c, cur_w))
            if cid != cur_c:  # keep memory flat over many clients
                stacks.clear()
                ctx._stack_cache.clear()
            cur_c, cur_w, entries = cid, wk, []
        entries.append((pid, uid, int(minutes or 0), int(aantal or 0)))
    if entries:
        weeks_seen.add(cur_w)
        if (cur_c, cur_w) in edge_weeks or not lean(cur_c, cur_w, entries):
            slow.add((cur_c, cur_w))


_WEEK_SQL = {
    "postgresql": "(datum - (EXTRACT(ISODOW FROM datum)::int - 1))",
    "sqlite": "date(datum, '-' || ((CAST(strftime('%w', datum) AS INTEGER) + 6) % 7) || ' days')",
}


def _week_sums(session: Session, ws: date, we: date, client_ids):
    """Set-based: approved minutes/quantities per client, ISO week, product and uursoort."""
    dialect = session.get_bind().dialect.name
    week = _WEEK_SQL.get(dialect)
    if week is None:
        return None
    where = "status = :status AND credit_of_id IS NULL AND datum >= :ws AND datum <= :we"
    if dialect == "postgresql":  # psycopg's own placeholders (see below)
        where = where.replace(":status", "%(status)s").replace(":ws", "%(ws)s")
        where = where.replace(":we", "%(we)s")
    params: dict = {"status": REG_APPROVED, "ws": ws, "we": we}
    if client_ids is not None:
        ids = ",".join(str(int(c)) for c in client_ids) or "NULL"
        where += f" AND client_id IN ({ids})"
    sql = (
        f"SELECT client_id, {week} AS wk, product_id, uursoort_id, "
        "SUM(COALESCE(duur_minuten, 0)), SUM(COALESCE(aantal, 0)) "
        f"FROM registration WHERE {where} "
        "GROUP BY client_id, wk, product_id, uursoort_id ORDER BY client_id, wk, product_id"
    )
    if dialect == "postgresql":
        # plain typed tuples straight from psycopg (binary): SQLAlchemy's per-row result
        # machinery costs more than the query on a year of an organisation. A client-side cursor
        # keeps PostgreSQL's parallel GROUP BY (a server-side cursor would not).
        raw = session.connection().connection.driver_connection
        cur = raw.cursor(binary=True)
        cur.execute(sql, params)
        return chain.from_iterable(iter(lambda: cur.fetchmany(50_000), []))

    rows = session.execute(text(sql), params)
    return ((c, date.fromisoformat(w), p, u, m, a) for c, w, p, u, m, a in rows)


def allocate(
    session: Session,
    *,
    start: date,
    end: date,
    hooks: Hooks,
    client_ids: Iterable[int] | None = None,
    with_allocations: bool = True,
) -> StackResult:
    """Spread the approved care of every whole ISO week overlapping [start, end] (module doc).
    ``hooks``: the ``Hooks`` facade, which says which financings can stack.

    Week totals come from set-based sums per client-week wherever the order of registrations
    cannot matter (at most one stacked product-uursoort in the week, and no legitimation starting
    or ending inside it); the other client-weeks are walked registration by registration. The
    per-registration allocations are computed when first used (``result.allocations`` /
    ``allocations_for``), in the same session, by the exact walk.
    """
    ws, we = week_start(start), week_start(end) + timedelta(days=6)
    if client_ids is not None:
        client_ids = list(client_ids)
    ctx = _Context(session, ws, we, client_ids, can_stack(hooks))
    week_totals: list[WeekTotal] = []
    not_covered: list[WeekTotal] = []
    weeks_seen: set[date] = set()
    slow: set[tuple[int, date]] = set()
    sums = _week_sums(session, ws, we, client_ids)
    if sums is None:
        slow = None  # unknown database: walk everything
    else:
        _fast_weeks(ctx, sums, week_totals, not_covered, weeks_seen, slow)
    if slow is None or slow:
        walk_clients = None if slow is None else sorted({c for c, _w in slow})
        _rows, wt, nc = _walk(session, ctx, ws, we, walk_clients, with_allocations=False, only=slow)
        week_totals.extend(wt)
        not_covered.extend(nc)
        weeks_seen.update(w.week_start for w in wt + nc)
    if slow is None or slow:  # the sums come ordered by client and week: only the walk's need it
        week_totals.sort(key=_CLIENT_WEEK)
        not_covered.sort(key=_CLIENT_WEEK)

    def load(financing=_ALL):
        if not with_allocations:
            return []
        if financing is _ALL:
            return _walk(session, ctx, ws, we, client_ids)[0]
        pool = not_covered if financing is None else week_totals
        keys = {(w.client_id, w.week_start) for w in pool if w.financing == financing}
        if not keys:
            return []
        rows = _walk(session, ctx, ws, we, sorted({c for c, _w in keys}), only=keys)[0]
        return [r for r in rows if r[6] == financing]

    result = StackResult(None, week_totals, not_covered, sorted(weeks_seen), loader=load)
    result.walked = len(slow) if slow is not None else -1  # client-weeks needing the walk
    return result
