"""Vektis EI fixed-width files (AW319, AW320 and their family), driven by layout tables.

A record layout is data, never code: one CSV table per standard and version (see "Layout tables"
below). From a table this module builds a file, parses a file and checks it field by field and
across records. Every problem is an :class:`EiIssue` naming the line, the record type, the field
number and the rule, in Dutch. Nothing here knows AW319 beyond what its table says.

API
---
``load_layout(name, version) -> Layout``
    A built-in table, ``portal/formats/ei/layouts/<name>/<version>.csv`` (e.g. ``("aw319", "1.4")``,
    ``("aw320", "1.4-afgeleid")``).
``Layout.from_file(path) -> Layout`` / ``Layout.from_resource(package, name) -> Layout``
    A table anywhere on disk, or shipped inside a (outside) plugin's own package
    (``Layout.from_resource("mijn_plugin", "layouts/mijn1.0.csv")``).
``register(layout)`` / ``unregister(layout)`` / ``identify(data) -> Layout | None``
    Which registered layout (built-ins always included) an incoming file is written in, by its
    voorlooprecord (the fields of record 01 that have allowed values, such as EI code and version)
    and its record length.
``build(layout, records, *, check=True) -> bytes``
    ``records`` are :class:`EiRecord` objects or ``(record_type, {field_number: value})`` pairs.
    N fields take ``int`` or a digit string (zero-padded left), AN fields ``str`` (space-padded
    right, never silently cut), date fields ``datetime.date`` or ``None``. Derived fields may be left
    out and are filled: the record type, running detail numbers (``volgnummer``), a comment's
    reference (``hoort-bij``), a negative amount becomes its absolute value with ``C`` in its sign
    field, and the closing record's counts and signed totals. When the records end without a closing
    record, one is added. Lines end in CR LF. With ``check=True`` the bytes are parsed and checked
    again before they are returned; any problem raises :class:`EiError`.
``parse(layout, data, *, max_bytes=MAX_BYTES, strict=True) -> EiFile``
    Reads bytes (refused above ``max_bytes``). With ``strict=True`` (the default) every problem
    found by :func:`check` raises :class:`EiError`, so a caller stores nothing from a bad file.
    With ``strict=False`` the file comes back with ``EiFile.issues`` filled (for a viewer).
``check(layout, ei_file) -> list[EiIssue]``
    Field issues found while reading plus the structure and cross-record rules.
``EiError(issues)``
    ``ValueError`` whose ``str()`` is a Dutch sentence; ``.issues`` holds every :class:`EiIssue`.

Values in a parsed :class:`EiRecord` are strings as in the file for N fields (``"0003"``; keeps
leading zeros of BSN/UZOVI/codes), right-stripped strings for AN fields and ``date | None`` for date
fields. ``record.int("0418")`` and ``record.signed("0429")`` (sign from the linked D/C field) give
numbers.

Layout tables
-------------
A CSV file (UTF-8) with ``#`` comment lines on top carrying the facts about the whole layout, then
one row per field::

    # standaard: AW319
    # versie: 1.4
    # status: vastgesteld          (or "afgeleid" when the layout is inferred)
    # bron: where the table comes from
    # record: 01 voorloop Voorlooprecord
    # record: 02 groep Verzekerdenrecord
    # record: 04 detail Prestatierecord
    # record: 98 commentaar Commentaarrecord
    # record: 99 sluit Sluitrecord
    record,nummer,naam,type,lengte,start,verplicht,waarden,regels
    01,0101,KENMERK RECORD,N,2,1,M,01,kenmerk

Record roles: ``voorloop`` (exactly one, first), ``sluit`` (exactly one, last), ``groep`` (a client;
its ``detail`` records follow it), ``detail`` (needs a preceding ``groep`` when the layout has one),
``commentaar`` (after a groep or detail record). Columns: ``type`` is ``N`` (digits, zero-padded),
``AN`` (text, left-aligned, space-padded) or ``DATUM`` (N(8) as CCYYMMDD, zeros = empty);
``start`` is 1-based; ``verplicht`` is Vektis' M (mandatory), C (conditional), O (optional) or S
(filler: spaces only); ``waarden`` lists the allowed values separated by ``|`` (checked when the
field is filled, always when M). Every record type must cover positions 1..record length without
gaps, and all record types have one length. ``regels`` holds ``;``-separated rules:

- ``kenmerk`` the record type field; ``volgnummer`` running number 1, 2, 3 … over groep and detail
  records; ``hoort-bij`` a comment's reference to the record it follows
- ``gelijk=NNNN`` equals field NNNN of the client's groep record
- ``teken=NNNN`` the D/C sign of this amount is in field NNNN
- ``som=NNNN`` (closing record) the signed sum of field NNNN over the file; give the sum's own sign
  with ``teken=``; ``aantal=TT+TT`` (closing record) the number of records of these types
- ``uniek`` unique within the file; ``product=AAAA*BBBB`` equals AAAA × BBBB of the same record;
  ``vanaf=NNNN`` a date not before date field NNNN of the same record; ``geen-voorloopspatie`` an
  AN value may not start with a space.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_BYTES",
    "EiError",
    "EiFile",
    "EiIssue",
    "EiRecord",
    "Field",
    "Layout",
    "LayoutError",
    "RecordType",
    "build",
    "check",
    "identify",
    "load_layout",
    "parse",
    "register",
    "unregister",
]

MAX_BYTES = 64 * 1024 * 1024
LAYOUT_DIR = Path(__file__).parent / "layouts"
ROLES = ("voorloop", "groep", "detail", "commentaar", "sluit")
TYPES = ("N", "AN", "DATUM")
OBLIGATIONS = ("M", "C", "O", "S")
RULES = (
    "kenmerk",
    "volgnummer",
    "hoort-bij",
    "gelijk",
    "teken",
    "som",
    "aantal",
    "uniek",
    "product",
    "vanaf",
    "geen-voorloopspatie",
)


class LayoutError(ValueError):
    """A layout table that cannot be used (a programming or packaging error, not bad input)."""


# --- issues -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EiIssue:
    """One problem in an EI file, in Dutch.

    ``line`` is the 1-based line number (None for the file as a whole), ``record`` the record type
    (``"04"``), ``field`` the field number (``"0418"``), ``rule`` a short rule key (``numeriek``,
    ``recordlengte``, ``som`` …) and ``retourcode`` the Vektis retourcode where one fits (0804
    record length, 8095 line ends).
    """

    line: int | None
    record: str | None
    field: str | None
    rule: str
    message: str
    field_name: str = ""
    retourcode: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"regel {self.line}")
        if self.record:
            where.append(f"record {self.record}")
        if self.field:
            name = f" ({self.field_name})" if self.field_name else ""
            where.append(f"veld {self.field}{name}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class EiError(ValueError):
    """An EI file refused (or a build that would produce one); ``.issues`` lists every problem."""

    def __init__(self, issues: list[EiIssue], what: str = "Het EI-bestand is geweigerd"):
        self.issues = list(issues)
        shown = "; ".join(str(i) for i in self.issues[:3])
        more = len(self.issues) - 3
        tail = f" (en nog {more} andere fout{'en' if more > 1 else ''})" if more > 0 else ""
        super().__init__(f"{what}: {shown}{tail}.")


# --- layouts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field (Vektis: rubriek) of a record type."""

    record: str
    number: str
    name: str
    type: str  # N / AN / DATUM
    length: int
    start: int  # 1-based
    obligation: str  # M / C / O / S
    allowed: frozenset[str] | None = None
    rules: Mapping[str, str] = field(default_factory=dict)

    @property
    def end(self) -> int:
        """Last position, 1-based inclusive."""
        return self.start + self.length - 1


