"""Property-based tests (hypothesis) of the stacking service, on the real database."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import StackRule
from portal.services import stacking
from tests.portal.production.factory import (
    legitimation,
    new_client,
    organisation,
    registration,
)

MONDAY = date(2019, 1, 28)  # week 5 of 2019, across the month boundary
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

legit_st = st.lists(
    st.tuples(
        st.sampled_from(["wlz", "particulier", "pgb", "wmo_jw"]),
        st.integers(min_value=0, max_value=4),  # hours per week
        st.integers(min_value=1, max_value=3),  # priority
    ),
    min_size=0,
    max_size=4,
)
reg_st = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=13),  # day in the two weeks
        st.integers(min_value=0, max_value=20),  # start slot (half hours from 07:00)
        st.integers(min_value=1, max_value=300),  # minutes
        st.booleans(),  # PV (stacks) or BG (Wmo first)
    ),
    min_size=1,
    max_size=12,
)


def _arrange(db, org, employee, legits, regs):
    client = new_client(db)
    fin = {"wlz": org.zorgkantoor, "particulier": org.prive, "wmo_jw": org.gemeente}
    created = []
    for financing, hours, prio in legits:
        financier = fin.get(financing, org.prive)
        lg = legitimation(db, client, financier, [org.pv, org.bg], uren=hours, priority=prio)
        if financing == "pgb":
            lg.financing = "pgb"
        created.append(lg)
    seen = set()
    for day, slot, minutes, pv in regs:
        key = (day, slot)
        if key in seen:
            continue
        seen.add(key)
        start = time(7 + slot // 2, 30 * (slot % 2))
        product = org.pv if pv else org.bg
        registration(
            db, client, product, employee.id, MONDAY + timedelta(days=day), minutes, start=start
        )
    db.flush()
    return client, created


def _org(db, rounding=0):
    org = organisation(db, wlz_round=rounding, prive_round=0)
    # Rules on both products, BG inserted directly: the engine itself must never stack Wmo.
    db.add_all(
        [
            StackRule(product_id=org.pv.id, onto_product_id=org.pv.id),
            StackRule(product_id=org.bg.id, onto_product_id=org.bg.id),
        ]
    )
    db.flush()
    return org


def test_conservation_volume_priority_and_wmo(db, make_user, hooks):
    employee = make_user("zorgprofessional")
    org = _org(db)
    pv_rank = {"wlz": 1, "particulier": 2}

    @SETTINGS
    @given(legits=legit_st, regs=reg_st)
    def check(legits, regs):
        client, created = _arrange(db, org, employee, legits, regs)
        by_id = {lg.id: lg for lg in created}
        result = stacking.allocate(
            db, hooks=hooks, start=MONDAY, end=MONDAY + timedelta(days=13), client_ids=[client.id]
        )
        from portal.models import Registration

        delivered = defaultdict(int)
        per_reg_delivered = {}
        for r in db.query(Registration).filter_by(client_id=client.id):
            delivered[stacking.week_start(r.datum)] += r.duur_minuten
            per_reg_delivered[r.id] = (r.duur_minuten, r.product_id)
        # 1. delivered = allocations + not covered (exact), per registration and per week
        per_reg = defaultdict(int)
        for a in result.allocations:
            per_reg[a.registration_id] += a.minutes
        assert per_reg == {k: v[0] for k, v in per_reg_delivered.items()}
        weekly = defaultdict(int)
        for w in result.week_totals + result.not_covered:
            weekly[w.week_start] += w.exact_minutes
            assert w.minutes == w.exact_minutes  # no rounding configured here
        assert weekly == delivered
        # 2. no legitimation above its weekly volume (for what was stacked onto it)
        stacked_used = defaultdict(int)
        pv_used = defaultdict(int)
        for a in result.allocations:
            if a.legitimation_id is None:
                continue
            lg = by_id[a.legitimation_id]
            if lg.financing == "wmo_jw":
                # 5. Wmo/Jw never stacked: 1:1, the whole registration on its own legitimation
                assert per_reg_delivered[a.registration_id][0] == a.minutes
                assert per_reg_delivered[a.registration_id][1] == org.bg.id
                continue
            stacked_used[(a.week_start, lg.id)] += a.minutes  # capacity is per legitimation
            if a.product_id == org.pv.id:
                pv_used[(a.week_start, lg.id)] += a.minutes
        for (_wk, lid), used in stacked_used.items():
            assert used <= by_id[lid].volume * 60
        # 3. priorities: within a PV stack, a lower legitimation (or niet gedekt) only gets
        # minutes once every higher one is full
        # (§6.9: PV's uursoort lists Wlz and particulier only, so pgb never receives PV care)
        assert not any(by_id[lid].financing == "pgb" for (_wk, lid) in pv_used)
        for wk in delivered:
            pv_legits = sorted(
                (lg for lg in created if lg.financing in ("wlz", "particulier")),
                key=lambda lg: (pv_rank.get(lg.financing, 10**6), lg.priority, lg.id),
            )
            tops = [lg for lg in pv_legits if lg.financing in pv_rank]
            if not tops:
                continue
            chain = pv_legits[pv_legits.index(tops[0]) :]
            gets = [pv_used.get((wk, lg.id), 0) > 0 for lg in chain]
            nc = sum(
                a.minutes
                for a in result.allocations
                if a.week_start == wk and a.product_id == org.pv.id and a.legitimation_id is None
            )
            for i, lg in enumerate(chain):
                later = any(gets[i + 1 :]) or nc > 0
                if later:
                    assert stacked_used.get((wk, lg.id), 0) == lg.volume * 60

    check()


def test_rounded_parts_add_up_to_the_rounded_week(db, make_user, hooks):
    employee = make_user("zorgprofessional")
    org = _org(db, rounding=30)
    org.wlz_line.afronding_wijze = "dichtstbij"
    db.flush()

    @SETTINGS
    @given(
        hours=st.tuples(st.integers(1, 4), st.integers(0, 4)),
        regs=st.lists(st.integers(1, 200), min_size=1, max_size=6),
    )
    def check(hours, regs):
        legits = [("wlz", hours[0], 1), ("particulier", hours[1], 2)]
        rows = [(i, 0, m, True) for i, m in enumerate(regs)]  # one week, PV only
        client, created = _arrange(db, org, employee, legits, rows)
        result = stacking.allocate(
            db, hooks=hooks, start=MONDAY, end=MONDAY, client_ids=[client.id]
        )
        delivered = sum(regs)
        rounded = sum(w.minutes for w in result.week_totals + result.not_covered)
        assert rounded == stacking.allocation._round(delivered, 30, "dichtstbij")
        for w in result.week_totals:
            lg = next(lg for lg in created if lg.id == w.legitimation_id)
            assert w.minutes <= lg.volume * 60
            assert w.minutes % 30 == 0  # the top's rounding applies to every part

    check()


def test_no_week_counted_twice_over_two_exports(db, make_user, hooks):
    employee = make_user("zorgprofessional")
    org = _org(db)

    @SETTINGS
    @given(
        legits=legit_st,
        regs=reg_st,
        split=st.integers(min_value=1, max_value=13),
        reverse=st.booleans(),
    )
    def check(legits, regs, split, reverse):
        client, _created = _arrange(db, org, employee, legits, regs)
        end = MONDAY + timedelta(days=13)
        whole = stacking.allocate(db, hooks=hooks, start=MONDAY, end=end, client_ids=[client.id])
        periods = [
            (MONDAY, MONDAY + timedelta(days=split - 1)),
            (MONDAY + timedelta(days=split), end),
        ]
        if reverse:
            periods.reverse()
        exported = defaultdict(int)
        for start, stop in periods:
            for financing in ("wlz", "particulier", "pgb", "wmo_jw"):
                plan = stacking.export_plan(
                    db,
                    hooks=hooks,
                    financing=financing,
                    start=start,
                    end=stop,
                    client_ids=[client.id],
                )
                assert not plan.changed
                for w in plan.new:
                    exported[(financing, w.week_start)] += w.minutes
                stacking.record_export(db, "test", financing, plan.new)
        expected = defaultdict(int)
        for w in whole.week_totals:
            expected[(w.financing, w.week_start)] += w.minutes
        assert dict(exported) == {k: v for k, v in expected.items()}

    check()


def test_set_based_week_totals_equal_the_registration_walk(db, make_user, hooks):
    """The fast path (sums per client-week) gives exactly what walking every registration gives,
    with rounding, several products and legitimations that end mid-week."""
    employee = make_user("zorgprofessional")
    org = _org(db, rounding=15)
    org.wlz_line.afronding_wijze = "omhoog"
    db.flush()

    @SETTINGS
    @given(legits=legit_st, regs=reg_st, end_day=st.one_of(st.none(), st.integers(0, 13)))
    def check(legits, regs, end_day):
        client, created = _arrange(db, org, employee, legits, regs)
        if end_day is not None and created:
            created[0].einddatum = MONDAY + timedelta(days=end_day)
            db.flush()
        end = MONDAY + timedelta(days=13)
        result = stacking.allocate(db, hooks=hooks, start=MONDAY, end=end, client_ids=[client.id])
        ctx = stacking.allocation._Context(
            db, MONDAY, end, [client.id], stacking.allocation.can_stack(hooks)
        )
        _rows, walk_totals, walk_nc = stacking.allocation._walk(db, ctx, MONDAY, end, [client.id])

        def norm(totals):
            return sorted(
                (w.week_start, w.legitimation_id or 0, w.minutes, w.aantal, w.exact_minutes)
                for w in totals
            )

        assert norm(result.week_totals) == norm(walk_totals)
        assert norm(result.not_covered) == norm(walk_nc)
        # and the lazily built allocations add up to the week totals
        exact = defaultdict(int)
        for a in result.allocations:
            exact[(a.week_start, a.legitimation_id)] += a.minutes
        for w in result.week_totals + result.not_covered:
            assert exact[(w.week_start, w.legitimation_id)] == w.exact_minutes

    check()
