"""ISO weeks: stacking always looks at whole weeks, Monday to Sunday (DESIGN §6.5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def iso_week_label(day: date) -> str:
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def parse_iso_week(value: str) -> date:
    """'2019-W05' -> Monday 28 Jan 2019."""
    return datetime.strptime(value + "-1", "%G-W%V-%u").date()


def minutes_label(minutes: int) -> str:
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h}:{m:02d}"