@dataclass(eq=False)
class RecordType:
    code: str
    role: str
    name: str
    fields: list[Field] = field(default_factory=list)

    def __post_init__(self):
        self.by_number: dict[str, Field] = {}

    @property
    def length(self) -> int:
        return max(f.end for f in self.fields) if self.fields else 0

    def field_with_rule(self, rule: str) -> Field | None:
        for f in self.fields:
            if rule in f.rules:
                return f
        return None


@dataclass
class Layout:
    """A record layout read from a table; see the module docstring for the table format."""

    standard: str
    version: str
    status: str
    source: str
    record_length: int
    records: dict[str, RecordType]
    origin: str = ""

    @property
    def label(self) -> str:
        extra = " (afgeleid)" if self.status == "afgeleid" else ""
        return f"{self.standard} v{self.version}{extra}"

    def role(self, role: str) -> list[RecordType]:
        return [r for r in self.records.values() if r.role == role]

    def field(self, number: str) -> Field:
        for rt in self.records.values():
            if number in rt.by_number:
                return rt.by_number[number]
        raise KeyError(number)

    # -- loading --

    @classmethod
    def from_file(cls, path: str | Path) -> Layout:
        path = Path(path)
        return cls.from_text(path.read_text(encoding="utf-8"), origin=str(path))

    @classmethod
    def from_resource(cls, package: str, name: str) -> Layout:
        """A table inside an installed package, e.g. an outside plugin's own layout."""
        ref = resources.files(package).joinpath(name)
        return cls.from_text(ref.read_text(encoding="utf-8"), origin=f"{package}:{name}")

    @classmethod
    def from_text(cls, text: str, origin: str = "") -> Layout:
        meta: dict[str, str] = {}
        records: dict[str, RecordType] = {}
        body: list[str] = []
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("#"):
                key, sep, value = line[1:].partition(":")
                if not sep:
                    continue
                key, value = key.strip().lower(), value.strip()
                if key == "record":
                    parts = value.split(None, 2)
                    if len(parts) < 2 or parts[1] not in ROLES:
                        raise LayoutError(f"{origin}: ongeldige recordregel '{value}'")
                    code, role = parts[0], parts[1]
                    name = parts[2] if len(parts) > 2 else f"record {code}"
                    records[code] = RecordType(code, role, name)
                else:
                    meta[key] = value
            elif line:
                body.append(raw)
        if not records:
            raise LayoutError(f"{origin}: geen '# record:'-regels")
        for row in csv.DictReader(io.StringIO("\n".join(body))):
            fld = _field_from_row(row, records, origin)
            rt = records[fld.record]
            rt.fields.append(fld)
            rt.by_number[fld.number] = fld
        lengths = set()
        for rt in records.values():
            rt.fields.sort(key=lambda f: f.start)
            pos = 1
            for f in rt.fields:
                if f.start != pos:
                    raise LayoutError(
                        f"{origin}: record {rt.code} veld {f.number} begint op {f.start}, "
                        f"verwacht {pos} (gat of overlap)"
                    )
                pos = f.end + 1
            if not rt.fields or rt.fields[0].rules.get("kenmerk") is None:
                raise LayoutError(f"{origin}: record {rt.code} begint niet met een kenmerkveld")
            lengths.add(rt.length)
        if len(lengths) != 1:
            raise LayoutError(f"{origin}: recordtypes hebben verschillende lengtes {lengths}")
        length = lengths.pop()
        if "recordlengte" in meta and int(meta["recordlengte"]) != length:
            raise LayoutError(f"{origin}: recordlengte {meta['recordlengte']} ≠ velden {length}")
        for role in ("voorloop", "sluit"):
            if sum(1 for r in records.values() if r.role == role) != 1:
                raise LayoutError(f"{origin}: precies één {role}record nodig")
        layout = cls(
            standard=meta.get("standaard", "?"),
            version=meta.get("versie", "?"),
            status=meta.get("status", "vastgesteld"),
            source=meta.get("bron", ""),
            record_length=length,
            records=records,
            origin=origin,
        )
        _check_rule_targets(layout)
        return layout


