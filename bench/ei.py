"""Benchmark: a Vektis AW319 v1.4 file with 50,000 prestatie records, built and parsed.

    python -m bench.ei [--quick]

* build + check: ``portal.formats.ei.build`` from record dicts (pads, signs, numbers, closes the
  file with counts and signed total), which parses and checks the bytes again before returning
  them (field by field plus the cross-record rules); target under 5 s;
* parse + check: ``portal.formats.ei.parse`` of the same bytes; target under 3 s;
* the ratio of parse + check to a bare pass over the same file (``bytes.split`` on CR LF and one
  slice per field of the layout, nothing converted or checked): what the table-driven checking
  costs over merely cutting the file up.

No database or Redis is involved (pure file work). Each figure is the median of three runs; the
process CPU time and the load average are printed too, because on a loaded shared machine the
wall time says more about the neighbours than about this code.
``--quick``: 5,000 prestatie records.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

if __package__ in (None, ""):  # run as `python bench/<name>.py`: make the repo importable
    _sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta

from portal.formats import ei

TARGET_BUILD = 5.0
TARGET_PARSE = 3.0
TARGET_RATIO = 10.0  # parse + check may cost at most ten bare split-and-slice passes
PER_CLIENT = 10  # prestatie records per verzekerdenrecord
REPEATS = 3


def records(n_prestaties: int) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = [
        (
            "01",
            {
                "0102": 187,
                "0103": 1,
                "0104": 4,
                "0105": "P",
                "0108": 5501,
                "0112": 41000017,
                "0113": 4,
                "0114": date(2026, 1, 1),
                "0115": date(2026, 1, 31),
                "0116": "BENCH-0001",
                "0117": date(2026, 2, 2),
                "0119": "EUR",
            },
        )
    ]
    start = date(2026, 1, 1)
    for i in range(n_prestaties):
        bsn = f"{100000000 + i // PER_CLIENT:09d}"
        if i % PER_CLIENT == 0:
            out.append(
                (
                    "02",
                    {
                        "0203": bsn,
                        "0204": 5501,
                        "0207": date(1940, 1, 1) + timedelta(days=i % 9000),
                        "0208": 1 + i % 2,
                        "0209": 1,
                        "0210": f"Client {i // PER_CLIENT}",
                        "0215": "A",
                        "0223": 2,
                        "0224": 1234,
                        "0225": f"CIZ-{i // PER_CLIENT}",
                    },
                )
            )
        day = start + timedelta(days=i % 28)
        quantity = 1 + i % 7
        tariff = 4500 + i % 300
        amount = quantity * tariff * (-1 if i % 50 == 49 else 1)
        out.append(
            (
                "04",
                {
                    "0403": bsn,
                    "0404": 5501,
                    "0407": 1,
                    "0408": 1234,
                    "0409": f"CIZ-{i // PER_CLIENT}",
                    "0414": day,
                    "0415": day,
                    "0416": "055",
                    "0417": "Z0041",
                    "0418": quantity,
                    "0419": 14,
                    "0420": 41000017,
                    "0425": tariff,
                    "0426": amount,
                    "0429": amount,
                    "0431": f"R{i:012d}",
                },
            )
        )
    return out


def bare_pass(layout: ei.Layout, data: bytes) -> int:
    """Split on CR LF and slice every field of the layout; nothing converted or checked."""
    slices = {
        code.encode(): [(f.start - 1, f.end) for f in rt.fields]
        for code, rt in layout.records.items()
    }
    count = 0
    for line in data.split(b"\r\n"):
        for s, e in slices.get(line[:2], ()):
            line[s:e]
            count += 1
    return count


CPU: dict[
    str, float
] = {}  # process CPU seconds per figure (a loaded, shared machine inflates wall time)


def timed(fn, name: str = "") -> tuple[float, object]:
    times, cpu, result = [], [], None
    for _ in range(REPEATS):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[name] = statistics.median(cpu)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n = 5_000 if args.quick else 50_000
    layout = ei.load_layout("aw319", "1.4")
    recs = records(n)

    build_s, data = timed(lambda: ei.build(layout, recs), "build")
    parse_s, parsed = timed(lambda: ei.parse(layout, data), "parse")
    bare_s, fields = timed(lambda: bare_pass(layout, data), "bare")

    prestaties = len(parsed.of_type("04"))
    assert prestaties == n, prestaties
    assert parsed.issues == []
    print(
        f"# {prestaties} prestatie records, {len(parsed.records)} records, "
        f"{len(data) / 1e6:.1f} MB, {fields} fields sliced in the bare pass"
    )
    print(
        f"# CPU seconds (median): build+check {CPU['build']:.2f}, parse+check {CPU['parse']:.2f}, "
        f"bare {CPU['bare']:.2f}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"RESULT ei_build_check_{n} {build_s:.2f} s target {TARGET_BUILD:g}")
    print(f"RESULT ei_parse_check_{n} {parse_s:.2f} s target {TARGET_PARSE:g}")
    print(f"RESULT ei_bare_split_slice_{n} {bare_s:.2f} s target {bare_s:.2f}")
    print(f"RESULT ei_parse_check_ratio_to_bare {parse_s / bare_s:.1f} x target {TARGET_RATIO:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
