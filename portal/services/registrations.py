"""Registering delivered care: checks, saving, the day/week views, copying last week.

Rules (issue 3): duration above zero and at most 24 hours; no dates after today; no overlapping
time for the same employee; a start time always (so the same employee, client and start is one
registration: a double click or a re-imported row is refused by a unique index). A client without
a legitimation covering the uursoort's financings on that date is *not* refused: the registration
is saved with a warning that the back office sees as an action at approval.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.elements import ColumnElement

from portal import validators
from portal.domain import Issue, Severity, Unit
from portal.models import Client, Legitimation, Product, Registration
from portal.models.legitimation import legitimation_product
from portal.models.registration import REG_CONCEPT, REG_CREDITED
from portal.services import audit

MAX_MINUTES = 24 * 60
DUPLICATE = "Deze registratie bestaat al: zelfde medewerker, cliënt, datum en starttijd."

Validator = Callable[[Registration], list[Issue]]


@dataclass
class RegistrationInput:
    """The parsed, typed values of a registration form or import row."""

    client_id: int | None = None
    product_id: int | None = None
    datum: date | None = None
    starttijd: time | None = None
    duur_minuten: int | None = None
    aantal: int | None = None
    opmerking: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


_DUUR = re.compile(r"^\s*(?:(\d{1,2})[:.](\d{2})|(\d{1,4}))\s*(m|min|minuten|u|uur)?\s*$")


def parse_duration(value: str) -> int | None:
    """'1:30', '1.30' -> 90; '90' -> 90 minutes; '2u' -> 120. None when unreadable."""
    m = _DUUR.match(value or "")
    if not m:
        return None
    if m.group(1) is not None:
        minutes = int(m.group(2))
        if minutes >= 60:
            return None
        return int(m.group(1)) * 60 + minutes
    n = int(m.group(3))
    return n * 60 if m.group(4) in ("u", "uur") else n


def parse_time(value: str) -> time | None:
    """'9:30', '09.30' and, as typed on a phone's number pad, digits only: '0930', '930'."""
    m = re.match(r"^\s*(\d{1,2})[:.]?(\d{2})\s*$", value or "")
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    if h > 23 or mi > 59:
        return None
    return time(h, mi)


def parse_date(value: str) -> date | None:
    """A date as ``portal.validators.parse_date`` reads it (also digits only: 0412, 04122026);
    None when it is not one (``date_problem`` says why)."""
    try:
        day = validators.parse_date(value)
    except ValueError:
        return None
    if day is not None and not 1900 <= day.year <= 2199:
        return None  # a typing error, and date arithmetic (the day before) must not overflow
    return day


def date_problem(value: str) -> str:
    """Why a typed date is not one, in Dutch (the format, or a day that does not exist)."""
    try:
        validators.parse_date(value)
    except ValueError as exc:
        return str(exc)
    return "Vul een datum in (dd-mm-jjjj)."


