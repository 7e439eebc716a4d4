"""DESIGN §6 rules 9–11 (issue 18) on the database: who may receive overflow, care without a
stack rule uses the volume, rounding follows the stack's own chain, and the order of care never
depends on the order in which registrations were stored."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.models import (
    Contract,
    ContractLine,
    Financier,
    Product,
    StackRule,
    Uursoort,
    UursoortFinancing,
)
from portal.services import stacking
from tests.portal.production.factory import legitimation, new_client, registration

MONDAY = date(2019, 1, 28)  # week 5 of 2019, across the month boundary
TUESDAY, WEDNESDAY, SATURDAY = (MONDAY + timedelta(days=d) for d in (1, 2, 5))


@pytest.fixture
def employee(make_user):
    return make_user("zorgprofessional")


@dataclass
class Setup:
    products: dict[str, Product]
    financiers: dict[str, Financier]


def _setup(db, *, soorten: dict[str, list[str]], products: dict[str, str], rules=(), rounding=()):
    """Uursoorten with their financings in order, products (code -> uursoort), stack rules
    (product onto product) and rounding ((financing, product, minutes, wijze))."""
    soort = {}
    for code, financings in soorten.items():
        u = Uursoort(code=code, naam=code)
        u.financings = [
            UursoortFinancing(financing=f, position=i) for i, f in enumerate(financings, 1)
        ]
        soort[code] = u
    db.add_all(soort.values())
    db.flush()
    prods = {
        code: Product(code=code, naam=code, eenheid="uur", uursoort=soort[u])
        for code, u in products.items()
    }
    financiers = {
        f: Financier(financing=f, soort="client", naam=f"Financier {f}")
        for f in ("wlz", "particulier", "pgb", "zvw_msvt")
    }
    db.add_all([*prods.values(), *financiers.values()])
    db.flush()
    db.add_all(StackRule(product_id=prods[p].id, onto_product_id=prods[q].id) for p, q in rules)
    for financing, product, minutes, wijze in rounding:
        contract = Contract(
            financier_id=financiers[financing].id, naam=financing, begindatum=date(2018, 1, 1)
        )
        contract.lines = [
            ContractLine(
                product_id=prods[product].id,
                eenheid="uur",
                tarief_cents=6000,
                begindatum=date(2018, 1, 1),
                afronding_minuten=minutes,
                afronding_wijze=wijze,
            )
        ]
        db.add(contract)
    db.flush()
    return Setup(prods, financiers)


def _week(db, hooks, client, legits):
    """{legitimation name or None: (rounded minutes, exact minutes)} of the client's week."""
    result = stacking.allocate(db, hooks=hooks, start=MONDAY, end=MONDAY, client_ids=[client.id])
    names = {lg.id: name for name, lg in legits.items()}
    out: dict = {}
    for w in result.week_totals + result.not_covered:
        name = names.get(w.legitimation_id) if w.legitimation_id else None
        minutes, exact = out.get(name, (0, 0))
        out[name] = (minutes + w.minutes, exact + w.exact_minutes)
    return out


# -- 1. rounding excess follows the stack's own chain (§6.11) -----------------------------------


def _rounding_case(db, particulier_holds: str):
    s = _setup(
        db,
        soorten={"PV": ["wlz", "particulier"]},
        products={"PV1": "PV", "PV2": "PV"},
        rules=[("PV1", "PV1"), ("PV2", "PV2")],
        rounding=[("wlz", "PV2", 30, "omhoog")],
    )
    client = new_client(db)
    p = s.products
    legits = {
        "wlz": legitimation(db, client, s.financiers["wlz"], [p["PV1"], p["PV2"]], priority=1),
        "particulier": legitimation(
            db, client, s.financiers["particulier"], [p[particulier_holds]], priority=2
        ),
    }
    return s, client, legits


@pytest.mark.parametrize("pv2_first", [True, False], ids=["pv2_monday", "pv2_tuesday"])
def test_rounded_minutes_never_land_on_a_legitimation_without_the_product(
    db, employee, pv2_first, hooks
):
    # Wlz 2 h holds PV1 and PV2, particulier 2 h holds only PV1; Wlz rounds PV2 up to 30 min.
    s, client, legits = _rounding_case(db, particulier_holds="PV1")
    days = (MONDAY, TUESDAY) if pv2_first else (TUESDAY, MONDAY)
    registration(db, client, s.products["PV2"], employee.id, days[0], 10)
    registration(db, client, s.products["PV1"], employee.id, days[1], 110)
    db.commit()
    # the 20 minutes PV2's rounding adds have nowhere to go along PV2's chain: niet gedekt,
    # whichever day came first (today: 20 on particulier, or 20 niet gedekt)
    assert _week(db, hooks, client, legits) == {"wlz": (120, 120), None: (20, 0)}