def _field_from_row(row: dict, records: dict[str, RecordType], origin: str) -> Field:
    try:
        rec = row["record"].strip()
        number = row["nummer"].strip()
        ftype = row["type"].strip().upper()
        length = int(row["lengte"])
        start = int(row["start"])
        obligation = row["verplicht"].strip().upper()
    except (KeyError, ValueError, AttributeError) as exc:
        raise LayoutError(f"{origin}: onleesbare rij {row}: {exc}") from None
    if rec not in records:
        raise LayoutError(f"{origin}: veld {number} hoort bij onbekend record {rec}")
    if ftype not in TYPES:
        raise LayoutError(f"{origin}: veld {number}: type {ftype} (kies uit {TYPES})")
    if ftype == "DATUM" and length != 8:
        raise LayoutError(f"{origin}: veld {number}: een datum is 8 posities")
    if obligation not in OBLIGATIONS:
        raise LayoutError(f"{origin}: veld {number}: verplicht {obligation} (M/C/O/S)")
    waarden = (row.get("waarden") or "").strip()
    allowed = frozenset(v.strip() for v in waarden.split("|")) if waarden else None
    rules: dict[str, str] = {}
    for part in (row.get("regels") or "").split(";"):
        part = part.strip()
        if not part:
            continue
        key, _, arg = part.partition("=")
        key = key.strip()
        if key not in RULES:
            raise LayoutError(f"{origin}: veld {number}: onbekende regel '{key}'")
        rules[key] = arg.strip()
    return Field(
        record=rec,
        number=number,
        name=(row.get("naam") or "").strip(),
        type=ftype,
        length=length,
        start=start,
        obligation=obligation,
        allowed=allowed,
        rules=rules,
    )


def _check_rule_targets(layout: Layout) -> None:
    numbers = {f.number: f for rt in layout.records.values() for f in rt.fields}
    for rt in layout.records.values():
        for f in rt.fields:
            for key in ("gelijk", "teken", "som", "vanaf"):
                if key in f.rules and f.rules[key] not in numbers:
                    raise LayoutError(
                        f"{layout.origin}: veld {f.number}: {key}={f.rules[key]} bestaat niet"
                    )
            if "product" in f.rules:
                for n in f.rules["product"].split("*"):
                    if n.strip() not in rt.by_number:
                        raise LayoutError(f"{layout.origin}: veld {f.number}: product {n}")
            if "aantal" in f.rules:
                for t in f.rules["aantal"].split("+"):
                    if t.strip() not in layout.records:
                        raise LayoutError(f"{layout.origin}: veld {f.number}: aantal {t}")


@cache
def load_layout(name: str, version: str) -> Layout:
    """A built-in layout table: ``layouts/<name>/<version>.csv`` (cached)."""
    path = LAYOUT_DIR / name.lower() / f"{version}.csv"
    if not path.is_file():
        raise LayoutError(f"Geen EI-recordindeling {name} {version} ({path})")
    return Layout.from_file(path)


_REGISTERED: list[Layout] = []


def register(layout: Layout) -> Layout:
    """Make a layout known to :func:`identify` (plugins call this for their own tables)."""
    if all(existing is not layout for existing in _REGISTERED):
        _REGISTERED.append(layout)
    return layout


def unregister(layout: Layout) -> None:
    """Forget a registered layout (tests, plugins being unloaded)."""
    _REGISTERED[:] = [existing for existing in _REGISTERED if existing is not layout]


