"""Lists people can work with: sort by any column, filter on what people filter on, export.

One helper for every list screen. A screen describes its list once (:class:`ListSpec`: columns
with the SQL to sort by and the value to show and export, filters with the SQL they add); the
helper reads the query string, runs one paged query plus one count, and writes the same rows to
CSV or Excel. Sorting and filtering happen in SQL, never on loaded rows, so a list of 100,000
registrations stays as quick as one of ten.

Exports neutralise formula-like text (a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading apostrophe; OWASP "CSV injection"): a client named
``=HYPERLINK(…)`` is stored as typed, but never runs as a formula in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from portal.validators import format_cents

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_LIMIT = 50_000
PAGE_SIZE = 50


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _text(value: Any) -> str:
    """A cell as Dutch spreadsheets expect it: dates dd-mm-jjjj, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return str(value)


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """Semicolon-separated UTF-8 with a BOM: Excel in a Dutch locale opens it as columns."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([neutralise(_text(v)) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """An Excel workbook: numbers as numbers, dates as dates, text always as text (never a
    formula: ``write_string``, and neutralised like the CSV)."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(title[:31] or "Lijst")
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "dd-mm-yyyy"})
    stamp = book.add_format({"num_format": "dd-mm-yyyy hh:mm"})
    for c, h in enumerate(headers):
        sheet.write_string(0, c, str(neutralise(h)), bold)
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                sheet.write_string(r, c, _text(v))
            elif isinstance(v, int | float):
                sheet.write_number(r, c, v)
            elif isinstance(v, datetime):
                sheet.write_datetime(r, c, v.replace(tzinfo=None), stamp)
            elif isinstance(v, date):
                sheet.write_datetime(r, c, datetime(v.year, v.month, v.day), day)
            else:
                sheet.write_string(r, c, str(neutralise(str(v))))
    sheet.freeze_panes(1, 0)
    book.close()
    return buf.getvalue()


@dataclass
class Column:
    """One column: header, how to sort it in SQL (None: not sortable), what a row shows.

    ``value(row)`` is the plain value for display and export (a date, a number, text); ``money``
    says it is cents (exported as euros with two decimals)."""

    key: str
    label: str
    value: Callable[[Any], Any]
    sort: Any = None
    num: bool = False
    money: bool = False
    href: Callable[[Any], str | None] | None = None  # a link for the cell (inside a request)

    def export_value(self, row: Any) -> Any:
        v = self.value(row)
        if self.money and isinstance(v, int):
            return round(v / 100, 2)
        return v

    def display(self, row: Any) -> str:
        v = self.value(row)
        if self.money and isinstance(v, int):
            return f"€ {format_cents(v)}"
        return _text(v)


@dataclass
class Filter:
    """A filter field: ``choices`` for a select (value, label), none for a text or month field
    (``kind`` "text" or "month"); ``apply(stmt, value)`` adds the condition."""

    key: str
    label: str
    apply: Callable[[Select, str], Select]
    choices: Sequence[tuple[str, str]] | None = None
    kind: str = "select"


@dataclass
class ListState:
    sort: str
    desc: bool
    filters: dict[str, str]
    page: int

    def args(self, **override: Any) -> dict[str, Any]:
        """Query arguments for links (sort headers, pager, export)."""
        out: dict[str, Any] = {k: v for k, v in self.filters.items() if v}
        out["sorteer"] = self.sort
        out["richting"] = "af" if self.desc else "op"
        if self.page > 1:
            out["pagina"] = self.page
        out.update(override)
        return {k: v for k, v in out.items() if v not in ("", None)}


@dataclass
class ListPage:
    spec: ListSpec
    state: ListState
    rows: list[Any]
    total: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    def url(self, **override: Any) -> str:
        """This list's address with the current sort and filters, changed by ``override``."""
        from flask import request, url_for

        return url_for(request.endpoint, **(request.view_args or {}), **self.state.args(**override))

    def cells(self, row: Any) -> list[tuple[Column, str, str | None]]:
        """(column, text, link) for each column of a row."""
        return [(c, c.display(row), c.href(row) if c.href else None) for c in self.spec.columns]