@pytest.mark.parametrize("pv2_first", [True, False], ids=["pv2_monday", "pv2_tuesday"])
def test_rounded_minutes_move_down_to_a_legitimation_that_holds_the_product(
    db, employee, pv2_first, hooks
):
    # The same week, but particulier holds only PV2: PV2's rounding excess goes there.
    s, client, legits = _rounding_case(db, particulier_holds="PV2")
    days = (MONDAY, TUESDAY) if pv2_first else (TUESDAY, MONDAY)
    registration(db, client, s.products["PV2"], employee.id, days[0], 10)
    registration(db, client, s.products["PV1"], employee.id, days[1], 110)
    db.commit()
    assert _week(db, hooks, client, legits) == {"wlz": (120, 120), "particulier": (20, 0)}


# -- 2. overflow only onto financings the uursoort lists (§6.9) -------------------------------


def test_overflow_never_reaches_a_financing_outside_the_uursoort_list(db, employee, hooks):
    s = _setup(
        db, soorten={"PV": ["wlz"]}, products={"PV": "PV"}, rules=[("PV", "PV")], rounding=()
    )
    client = new_client(db)
    pv = s.products["PV"]
    legits = {
        "wlz": legitimation(db, client, s.financiers["wlz"], [pv], uren=1, priority=1),
        "zvw": legitimation(db, client, s.financiers["zvw_msvt"], [pv], uren=3, priority=2),
    }
    registration(db, client, pv, employee.id, SATURDAY, 120)
    db.commit()
    assert _week(db, hooks, client, legits) == {"wlz": (60, 60), None: (60, 60)}


# -- 3. care without a stack rule uses the volume (§6.10) -------------------------------------


@pytest.mark.parametrize("unstacked_first", [True, False], ids=["pv2_monday", "pv2_wednesday"])
def test_care_without_a_rule_uses_the_volume_stacked_care_gets_what_is_left(
    db, employee, unstacked_first, hooks
):
    # particulier 30 min/week holds PV1 (stacks onto itself) and PV2 (no rule)
    s = _setup(
        db,
        soorten={"PV": ["wlz", "particulier"]},
        products={"PV1": "PV", "PV2": "PV"},
        rules=[("PV1", "PV1")],
    )
    client = new_client(db)
    p = s.products
    prive = legitimation(
        db, client, s.financiers["particulier"], [p["PV1"], p["PV2"]], uren=30, eenheid="minuut"
    )
    days = (MONDAY, WEDNESDAY) if unstacked_first else (WEDNESDAY, MONDAY)
    registration(db, client, p["PV2"], employee.id, days[0], 30)
    registration(db, client, p["PV1"], employee.id, days[1], 30)
    db.commit()
    assert _week(db, hooks, client, {"particulier": prive}) == {
        "particulier": (30, 30),
        None: (30, 30),
    }


def test_stacked_care_overflows_past_the_volume_the_unstacked_care_used(db, employee, hooks):
    # PGB 3 h holds X (no rule) and Y (stacks onto itself); a lower PGB legitimation holds Y
    s = _setup(db, soorten={"PGB": ["pgb"]}, products={"X": "PGB", "Y": "PGB"}, rules=[("Y", "Y")])
    client = new_client(db)
    p, pgb = s.products, s.financiers["pgb"]
    legits = {
        "high": legitimation(db, client, pgb, [p["X"], p["Y"]], uren=3, priority=1),
        "low": legitimation(db, client, pgb, [p["Y"]], uren=3, priority=2),
    }
    registration(db, client, p["Y"], employee.id, MONDAY, 165, start=time(9))
    registration(db, client, p["X"], employee.id, TUESDAY, 60, start=time(9))
    db.commit()
    assert _week(db, hooks, client, legits) == {"high": (180, 180), "low": (45, 45)}


# -- the order of care: total, and the same on every database (§6.11) --------------------------


def _order_case(db):
    """Wlz 1 h holds PV1 and PV2, particulier 1 h only PV1: whichever of a PV1 and a PV2
    registration is taken first fills Wlz, so the order of care is visible in the result."""
    s = _setup(
        db,
        soorten={"PV": ["wlz", "particulier"]},
        products={"PV1": "PV", "PV2": "PV"},
        rules=[("PV1", "PV1"), ("PV2", "PV2")],
    )
    client = new_client(db)
    p = s.products
    legits = {
        "wlz": legitimation(db, client, s.financiers["wlz"], [p["PV1"], p["PV2"]], uren=1),
        "particulier": legitimation(
            db, client, s.financiers["particulier"], [p["PV1"]], uren=1, priority=2
        ),
    }
    return s, client, legits