def builtin_layouts() -> list[Layout]:
    return [
        load_layout(p.parent.name, p.stem)
        for p in sorted(LAYOUT_DIR.glob("*/*.csv"))
        if p.is_file()
    ]


def identify(data: bytes) -> Layout | None:
    """The layout an EI file is written in, judged by its first record only; None if unknown."""
    if not isinstance(data, bytes | bytearray):
        return None
    first = bytes(data[:2048]).split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")
    for layout in [*builtin_layouts(), *_REGISTERED]:
        if len(first) != layout.record_length:
            continue
        head = layout.role("voorloop")[0]
        if all(
            first[f.start - 1 : f.end] in f.allowed for f in head.fields if f.allowed is not None
        ):
            return layout
    return None


# --- parsed files -------------------------------------------------------------------------------


class EiRecord:
    """One record: its type and its field values (see the module docstring for value types)."""

    __slots__ = ("line", "raw", "rtype", "type", "values")

    def __init__(
        self,
        type: str,
        values: Mapping[str, object] | None = None,
        *,
        line: int | None = None,
        raw: str = "",
        rtype: RecordType | None = None,
    ):
        self.type = type
        self.values = dict(values or {})
        self.line = line
        self.raw = raw
        self.rtype = rtype

    def __getitem__(self, number: str):
        return self.values[number]

    def get(self, number: str, default=None):
        return self.values.get(number, default)

    def int(self, number: str) -> int:
        value = self.values.get(number)
        return int(value) if value else 0

    def signed(self, number: str) -> int:
        """An amount with its D/C sign applied (C is negative)."""
        amount = self.int(number)
        if self.rtype is not None:
            fld = self.rtype.by_number.get(number)
            sign_field = fld.rules.get("teken") if fld is not None else None
            if sign_field and self.values.get(sign_field) == "C":
                return -amount
        return amount

    def __repr__(self) -> str:
        return f"EiRecord({self.type!r}, line={self.line})"


@dataclass
class EiFile:
    layout: Layout
    records: list[EiRecord]
    issues: list[EiIssue] = field(default_factory=list)

    @property
    def header(self) -> EiRecord | None:
        code = self.layout.role("voorloop")[0].code
        return next((r for r in self.records if r.type == code), None)

    @property
    def trailer(self) -> EiRecord | None:
        code = self.layout.role("sluit")[0].code
        return next((r for r in reversed(self.records) if r.type == code), None)

    def of_type(self, code: str) -> list[EiRecord]:
        return [r for r in self.records if r.type == code]

    def groups(self) -> list[tuple[EiRecord, list[EiRecord]]]:
        """Each groep record (client) with its detail records, in file order."""
        out: list[tuple[EiRecord, list[EiRecord]]] = []
        roles = {code: rt.role for code, rt in self.layout.records.items()}
        for rec in self.records:
            role = roles.get(rec.type)
            if role == "groep":
                out.append((rec, []))
            elif role == "detail" and out:
                out[-1][1].append(rec)
        return out

    def rows(self) -> Iterator[tuple[EiRecord, str, list[tuple[str, str, str]]]]:
        """For a viewer: (record, record name, [(field number, field name, value as in file)])."""
        for rec in self.records:
            rt = self.layout.records.get(rec.type)
            if rt is None:
                yield rec, "onbekend record", [("", "inhoud", rec.raw)]
                continue
            cells = []
            for f in rt.fields:
                if f.obligation == "S":
                    continue
                value = (
                    rec.raw[f.start - 1 : f.end] if rec.raw else _format_value(f, rec.get(f.number))
                )
                cells.append((f.number, f.name, value.rstrip() if f.type == "AN" else value))
            yield rec, rt.name, cells


# --- reading ------------------------------------------------------------------------------------


def _issue(line, rtype: RecordType | None, fld: Field | None, rule, message, code=None):
    return EiIssue(
        line=line,
        record=rtype.code if rtype is not None else None,
        field=fld.number if fld is not None else None,
        rule=rule,
        message=message,
        field_name=fld.name if fld is not None else "",
        retourcode=code,
    )


@dataclass(frozen=True)
class _ReadPlan:
    """How to cut one record type: one C-level itemgetter for every value, then index lists."""

    numbers: tuple[str, ...]
    fields: tuple[Field, ...]
    cut: Any  # operator.itemgetter over slices; always returns a tuple
    numeric: tuple[int, ...]  # N and DATUM fields
    dates: tuple[int, ...]
    texts: tuple[int, ...]  # AN fields
    filler: tuple[int, ...]  # obligation S: spaces only, not kept
    allowed_n: tuple[int, ...]
    allowed_an: tuple[int, ...]
    mandatory_an: tuple[int, ...]
    no_lead: tuple[int, ...]


