"""Errors of the API in one shape: RFC 9457 problem details (``application/problem+json``),
with a Dutch ``detail`` and, for bad input, the field and reason of every refusal."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

PROBLEM_TYPE = "application/problem+json"

TITLES = {
    400: "Ongeldig verzoek",
    401: "Niet aangemeld",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Methode niet toegestaan",
    409: "Conflict",
    413: "Verzoek te groot",
    415: "Verkeerd inhoudstype",
    422: "Ongeldige invoer",
    429: "Te veel verzoeken",
    500: "Serverfout",
    503: "Tijdelijk niet beschikbaar",
}


class ApiProblem(Exception):
    """Raised anywhere in an API view; turned into a problem response."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        fouten: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.fouten = fouten
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, code: str, detail: str, fouten=None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/api/v1/docs#probleem-{code}",
        "title": TITLES.get(status, "Fout"),
        "status": status,
        "detail": detail,
        "instance": request.path if request else None,
        "code": code,
    }
    if fouten is not None:
        body["fouten"] = fouten
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int, code: str, detail: str, *, fouten=None, headers=None, **extra: Any
):
    body = problem_body(status, code, detail, fouten, **extra)
    response = current_app.response_class(
        current_app.json.dumps(body), status=status, mimetype=PROBLEM_TYPE
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def from_exception(exc: ApiProblem):
    return problem_response(
        exc.status, exc.code, exc.detail, fouten=exc.fouten, headers=exc.headers, **exc.extra
    )


# -- pydantic's findings in Dutch -------------------------------------------------------------

_MESSAGES = {
    "missing": "Dit veld is verplicht.",
    "extra_forbidden": "Onbekend veld: dit veld bestaat niet in de API.",
    "int_type": "Verwacht een geheel getal.",
    "int_parsing": "Verwacht een geheel getal.",
    "int_from_float": "Verwacht een geheel getal.",
    "string_type": "Verwacht tekst.",
    "bool_type": "Verwacht true of false.",
    "date_type": "Verwacht een datum als jjjj-mm-dd.",
    "date_parsing": "Verwacht een datum als jjjj-mm-dd.",
    "date_from_datetime_parsing": "Verwacht een datum als jjjj-mm-dd.",
    "date_from_datetime_inexact": "Verwacht een datum als jjjj-mm-dd.",
    "list_type": "Verwacht een lijst.",
    "dict_type": "Verwacht een object.",
    "model_type": "Verwacht een object.",
    "model_attributes_type": "Verwacht een object.",
    "json_invalid": "Dit is geen geldige JSON.",
    "greater_than_equal": "Moet ten minste {ge} zijn.",
    "less_than_equal": "Mag hoogstens {le} zijn.",
    "string_too_short": "Mag niet leeg zijn.",
    "string_too_long": "Mag hoogstens {max_length} tekens hebben.",
    "too_short": "Moet ten minste {min_length} element(en) bevatten.",
    "too_long": "Mag hoogstens {max_length} elementen bevatten.",
    "literal_error": "Kies uit: {expected}.",
    "enum": "Kies uit: {expected}.",
    "string_pattern_mismatch": "Heeft niet de goede vorm ({pattern}).",
}


def dutch(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error") or kind.startswith("dp_"):
        message = str(ctx.get("reason") or error.get("msg") or "Ongeldige waarde.")
        return message.removeprefix("Value error, ")
    template = _MESSAGES.get(kind)
    if template is None:
        return "Ongeldige waarde."
    try:
        return template.format(**{k: v for k, v in ctx.items()})
    except (KeyError, IndexError):
        return template


def field_path(loc: tuple | list) -> str:
    return ".".join(str(p) for p in loc) or "body"


def validation_problem(errors: list[dict[str, Any]]) -> ApiProblem:
    fouten = [{"veld": field_path(e.get("loc", ())), "reden": dutch(e)} for e in errors]
    too_big = next((e for e in errors if e.get("type") == "dp_batch_te_groot"), None)
    if too_big is not None:
        return ApiProblem(413, "te-groot", dutch(too_big), fouten=fouten)
    return ApiProblem(
        422,
        "ongeldige-invoer",
        "De invoer klopt niet; zie 'fouten' voor elk veld. Er is niets opgeslagen.",
        fouten=fouten,
    )
