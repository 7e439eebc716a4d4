"""The client dossier's tabs besides "Legitimaties" (which is the client page itself).

Every tab is a page of its own (a link works without JavaScript, the browser's back button
works) and, asked by htmx, only its panel. Opening a tab is recorded in the audit trail like
opening the client page.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, request

from portal.app import hooks
from portal.auth import has_permission, requires
from portal.db import db_session
from portal.domain import FinancierKind
from portal.models import Client
from portal.models.declaration import LINE_BADGES, LINE_STATUS_LABELS
from portal.services import dossier as svc
from portal.services.dashboard import hours_label
from portal.web import audit_client_view, render

bp = Blueprint("dossier", __name__, url_prefix="/clienten")

AUDIT_LABELS = {
    "client.bekeken": "Dossier bekeken",
    "client.bsn_getoond": "BSN getoond",
    "client.formulier_bekeken": "Gegevens geopend om te wijzigen",
    "client.aangemaakt": "Cliënt aangemaakt",
    "client.gewijzigd": "Gegevens gewijzigd",
    "legitimatie.formulier_bekeken": "Legitimatie geopend om te wijzigen",
    "legitimatie.aangemaakt": "Legitimatie toegevoegd",
    "legitimatie.gewijzigd": "Legitimatie gewijzigd",
    "legitimatie.beeindigd": "Legitimatie beëindigd",
    "legitimatie.verwijderd": "Legitimatie verwijderd",
    "stacking.week_bekeken": "Verdeling per week bekeken",
    "factuur.bekeken": "Factuur bekeken",
    "factuur.pdf": "Factuur-PDF geopend",
    "dossier.bekeken": "Dossiertab bekeken",
}


def tabs() -> list[tuple[str, str]]:
    """The tabs this user may open (the audit trail only with ``audit.view``)."""
    return [(k, label) for k, label in svc.TABS if k != "inzage" or has_permission("audit.view")]


def shows_budgethouder(client: Client) -> bool:
    """The PGB budget holder card only for clients with a legitimation that a budget holder pays."""
    h = hooks()
    for leg in client.legitimations:
        info = h.financing(leg.financing)
        if info is not None and FinancierKind.BUDGETHOUDER in info.financier_kinds:
            return True
    return False


@bp.route("/<int:client_id>/dossier/<tab>")
@requires("clients.view")
def tab(client_id: int, tab: str):
    session = db_session()
    client = session.get(Client, client_id)
    if client is None or tab not in dict(tabs()) or tab == "legitimaties":
        abort(404)
    audit_client_view(client.id, "dossier.bekeken")
    h = hooks()
    context: dict = {"client": client, "tab": tab, "tabs": tabs()}
    if tab == "zorg":
        per = "maand" if request.args.get("per") == "maand" else "week"
        context.update(
            per=per,
            periods=svc.care(
                session, client.id, "month" if per == "maand" else "week", date.today()
            ),
            hours=hours_label,
            stacking_page="stacking.client_week" in current_app.view_functions,
        )
    elif tab == "declaraties":
        context.update(
            rows=svc.declaration_lines(session, client.id),
            line_labels=LINE_STATUS_LABELS,
            line_badges=LINE_BADGES,
            code_label=h.code_label,
        )
    elif tab == "facturen":
        context.update(invoices=svc.invoices(session, client.id))
    elif tab == "berichten":
        from portal.jobs.vecozo import VECOZO_LABELS

        context.update(messages=svc.messages(session, client.id), vecozo_labels=VECOZO_LABELS)
    elif tab == "inzage":
        context.update(events=svc.audit_trail(session, client.id), audit_labels=AUDIT_LABELS)
    return render("clients/dossier.html", **context)


@bp.app_context_processor
def _dossier_helpers() -> dict:
    """For the client page (``clients/show.html``), which is the dossier's first tab."""
    return {"dossier_tab_list": tabs, "shows_budgethouder": shows_budgethouder}
