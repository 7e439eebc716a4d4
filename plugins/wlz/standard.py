"""iWlz releases as data: which release a message is written in or read with.

Each release is a folder ``xsd/<release>/`` with the official XSDs and a ``release.json``
(read by :mod:`portal.formats.xml`), plus one key of our own: ``geldig_vanaf``, the first day the
release is used for new messages. Incoming messages are read with the release of their namespace;
outgoing ones with the newest release in force on the message date. Adding iWlz 2.4 is adding the
folder ``xsd/2.4/`` (see ``docs/wlz.md``); nothing here names a release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from lxml import etree

from portal.formats.xml import XsdRelease, register_release

XSD_DIR = Path(__file__).parent / "xsd"
# The messages a provider exchanges with a zorgkantoor (the file stems of the XSDs).
MESSAGES = ("AW33", "AW34", "AW35", "AW36", "AW39", "AW310")
RETOUR_OF = {"AW33": "AW34", "AW35": "AW36", "AW39": "AW310"}
VERSION_KEYS = ("BerichtVersie", "BerichtSubversie", "BasisschemaXsdVersie", "BerichtXsdVersie")


@dataclass(frozen=True)
class Release:
    """One iWlz release: its XSD folder and the day it is used from."""

    folder: Path
    geldig_vanaf: date

    @property
    def xsd(self) -> XsdRelease:
        return register_release(self.folder)

    @property
    def name(self) -> str:
        return self.xsd.release

    def ns(self, message: str) -> str:
        return self.xsd.namespace(message)

    @property
    def basis_ns(self) -> str:
        return self.xsd.basis_namespace

    def schema(self, message: str) -> etree.XMLSchema:
        return self.xsd.schema(message)

    def validate(self, message: str, root: etree._Element) -> list[str]:
        return self.xsd.validate(message, root)

    def versions(self, message: str) -> dict[str, str]:
        """BerichtCode, BerichtVersie, BerichtSubversie and the XSD versions a message of this
        release carries: from the XSD patterns and appinfo, then ``release.json``'s overrides."""
        header = self.xsd.header(message)
        return {key: header[key] for key in ("BerichtCode", *VERSION_KEYS)}

    def codes(self, type_name: str) -> dict[str, str]:
        return self.xsd.codes(type_name)

    def meaning(self, type_name: str, code: str | None) -> str:
        return self.xsd.meaning(type_name, code)


@cache
def releases() -> tuple[Release, ...]:
    """Every release folder, oldest first."""
    found = []
    for meta in sorted(XSD_DIR.glob("*/release.json")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        found.append(
            Release(meta.parent, date.fromisoformat(data.get("geldig_vanaf", "2000-01-01")))
        )
    return tuple(sorted(found, key=lambda r: r.geldig_vanaf))


def current(on: date | None = None) -> Release:
    """The release new messages are written in on ``on`` (default today)."""
    on = on or date.today()
    usable = [r for r in releases() if r.geldig_vanaf <= on]
    return usable[-1] if usable else releases()[0]


def identify(namespace: str) -> tuple[Release, str] | None:
    """(release, message) for an iWlz namespace of one of our releases, else None."""
    for rel in releases():
        message = rel.xsd.by_namespace.get(namespace)
        if message in MESSAGES:
            return rel, message
    return None


def default() -> Release:
    return current()
