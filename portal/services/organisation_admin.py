"""Rules of the administration screens: organisation settings, AGB codes, logo and user accounts.

Every function takes a session and plain values (no Flask), checks everything first and changes
nothing when a check fails: it raises :class:`FormErrors` with a Dutch message per field. Every
change is written to the audit trail in the same transaction; the caller commits.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.nl import btw as stdnum_btw

from portal.db import Base
from portal.domain import Role
from portal.models import Organisation, OrganisationAgb, User
from portal.services import audit
from portal.services.invitations import unusable_password
from portal.services.organisation import get_organisation
from portal.services.sessions import end_all
from portal.services.users import clear_two_step, find_by_email, password_problem
from portal.validators import (
    check_agb,
    check_email,
    check_iban,
    check_kvk,
    check_postcode,
    clean,
    normalize_iban,
    normalize_postcode,
)


class FormErrors(ValueError):
    """Input that cannot be stored: ``errors`` maps a form field (or ``_form``) to a Dutch text."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def raise_if(errors: Mapping[str, str]) -> None:
    if errors:
        raise FormErrors(errors)


def flush_or_refuse(session: Session, errors: Mapping[str, str]) -> None:
    """Flush; a unique constraint hit by a simultaneous save becomes a Dutch field error.

    The checks before this already catch duplicates; this covers two requests racing (e.g. a
    double click that reached two workers). The caller rolls the session back.
    """
    try:
        session.flush()
    except IntegrityError as exc:
        raise FormErrors(errors) from exc


def _opt(value: str | None) -> str | None:
    return clean(value) or None


# -- organisation ---------------------------------------------------------------------------

NEW_ORGANISATION_NAME = "Nieuwe organisatie"
_PHONE = re.compile(r"^\+?[0-9 ()-]{10,20}$")


def ensure_organisation(session: Session) -> Organisation:
    """The organisation row; created (with a placeholder name) on first use of the settings."""
    org = get_organisation(session)
    if org is None:
        org = Organisation(naam=NEW_ORGANISATION_NAME)
        session.add(org)
        session.flush()
    return org


def check_btw(value: str) -> str | None:
    try:
        stdnum_btw.validate(value)
    except StdnumError:
        return "Dit btw-nummer klopt niet. Een Nederlands btw-nummer ziet eruit als NL123456789B01."
    return None