def parse_form(
    session: Session, form: Any, client_allowed: Callable[[int], bool] | None = None
) -> RegistrationInput:
    """Read a form (or import row mapping) into typed values with Dutch errors per field.

    ``client_allowed`` limits the clients (a care professional's own); a client outside it gets
    the same answer as an id that does not exist, so ids cannot be probed.
    """
    data = RegistrationInput()
    errors = data.errors
    raw_client = (form.get("client_id") or "").strip()
    if (
        not raw_client.isdigit()
        or len(raw_client) > 18
        or session.get(Client, int(raw_client)) is None
        or (client_allowed is not None and not client_allowed(int(raw_client)))
    ):
        errors["client_id"] = "Kies een cliënt."
    else:
        data.client_id = int(raw_client)
    raw_product = (form.get("product_id") or "").strip()
    product = session.get(Product, int(raw_product)) if raw_product.isdigit() else None
    if product is None or not product.actief:
        errors["product_id"] = "Kies een product."
    else:
        data.product_id = product.id
    data.datum = parse_date(form.get("datum") or "")
    if data.datum is None:
        errors["datum"] = date_problem(form.get("datum") or "")
    data.starttijd = parse_time(form.get("starttijd") or "")
    if data.starttijd is None:
        errors["starttijd"] = (
            "Vul een begintijd in als uu:mm of alleen cijfers, bijvoorbeeld 09:30 of 0930."
        )
    if product is not None:
        if product.is_time:
            data.duur_minuten = parse_duration(form.get("duur") or "")
            if data.duur_minuten is None:
                errors["duur"] = "Vul de duur in als uu:mm (bijvoorbeeld 1:30) of in minuten."
        else:
            raw = (form.get("aantal") or "").strip()
            if not raw.lstrip("-").isdigit():
                errors["aantal"] = f"Vul het aantal in (eenheid: {product.unit.label})."
            else:
                data.aantal = int(raw)
    data.opmerking = (form.get("opmerking") or "").strip()[:2000] or None
    return data


def check(
    session: Session,
    data: RegistrationInput,
    employee_id: int,
    *,
    today: date,
    exclude_id: int | None = None,
    lookup: RegistrationLookup | None = None,
) -> tuple[dict[str, str], list[Issue]]:
    """The blocking errors (per field) and the warnings of a registration.

    ``lookup`` reads the existing registrations and legitimations the rules compare with; by
    default one query each, a batch intake passes one that read them for the whole batch."""
    lookup = lookup or DATABASE
    errors = dict(data.errors)
    warnings: list[Issue] = []
    if data.datum is not None and data.datum > today:
        errors["datum"] = "Je kunt geen zorg registreren op een datum na vandaag."
    if data.duur_minuten is not None:
        if data.duur_minuten <= 0:
            errors["duur"] = "De duur moet meer dan 0 minuten zijn."
        elif data.duur_minuten > MAX_MINUTES:
            errors["duur"] = "De duur mag niet langer zijn dan 24 uur."
    if data.aantal is not None and data.aantal <= 0:
        errors["aantal"] = "Het aantal moet groter zijn dan 0."
    if (
        "starttijd" not in errors
        and data.client_id
        and data.datum
        and data.starttijd
        and lookup.is_duplicate(
            session, employee_id, data.client_id, data.datum, data.starttijd, exclude_id
        )
    ):
        errors["starttijd"] = DUPLICATE
    if (
        "datum" not in errors
        and "starttijd" not in errors
        and "duur" not in errors
        and data.duur_minuten
    ):
        other = lookup.find_overlap(
            session, employee_id, data.datum, data.starttijd, data.duur_minuten, exclude_id
        )
        if other is not None:
            end = _clock(_minute(other.starttijd) + (other.duur_minuten or 0))
            errors["starttijd"] = (
                f"Deze tijd overlapt met je registratie bij {other.client.naam} van "
                f"{other.starttijd:%H:%M} tot {end} op {other.datum:%d-%m-%Y}."
            )
    if data.client_id and data.product_id and data.datum:
        issue = lookup.legitimation_warning(session, data.client_id, data.product_id, data.datum)
        if issue is not None:
            warnings.append(issue)
    return errors, warnings


