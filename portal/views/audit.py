"""The audit trail on screen: a Beheerder or the Privacyfunctionaris searches and exports who did or
saw what, and who looked at which client when (NEN 7513). Reading the trail is itself recorded.

The search form posts, like the client search, so a BSN typed as search term never lands in the
address bar; a search without one is redirected to a plain GET address that can be bookmarked.
"""

from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import current_user

from portal.auth import requires
from portal.db import db_session
from portal.services import audit
from portal.validators import parse_date
from portal.web import AMSTERDAM, render, safe_date

bp = Blueprint("audit", __name__, url_prefix="/beheer/audit")

PAGE = 100
EXPORT_LIMIT = 100_000
FIELDS = ("gebruiker", "client", "actie", "van", "tot")


def _filter(args) -> tuple[audit.AuditFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    flt = audit.AuditFilter(
        gebruiker=(args.get("gebruiker") or "").strip()[:200],
        client=(args.get("client") or "").strip()[:60],
        actie=(args.get("actie") or "").strip()[:60],
    )
    for name in ("van", "tot"):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                value = safe_date(parse_date(raw))
            except ValueError:
                value = None
            if value is None:
                errors[name] = "Vul een datum in als dd-mm-jjjj."
            setattr(flt, name, value)
    return flt, errors


def _looks_like_bsn(term: str) -> bool:
    return bool(re.fullmatch(r"\d{9}", re.sub(r"[.\s]", "", term)))


def _page_number(args) -> int:
    raw = (args.get("pagina") or "1").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 6 and int(raw) > 0 else 1


def _note(action: str, flt: audit.AuditFilter) -> None:
    s = db_session()
    audit.record(
        s,
        action,
        user_id=current_user.id,
        object_type="audit",
        # The search terms, without a BSN (never stored in the trail).
        detail={
            "gebruiker": flt.gebruiker,
            "client": "(BSN)" if _looks_like_bsn(flt.client) else flt.client,
            "actie": flt.actie,
            "van": flt.van.isoformat() if flt.van else "",
            "tot": flt.tot.isoformat() if flt.tot else "",
        },
        ip=request.remote_addr,
    )
    s.commit()


@bp.route("/", methods=["GET", "POST"])
@requires("audit.view")
def index():
    args = request.form if request.method == "POST" else request.args
    flt, errors = _filter(args)
    if request.method == "POST" and args.get("export") == "csv" and not errors:
        return _export(flt)
    if request.method == "POST" and not _looks_like_bsn(flt.client) and not errors:
        query = {k: args.get(k) for k in FIELDS if args.get(k)}
        return redirect(url_for("audit.index", **query), 303)
    page = _page_number(args)
    rows, more = (
        ([], False)
        if errors
        else audit.search(db_session(), flt, limit=PAGE, offset=(page - 1) * PAGE)
    )
    if not errors:
        _note("audit.bekeken", flt)
    values = {k: args.get(k, "") for k in FIELDS}
    return render(
        "audit/index.html",
        rows=rows,
        more=more,
        page=page,
        values=values,
        errors=errors,
        label=audit.action_label,
        actions=sorted(audit.ACTION_LABELS.items(), key=lambda kv: kv[1]),
        bsn_search=_looks_like_bsn(flt.client),
    ), (422 if errors else 200)


def _export(flt: audit.AuditFilter) -> Response:
    rows, _more = audit.search(db_session(), flt, limit=EXPORT_LIMIT)
    _note("audit.geexporteerd", flt)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "tijdstip",
            "gebruiker",
            "e-mail",
            "actie",
            "omschrijving",
            "cliënt-id",
            "cliëntnummer",
            "cliënt",
            "object",
            "object-id",
            "ip-adres",
        ]
    )
    for event, user, client in rows:
        writer.writerow(
            _cells(
                [
                    event.at.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M:%S")
                    if event.at.tzinfo
                    else event.at.strftime("%d-%m-%Y %H:%M:%S"),
                    user.naam if user else "",
                    user.email if user else "",
                    event.action,
                    audit.action_label(event.action),
                    event.client_id or "",
                    client.clientnummer if client else "",
                    client.naam if client else "",
                    event.object_type or "",
                    event.object_id or "",
                    event.ip or "",
                ]
            )
        )
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audittrail.csv"'},
    )


def _cells(values: list) -> list[str]:
    """Text that a spreadsheet would run as a formula starts with a quote instead."""
    cells = []
    for value in values:
        text = str(value)
        cells.append("'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text)
    return cells
