"""Gestapeld financieren (DESIGN §6): the ONE service every financial export calls.

Interface for exports (AW319, invoice runs, Wmo/Jw declarations)::

    result = allocate(session, start=date(2019, 1, 1), end=date(2019, 1, 31))
    result.week_totals / result.not_covered          # per client-week and legitimation
    result.allocations_for("wlz")                     # per registration, one financing
    result.allocations                                # per registration, all (built on use)
    plan = export_plan(session, financing="wlz", start=..., end=...)   # what to export now
    record_export(session, "AW319", "wlz", plan.new, allocations=plan.allocations, reference=...)

Rooms: ``allocation`` (the weekly computation), ``rules`` (stack rules: add, check, remove),
``exports`` (export records: never count a week twice), ``weeks`` (ISO week helpers). Every
public name is importable from ``portal.services.stacking``.
"""

from __future__ import annotations

from portal.services.stacking.allocation import (
    Allocation,
    StackResult,
    WeekTotal,
    allocate,
    can_stack,
    round_minutes,
)
from portal.services.stacking.capacity import NO_STACK, Capacity, Level, Stack
from portal.services.stacking.exports import (
    ExportPlan,
    WeekAlreadyExported,
    export_plan,
    exported_weeks,
    is_week_exported,
    record_export,
    release_weeks,
)
from portal.services.stacking.rules import (
    StackingError,
    add_stack_rule,
    check_stack_rule,
    remove_stack_rule,
    stacking_active,
)
from portal.services.stacking.weeks import (
    iso_week_label,
    minutes_label,
    parse_iso_week,
    week_start,
)

__all__ = [
    "NO_STACK",
    "Allocation",
    "Capacity",
    "ExportPlan",
    "Level",
    "Stack",
    "StackResult",
    "StackingError",
    "WeekAlreadyExported",
    "WeekTotal",
    "add_stack_rule",
    "allocate",
    "can_stack",
    "check_stack_rule",
    "export_plan",
    "exported_weeks",
    "is_week_exported",
    "iso_week_label",
    "minutes_label",
    "parse_iso_week",
    "record_export",
    "release_weeks",
    "remove_stack_rule",
    "round_minutes",
    "stacking_active",
    "week_start",
]