def is_duplicate(
    session: Session,
    employee_id: int,
    client_id: int,
    day: date,
    start: time,
    exclude_id: int | None = None,
) -> bool:
    q = select(Registration.id).where(
        Registration.employee_id == employee_id,
        Registration.client_id == client_id,
        Registration.datum == day,
        Registration.starttijd == start,
        Registration.status != REG_CREDITED,
        Registration.credit_of_id.is_(None),
    )
    if exclude_id is not None:
        q = q.where(Registration.id != exclude_id)
    return session.scalar(q.limit(1)) is not None


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def _clock(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


def find_overlap(
    session: Session,
    employee_id: int,
    day: date,
    start: time,
    minutes: int,
    exclude_id: int | None = None,
) -> Registration | None:
    """An existing timed registration of this employee overlapping [start, start+minutes)."""
    begin = _minute(start)
    end = begin + minutes
    q = (
        select(Registration)
        .options(joinedload(Registration.client))
        .where(
            Registration.employee_id == employee_id,
            Registration.datum.in_([day - timedelta(days=1), day]),
            Registration.starttijd.is_not(None),
            Registration.duur_minuten > 0,
            Registration.status != REG_CREDITED,
            Registration.credit_of_id.is_(None),
        )
    )
    if exclude_id is not None:
        q = q.where(Registration.id != exclude_id)
    for other in session.scalars(q):
        o_begin = _minute(other.starttijd) + (-1440 if other.datum < day else 0)
        o_end = o_begin + other.duur_minuten
        if o_begin < end and begin < o_end:
            return other
    return None


def covering_legitimations(
    session: Session, client_id: int, product_id: int, day: date
) -> list[Legitimation]:
    """The client's legitimations on ``day`` that cover the product and its uursoort's financings."""
    product = session.get(Product, product_id)
    allowed = product.uursoort.financing_codes if product and product.uursoort else []
    q = select(Legitimation).where(
        Legitimation.client_id == client_id,
        Legitimation.status == "actief",
        Legitimation.begindatum <= day,
        or_(Legitimation.einddatum.is_(None), Legitimation.einddatum >= day),
    )
    return [lg for lg in session.scalars(q) if legitimation_covers(lg, product_id, allowed)]


def legitimation_covers(lg: Legitimation, product_id: int, allowed: list[str]) -> bool:
    """Does an active legitimation (valid that day) cover the product for the uursoort's
    financings (``allowed``; empty: any)?"""
    if allowed and lg.financing not in allowed:
        return False
    return not lg.products or product_id in {p.id for p in lg.products}


def legitimation_warning(session: Session, client_id: int, product_id: int, day: date):
    if covering_legitimations(session, client_id, product_id, day):
        return None
    return no_legitimation_issue(session.get(Product, product_id), day)


def no_legitimation_issue(product: Product | None, day: date) -> Issue:
    what = product.uursoort.naam if product and product.uursoort else product.naam
    return Issue(
        code="geen_legitimatie",
        message=(
            f"De cliënt heeft op {day:%d-%m-%Y} geen geldige legitimatie voor {what}. De "
            "registratie is wel opgeslagen; de backoffice ziet dit als actie."
        ),
        field="client_id",
        severity=Severity.WARNING,
    )


class RegistrationLookup:
    """Where :func:`check` reads what a new registration is compared with. This one asks the
    database (one query per rule); a batch intake subclasses it to read a whole batch's
    registrations and legitimations at once (``portal.services.registration_batch``)."""

    def is_duplicate(self, session, employee_id, client_id, day, start, exclude_id=None) -> bool:
        return is_duplicate(session, employee_id, client_id, day, start, exclude_id)

    def find_overlap(self, session, employee_id, day, start, minutes, exclude_id=None):
        return find_overlap(session, employee_id, day, start, minutes, exclude_id)

    def legitimation_warning(self, session, client_id, product_id, day) -> Issue | None:
        return legitimation_warning(session, client_id, product_id, day)


DATABASE = RegistrationLookup()


def issue_dict(issue: Issue) -> dict[str, Any]:
    return {"code": issue.code, "message": issue.message, "field": issue.field}


@dataclass
class SaveResult:
    registration: Registration | None
    errors: dict[str, str]
    warnings: list[Issue]

    @property
    def ok(self) -> bool:
        return self.registration is not None and not self.errors


def save(
    session: Session,
    data: RegistrationInput,
    employee_id: int,
    *,
    today: date,
    registration: Registration | None = None,
    bron: str = "scherm",
    import_bestand: str | None = None,
    validate: Validator | None = None,
    commit: bool = True,
    actor_id: int | None = None,
    reden: str | None = None,
) -> SaveResult:
    """Create (or, for a concept, change) a registration. Nothing is stored when errors.

    ``employee_id`` is who delivered the care (the checks for doubles and overlaps are theirs);
    ``actor_id`` who makes the change when that is someone else (the back office correcting a
    registration before approving it), recorded in the audit with ``reden``."""
    if registration is not None and not registration.editable:
        return SaveResult(
            None,
            {"_form": "Deze registratie is al gefiatteerd en kan niet meer worden gewijzigd."},
            [],
        )
    errors, warnings = check(
        session,
        data,
        employee_id,
        today=today,
        exclude_id=registration.id if registration is not None else None,
    )
    if errors:
        return SaveResult(None, errors, warnings)
    product = session.get(Product, data.product_id)
    is_new = registration is None
    reg = registration or Registration(employee_id=employee_id, bron=bron, status=REG_CONCEPT)
    reg.client_id = data.client_id
    reg.product_id = data.product_id
    reg.uursoort_id = product.uursoort_id
    reg.datum = data.datum
    reg.starttijd = data.starttijd
    reg.duur_minuten = data.duur_minuten if product.is_time else None
    reg.aantal = None if product.is_time else data.aantal
    reg.opmerking = data.opmerking
    reg.import_bestand = import_bestand or reg.import_bestand
    if validate is not None:
        for issue in validate(reg):
            if issue.blocking:
                errors[issue.field or "_form"] = issue.message
            else:
                warnings.append(issue)
        if errors:
            if not is_new:
                session.expire(reg)
            return SaveResult(None, errors, warnings)
    reg.waarschuwingen = [issue_dict(i) for i in warnings]
    if is_new:
        session.add(reg)
    try:
        session.flush()
    except IntegrityError:
        # a concurrent double submit got there first (the unique index decides)
        session.rollback()
        return SaveResult(None, {"starttijd": DUPLICATE}, warnings)
    detail: dict[str, Any] = {"bron": bron}
    if actor_id is not None and actor_id != employee_id:
        detail.update(gecorrigeerd_door_backoffice=True, medewerker=employee_id, reden=reden)
    audit.record(
        session,
        "registration.created" if is_new else "registration.changed",
        user_id=actor_id or employee_id,
        object_type="registration",
        object_id=reg.id,
        client_id=reg.client_id,
        detail=detail,
    )
    if commit:
        session.commit()
    return SaveResult(reg, {}, warnings)


def delete(session: Session, registration: Registration, user_id: int) -> bool:
    """Remove a concept registration (nobody outside has seen it). Approved ones stay."""
    if not registration.editable:
        return False
    audit.record(
        session,
        "registration.deleted",
        user_id=user_id,
        object_type="registration",
        object_id=registration.id,
        client_id=registration.client_id,
        detail={"datum": registration.datum.isoformat()},
    )
    session.delete(registration)
    session.commit()
    return True


def of_employee(session: Session, employee_id: int, start: date, end: date) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .options(joinedload(Registration.client), joinedload(Registration.product))
            .where(
                Registration.employee_id == employee_id,
                Registration.datum >= start,
                Registration.datum <= end,
            )
            .order_by(Registration.datum, Registration.starttijd, Registration.id)
        )
    )