@pytest.mark.parametrize("untimed_stored_first", [True, False])
def test_care_without_a_start_time_comes_after_the_timed_care_of_its_day(
    db, employee, untimed_stored_first, hooks
):
    s, client, legits = _order_case(db)
    rows = [
        (s.products["PV2"], None),  # no start time: after the 09:00 visit of the same day
        (s.products["PV1"], time(9)),
    ]
    if not untimed_stored_first:
        rows.reverse()
    for product, start in rows:
        registration(db, client, product, employee.id, MONDAY, 60, start=start)
    db.commit()
    # PV1 at 09:00 fills Wlz; PV2 (untimed) finds Wlz full and particulier does not hold it
    assert _week(db, hooks, client, legits) == {"wlz": (60, 60), None: (60, 60)}
    result = stacking.allocate(db, hooks=hooks, start=MONDAY, end=MONDAY, client_ids=[client.id])
    wlz_products = {a.product_id for a in result.allocations if a.financing == "wlz"}
    assert wlz_products == {s.products["PV1"].id}


@pytest.mark.parametrize("pv2_stored_first", [True, False])
def test_untimed_care_of_one_day_is_ordered_by_what_was_registered(
    db, employee, make_user, pv2_stored_first, hooks
):
    s, client, legits = _order_case(db)
    other = make_user("zorgprofessional")
    rows = [(s.products["PV2"], employee.id, 60), (s.products["PV1"], other.id, 60)]
    if not pv2_stored_first:
        rows.reverse()
    for product, emp, minutes in rows:
        registration(db, client, product, emp, MONDAY, minutes, start=None)
    db.commit()
    # same day, no start times, same duration: the product decides (PV1 before PV2), never the
    # order of storage: PV1 fills Wlz, PV2 is niet gedekt
    assert _week(db, hooks, client, legits) == {"wlz": (60, 60), None: (60, 60)}


# -- properties: storage order never matters; the set-based path equals the walk ---------------

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FINANCINGS = ["wlz", "particulier", "pgb", "zvw_msvt"]
PRODUCTS = ["PV1", "PV2", "PV3", "PVX"]  # PVX has no stack rule

legit_st = st.lists(
    st.tuples(
        st.sampled_from(FINANCINGS),
        st.integers(min_value=0, max_value=3),  # hours per week
        st.integers(min_value=1, max_value=3),  # priority
        st.sets(st.sampled_from(PRODUCTS), min_size=1),  # products held
        st.one_of(st.none(), st.integers(min_value=0, max_value=6)),  # ends on this weekday
    ),
    min_size=0,
    max_size=4,
)
reg_st = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6),  # day of the week
        st.one_of(st.none(), st.integers(min_value=0, max_value=3)),  # start slot or none
        st.integers(min_value=1, max_value=200),  # minutes
        st.sampled_from(PRODUCTS),
        st.integers(min_value=0, max_value=1),  # which of two employees
    ),
    min_size=1,
    max_size=10,
)


@pytest.fixture
def property_setup(db):
    # PV lists Wlz and particulier only: pgb and Zvw legitimations may never receive PV care
    # (§6.9); PV2 stacks onto PV1 (rule 3: onto another product), PV3 onto itself
    return _setup(
        db,
        soorten={"PV": ["wlz", "particulier"], "VP": ["zvw_msvt", "pgb", "particulier"]},
        products={"PV1": "PV", "PV2": "PV", "PV3": "VP", "PVX": "PV"},
        rules=[("PV1", "PV1"), ("PV2", "PV1"), ("PV3", "PV3")],
        rounding=[
            ("wlz", "PV2", 30, "omhoog"),
            ("wlz", "PV1", 15, "dichtstbij"),
            ("zvw_msvt", "PV3", 20, "omhoog"),
            ("particulier", "PVX", 30, "omlaag"),
        ],
    )


def _arrange(db, s, employees, legits, regs, order):
    """One client with ``legits``; ``regs`` stored in the given order (unique day + start)."""
    client = new_client(db)
    created = []
    for financing, hours, prio, held, end_day in legits:
        lg = legitimation(
            db,
            client,
            s.financiers[financing],
            [s.products[p] for p in sorted(held)],
            uren=hours,
            priority=prio,
            end=MONDAY + timedelta(days=end_day) if end_day is not None else None,
        )
        created.append(lg)
    for i in order:
        day, slot, minutes, product, emp = regs[i]
        start = time(8 + slot * 2) if slot is not None else None
        registration(
            db,
            client,
            s.products[product],
            employees[emp].id,
            MONDAY + timedelta(days=day),
            minutes,
            start=start,
        )
    db.flush()
    return client, created


