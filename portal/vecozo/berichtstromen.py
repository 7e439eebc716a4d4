"""The berichtstroom (VECOZO routing values) per message code, as configuration data.

The table ships in ``berichtstromen.json`` beside this module; a deployment overrides or adds rows
with the setting ``VECOZO_BERICHTSTROMEN`` (a dict) or a JSON file named by the environment variable
``VECOZO_BERICHTSTROMEN_FILE``. Plugins name their messages by code (e.g. "WMO323"); nothing here
guesses routing values in code.

Rows are keyed by message code (``"WMO323"``: every financing) or by financing and code
(``"wlz/AW319"``: only for that financing), because one message (AW319) is sent by more than one
financing, each with its own VECOZO settings. The financing-specific row wins.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context

TABLE = Path(__file__).with_name("berichtstromen.json")


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, dict[str, Any]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return dict(data.get("berichtstromen", data))


def table() -> dict[str, dict[str, Any]]:
    result = dict(_load(str(TABLE)))
    extra_file = os.environ.get("VECOZO_BERICHTSTROMEN_FILE")
    if extra_file:
        result.update(_load(extra_file))
    if has_app_context():
        result.update(current_app.config.get("VECOZO_BERICHTSTROMEN") or {})
    return result


def berichtstroom_for(code: str | None, financing: str | None = None) -> dict[str, Any] | None:
    """The berichtstroom for a message code (of ``financing``), or None when not configured.

    Without a financing, a code configured only per financing gives the first such row (the
    stand-in and the manual upload, which know no financing).
    """
    if not code:
        return None
    rows = table()
    keys = [code, code.upper()]
    if financing:
        keys = [f"{financing}/{code}", f"{financing}/{code.upper()}", *keys]
    for key in keys:
        if key in rows:
            return dict(rows[key])
    if financing is None:
        for key in sorted(rows):
            if key.partition("/")[2].upper() == code.upper():
                return dict(rows[key])
    return None


def code_for(berichtstroom: dict[str, Any] | None) -> str | None:
    """The message code whose configured berichtstroom matches (for incoming metadata)."""
    if not berichtstroom:
        return None
    keys = ("berichttype", "berichtsubtype", "berichtversie", "berichtsubversie", "actie")
    for key, row in table().items():
        if all(row.get(k) == berichtstroom.get(k) for k in keys if k in row):
            return key.rpartition("/")[2]
    return None