@cache
def _plan(rtype: RecordType) -> _ReadPlan:
    fields = tuple(rtype.fields)
    slices = [slice(f.start - 1, f.end) for f in fields]
    cut = itemgetter(*slices) if len(slices) > 1 else (lambda text, s=slices[0]: (text[s],))
    idx = range(len(fields))
    kept = [i for i in idx if fields[i].obligation != "S"]
    return _ReadPlan(
        numbers=tuple(f.number for f in fields),
        fields=fields,
        cut=cut,
        numeric=tuple(i for i in kept if fields[i].type != "AN"),
        dates=tuple(i for i in kept if fields[i].type == "DATUM"),
        texts=tuple(i for i in kept if fields[i].type == "AN"),
        filler=tuple(i for i in idx if fields[i].obligation == "S"),
        allowed_n=tuple(i for i in kept if fields[i].type == "N" and fields[i].allowed is not None),
        allowed_an=tuple(
            i for i in kept if fields[i].type == "AN" and fields[i].allowed is not None
        ),
        mandatory_an=tuple(
            i for i in kept if fields[i].type == "AN" and fields[i].obligation == "M"
        ),
        no_lead=tuple(i for i in kept if "geen-voorloopspatie" in fields[i].rules),
    )


def _read_record(line_no: int, text: str, rtype: RecordType, issues: list[EiIssue]) -> EiRecord:
    plan = _plan(rtype)
    raw = plan.cut(text)
    fields = plan.fields
    values: dict[str, object] = dict(zip(plan.numbers, raw, strict=True))
    for i in plan.filler:
        del values[plan.numbers[i]]
        if raw[i].strip(" "):
            issues.append(
                _issue(line_no, rtype, fields[i], "reserve", "reserveveld moet spaties zijn")
            )
    # every numeric value at once; only on failure field by field
    numeric = "".join([raw[i] for i in plan.numeric])
    if not (numeric.isdigit() and numeric.isascii()) and numeric:
        for i in plan.numeric:
            v = raw[i]
            if not (v.isdigit() and v.isascii()):
                issues.append(
                    _issue(
                        line_no,
                        rtype,
                        fields[i],
                        "numeriek",
                        f"numeriek veld bevat andere tekens dan cijfers ('{v}')",
                    )
                )
                values[fields[i].number] = None
    for i in plan.dates:
        f = fields[i]
        v = values[f.number]
        if v is None:
            continue
        if v == "00000000":
            if f.obligation == "M":
                issues.append(
                    _issue(line_no, rtype, f, "verplicht", "verplichte datum is niet gevuld")
                )
            values[f.number] = None
            continue
        try:
            values[f.number] = date(int(v[:4]), int(v[4:6]), int(v[6:]))
        except ValueError:
            issues.append(_issue(line_no, rtype, f, "datum", f"'{v}' is geen datum (EEJJMMDD)"))
            values[f.number] = None
    for i in plan.allowed_n:
        f = fields[i]
        v = values[f.number]
        if v is not None and v not in f.allowed and (f.obligation == "M" or v.strip("0")):
            issues.append(_not_allowed(line_no, rtype, f, v))
    for i in plan.texts:
        number = plan.numbers[i]
        values[number] = raw[i].rstrip(" ")
    for i in plan.mandatory_an:
        if not values[plan.numbers[i]]:
            issues.append(
                _issue(line_no, rtype, fields[i], "verplicht", "verplicht veld is niet gevuld")
            )
    for i in plan.no_lead:
        v = values[plan.numbers[i]]
        if v and v[0] == " ":
            issues.append(
                _issue(
                    line_no, rtype, fields[i], "spatie", "waarde mag niet met een spatie beginnen"
                )
            )
    for i in plan.allowed_an:
        f = fields[i]
        v = values[f.number]
        if v and v not in f.allowed:
            issues.append(_not_allowed(line_no, rtype, f, v))
    return EiRecord(rtype.code, values, line=line_no, raw=text, rtype=rtype)


def _not_allowed(line_no, rtype, f: Field, value: str) -> EiIssue:
    options = ", ".join(sorted(f.allowed or ()))
    return _issue(
        line_no, rtype, f, "waarde", f"waarde '{value}' is niet toegestaan (toegestaan: {options})"
    )


