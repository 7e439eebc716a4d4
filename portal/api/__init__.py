"""The versioned JSON API for connected systems (``/api/v1/``).

Views are thin: the body is typed by pydantic models (``schemas``), checked by the same services
as the screens, and the OpenAPI document is generated from those models and routes by spectree
(``docs``). Tokens, scopes, the rate limit and the audit trail are in ``access``; every error is
an RFC 9457 problem (``problems``).

The API never reads or writes a cookie session (:class:`NoApiSessions`) and needs no CSRF token:
a browser's cookies give no access to it, so there is nothing to forge. The screens keep their
CSRF protection unchanged.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
from flask.sessions import SecureCookieSessionInterface, SessionInterface
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from werkzeug.exceptions import HTTPException

from portal.api.problems import ApiProblem, from_exception, problem_response, validation_problem
from portal.api.schemas import Probleem
from portal.auth import PUBLIC

PREFIX = "/api/v1"

bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)


def _before_validation(req, resp, req_validation_error, instance, model_adapter) -> None:
    if req_validation_error is not None:
        raise validation_problem(req_validation_error.errors())


def _after(req, resp, resp_validation_error, instance, model_adapter) -> None:
    if resp_validation_error is not None:  # our own answer does not match the document
        raise resp_validation_error


spec = SpecTree(
    "flask",
    mode="strict",
    title="Declaratieportaal API",
    version="1",
    description=(
        "Registraties en cliënten in, statussen uit. Aanmelden met een API-token "
        "(`Authorization: Bearer dpk_…`) dat een beheerder maakt onder Beheer → API-koppelingen. "
        "Fouten volgen RFC 9457 (application/problem+json) met een Nederlandse `detail`."
    ),
    page_templates={},
    annotations=False,
    before=_before_validation,
    after=_after,
    validation_error_status=422,
    validation_error_model=Probleem,
    security_schemes=[
        SecurityScheme(
            name="token",
            data=SecuritySchemeData(type="http", scheme="bearer", bearer_format="dpk_…"),
        )
    ],
    security={"token": []},
)


class NoApiSessions(SessionInterface):
    """The screens' cookie session everywhere except under /api/: there no session is read
    (a logged-in browser's cookie gives no access) and no cookie is ever set."""

    def __init__(self, inner: SessionInterface):
        self.inner = inner

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app, session, response):
        if request.path.startswith("/api/"):
            return None
        return self.inner.save_session(app, session, response)

    def is_null_session(self, obj) -> bool:
        return self.inner.is_null_session(obj)


DESCRIPTION = {"api_v1.openapi", "api_v1.docs"}  # the API's description: public, no data


@bp.before_request
def _gate():
    """First the token (fail closed: an API view without a scope is never served), then
    malformed JSON or another content type: a clear problem before the body is read."""
    from flask import current_app

    from portal.api.access import check_access

    if request.endpoint in DESCRIPTION:
        return None
    scope = getattr(current_app.view_functions.get(request.endpoint), "api_scope", None)
    if scope is None:
        raise ApiProblem(403, "geen-toegang", "Dit deel van de API is niet beschikbaar.")
    check_access(scope)
    if any(isinstance(v, int) and v > 2**31 - 1 for v in (request.view_args or {}).values()):
        raise ApiProblem(404, "niet-gevonden", "Dit object bestaat niet.")
    if request.method in ("POST", "PUT", "PATCH"):
        if not request.is_json:
            raise ApiProblem(
                415,
                "geen-json",
                "Stuur de gegevens als JSON met de kop 'Content-Type: application/json'.",
            )
        data = request.get_json(silent=True)
        if data is not None and not _plain_text(data):
            raise ApiProblem(
                400,
                "ongeldige-tekens",
                "De gegevens bevatten tekens die niet kunnen worden opgeslagen (een nul-teken of "
                "een losse surrogaat); er is niets opgeslagen.",
            )
        if data is None:
            raise ApiProblem(
                400,
                "ongeldige-json",
                "De inhoud is geen geldige JSON. Controleer haakjes, komma's en aanhalingstekens; "
                "er is niets opgeslagen.",
            )
    return None


def _plain_text(data) -> bool:
    """No NUL characters and no lone surrogates anywhere (a database cannot store them)."""
    import json

    try:
        text = json.dumps(data, ensure_ascii=False)
        text.encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return False
    return "\\u0000" not in text and "\x00" not in text


@bp.after_request
def _audit(response):
    from portal.api.access import record_call

    if request.endpoint not in DESCRIPTION:
        record_call(response)
    return response


@bp.errorhandler(ApiProblem)
def _problem(exc: ApiProblem):
    from portal.db import db_session

    db_session().rollback()
    return from_exception(exc)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return _http_problem(exc)


def _http_problem(exc: HTTPException):
    texts = {
        400: ("ongeldig-verzoek", "Dit verzoek kan niet worden gelezen."),
        404: ("niet-gevonden", "Dit adres of object bestaat niet (meer)."),
        405: ("methode", f"De methode {request.method} kan hier niet."),
        413: (
            "te-groot",
            "Het verzoek is te groot. Splits de aanlevering in kleinere delen; er is niets "
            "opgeslagen.",
        ),
    }
    code, detail = texts.get(exc.code or 500, ("fout", exc.description or "Fout."))
    headers = {}
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return problem_response(exc.code or 500, code, detail, headers=headers)


@bp.errorhandler(Exception)
def _crash(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_problem(exc)
    from flask import current_app

    from portal.db import db_session

    current_app.logger.exception("API error")
    db_session().rollback()
    return problem_response(
        500,
        "serverfout",
        "Er ging iets mis aan onze kant. Er is niets half opgeslagen; probeer het opnieuw.",
    )


def _api_aware(app: Flask, status: int) -> None:
    """Requests under /api/ that match no API route (404, 405, 413) get a problem too; the
    screens keep their own error pages."""
    handlers = app.error_handler_spec.setdefault(None, {}).setdefault(status, {})
    screen_handler = next(iter(handlers.values()), None)

    def handle(exc):
        if request.path.startswith("/api/"):
            from portal.api.access import record_call

            response = _http_problem(exc)
            record_call(response)
            return response
        if screen_handler is not None:
            return screen_handler(exc)
        return exc

    app.register_error_handler(status, handle)


def init_app(app: Flask) -> None:
    from portal.api import docs, views  # noqa: F401  (routes on bp)

    if not isinstance(app.session_interface, NoApiSessions):
        app.session_interface = NoApiSessions(
            app.session_interface or SecureCookieSessionInterface()
        )
    app.extensions["csrf"].exempt(
        bp
    )  # token-only API: no cookie session, so no CSRF (see module doc)
    app.register_blueprint(bp)
    spec.app = app
    for status in (404, 405, 413):
        _api_aware(app, status)


__all__ = ["PREFIX", "PUBLIC", "bp", "init_app", "spec"]
