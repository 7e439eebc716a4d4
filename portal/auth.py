"""Log-in, roles and permissions.

Every view declares the permission it needs with ``@requires(...)``; a request for a view without a
declared permission is refused (fail closed), and anonymous requests go to the log-in page. A test
walks the URL map to keep it that way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user

from portal.db import db_session
from portal.domain import Role

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
AUTHENTICATED = "authenticated"  # any logged-in user (start page, own account)

# Permissions per role. Later features add their permission names here.
_READ = {
    "clients.view",
    "financiers.view",
    "products.view",
    "contracts.view",
    "legitimations.view",
    "jobs.view",
    "registrations.view",
    "messages.view",
    "declarations.view",
    "invoices.view",
}
_BACKOFFICE = _READ | {
    "clients.edit",
    "financiers.edit",
    "products.edit",
    "contracts.edit",
    "legitimations.edit",
    "import",
    "approval",
    "declarations.edit",
    "messages.edit",
    "invoices.edit",
}
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.BEHEERDER: frozenset(_BACKOFFICE | {"users", "organisation", "audit.view", "api_tokens"}),
    Role.BACKOFFICE: frozenset(_BACKOFFICE),
    Role.ZORGPROFESSIONAL: frozenset({"registration"}),
    Role.ALLEEN_LEZEN: frozenset(_READ),
}

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in om deze pagina te zien."
login_manager.session_protection = "strong"


def requires(*permissions: str) -> Callable[[F], F]:
    """Declare what a view needs: any one of ``permissions`` (or PUBLIC / AUTHENTICATED)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if PUBLIC not in permissions:
                if not current_user.is_authenticated:
                    return htmx_to_login() or current_app.login_manager.unauthorized()
                if AUTHENTICATED not in permissions and not any(map(has_permission, permissions)):
                    abort(403)
            return view(*args, **kwargs)

        wrapper.required_permissions = permissions  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def htmx_to_login():
    """For an htmx request: a response that makes the browser load the log-in page.

    A plain redirect would be followed by htmx and the log-in form swapped into a table or a
    form; ``HX-Redirect`` loads the whole page instead. None for other requests.
    """
    if request.headers.get("HX-Request") != "true" or request.headers.get("HX-Boosted") == "true":
        return None
    current = request.headers.get("HX-Current-URL", "")
    path = current.split("://", 1)[1].partition("/")[2] if "://" in current else ""
    response = current_app.response_class(status=401)
    response.headers["HX-Redirect"] = url_for("auth.login", next=f"/{path}" if path else None)
    return response


def has_permission(permission: str) -> bool:
    if not current_user.is_authenticated:
        return False
    return permission in ROLE_PERMISSIONS.get(Role(current_user.role), frozenset())


def _load_user(user_id: str):
    from portal.models import User

    ident, _, version = user_id.partition(":")
    if not ident.isdigit():
        return None
    # populate_existing: read the row as it is now (session version, active), also when the
    # session already holds the user from earlier in the same app context.
    user = db_session().get(User, int(ident), populate_existing=True)
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def _forget_cached_user():
    """Each request decides who is logged in from its own session cookie.

    flask-login caches the user in ``g``. In production ``g`` belongs to one request, but when an
    app context is already active (tests, scripts) Flask reuses it for every request, and a cached
    user would carry over to the next request, even to another client's.
    """
    g.pop("_login_user", None)


def _gatekeeper():
    """Runs before every request: unknown views are closed, idle sessions end, 2FA is enforced."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    view = current_app.view_functions.get(endpoint)
    permissions = getattr(view, "required_permissions", None)
    if permissions is None:
        abort(403)  # a view without a declared permission is never served
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    last_seen = session.get("last_seen", now)
    idle_limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    if now - last_seen > idle_limit:
        logout_user()
        session.clear()
        flash(
            f"U bent uitgelogd na {current_app.config['IDLE_TIMEOUT_MINUTES']} minuten zonder activiteit.",
            "info",
        )
        return htmx_to_login() or redirect(
            url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        )
    session["last_seen"] = now
    session.permanent = True
    if _needs_2fa_setup() and endpoint not in {"auth.totp_setup", "auth.logout"}:
        flash("Uw organisatie vraagt inloggen in twee stappen. Stel dit eerst in.", "info")
        return redirect(url_for("auth.totp_setup"))
    return None


def _needs_2fa_setup() -> bool:
    from portal.services.organisation import get_organisation

    if current_user.totp_enabled:
        return False
    org = get_organisation(db_session())
    return bool(org and org.require_2fa)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(_load_user)
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_cached_user)
    app.before_request(_gatekeeper)

    @app.context_processor
    def _permissions():
        return {"can": has_permission, "Role": Role}
