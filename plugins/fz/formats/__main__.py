"""``python -m plugins.fz.formats``: the DJI formats in use and whether each mapping fits its
schema or layout (run after installing an official version; see docs/fz.md)."""

from __future__ import annotations

import json
import os
import sys

from plugins.fz import formats


def main() -> int:
    settings = json.loads(os.environ.get("FZ_SETTINGS") or "{}")
    bad = 0
    for fmt in formats.all_formats(settings):
        problems = formats.check(fmt)
        status = "voorlopig formaat" if fmt.provisional else "vastgesteld"
        print(f"{fmt.message:7} v{fmt.version:15} {status:18} {fmt.folder}")
        for problem in problems:
            print(f"    ! {problem}")
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