def _unique(regs):
    seen, out = set(), []
    for r in regs:
        key = (r[0], r[1], r[4]) if r[1] is not None else None  # the database's unique index
        if key is not None and key in seen:
            continue
        seen.add(key)
        out.append(r)
    return out


def _shape(result, client_id, created, db):
    """The allocation in terms that do not depend on ids: per legitimation (by position) the
    rounded and exact week minutes, and per registration (by what was registered) its parts."""
    from portal.models import Registration

    pos = {lg.id: i for i, lg in enumerate(created)}
    totals = sorted(
        (pos.get(w.legitimation_id, -1), w.minutes, w.exact_minutes, w.aantal)
        for w in result.week_totals + result.not_covered
        if w.client_id == client_id
    )
    what = {
        r.id: (r.datum, r.starttijd, r.duur_minuten, r.product_id, r.employee_id)
        for r in db.query(Registration).filter_by(client_id=client_id)
    }
    parts = defaultdict(list)
    for a in result.allocations:
        if a.client_id == client_id:
            parts[a.registration_id].append((pos.get(a.legitimation_id, -1), a.minutes))
    return totals, Counter((what[rid], tuple(p)) for rid, p in parts.items())


def test_storage_order_never_changes_the_allocation(db, make_user, property_setup, hooks):
    s = property_setup
    employees = [make_user("zorgprofessional"), make_user("zorgprofessional")]

    @SETTINGS
    @given(legits=legit_st, regs=reg_st, seed=st.integers(0, 2**32 - 1))
    def check(legits, regs, seed):
        regs = _unique(regs)
        shuffled = list(range(len(regs)))
        random.Random(seed).shuffle(shuffled)
        a, created_a = _arrange(db, s, employees, legits, regs, range(len(regs)))
        b, created_b = _arrange(db, s, employees, legits, regs, shuffled)
        result = stacking.allocate(
            db, hooks=hooks, start=MONDAY, end=MONDAY, client_ids=[a.id, b.id]
        )
        assert _shape(result, a.id, created_a, db) == _shape(result, b.id, created_b, db)

    check()


def test_set_based_path_equals_the_walk_under_rules_9_to_11(db, make_user, property_setup, hooks):
    from portal.services.stacking import allocation

    s = property_setup
    employees = [make_user("zorgprofessional"), make_user("zorgprofessional")]

    @SETTINGS
    @given(legits=legit_st, regs=reg_st)
    def check(legits, regs):
        regs = _unique(regs)
        client, created = _arrange(db, s, employees, legits, regs, range(len(regs)))
        end = MONDAY + timedelta(days=6)
        result = stacking.allocate(db, hooks=hooks, start=MONDAY, end=end, client_ids=[client.id])
        ctx = allocation._Context(db, MONDAY, end, [client.id], allocation.can_stack(hooks))
        _rows, walk_totals, walk_nc = allocation._walk(db, ctx, MONDAY, end, [client.id])

        def norm(totals):
            return sorted(
                (w.legitimation_id or 0, w.minutes, w.aantal, w.exact_minutes) for w in totals
            )

        assert norm(result.week_totals) == norm(walk_totals)
        assert norm(result.not_covered) == norm(walk_nc)
        # the rules hold in what came out
        by_id = {lg.id: lg for lg in created}
        pv_products = {s.products[p].id for p in ("PV1", "PV2", "PVX")}
        for a in result.allocations:
            lg = by_id.get(a.legitimation_id)
            if lg is None:
                continue
            # §6.9: PV care never on pgb or Zvw; VP care never on Wlz
            if a.product_id in pv_products:
                assert lg.financing in ("wlz", "particulier")
            else:
                assert lg.financing in ("zvw_msvt", "pgb", "particulier")
        for w in result.week_totals:
            lg = by_id[w.legitimation_id]
            stacked = sum(
                a.minutes
                for a in result.allocations
                if a.legitimation_id == lg.id and a.product_id != s.products["PVX"].id
            )
            unstacked = w.exact_minutes - stacked
            # §6.10: stacked care never takes more than the volume minus the unstacked care
            assert stacked <= max(0, lg.volume * 60 - unstacked)

    check()