def week_days(week_start: date) -> list[date]:
    return [week_start + timedelta(days=i) for i in range(7)]


def copy_last_week(
    session: Session,
    employee_id: int,
    week_start: date,
    *,
    today: date,
    validate: Validator | None = None,
    client_allowed: Callable[[int], bool] | None = None,
) -> tuple[list[Registration], list[str]]:
    """Copy the employee's registrations of the week before ``week_start`` into that week, as
    concepts. Skips (with a Dutch reason) what would be in the future, overlap or already exist."""
    previous = of_employee(
        session, employee_id, week_start - timedelta(days=7), week_start - timedelta(days=1)
    )
    created, skipped = [], []
    for old in previous:
        if old.credit_of_id is not None or old.status == REG_CREDITED:
            continue
        if client_allowed is not None and not client_allowed(old.client_id):
            skipped.append(
                f"{old.datum + timedelta(days=7):%d-%m-%Y} {old.starttijd:%H:%M}: "
                "deze cliënt hoort niet meer bij uw team of toewijzing."
            )
            continue
        data = RegistrationInput(
            client_id=old.client_id,
            product_id=old.product_id,
            datum=old.datum + timedelta(days=7),
            starttijd=old.starttijd,
            duur_minuten=old.duur_minuten,
            aantal=old.aantal,
            opmerking=old.opmerking,
        )
        result = save(session, data, employee_id, today=today, validate=validate)
        if result.ok:
            created.append(result.registration)
        else:
            reason = next(iter(result.errors.values()))
            # care without a start time (a quantity, or a duration only) has no time to show
            when = f"{data.datum:%d-%m-%Y}"
            if data.starttijd is not None:
                when += f" {data.starttijd:%H:%M}"
            skipped.append(f"{when} {old.client.naam}: {reason}")
    return created, skipped