def update_organisation(
    session: Session, org: Organisation, data: Mapping[str, Any], *, user_id: int | None
) -> list[str]:
    """Store the settings form; returns the names of the fields that changed."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    naam = clean(data.get("naam"))
    if not naam:
        errors["naam"] = "Naam van de organisatie is verplicht."
    values["naam"] = naam

    kvk = clean(data.get("kvk_nummer")).replace(" ", "")
    if problem := check_kvk(kvk):
        errors["kvk_nummer"] = problem
    values["kvk_nummer"] = kvk

    iban = clean(data.get("iban"))
    if problem := check_iban(iban):
        errors["iban"] = problem
    else:
        values["iban"] = normalize_iban(iban)

    btw = clean(data.get("btw_nummer")).upper().replace(" ", "").replace(".", "")
    if btw and (problem := check_btw(btw)):
        errors["btw_nummer"] = problem
    values["btw_nummer"] = stdnum_btw.compact(btw) if btw and "btw_nummer" not in errors else None
    if values["btw_nummer"] and not values["btw_nummer"].startswith("NL"):
        values["btw_nummer"] = "NL" + values["btw_nummer"]

    values["straat"] = _opt(data.get("straat"))
    values["huisnummer"] = _opt(data.get("huisnummer"))
    values["plaats"] = _opt(data.get("plaats"))
    postcode = clean(data.get("postcode"))
    if postcode:
        if problem := check_postcode(postcode):
            errors["postcode"] = problem
        else:
            postcode = normalize_postcode(postcode)
    values["postcode"] = postcode or None

    email = clean(data.get("email")).lower()
    if problem := check_email(email):
        errors["email"] = problem
    values["email"] = email or None

    telefoon = clean(data.get("telefoon"))
    if telefoon and (
        not _PHONE.match(telefoon) or not 10 <= len(re.sub(r"\D", "", telefoon)) <= 15
    ):
        errors["telefoon"] = "Dit is geen geldig telefoonnummer, bijvoorbeeld 030 123 45 67."
    values["telefoon"] = telefoon or None

    values["require_2fa"] = _truthy(data.get("require_2fa"))
    raise_if(errors)

    changed = [k for k, v in values.items() if getattr(org, k) != v]
    for key in changed:
        setattr(org, key, values[key])
    if changed:
        audit.record(
            session,
            "organisatie.gewijzigd",
            user_id=user_id,
            object_type="organisation",
            object_id=org.id,
            detail={"velden": changed},
        )
    return changed


def _truthy(value: Any) -> bool:
    return str(value or "").lower() in {"1", "on", "true", "ja", "y", "yes"}


# -- AGB codes --------------------------------------------------------------------------------


def agb_in_use(session: Session, agb: OrganisationAgb) -> bool:
    """Whether any other table refers to this AGB code.

    Later features that store the AGB a declaration or invoice was sent under use a column named
    ``agb_code`` (the code itself) or ``organisation_agb_id`` (a reference); both are found here
    without this module knowing those tables.
    """
    for table in Base.metadata.sorted_tables:
        if table.name == OrganisationAgb.__tablename__:
            continue
        for column_name, value in (("agb_code", agb.agb_code), ("organisation_agb_id", agb.id)):
            column = table.c.get(column_name)
            if column is None:
                continue
            found = session.execute(select(column).where(column == value).limit(1)).first()
            if found is not None:
                return True
    return False


def _agb_errors(session: Session, code: str, locatie: str, own_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if problem := check_agb(code):
        errors["agb_code"] = problem
    else:
        other = session.scalars(
            select(OrganisationAgb).where(OrganisationAgb.agb_code == code)
        ).first()
        if other is not None and other.id != own_id:
            errors["agb_code"] = "Deze AGB-code staat er al bij."
    if not locatie:
        errors["locatie"] = "Geef de locatie (of 'Hoofdvestiging') een naam."
    return errors


def _make_hoofd(org: Organisation, agb: OrganisationAgb) -> None:
    for other in org.agb_codes:
        other.hoofd = other is agb


def add_agb(
    session: Session,
    org: Organisation,
    *,
    agb_code: str,
    locatie: str,
    hoofd: bool = False,
    user_id: int | None,
) -> OrganisationAgb:
    code, locatie = clean(agb_code).replace(" ", ""), clean(locatie)
    raise_if(_agb_errors(session, code, locatie, None))
    agb = OrganisationAgb(agb_code=code, locatie=locatie, hoofd=False)
    org.agb_codes.append(agb)
    if hoofd or not any(a.hoofd for a in org.agb_codes):
        _make_hoofd(org, agb)
    flush_or_refuse(session, {"agb_code": "Deze AGB-code staat er al bij."})
    audit.record(
        session,
        "organisatie.agb-toegevoegd",
        user_id=user_id,
        object_type="organisation_agb",
        object_id=agb.id,
        detail={"agb_code": code, "hoofd": agb.hoofd},
    )
    return agb


def update_agb(
    session: Session,
    agb: OrganisationAgb,
    *,
    agb_code: str,
    locatie: str,
    hoofd: bool,
    user_id: int | None,
) -> None:
    code, locatie = clean(agb_code).replace(" ", ""), clean(locatie)
    errors = _agb_errors(session, code, locatie, agb.id)
    if "agb_code" not in errors and code != agb.agb_code and agb_in_use(session, agb):
        errors["agb_code"] = (
            "Deze AGB-code is al gebruikt in declaraties of facturen en kan niet meer "
            "veranderen. Voeg een nieuwe code toe."
        )
    if agb.hoofd and not hoofd:
        errors["hoofd"] = "Er is altijd één hoofd-AGB. Maak een andere code hoofd-AGB."
    raise_if(errors)
    before = agb.agb_code
    agb.agb_code, agb.locatie = code, locatie
    if hoofd:
        _make_hoofd(agb.organisation, agb)
    audit.record(
        session,
        "organisatie.agb-gewijzigd",
        user_id=user_id,
        object_type="organisation_agb",
        object_id=agb.id,
        detail={"was": before, "agb_code": code, "hoofd": agb.hoofd},
    )


def remove_agb(session: Session, agb: OrganisationAgb, *, user_id: int | None) -> None:
    org = agb.organisation
    if agb_in_use(session, agb):
        raise FormErrors(
            {"_form": f"AGB-code {agb.agb_code} is al gebruikt en kan niet worden verwijderd."}
        )
    if agb.hoofd and len(org.agb_codes) > 1:
        raise FormErrors(
            {"_form": "Dit is de hoofd-AGB. Maak eerst een andere code hoofd-AGB en verwijder dan."}
        )
    audit.record(
        session,
        "organisatie.agb-verwijderd",
        user_id=user_id,
        object_type="organisation_agb",
        object_id=agb.id,
        detail={"agb_code": agb.agb_code},
    )
    org.agb_codes.remove(agb)
    session.delete(agb)


# -- logo -------------------------------------------------------------------------------------

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000 * 4000
LOGO_STORED_SIZE = (800, 400)


def check_logo(data: bytes) -> tuple[bytes | None, str | None]:
    """Return (PNG bytes, None) for a real PNG/JPEG image, or (None, Dutch message)."""
    if not data:
        return None, "Kies een afbeelding (PNG of JPEG)."
    if len(data) > LOGO_MAX_BYTES:
        return None, f"Het logo is te groot: maximaal {LOGO_MAX_BYTES // 1024} kB."
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()  # checks the file structure without decoding all pixels
        if fmt not in ("PNG", "JPEG"):
            return None, "Alleen PNG- of JPEG-afbeeldingen zijn toegestaan."
        if width * height > LOGO_MAX_PIXELS:
            return None, "Het logo heeft te veel beeldpunten; maximaal 4000 × 4000."
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
            image.thumbnail(LOGO_STORED_SIZE)
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None, "Dit bestand is geen geldige PNG- of JPEG-afbeelding."
    return out.getvalue(), None


def set_logo(session: Session, org: Organisation, data: bytes, *, user_id: int | None) -> None:
    png, problem = check_logo(data)
    if problem:
        raise FormErrors({"logo": problem})
    org.logo_png = png
    audit.record(
        session,
        "organisatie.logo-gewijzigd",
        user_id=user_id,
        object_type="organisation",
        object_id=org.id,
        detail={"bytes": len(png or b"")},
    )


def remove_logo(session: Session, org: Organisation, *, user_id: int | None) -> None:
    if org.logo_png is None:
        return
    org.logo_png = None
    audit.record(
        session,
        "organisatie.logo-verwijderd",
        user_id=user_id,
        object_type="organisation",
        object_id=org.id,
    )


# -- users ------------------------------------------------------------------------------------

ROLE_VALUES = {r.value for r in Role}


def list_users(session: Session, *, show_inactive: bool = True) -> list[User]:
    query = select(User).order_by(User.active.desc(), func.lower(User.naam))
    if not show_inactive:
        query = query.where(User.active)
    return list(session.scalars(query))


def _active_beheerders(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.BEHEERDER.value, User.active)
    )


def _is_last_beheerder(session: Session, user: User) -> bool:
    return user.role == Role.BEHEERDER.value and user.active and _active_beheerders(session) <= 1


def create_user(session: Session, data: Mapping[str, Any], *, actor_id: int | None) -> User:
    errors: dict[str, str] = {}
    email = clean(data.get("email")).lower()
    naam = clean(data.get("naam"))
    role = clean(data.get("role"))
    team = _opt(data.get("team"))
    password = data.get("password") or ""
    invite = _truthy(data.get("uitnodigen"))
    if invite and not password:
        # The user chooses their own password through the link in the invitation.
        password = unusable_password()
    if not email:
        errors["email"] = "E-mailadres is verplicht."
    elif problem := check_email(email):
        errors["email"] = problem
    elif find_by_email(session, email):
        errors["email"] = "Er is al een gebruiker met dit e-mailadres."
    if not naam:
        errors["naam"] = "Naam is verplicht."
    if role not in ROLE_VALUES:
        errors["role"] = "Kies een rol."
    if problem := password_problem(password):
        errors["password"] = problem
    raise_if(errors)
    user = User(email=email, naam=naam, role=role, team=team, session_version=0, active=True)
    user.set_password(password)
    session.add(user)
    flush_or_refuse(session, {"email": "Er is al een gebruiker met dit e-mailadres."})
    audit.record(
        session,
        "gebruiker.aangemaakt",
        user_id=actor_id,
        object_type="user",
        object_id=user.id,
        detail={"email": email, "rol": role, "team": team},
    )
    return user


def update_user(
    session: Session, user: User, data: Mapping[str, Any], *, actor_id: int | None
) -> None:
    """Change name, role and team. The last active beheerder keeps the beheerder role."""
    errors: dict[str, str] = {}
    naam = clean(data.get("naam")) or user.naam
    role = clean(data.get("role"))
    team = _opt(data.get("team"))
    if role not in ROLE_VALUES:
        errors["role"] = "Kies een rol."
    elif role != user.role and _is_last_beheerder(session, user):
        errors["role"] = (
            "Dit is de laatste actieve beheerder. Maak eerst iemand anders beheerder; "
            "anders kan niemand de organisatie en gebruikers meer beheren."
        )
    raise_if(errors)
    before = {"rol": user.role, "team": user.team, "naam": user.naam}
    if role != user.role:
        # A new role applies at once: end the user's sessions so menus and rights are fresh.
        user.session_version = (user.session_version or 0) + 1
    user.naam, user.role, user.team = naam, role, team
    audit.record(
        session,
        "gebruiker.gewijzigd",
        user_id=actor_id,
        object_type="user",
        object_id=user.id,
        detail={"was": before, "rol": role, "team": team, "naam": naam},
    )


def set_active(session: Session, user: User, active: bool, *, actor_id: int | None) -> None:
    if user.active == active:
        return  # a repeated click does nothing twice
    if not active and _is_last_beheerder(session, user):
        raise FormErrors(
            {
                "_form": "Dit is de laatste actieve beheerder en kan niet worden uitgeschakeld. "
                "Maak eerst iemand anders beheerder."
            }
        )
    user.active = active
    user.session_version = (user.session_version or 0) + 1  # ends every session
    end_all(session, user.id)
    if active:
        user.failed_logins, user.locked_until = 0, None
    audit.record(
        session,
        "gebruiker.geactiveerd" if active else "gebruiker.gedeactiveerd",
        user_id=actor_id,
        object_type="user",
        object_id=user.id,
    )


def reset_password(session: Session, user: User, password: str, *, actor_id: int | None) -> None:
    """Give a new (temporary) password; the user is logged out everywhere."""
    if problem := password_problem(password or ""):
        raise FormErrors({"password": problem})
    user.set_password(password)  # bumps session_version
    end_all(session, user.id)
    user.failed_logins, user.locked_until, user.totp_failures = 0, None, 0
    audit.record(
        session,
        "gebruiker.wachtwoord-opnieuw",
        user_id=actor_id,
        object_type="user",
        object_id=user.id,
    )


def reset_2fa(session: Session, user: User, *, actor_id: int | None) -> None:
    """Remove the user's authenticator; they set it up again at the next log-in if required."""
    clear_two_step(session, user)
    user.session_version = (user.session_version or 0) + 1
    end_all(session, user.id)
    audit.record(
        session,
        "gebruiker.tweestaps-opnieuw",
        user_id=actor_id,
        object_type="user",
        object_id=user.id,
    )