@dataclass
class ListSpec:
    """A list screen's description. ``base`` selects the rows (one entity or a tuple per row);
    ``tiebreak`` keeps the order stable across pages."""

    name: str
    title: str
    base: Callable[[], Select]
    columns: list[Column]
    default_sort: str
    default_desc: bool = False
    filters: list[Filter] = field(default_factory=list)
    tiebreak: Any = None
    scalars: bool = True

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def parse(self, args: Mapping[str, str]) -> ListState:
        sort = args.get("sorteer") or self.default_sort
        col = self.column(sort)
        if col is None or col.sort is None:
            sort = self.default_sort
        desc = self.default_desc if "richting" not in args else args.get("richting") == "af"
        filters = {}
        for f in self.filters:
            value = (args.get(f.key) or "").strip()[:100]
            if f.choices is not None and value not in {v for v, _ in f.choices}:
                value = ""
            filters[f.key] = value
        try:
            page = max(1, min(int(args.get("pagina") or 1), 100_000))
        except ValueError:
            page = 1
        return ListState(sort, desc, filters, page)

    def statement(self, state: ListState) -> Select:
        stmt = self.base()
        for f in self.filters:
            value = state.filters.get(f.key)
            if value:
                stmt = f.apply(stmt, value)
        return stmt

    def _ordered(self, stmt: Select, state: ListState) -> Select:
        col = self.column(state.sort)
        order = col.sort if col is not None and col.sort is not None else None
        clauses = []
        if order is not None:
            clauses.append(order.desc().nulls_last() if state.desc else order.asc().nulls_first())
        if self.tiebreak is not None:
            clauses.append(self.tiebreak.desc() if state.desc else self.tiebreak.asc())
        return stmt.order_by(*clauses)

    def _rows(self, session: Session, stmt: Select) -> list[Any]:
        return list(session.scalars(stmt)) if self.scalars else list(session.execute(stmt))

    def page(self, session: Session, state: ListState, page_size: int = PAGE_SIZE) -> ListPage:
        stmt = self.statement(state)
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        pages = max(1, math.ceil((total or 0) / page_size))
        if state.page > pages:
            state.page = pages
        rows = self._rows(
            session,
            self._ordered(stmt, state).limit(page_size).offset((state.page - 1) * page_size),
        )
        return ListPage(self, state, rows, total or 0, page_size)

    def export(self, session: Session, state: ListState, fmt: str) -> tuple[bytes, str, str]:
        """(content, mimetype, filename) of every matching row (up to ``EXPORT_LIMIT``)."""
        rows = self._rows(session, self._ordered(self.statement(state), state).limit(EXPORT_LIMIT))
        headers = [c.label for c in self.columns]
        values = [[c.export_value(r) for c in self.columns] for r in rows]
        stamp = date.today().strftime("%Y%m%d")
        if fmt == "xlsx":
            return (
                xlsx_bytes(self.title, headers, values),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                f"{self.name}-{stamp}.xlsx",
            )
        return csv_bytes(headers, values), "text/csv; charset=utf-8", f"{self.name}-{stamp}.csv"


def respond(spec: ListSpec, template: str, **context: Any):
    """The list page for a request, or its export when ``?export=csv`` / ``xlsx`` is asked.

    Renders ``template`` with ``listing`` (a :class:`ListPage`); htmx requests for the table
    (sorting, filtering, paging) get the ``_list.html`` part only."""
    from flask import Response, request

    from portal.db import db_session
    from portal.web import render

    session = db_session()
    state = spec.parse(request.args)
    fmt = request.args.get("export")
    if fmt in ("csv", "xlsx"):
        content, mimetype, filename = spec.export(session, state, fmt)
        return Response(
            content,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    listing = spec.page(session, state)
    return render(template, "_list.html", listing=listing, **context)
