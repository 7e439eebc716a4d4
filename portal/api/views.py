"""The API's endpoints. Thin: typed body in, a service call, typed body out."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, request
from spectree import Response
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from portal.api import bp, spec
from portal.api import schemas as s
from portal.api.access import requires_scope
from portal.api.problems import ApiProblem
from portal.db import db_session
from portal.models import Client, Legitimation, Product
from portal.models.api import (
    SCOPE_CLIENTS_READ,
    SCOPE_CLIENTS_WRITE,
    SCOPE_REGISTRATIONS_WRITE,
    SCOPE_STATUSES_READ,
)
from portal.services import clients as client_svc
from portal.services import legitimations as leg_svc
from portal.services import registration_batch as batch
from portal.services import statuses
from portal.validators import check_bsn, format_cents, normalize_bsn

ERRORS = {f"HTTP_{code}": s.Probleem for code in (400, 401, 403, 404, 413, 415, 429)}


def _resp(**ok: Any) -> Response:
    return Response(**ok, **ERRORS)


def _hooks():
    return current_app.extensions["hooks"]


def _invalid(errors: dict[str, str], detail: str) -> ApiProblem:
    return ApiProblem(
        422,
        "ongeldige-invoer",
        detail,
        fouten=[{"veld": k, "reden": v} for k, v in errors.items()],
    )


# -- clients ----------------------------------------------------------------------------------


def _client(client_id: int) -> Client:
    client = db_session().get(Client, client_id)
    if client is None:
        raise ApiProblem(404, "niet-gevonden", "Deze cliënt bestaat niet.")
    g.api_client_id = client.id
    return client


@bp.get("/clienten/<int:client_id>")
@requires_scope(SCOPE_CLIENTS_READ)
@spec.validate(resp=_resp(HTTP_200=s.ClientUit), tags=["cliënten"])
def client_get(client_id: int):
    """Eén cliënt."""
    return s.ClientUit.model_validate(_client(client_id))


@bp.post("/clienten/zoeken")
@requires_scope(SCOPE_CLIENTS_READ)
@spec.validate(json=s.ClientZoeken, resp=_resp(HTTP_200=s.ClientLijst), tags=["cliënten"])
def client_search():
    """Cliënt zoeken op BSN

    Het BSN staat in de body, nooit in het adres (adressen komen in logboeken terecht).
    """
    bsn = normalize_bsn(request.context.json.bsn)
    if problem := check_bsn(bsn):
        raise _invalid({"bsn": problem}, problem)
    found = db_session().scalars(select(Client).where(Client.bsn == bsn)).all()
    if found:
        g.api_client_id = found[0].id
    return s.ClientLijst(clienten=[s.ClientUit.model_validate(c) for c in found])


def _client_data(body: s.ClientVelden) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=True)
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


@bp.post("/clienten")
@requires_scope(SCOPE_CLIENTS_WRITE)
@spec.validate(
    json=s.ClientNieuw, resp=_resp(HTTP_201=s.ClientUit, HTTP_422=s.Probleem), tags=["cliënten"]
)
def client_create():
    """Cliënt aanmaken (dezelfde controles als het scherm)."""
    session = db_session()
    try:
        client = client_svc.create_client(session, _client_data(request.context.json), user_id=None)
    except client_svc.ClientInvalid as exc:
        raise _invalid(exc.errors, "De cliënt is niet aangemaakt; zie 'fouten'.") from None
    session.commit()
    g.api_client_id = client.id
    return s.ClientUit.model_validate(client), 201


@bp.patch("/clienten/<int:client_id>")
@requires_scope(SCOPE_CLIENTS_WRITE)
@spec.validate(
    json=s.ClientWijziging,
    resp=_resp(HTTP_200=s.ClientUit, HTTP_422=s.Probleem),
    tags=["cliënten"],
)
def client_update(client_id: int):
    """Cliënt wijzigen (alleen de meegestuurde velden)."""
    session = db_session()
    client = _client(client_id)
    try:
        client_svc.update_client(session, client, _client_data(request.context.json), user_id=None)
    except client_svc.ClientInvalid as exc:
        raise _invalid(exc.errors, "De cliënt is niet gewijzigd; zie 'fouten'.") from None
    session.commit()
    return s.ClientUit.model_validate(client)


# -- legitimations ----------------------------------------------------------------------------


def _leg_out(leg: Legitimation, warnings=()) -> s.LegitimatieUit:
    out = s.LegitimatieUit.model_validate(
        {
            **{c.key: getattr(leg, c.key) for c in Legitimation.__table__.columns},
            "producten": [p.code for p in leg.products],
            "waarschuwingen": [w.message for w in warnings],
        }
    )
    return out


def _legitimation(leg_id: int) -> Legitimation:
    leg = db_session().get(Legitimation, leg_id)
    if leg is None:
        raise ApiProblem(404, "niet-gevonden", "Deze legitimatie bestaat niet.")
    g.api_client_id = leg.client_id
    return leg


def _leg_form(body: s.LegitimatieVelden, base: dict[str, str]) -> tuple[dict[str, str], list]:
    """The body as the strings of the legitimation form, over ``base`` (an update)."""
    data = dict(base)
    given = body.model_dump(exclude_unset=True)
    for key, value in given.items():
        if key in ("producten", "sleutels"):
            continue
        if key in ("budget_cents", "tarief_cents"):
            data[key.removesuffix("_cents")] = "" if value is None else format_cents(value)
        elif isinstance(value, date):
            data[key] = value.isoformat()
        else:
            data[key] = "" if value is None else str(value)
    for key, value in (given.get("sleutels") or {}).items():
        data[leg_svc.SLEUTEL_PREFIX + key] = value
    return data, given.get("producten")


def _product_ids(codes: list[str]) -> list[int]:
    found = dict(
        db_session().execute(select(Product.code, Product.id).where(Product.code.in_(codes))).all()
    )
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise _invalid(
            {"producten": "Onbekend product: " + ", ".join(unknown) + "."},
            "De legitimatie is niet opgeslagen; zie 'fouten'.",
        )
    return [found[c] for c in codes]


def _leg_errors(errors: dict[str, str]) -> dict[str, str]:
    names = {"product_ids": "producten", "budget": "budget_cents", "tarief": "tarief_cents"}
    return {names.get(k, k.removeprefix(leg_svc.SLEUTEL_PREFIX)): v for k, v in errors.items()}


@bp.get("/clienten/<int:client_id>/legitimaties")
@requires_scope(SCOPE_CLIENTS_READ)
@spec.validate(resp=_resp(HTTP_200=s.LegitimatieLijst), tags=["legitimaties"])
def legitimation_list(client_id: int):
    """De legitimaties van een cliënt."""
    client = client_svc.get_client_with_legitimations(db_session(), _client(client_id).id)
    return s.LegitimatieLijst(legitimaties=[_leg_out(lg) for lg in client.legitimations])


@bp.post("/clienten/<int:client_id>/legitimaties")
@requires_scope(SCOPE_CLIENTS_WRITE)
@spec.validate(
    json=s.LegitimatieNieuw,
    resp=_resp(HTTP_201=s.LegitimatieUit, HTTP_422=s.Probleem),
    tags=["legitimaties"],
)
def legitimation_create(client_id: int):
    """Legitimatie aanmaken (de controles van het scherm en van de financiering)."""
    session = db_session()
    client = _client(client_id)
    body = request.context.json
    data, codes = _leg_form(body, {})
    try:
        leg, warnings = leg_svc.create_legitimation(
            session, _hooks(), client, data, product_ids=_product_ids(codes or []), user_id=None
        )
    except leg_svc.LegitimationInvalid as exc:
        raise _invalid(
            _leg_errors(exc.errors), "De legitimatie is niet aangemaakt; zie 'fouten'."
        ) from None
    session.commit()
    return _leg_out(leg, warnings), 201


@bp.get("/legitimaties/<int:legitimation_id>")
@requires_scope(SCOPE_CLIENTS_READ)
@spec.validate(resp=_resp(HTTP_200=s.LegitimatieUit), tags=["legitimaties"])
def legitimation_get(legitimation_id: int):
    """Eén legitimatie."""
    return _leg_out(_legitimation(legitimation_id))


@bp.patch("/legitimaties/<int:legitimation_id>")
@requires_scope(SCOPE_CLIENTS_WRITE)
@spec.validate(
    json=s.LegitimatieWijziging,
    resp=_resp(HTTP_200=s.LegitimatieUit, HTTP_422=s.Probleem),
    tags=["legitimaties"],
)
def legitimation_update(legitimation_id: int):
    """Legitimatie wijzigen (alleen de meegestuurde velden)."""
    session = db_session()
    leg = _legitimation(legitimation_id)
    data, codes = _leg_form(request.context.json, leg_svc.form_data(leg))
    ids = _product_ids(codes) if codes is not None else [p.id for p in leg.products]
    try:
        warnings = leg_svc.update_legitimation(
            session, _hooks(), leg, data, product_ids=ids, user_id=None
        )
    except leg_svc.LegitimationInvalid as exc:
        raise _invalid(
            _leg_errors(exc.errors), "De legitimatie is niet gewijzigd; zie 'fouten'."
        ) from None
    session.commit()
    return _leg_out(leg, warnings)


# -- registrations in -------------------------------------------------------------------------


def _items(bodies: list[s.RegistratieIn]) -> list[batch.Item]:
    return [batch.Item(**b.model_dump()) for b in bodies]


def _intake(items: list[batch.Item], mode: str) -> batch.BatchResult:
    """Run the intake; a concurrent writer that got in between is answered by running the
    batch again (its checks then see what the other stored)."""
    session = db_session()
    koppeling_id = g.api_token.koppeling_id
    for attempt in range(3):
        try:
            result = batch.intake(
                session,
                koppeling_id,
                items,
                mode=mode,
                today=date.today(),
                validate=(
                    _hooks().validate_registration
                    if _hooks().implemented("validate_registration")
                    else None
                ),
            )
            if mode == batch.MODE_ATOMIC and result.refused:
                session.rollback()
            else:
                session.commit()
            return result
        except (batch.ConcurrentWrite, DBAPIError):
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _result_rows(result: batch.BatchResult) -> list[s.RegistratieResultaat]:
    return [s.RegistratieResultaat.model_validate(r) for r in result.results]


@bp.post("/registraties")
@requires_scope(SCOPE_REGISTRATIONS_WRITE)
@spec.validate(
    json=s.RegistratieIn,
    resp=_resp(
        HTTP_200=s.RegistratieResultaat,
        HTTP_201=s.RegistratieResultaat,
        HTTP_422=s.RegistratieGeweigerd,
    ),
    tags=["registraties"],
)
def registration_create():
    """Eén registratie aanleveren

    Idempotent op `extern_id`: dezelfde registratie nog eens sturen geeft 200 met status
    `al_ontvangen` en slaat niets dubbel op.
    """
    result = _intake(_items([request.context.json]), batch.MODE_ATOMIC)
    row = _result_rows(result)[0]
    if row.status == batch.REFUSED:
        raise ApiProblem(
            422,
            "registratie-geweigerd",
            "De registratie is geweigerd: " + "; ".join(f.reden for f in row.fouten),
            fouten=[f.model_dump() for f in row.fouten],
            resultaten=[row.model_dump()],
        )
    return row, 201 if row.status == batch.STORED else 200


@bp.post("/registraties/batch")
@requires_scope(SCOPE_REGISTRATIONS_WRITE)
@spec.validate(
    json=s.RegistratiesIn,
    resp=_resp(HTTP_200=s.RegistratiesUit, HTTP_422=s.RegistratieGeweigerd),
    tags=["registraties"],
)
def registration_batch():
    """Registraties aanleveren, tot 5.000 per keer

    `modus`: `alles_of_niets` (één weigering: niets opgeslagen, 422 met per registratie het
    veld en de reden) of `per_registratie` (wat klopt wordt opgeslagen, 200 met per
    registratie de uitkomst). Idempotent op `extern_id`.
    """
    body = request.context.json
    result = _intake(_items(body.registraties), body.modus)
    rows = _result_rows(result)
    if body.modus == batch.MODE_ATOMIC and result.refused:
        n = result.count(batch.REFUSED)
        fouten = [
            {"veld": f"registraties.{r.index}.{f.veld}", "reden": f.reden}
            for r in rows
            for f in r.fouten
        ]
        raise ApiProblem(
            422,
            "registraties-geweigerd",
            f"{n} van de {len(rows)} registraties geweigerd; er is niets opgeslagen "
            "(modus alles_of_niets). Zie 'resultaten' per registratie.",
            fouten=fouten,
            resultaten=[r.model_dump() for r in rows],
        )
    return s.RegistratiesUit(
        modus=body.modus,
        opgeslagen=result.count(batch.STORED),
        al_ontvangen=result.count(batch.ALREADY),
        geweigerd=result.count(batch.REFUSED),
        niet_opgeslagen=result.count(batch.NOT_STORED),
        resultaten=rows,
    )


# -- statuses out -----------------------------------------------------------------------------


def _meaning():
    return _hooks().retourcode_meaning


@bp.get("/registraties/<int:registration_id>")
@requires_scope(SCOPE_STATUSES_READ)
@spec.validate(resp=_resp(HTTP_200=s.RegistratieStatus), tags=["statussen"])
def registration_status(registration_id: int):
    """Status van een registratie

    Fiattering, stapelen (welke financiering welk deel betaalt), declaratieregels (toegekend
    of afgewezen met retourcodes en hun betekenis), facturen en betaling.
    """
    found = statuses.registration_statuses(
        db_session(), [registration_id], hooks=_hooks(), meaning=_meaning()
    )
    if not found:
        raise ApiProblem(404, "niet-gevonden", "Deze registratie bestaat niet (meer).")
    g.api_client_id = found[0].client_id
    return s.RegistratieStatus.model_validate(found[0])


@bp.post("/registraties/status")
@requires_scope(SCOPE_STATUSES_READ)
@spec.validate(
    json=s.RegistratieZoeken, resp=_resp(HTTP_200=s.RegistratieStatussen), tags=["statussen"]
)
def registration_statuses_by_extern_id():
    """Status van registraties op eigen id (extern_id), tot 1.000 per keer."""
    session = db_session()
    wanted = list(dict.fromkeys(request.context.json.extern_ids))
    ids = {
        ext: statuses.registration_by_extern_id(session, g.api_token.koppeling_id, ext)
        for ext in wanted
    }
    found = statuses.registration_statuses(
        session,
        [i for i in ids.values() if i],
        hooks=_hooks(),
        meaning=_meaning(),
        with_parts=len(ids) <= 50,
    )
    return s.RegistratieStatussen(
        registraties=[s.RegistratieStatus.model_validate(r) for r in found],
        onbekend=[ext for ext, i in ids.items() if not i],
    )


@bp.get("/declaratieregels/<int:line_id>")
@requires_scope(SCOPE_STATUSES_READ)
@spec.validate(resp=_resp(HTTP_200=s.Declaratieregel), tags=["statussen"])
def declaration_line_status(line_id: int):
    """Status van een declaratieregel (met retourcodes en hun betekenis)."""
    found = statuses.line_statuses(db_session(), [line_id], _meaning())
    if not found:
        raise ApiProblem(404, "niet-gevonden", "Deze declaratieregel bestaat niet.")
    g.api_client_id = found[0].client_id
    return s.Declaratieregel.model_validate(found[0])


@bp.get("/wijzigingen")
@requires_scope(SCOPE_STATUSES_READ)
@spec.validate(
    query=s.WijzigingenVraag,
    resp=_resp(HTTP_200=s.Wijzigingen, HTTP_422=s.Probleem),
    tags=["statussen"],
)
def changes():
    """Wijzigingen sinds een cursor

    Alles wat er met registraties, declaratieregels en facturen gebeurde, in de volgorde
    waarin het is vastgelegd. Vraag opnieuw met `na` = `volgende`; `meer` zegt of er nog
    meer klaarstaat. Goedkoop om elke minuut te vragen.
    """
    q = request.context.query
    try:
        rows, cursor = statuses.changes(db_session(), q.na, q.limiet)
    except statuses.BadCursor:
        raise _invalid(
            {"na": "Onbekende cursor: gebruik de waarde 'volgende' van een eerder antwoord."},
            "Onbekende cursor.",
        ) from None
    return s.Wijzigingen(
        wijzigingen=[s.Wijziging.model_validate(r) for r in rows],
        volgende=cursor,
        meer=len(rows) == q.limiet,
    )
