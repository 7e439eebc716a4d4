"""A small job with visible progress (used by the demo and the tests of the job machinery)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from portal.models import Client


def count_clients(ctx, steps: int = 5, pause: float = 0.2) -> dict:
    """Counts clients in a few visible steps, so the progress fragment has something to show."""
    for i in range(steps):
        ctx.progress(i, steps, f"Stap {i + 1} van {steps}")
        time.sleep(pause)
    total = ctx.session.scalar(select(func.count()).select_from(Client))
    return {"clienten": total}
