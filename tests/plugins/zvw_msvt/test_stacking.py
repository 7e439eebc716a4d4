"""Hours above the indicatie: per whole ISO week onto a lower-priority legitimation (particulier)
when a stack rule says so, else held back as "niet gedekt" — never billed to the insurer."""

from __future__ import annotations

from datetime import date

from portal.services import declarations, invoicing
from tests.portal.invoices import builders as b

MARCH = date(2025, 3, 1)
APRIL = date(2025, 4, 1)
TODAY = date(2025, 5, 15)
# ISO week 14 of 2025 runs Monday 31 March to Sunday 6 April (the week trap of DESIGN §6.8)
WEEK_14 = [
    date(2025, 3, 31),
    date(2025, 4, 1),
    date(2025, 4, 2),
    date(2025, 4, 3),
    date(2025, 4, 4),
]


def test_above_the_indicatie_goes_to_particulier_per_whole_week_and_the_rest_is_niet_gedekt(
    db, hooks, world
):
    b.stack(db, world.vp)
    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=2)  # 2 hours Zvw per week
    world.private_agreement(world.vp, volume=2)  # then 2 hours private
    world.care(world.vp, WEEK_14, 60)  # 5 hours: 1 before 1 April, 4 after
    db.commit()

    march = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    db.commit()
    # the March run sees the whole week 14: Zvw gets the first 2 hours delivered, no more
    (line,) = march.declaration.lines
    assert (line.volume, line.eenheid, line.bedrag_cents) == (2, "uur", 2 * 7600)
    assert (line.begindatum, line.einddatum) == (date(2025, 3, 31), date(2025, 4, 1))
    declarations.submit(db, march.declaration.id, hooks)
    db.commit()
    # April: the Zvw week is declared already
    assert declarations.prepare(db, world.zv, APRIL, hooks=hooks).declaration is None
    # the particulier invoice run gets the next 2 hours; the fifth hour is nobody's
    run = invoicing.create_run(
        db, hooks, "particulier", APRIL, date(2025, 4, 30), today=TODAY, enqueue_render=False
    )
    (invoice,) = run.invoices
    assert sum(ln.minuten for ln in invoice.lines) == 120


def test_without_a_stack_rule_a_week_above_the_indicatie_is_held_back_as_niet_gedekt(
    db, hooks, world
):
    world.line(world.vp, 7600)
    world.indicatie(world.vp, volume=2)
    world.care(world.vp, WEEK_14[:3], 60)  # 3 hours on an indicatie of 2 per week
    db.commit()

    for _ in range(2):  # and again next time: the week is not silently marked as done
        prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
        db.commit()
        assert prepared.declaration is None
        (issue,) = prepared.skipped
        assert issue.code == "niet-gedekt"
        assert "Week 2025-W14" in issue.message and "1:00 is niet gedekt" in issue.message

    # the back office settles it: what is above the indicatie goes to a private agreement
    b.stack(db, world.vp)
    world.private_agreement(world.vp, volume=2)
    db.commit()
    prepared = declarations.prepare(db, world.zv, MARCH, hooks=hooks)
    (line,) = prepared.declaration.lines
    assert (line.volume, line.eenheid) == (2, "uur") and prepared.skipped == []