def _read(layout: Layout, data: bytes, max_bytes: int) -> EiFile:
    if not isinstance(data, bytes | bytearray):
        raise EiError([_issue(None, None, None, "bestand", "het bestand is geen bytes-inhoud")])
    if len(data) > max_bytes:
        raise EiError(
            [
                _issue(
                    None,
                    None,
                    None,
                    "grootte",
                    f"het bestand is te groot ({len(data) // 1024} kB; de grens is "
                    f"{max_bytes // 1024} kB) en is niet gelezen",
                )
            ]
        )
    text = bytes(data).decode("latin-1")
    issues: list[EiIssue] = []
    records: list[EiRecord] = []
    if not text:
        issues.append(_issue(None, None, None, "leeg", "het bestand is leeg"))
        return EiFile(layout, records, issues)
    lines = text.split("\n")
    last = len(lines)
    if lines[-1] == "":
        lines.pop()
        last = 0  # the file ends with a line end
    length = layout.record_length
    by_code = layout.records
    bare_lf = len(lines) > 1 and "\r" not in text
    if bare_lf:
        issues.append(
            _issue(
                None,
                None,
                None,
                "regeleinde",
                "de regels eindigen op LF in plaats van CR LF",
                "8095",
            )
        )
    for i, line in enumerate(lines, start=1):
        if line.endswith("\r"):
            line = line[:-1]
        elif bare_lf:
            pass
        elif i != last or line:
            issues.append(
                _issue(
                    i,
                    None,
                    None,
                    "regeleinde",
                    "de regel eindigt niet op CR LF"
                    if i != last
                    else "de laatste regel eindigt niet op CR LF",
                    "8095",
                )
            )
        if not line:
            issues.append(_issue(i, None, None, "regeleinde", "lege regel", "8095"))
            continue
        rtype = by_code.get(line[:2])
        if rtype is None:
            issues.append(
                _issue(i, None, None, "recordtype", f"onbekend recordtype '{line[:2]}'", "0002")
            )
            continue
        if len(line) != length:
            issues.append(
                _issue(
                    i,
                    rtype,
                    None,
                    "recordlengte",
                    f"recordlengte is {len(line)} posities, moet {length} zijn",
                    "0804",
                )
            )
            continue
        records.append(_read_record(i, line, rtype, issues))
    return EiFile(layout, records, issues)


def parse(
    layout: Layout, data: bytes, *, max_bytes: int = MAX_BYTES, strict: bool = True
) -> EiFile:
    """Read an EI file; with ``strict`` (default) any issue raises :class:`EiError`."""
    ei = _read(layout, data, max_bytes)
    ei.issues = check(layout, ei)
    if strict and ei.issues:
        raise EiError(ei.issues)
    return ei


# --- checking -----------------------------------------------------------------------------------


def check(layout: Layout, ei: EiFile) -> list[EiIssue]:
    """Field issues found while reading plus the structure and cross-record rules."""
    issues = list(ei.issues)
    # Line-level damage shifts everything after it; cross-record rules would only add noise.
    if any(i.rule in ("recordlengte", "recordtype", "leeg") for i in issues):
        return _sorted(issues)
    issues.extend(_check_structure(layout, ei))
    return _sorted(issues)


def _sorted(issues: list[EiIssue]) -> list[EiIssue]:
    seen = set()
    out = []
    for i in sorted(issues, key=lambda i: (i.line or 0, i.field or "")):
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


@cache
def _cross_plan(rtype: RecordType) -> tuple:
    """The cross-record rules of a record type, prepared once."""
    volg = rtype.field_with_rule("volgnummer")
    ref = rtype.field_with_rule("hoort-bij")
    equal = tuple((f, f.rules["gelijk"]) for f in rtype.fields if "gelijk" in f.rules)
    unique = tuple(f for f in rtype.fields if "uniek" in f.rules)
    product = tuple(
        (f, *(n.strip() for n in f.rules["product"].split("*")))
        for f in rtype.fields
        if "product" in f.rules
    )
    since = tuple((f, f.rules["vanaf"]) for f in rtype.fields if "vanaf" in f.rules)
    return volg, ref, equal, unique, product, since


