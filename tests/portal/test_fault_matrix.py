"""The fault matrix (``bench/faults.py``) at test size: 160 messages and 30 invoices through 5xx,
time-outs, dropped connections after accept, duplicate delivery, a Redis restart that loses
every key, a worker killed with SIGKILL and a PostgreSQL restart — 0 lost and 0 doubled.

Private PostgreSQL and Redis servers (never the shared ones); skipped only when their binaries
are missing. ``python -m bench.faults`` runs the full size (1,200 messages, 200 invoices).
"""

from __future__ import annotations

import pytest

from bench.faults import run_matrix
from bench.services import available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        available() is not None, reason=f"geen privé-PostgreSQL/Redis: {available()}"
    ),
]


def test_fault_matrix_loses_nothing_and_doubles_nothing(monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_INSTANCE", "")  # the harness sets its own
    matrix = run_matrix(per_fault=20, n_invoices=30)
    table = matrix.table() + ("\n" + matrix.diagnosis if matrix.diagnosis else "")
    with capsys.disabled():
        print("\n" + table)
    faults = [r.fault for r in matrix.rows]
    assert faults == [
        "5xx",
        "time-out",
        "drop after accept",
        "duplicate delivery",
        "Redis restart",
        "worker SIGKILL",
        "PostgreSQL restart",
        "invoices (3 faults)",
    ]
    assert matrix.messages == 160 and matrix.invoices == 30
    assert all(not r.note.startswith("niet afgerond") for r in matrix.rows), table
    assert matrix.lost == 0, table
    assert matrix.doubled == 0, table