def search_clients(
    session: Session, query: str, limit: int = 8, scope: ColumnElement[bool] | None = None
) -> list[Client]:
    """Clients by surname, client number or birth date (dd-mm-jjjj). Active clients only,
    and only those within ``scope`` (see ``portal.services.client_access``)."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    q = select(Client).where(Client.actief.is_(True))
    if scope is not None:
        q = q.where(scope)
    birth = parse_date(query)
    if birth is not None:
        q = q.where(Client.geboortedatum == birth)
    else:
        like = f"%{query.lower()}%"
        q = q.where(
            or_(
                func.lower(Client.achternaam).like(like),
                func.lower(Client.clientnummer).like(like),
            )
        )
    return list(session.scalars(q.order_by(Client.achternaam, Client.id).limit(limit)))


def registrable_products(session: Session, client_id: int | None = None) -> list[Product]:
    """Active products; for a chosen client only those an active legitimation of the client
    holds (care staff never pick a product nobody pays for). A client without any legitimation
    gets every product: the care is registered and shows up as "niet gedekt"."""
    stmt = (
        select(Product)
        .options(joinedload(Product.uursoort))
        .where(Product.actief.is_(True))
        .order_by(Product.naam)
    )
    if client_id is not None:
        held = (
            select(legitimation_product.c.product_id)
            .join(Legitimation, Legitimation.id == legitimation_product.c.legitimation_id)
            .where(Legitimation.client_id == client_id, Legitimation.status == "actief")
        )
        own = list(session.scalars(stmt.where(Product.id.in_(held))))
        if own:
            return own
    return list(session.scalars(stmt))


def duration_label(minutes: int | None) -> str:
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h}:{m:02d}"


def quantity_label(reg: Registration) -> str:
    if reg.duur_minuten is not None:
        return duration_label(reg.duur_minuten)
    unit = reg.product.unit.label if reg.product else ""
    return f"{reg.aantal} {unit}"


def total_minutes(regs: Iterable[Registration]) -> int:
    return sum(r.duur_minuten or 0 for r in regs)


__all__ = [
    "DATABASE",
    "DUPLICATE",
    "RegistrationInput",
    "RegistrationLookup",
    "SaveResult",
    "Unit",
    "check",
    "copy_last_week",
    "covering_legitimations",
    "delete",
    "duration_label",
    "find_overlap",
    "issue_dict",
    "legitimation_covers",
    "no_legitimation_issue",
    "of_employee",
    "parse_date",
    "parse_duration",
    "parse_form",
    "parse_time",
    "quantity_label",
    "registrable_products",
    "save",
    "search_clients",
    "total_minutes",
    "week_days",
]