def _check_structure(layout: Layout, ei: EiFile) -> list[EiIssue]:
    issues: list[EiIssue] = []
    head = layout.role("voorloop")[0]
    tail = layout.role("sluit")[0]
    has_groups = bool(layout.role("groep"))
    records = ei.records
    if not records or records[0].type != head.code:
        line = records[0].line if records else None
        issues.append(
            _issue(
                line, head, None, "volgorde", f"het bestand begint niet met een {head.name.lower()}"
            )
        )
    if not records or records[-1].type != tail.code:
        line = (records[-1].line + 1) if records and records[-1].line else None
        issues.append(_issue(line, tail, None, "sluitrecord", f"het {tail.name.lower()} ontbreekt"))
    # what the closing record must count and add up
    sums: dict[str, int] = {}
    sum_fields = [f.rules["som"] for f in tail.fields if "som" in f.rules]
    counts: dict[str, int] = dict.fromkeys(layout.records, 0)
    unique_seen: dict[str, dict[str, int]] = {}
    roles = {code: rt.role for code, rt in layout.records.items()}
    group: EiRecord | None = None
    counter = 0
    last_detail: EiRecord | None = None
    for idx, rec in enumerate(records):
        rtype = rec.rtype
        role = roles[rec.type]
        counts[rec.type] += 1
        line = rec.line
        if role == "voorloop" and idx != 0:
            issues.append(
                _issue(line, rtype, None, "volgorde", "voorlooprecord staat niet vooraan")
            )
        elif role == "sluit" and idx != len(records) - 1:
            issues.append(_issue(line, rtype, None, "volgorde", "sluitrecord staat niet achteraan"))
        elif role == "groep":
            group = rec
        elif role == "detail" and has_groups and group is None:
            issues.append(
                _issue(line, rtype, None, "volgorde", "detailrecord zonder voorafgaand groeprecord")
            )
        elif role == "commentaar" and last_detail is None:
            issues.append(
                _issue(line, rtype, None, "volgorde", "commentaarrecord hoort na een detailrecord")
            )
        volg, ref, equal, unique, product, since = _cross_plan(rtype)
        if volg is not None:
            counter += 1
            value = rec.values.get(volg.number)
            if value is not None and int(value) != counter:
                issues.append(
                    _issue(
                        line,
                        rtype,
                        volg,
                        "volgnummer",
                        f"volgnummer is {int(value)}, verwacht {counter}",
                        "0801",
                    )
                )
            last_detail = rec
        if ref is not None and last_detail is not None:
            value = rec.values.get(ref.number)
            target = last_detail.values.get(last_detail.rtype.field_with_rule("volgnummer").number)
            if value is not None and target is not None and int(value) != int(target):
                issues.append(
                    _issue(
                        line,
                        rtype,
                        ref,
                        "hoort-bij",
                        f"verwijst naar detailrecord {int(value)}, maar volgt op {int(target)}",
                        "0801",
                    )
                )
        if equal and group is not None and role == "detail":
            for f, other in equal:
                mine, theirs = rec.values.get(f.number), group.values.get(other)
                if mine != theirs:
                    issues.append(
                        _issue(
                            line,
                            rtype,
                            f,
                            "gelijk",
                            f"'{mine or ''}' wijkt af van veld {other} van het "
                            f"{group.rtype.name.lower()} op regel {group.line} ('{theirs or ''}')",
                        )
                    )
        for f in unique:
            value = rec.values.get(f.number)
            if not value:
                continue
            seen = unique_seen.setdefault(f.number, {})
            if value in seen:
                issues.append(
                    _issue(
                        line,
                        rtype,
                        f,
                        "uniek",
                        f"'{value}' komt al voor op regel {seen[value]}; moet uniek zijn",
                    )
                )
            else:
                seen[value] = line
        for f, a, b in product:
            va, vb, vf = rec.values.get(a), rec.values.get(b), rec.values.get(f.number)
            if (
                va is not None
                and vb is not None
                and vf is not None
                and int(va) * int(vb) != int(vf)
            ):
                issues.append(
                    _issue(
                        line,
                        rtype,
                        f,
                        "product",
                        f"{int(vf)} is niet gelijk aan veld {a} × veld {b} ({int(va)} × {int(vb)})",
                    )
                )
        for f, other in since:
            mine, theirs = rec.values.get(f.number), rec.values.get(other)
            if isinstance(mine, date) and isinstance(theirs, date) and mine < theirs:
                issues.append(
                    _issue(
                        line,
                        rtype,
                        f,
                        "datum",
                        f"{mine:%d-%m-%Y} ligt voor veld {other} ({theirs:%d-%m-%Y})",
                    )
                )
        for number in sum_fields:
            if number in rec.values:
                value = rec.values[number]
                if value is not None:
                    sums[number] = sums.get(number, 0) + rec.signed(number)
    trailer = records[-1] if records and records[-1].type == tail.code else None
    if trailer is not None:
        for f in tail.fields:
            if "aantal" in f.rules:
                types = [t.strip() for t in f.rules["aantal"].split("+")]
                expected = sum(counts[t] for t in types)
                value = trailer.values.get(f.number)
                if value is not None and int(value) != expected:
                    issues.append(
                        _issue(
                            trailer.line,
                            tail,
                            f,
                            "aantal",
                            f"telt {int(value)}, maar het bestand heeft {expected} "
                            f"record{'s' if expected != 1 else ''} van type {'+'.join(types)}",
                        )
                    )
            if "som" in f.rules:
                expected = sums.get(f.rules["som"], 0)
                if trailer.values.get(f.number) is None:
                    continue
                actual = trailer.signed(f.number)
                if actual != expected:
                    issues.append(
                        _issue(
                            trailer.line,
                            tail,
                            f,
                            "som",
                            f"totaal is {_money(actual)}, maar de bedragen in veld {f.rules['som']} "
                            f"tellen op tot {_money(expected)}",
                        )
                    )
    return issues


def _money(cents: int) -> str:
    sign = "C" if cents < 0 else "D"
    cents = abs(cents)
    euros = f"{cents // 100:,}".replace(",", ".")
    return f"€ {euros},{cents % 100:02d} {sign}"


# --- building -----------------------------------------------------------------------------------

RecordInput = EiRecord | tuple[str, Mapping[str, object]]


def _format_value(f: Field, value) -> str:
    """The text of one field, raising ValueError with a Dutch reason when it does not fit."""
    n = f.length
    if f.type == "AN" or f.obligation == "S":
        if value is None:
            return " " * n
        text = str(value)
        if len(text) > n:
            raise ValueError(f"'{text}' is langer dan {n} posities")
        if not text.isprintable():
            raise ValueError(f"'{text}' bevat stuurtekens")
        return text.ljust(n)
    if f.type == "DATUM":
        if value is None or value == "":
            return "0" * 8
        if isinstance(value, date):
            return f"{value.year:04d}{value.month:02d}{value.day:02d}"
        text = str(value)
        if len(text) == 8 and text.isdigit():
            return text
        raise ValueError(f"'{value}' is geen datum")
    if value is None or value == "":
        return "0" * n
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is geen getal")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value} is negatief; gebruik het debet/creditveld")
        text = str(value)
    else:
        text = str(value)
        if not (text.isdigit() and text.isascii()):
            raise ValueError(f"'{text}' bevat andere tekens dan cijfers")
    if len(text) > n:
        raise ValueError(f"{text} past niet in {n} posities")
    return text.rjust(n, "0")


