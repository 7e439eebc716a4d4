"""Blueprints, one per area. Each new area adds its blueprint to this list."""

from portal.views.admin import bp as admin_bp
from portal.views.api_koppelingen import bp as api_koppelingen_bp
from portal.views.approval import bp as approval_bp
from portal.views.audit import bp as audit_bp
from portal.views.auth import bp as auth_bp
from portal.views.client_access import bp as client_access_bp
from portal.views.clients import bp as clients_bp
from portal.views.contracts import bp as contracts_bp
from portal.views.declarations import bp as declarations_bp
from portal.views.dossier import bp as dossier_bp
from portal.views.financiers import bp as financiers_bp
from portal.views.followups import bp as followups_bp
from portal.views.imports import bp as imports_bp
from portal.views.invoices import bp as invoices_bp
from portal.views.jobs import bp as jobs_bp
from portal.views.main import bp as main_bp
from portal.views.messages import bp as messages_bp
from portal.views.products import bp as products_bp
from portal.views.registrations import bp as registrations_bp
from portal.views.search import bp as search_bp
from portal.views.stacking import bp as stacking_bp
from portal.views.worklists import bp as worklists_bp

BLUEPRINTS = [
    admin_bp,
    financiers_bp,
    products_bp,
    contracts_bp,
    auth_bp,
    main_bp,
    jobs_bp,
    clients_bp,
    imports_bp,
    invoices_bp,
    registrations_bp,
    approval_bp,
    stacking_bp,
    messages_bp,
    declarations_bp,
    followups_bp,
    audit_bp,
    client_access_bp,
    worklists_bp,
    search_bp,
    dossier_bp,
    api_koppelingen_bp,
]

# The main navigation: (endpoint, Dutch label, permission). Shown only when the endpoint exists
# and the user has the permission. Each new area adds its entry here.
NAV: list[tuple[str, str, str]] = [
    ("main.index", "Start", "authenticated"),
    ("registrations.index", "Registreren", "registration"),
    ("clients.index", "Cliënten", "clients.view"),
    ("approval.index", "Fiatteren", "approval"),
    ("declarations.index", "Declareren", "declarations.view"),
    ("invoices.index", "Facturen", "invoices.view"),
    ("messages.inbox", "Berichten", "messages.view"),
    ("financiers.index", "Financiers", "financiers.view"),
    ("products.index", "Producten", "products.view"),
    ("contracts.index", "Contracten", "contracts.view"),
    ("admin.organisation", "Organisatie", "organisation"),
    ("admin.users", "Gebruikers", "users"),
    ("audit.index", "Audittrail", "audit.view"),
    ("api_koppelingen.index", "API", "api_tokens"),
]
