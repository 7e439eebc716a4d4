"""What every screen shares: page-or-fragment rendering, filters, errors, headers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, abort, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from portal.validators import format_cents

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def wants_fragment() -> bool:
    """htmx asked for a part of the page; boosted requests and history restores get the page."""
    h = request.htmx
    return bool(h) and not h.boosted and not h.history_restore_request


def render(template: str, fragment: str | None = None, **context: Any):
    """Render the page, or only ``fragment`` (a ``_``-prefixed partial) for an htmx request."""
    name = fragment if fragment and wants_fragment() else template
    return render_template(name, **context)


def audit_client_view(client_id: int, what: str = "client.bekeken") -> None:
    """Write that the current user looked at a client's data (in the request's own session)."""
    from portal.db import db_session
    from portal.services import audit

    session = db_session()
    audit.record(
        session,
        what,
        user_id=current_user.id,
        object_type="client",
        object_id=client_id,
        client_id=client_id,
        detail={"path": request.path},
        ip=request.remote_addr,
    )
    session.commit()


def audit_view(
    action: str,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    client_ids: list[int] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write that the current user looked at something (one event per client it showed)."""
    from portal.db import db_session
    from portal.services import audit

    session = db_session()
    for client_id in dict.fromkeys(client_ids or [None]):
        audit.record(
            session,
            action,
            user_id=current_user.id,
            object_type=object_type,
            object_id=object_id,
            client_id=client_id,
            detail={"path": request.path, **(detail or {})},
            ip=request.remote_addr,
        )
    session.commit()


def _nav() -> list[tuple[str, str]]:
    from flask import current_app

    from portal.auth import has_permission
    from portal.views import NAV

    if not current_user.is_authenticated:
        return []
    from portal.app import hooks

    entries = list(NAV)
    at = next((i + 1 for i, e in enumerate(entries) if e[0] == "messages.inbox"), len(entries))
    entries[at:at] = [(m.endpoint, m.label, m.permission) for m in hooks().menu_items()]
    return [
        (endpoint, label)
        for endpoint, label, permission in entries
        if endpoint in current_app.view_functions
        and (permission == "authenticated" or has_permission(permission))
    ]


def _nl_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(AMSTERDAM)
        return value.strftime("%d-%m-%Y %H:%M")
    return value.strftime("%d-%m-%Y")


def _euro(cents: int | None) -> str:
    return "" if cents is None else f"€ {format_cents(cents)}"


# Dates outside these years are typing errors or probes; refusing them keeps date arithmetic
# (the day before, the week after) from running off the calendar.
MIN_YEAR, MAX_YEAR = 1900, 2199
# Ids in URLs fit a PostgreSQL integer; a longer number is a page that does not exist (404).
MAX_ID = 2**31 - 1


class SafeIntConverter(IntegerConverter):
    """``<int:...>`` that answers 404 for numbers no row can have, instead of a database error.

    The number still matches the route (so the answer is "not found", not "method not allowed"
    from some other route), and the view is never called with it.
    """

    def to_python(self, value: str) -> int:
        digits = value.lstrip("-")
        if len(digits) > 10 or int(digits) > MAX_ID:
            raise NotFound()
        return super().to_python(value)


def safe_date(value: date | None) -> date | None:
    """``value`` when it lies in the years the portal works with, else None."""
    if value is None or not (MIN_YEAR <= value.year <= MAX_YEAR):
        return None
    return value


def int_arg(name: str, default: int | None = None, *, source=None) -> int | None:
    """A whole number from the query string or form; ``default`` when missing or unusable."""
    raw = ((source or request.values).get(name) or "").strip()
    if not raw.isdigit() or len(raw) > 9:
        return default
    return int(raw)


# Query parameters that carry an id or a page number, besides every ``*_id``.
NUMBER_ARGS = frozenset({"id", "pagina", "page", "agb", "financier", "client", "run", "job"})


def _number_out_of_range() -> None:
    """A number in an id or page parameter beyond any row: the page does not exist (404).

    Done once for every request, so no view has to guard its own ``int(...)`` against
    ``?financier_id=99999999999999999999999`` reaching the database.
    """
    for name, value in request.args.items(multi=True):
        if name in NUMBER_ARGS or name.endswith("_id"):
            digits = value.strip().lstrip("-+")
            if digits.isdigit() and (len(digits) > 10 or int(digits) > MAX_ID):
                abort(404)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = SafeIntConverter
    app.before_request(_number_out_of_range)
    app.jinja_env.filters["datum"] = _nl_date
    app.jinja_env.filters["euro"] = _euro
    app.jinja_env.filters["cents"] = format_cents
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from portal.app import hooks

        return {
            "hooks": hooks(),
            "current_user": current_user,
            "today": date.today(),
            "nav": _nav(),
        }

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        )
        if request.is_secure or app.config.get("SESSION_COOKIE_SECURE"):
            # Browsers only honour it over HTTPS; production runs behind an HTTPS proxy.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'",
        )
        response.vary.add("HX-Request")
        response.vary.add("HX-Boosted")
        response.vary.add("HX-History-Restore-Request")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf(err):
        return render_error(
            400,
            "Het formulier is verlopen of niet geldig (beveiligingscode ontbreekt). "
            "Laad de pagina opnieuw en probeer het nog eens; er is niets opgeslagen.",
        )

    @app.errorhandler(403)
    def _forbidden(err):
        return render_error(403, "U heeft geen toegang tot deze pagina.")

    @app.errorhandler(404)
    def _not_found(err):
        return render_error(404, "Deze pagina bestaat niet (meer).")

    @app.errorhandler(413)
    def _too_large(err):
        return render_error(413, "Het bestand is te groot.")

    @app.errorhandler(OverflowError)
    def _out_of_range(err):
        # The backstop behind SafeIntConverter, _number_out_of_range and the date parsers.
        return render_error(
            400,
            "Een getal of datum in deze aanvraag valt buiten het bereik; er is niets opgeslagen.",
        )

    @app.errorhandler(500)
    def _server_error(err):
        return render_error(
            500, "Er ging iets mis aan onze kant. Er is niets half opgeslagen; probeer het opnieuw."
        )


def render_error(status: int, message: str):
    return render_template("error.html", status=status, message=Markup.escape(message)), status