def build(layout: Layout, records: Iterable[RecordInput], *, check: bool = True) -> bytes:
    """Write records as an EI file (CR LF line ends); see the module docstring."""
    issues: list[EiIssue] = []
    lines: list[str] = []
    tail = layout.role("sluit")[0]
    roles = {code: rt.role for code, rt in layout.records.items()}
    sum_of = {f.number: f.rules["som"] for f in tail.fields if "som" in f.rules}
    sums = dict.fromkeys(sum_of.values(), 0)
    counts = dict.fromkeys(layout.records, 0)
    counter = 0
    closed = False
    line_no = 0
    for item in records:
        if isinstance(item, EiRecord):
            code, given = item.type, item.values
        else:
            code, given = item
        line_no += 1
        rtype = layout.records.get(code)
        if rtype is None:
            issues.append(
                _issue(line_no, None, None, "recordtype", f"onbekend recordtype '{code}'")
            )
            continue
        counts[code] += 1
        role = roles[code]
        if role == "sluit":
            closed = True
        elif role in ("groep", "detail"):
            counter += 1
        line = _build_line(line_no, rtype, given, counter, counts, sums, sum_of, issues)
        lines.append(line)
    if not closed:
        line_no += 1
        counts[tail.code] += 1
        lines.append(_build_line(line_no, tail, {}, counter, counts, sums, sum_of, issues))
    if issues:
        raise EiError(issues, "Het EI-bestand kan niet worden gemaakt")
    try:
        data = ("\r\n".join(lines) + "\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        raise EiError(
            [_issue(None, None, None, "tekenset", f"teken '{bad}' past niet in de tekenset")],
            "Het EI-bestand kan niet worden gemaakt",
        ) from None
    if check:
        parse(layout, data)
    return data


@cache
def _build_plan(rtype: RecordType, sum_targets: frozenset[str]) -> tuple:
    """Per field: (field, number, kind, length, rules or None, text when empty)."""
    plan = []
    for f in rtype.fields:
        kind = "AN" if f.type == "AN" or f.obligation == "S" else f.type
        rules = dict(f.rules) if (f.rules or f.number in sum_targets) else None
        blank = (" " if kind == "AN" else "0") * f.length
        plan.append((f, f.number, kind, f.length, rules, blank))
    return tuple(plan)


def _build_line(line_no, rtype, given, counter, counts, sums, sum_of, issues) -> str:
    values = dict(given)
    parts = []
    for f, number, kind, n, rules, blank in _build_plan(rtype, frozenset(sums)):
        value = values.get(number)
        if rules is not None:
            value = _derive(rtype, number, value, rules, values, counter, counts, sums)
        if value is None:
            parts.append(blank)
            continue
        # the common cases inline; anything else (and every error) through _format_value
        vtype = type(value)
        if kind == "AN":
            if vtype is str and len(value) <= n and value.isprintable():
                parts.append(value.ljust(n))
                continue
        elif kind == "N":
            if vtype is int and value >= 0:
                text = str(value)
                if len(text) <= n:
                    parts.append(text.zfill(n))
                    continue
            elif vtype is str and len(value) <= n and value.isdigit() and value.isascii():
                parts.append(value.zfill(n))
                continue
        elif vtype is date:
            parts.append(f"{value.year:04d}{value.month:02d}{value.day:02d}")
            continue
        try:
            parts.append(_format_value(f, value))
        except ValueError as exc:
            issues.append(_issue(line_no, rtype, f, "waarde", str(exc)))
            parts.append(" " * n)
    return "".join(parts)


def _derive(rtype, number, value, rules, values, counter, counts, sums):
    """Fill a derived field left empty; move an amount's sign to its D/C field; add it up."""
    if value is None:
        if "kenmerk" in rules:
            return rtype.code
        if "volgnummer" in rules or "hoort-bij" in rules:
            return counter
        if "aantal" in rules:
            return sum(counts[t.strip()] for t in rules["aantal"].split("+"))
        if "som" in rules:
            total = sums.get(rules["som"], 0)
            sign = rules.get("teken")
            if sign and values.get(sign) is None:
                values[sign] = "C" if total < 0 else "D"
            return abs(total)
    sign = rules.get("teken")
    if sign and "som" not in rules and type(value) is int:
        if value < 0:
            value = -value
            if values.get(sign) is None:
                values[sign] = "C"
        elif values.get(sign) is None:
            values[sign] = "D"
    if number in sums and value is not None:
        try:
            amount = int(value)
        except (TypeError, ValueError):  # reported by the formatting
            return value
        sums[number] += -amount if sign and values.get(sign) == "C" else amount
    return value
