"""The one search box: clients, declarations, invoices and messages from the top bar.

The form posts, so a BSN never lands in an address bar or the browser history. One hit goes
straight to its page.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from portal.app import hooks
from portal.auth import requires
from portal.db import db_session
from portal.services import search as svc
from portal.web import render

bp = Blueprint("search", __name__, url_prefix="/zoeken")

_TARGETS = {
    "clients": lambda c: url_for("clients.show", client_id=c.id),
    "declarations": lambda d: url_for("declarations.show", declaration_id=d.id),
    "invoices": lambda i: url_for("invoices.show", invoice_id=i.id),
    "messages": lambda m: url_for("messages.show", message_id=m.id),
}


@bp.route("/", methods=["GET", "POST"])
@requires("clients.view")
def index():
    q = request.form.get("q", "") if request.method == "POST" else ""
    results = svc.search(db_session(), q)
    only = results.only()
    if only is not None and request.form.get("alle") != "1":
        kind, item = only
        return redirect(_TARGETS[kind](item), 303)
    return render("search/index.html", results=results, financing_label=hooks().financing_label)
