"""The berichtstroom (VECOZO routing values) per message code, as configuration data.

The table ships in ``berichtstromen.json`` beside this module; a deployment overrides or adds rows
with the setting ``VECOZO_BERICHTSTROMEN`` (a dict) or a JSON file named by the environment variable
``VECOZO_BERICHTSTROMEN_FILE``. Plugins name their messages by code (e.g. "WMO323"); nothing here
guesses routing values in code.
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


def berichtstroom_for(code: str | None) -> dict[str, Any] | None:
    """The berichtstroom for a message code, or None when it is not configured."""
    if not code:
        return None
    row = table().get(code) or table().get(code.upper())
    return dict(row) if row else None


def code_for(berichtstroom: dict[str, Any] | None) -> str | None:
    """The message code whose configured berichtstroom matches (for incoming metadata)."""
    if not berichtstroom:
        return None
    keys = ("berichttype", "berichtsubtype", "berichtversie", "berichtsubversie", "actie")
    for code, row in table().items():
        if all(row.get(k) == berichtstroom.get(k) for k in keys if k in row):
            return code
    return None
