"""Organisation settings and user accounts, as a beheerder uses them."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from portal.domain import Role
from portal.models import AuditEvent, Organisation, OrganisationAgb, User
from tests.conftest import PASSWORD, form_errors, login

GOOD_ORG = {
    "naam": "Zorg Midden B.V.",
    "kvk_nummer": "30123456",
    "iban": "NL91 ABNA 0417 1643 00",
    "btw_nummer": "NL004495445B01",
    "straat": "Zorgplein",
    "huisnummer": "1",
    "postcode": "3511ab",
    "plaats": "Utrecht",
    "email": "Info@ZorgMidden.nl",
    "telefoon": "030 123 45 67",
}


@pytest.fixture(autouse=True)
def own_context(app, client, monkeypatch):
    """Serve each test request in its own app context, as a real server does.

    The ``db`` fixture keeps an app context open, and Flask reuses it for requests, so ``g``
    (the request's database session and flask-login's cached user) would carry over from one
    request to the next, even between two different test clients.
    """
    patch_client(app, client, monkeypatch)


def patch_client(app, some_client, monkeypatch):
    original = some_client.open

    def open_in_own_context(*args, **kwargs):
        with app.app_context():
            return original(*args, **kwargs)

    monkeypatch.setattr(some_client, "open", open_in_own_context)
    return some_client


def _org(db) -> Organisation | None:
    db.expire_all()
    return db.scalars(select(Organisation)).first()


def _image(fmt: str, size=(120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (31, 95, 168)).save(out, format=fmt)
    return out.getvalue()


# -- organisation -----------------------------------------------------------------------------


def test_first_visit_creates_the_organisation_and_saving_stores_it(client, beheerder, db):
    resp = client.get("/beheer/organisatie")
    assert resp.status_code == 200
    assert _org(db) is not None

    resp = client.post("/beheer/organisatie", data={**GOOD_ORG, "require_2fa": "1"})
    assert resp.status_code == 302
    org = _org(db)
    assert org.naam == "Zorg Midden B.V."
    assert org.kvk_nummer == "30123456"
    assert org.iban == "NL91ABNA0417164300"
    assert org.btw_nummer == "NL004495445B01"
    assert org.postcode == "3511AB"
    assert org.email == "info@zorgmidden.nl"
    assert org.require_2fa is True
    page = client.get("/beheer/organisatie", follow_redirects=True).get_data(as_text=True)
    assert "zijn opgeslagen" in page or "Zorg Midden B.V." in page
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "organisatie.gewijzigd"))
    assert [e.user_id for e in events] == [beheerder.id]


BAD_ORGANISATION = [
    ("kvk_nummer", "1234567", "KvK-nummer bestaat uit precies 8 cijfers."),
    ("iban", "NL91ABNA0417164301", "Dit IBAN klopt niet"),
    ("postcode", "35111AB", "Een postcode is vier cijfers en twee letters"),
    ("btw_nummer", "NL123456789B99", "Dit btw-nummer klopt niet"),
    ("email", "info-at-zorg", "Dit is geen geldig e-mailadres."),
    ("telefoon", "12ab", "Dit is geen geldig telefoonnummer"),
    ("naam", "  ", "Naam van de organisatie is verplicht."),
]


def test_bad_organisation_input_is_refused_at_the_field(client, beheerder, db):
    client.get("/beheer/organisatie")
    before = _org(db).naam
    for field, value, message in BAD_ORGANISATION:
        resp = client.post("/beheer/organisatie", data={**GOOD_ORG, field: value})
        assert resp.status_code == 422, field
        html = resp.get_data(as_text=True)
        errors = form_errors(html)
        assert any(message in e for e in errors), (field, errors)
        assert f'id="e-{field}"' in html, field  # shown next to the field itself
        assert _org(db).naam == before, field  # nothing stored


def test_agb_codes_add_edit_hoofd_and_remove(client, beheerder, db):
    client.get("/beheer/organisatie")
    assert (
        client.post(
            "/beheer/organisatie/agb", data={"agb_code": "73730001", "locatie": "Hoofdvestiging"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            "/beheer/organisatie/agb", data={"agb_code": "73730002", "locatie": "Locatie Zeist"}
        ).status_code
        == 302
    )
    db.expire_all()
    first, second = db.scalars(select(OrganisationAgb).order_by(OrganisationAgb.id)).all()
    assert (first.hoofd, second.hoofd) == (True, False)  # the first code became hoofd

    # Make the second one hoofd: exactly one hoofd remains.
    client.post(f"/beheer/organisatie/agb/{second.id}", data={"hoofd": "1"})
    db.expire_all()
    assert [a.hoofd for a in db.scalars(select(OrganisationAgb).order_by(OrganisationAgb.id))] == [
        False,
        True,
    ]
    assert _org(db).main_agb == "73730002"

    # The hoofd cannot be removed while another exists; the other one can.
    resp = client.post(f"/beheer/organisatie/agb/{second.id}/verwijderen")
    assert resp.status_code == 422
    assert "hoofd-AGB" in resp.get_data(as_text=True)
    resp = client.post(f"/beheer/organisatie/agb/{first.id}/verwijderen")
    assert resp.status_code == 302
    db.expire_all()
    assert [a.agb_code for a in db.scalars(select(OrganisationAgb))] == ["73730002"]

    # Edit the location name of the remaining code.
    client.post(
        f"/beheer/organisatie/agb/{second.id}",
        data={"agb_code": "73730002", "locatie": "Hoofdkantoor", "hoofd": "1"},
    )
    db.expire_all()
    assert db.get(OrganisationAgb, second.id).locatie == "Hoofdkantoor"


def test_bad_or_duplicate_agb_is_refused(client, beheerder, db):
    client.get("/beheer/organisatie")
    client.post("/beheer/organisatie/agb", data={"agb_code": "73730001", "locatie": "Hoofd"})
    for code, message in [
        ("1234567", "AGB-code bestaat uit precies 8 cijfers."),
        ("1234567A", "AGB-code bestaat uit precies 8 cijfers."),
        ("73730001", "Deze AGB-code staat er al bij."),
    ]:
        resp = client.post("/beheer/organisatie/agb", data={"agb_code": code, "locatie": "Zeist"})
        assert resp.status_code == 422, code
        assert message in form_errors(resp.get_data(as_text=True)), code
        db.expire_all()
        assert db.scalars(select(OrganisationAgb.agb_code)).all() == ["73730001"]


def test_logo_upload_accepts_real_images_only(client, beheerder, db):
    client.get("/beheer/organisatie")
    resp = client.post(
        "/beheer/organisatie/logo",
        data={"logo": (io.BytesIO(_image("JPEG")), "logo.jpg")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    stored = _org(db).logo_png
    assert stored.startswith(b"\x89PNG")  # stored as PNG, whatever came in
    assert Image.open(io.BytesIO(stored)).size == (120, 60)
    served = client.get("/beheer/organisatie/logo.png")
    assert served.status_code == 200 and served.mimetype == "image/png"

    fake = b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10
    for data, name, message in [
        (fake, "logo.png", "geen geldige PNG- of JPEG-afbeelding"),
        (_image("GIF"), "logo.gif", "Alleen PNG- of JPEG-afbeeldingen"),
        (b"x" * (1024 * 1024 + 10), "groot.png", "Het logo is te groot"),
    ]:
        resp = client.post(
            "/beheer/organisatie/logo",
            data={"logo": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 422
        assert any(message in e for e in form_errors(resp.get_data(as_text=True)))
        assert _org(db).logo_png == stored  # the good logo stays

    client.post("/beheer/organisatie/logo/verwijderen")
    assert _org(db).logo_png is None


# -- users ------------------------------------------------------------------------------------


def test_create_list_and_edit_a_user(client, beheerder, db):
    resp = client.post(
        "/beheer/gebruikers/nieuw",
        data={
            "naam": "Sanne de Vries",
            "email": "Sanne@Zorg.nl",
            "role": "backoffice",
            "team": "Team Zeist",
            "password": "nieuw-wachtwoord-voor-sanne-42",
        },
    )
    assert resp.status_code == 302
    listing = client.get("/beheer/gebruikers").get_data(as_text=True)
    assert "Sanne de Vries" in listing and "sanne@zorg.nl" in listing
    user = db.scalars(select(User).where(User.email == "sanne@zorg.nl")).one()
    assert (user.role, user.team) == ("backoffice", "Team Zeist")

    # The new user can log in with the initial password.
    other = client.application.test_client()
    assert login(other, "sanne@zorg.nl", "nieuw-wachtwoord-voor-sanne-42").status_code == 302

    resp = client.post(
        f"/beheer/gebruikers/{user.id}",
        data={"naam": "Sanne de Vries", "role": "alleen-lezen", "team": ""},
    )
    assert resp.status_code == 302
    db.expire_all()
    user = db.get(User, user.id)
    assert (user.role, user.team) == ("alleen-lezen", None)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id)))
    assert {"gebruiker.aangemaakt", "gebruiker.gewijzigd"} <= set(actions)


BAD_USER = [
    ("email", "geen-adres", "Dit is geen geldig e-mailadres."),
    ("email", "", "E-mailadres is verplicht."),
    ("naam", "", "Naam is verplicht."),
    ("role", "baas", "Kies een rol."),
    ("password", "kort1", "Een wachtwoord heeft minstens 12 tekens."),
    ("password", "alleenletterszonder", "Gebruik in een wachtwoord letters én cijfers"),
]


def test_bad_user_input_is_refused(client, beheerder, db):
    data = {
        "naam": "Piet",
        "email": "piet@zorg.nl",
        "role": "backoffice",
        "password": "goed-wachtwoord-42",
    }
    for field, value, message in BAD_USER:
        resp = client.post("/beheer/gebruikers/nieuw", data={**data, field: value})
        assert resp.status_code == 422, (field, value)
        assert any(message in e for e in form_errors(resp.get_data(as_text=True))), (field, value)
        assert db.scalars(select(User).where(User.email == "piet@zorg.nl")).first() is None


def test_duplicate_email_is_refused(client, beheerder, make_user):
    existing = make_user(Role.BACKOFFICE, email="bestaat@zorg.nl")
    resp = client.post(
        "/beheer/gebruikers/nieuw",
        data={
            "naam": "Ander",
            "email": existing.email.upper(),
            "role": "backoffice",
            "password": "goed-wachtwoord-42",
        },
    )
    assert resp.status_code == 422
    assert "Er is al een gebruiker met dit e-mailadres." in form_errors(resp.get_data(as_text=True))


def test_last_active_beheerder_cannot_demote_or_deactivate_themselves(client, beheerder, db):
    resp = client.post(
        f"/beheer/gebruikers/{beheerder.id}", data={"naam": "Ik", "role": "backoffice"}
    )
    assert resp.status_code == 422
    assert any("laatste actieve beheerder" in e for e in form_errors(resp.get_data(as_text=True)))
    resp = client.post(f"/beheer/gebruikers/{beheerder.id}/actief", data={"actief": "0"})
    assert resp.status_code == 422
    assert "laatste actieve beheerder" in resp.get_data(as_text=True)
    db.expire_all()
    me = db.get(User, beheerder.id)
    assert (me.role, me.active) == ("beheerder", True)
    assert client.get("/beheer/gebruikers").status_code == 200  # still in charge


def test_with_a_second_beheerder_demotion_is_allowed(client, beheerder, make_user, db):
    other = make_user(Role.BEHEERDER)
    resp = client.post(f"/beheer/gebruikers/{other.id}", data={"naam": "X", "role": "backoffice"})
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(User, other.id).role == "backoffice"


def test_deactivate_logs_the_user_out_and_blocks_login(
    client, app, beheerder, make_user, db, monkeypatch
):
    victim = make_user(Role.BACKOFFICE)
    theirs = patch_client(app, app.test_client(), monkeypatch)
    login(theirs, victim.email)
    assert theirs.get("/financiers/").status_code == 200

    assert (
        client.post(f"/beheer/gebruikers/{victim.id}/actief", data={"actief": "0"}).status_code
        == 302
    )
    assert theirs.get("/financiers/").status_code == 302  # back to log-in
    assert login(theirs, victim.email).status_code == 401

    client.post(f"/beheer/gebruikers/{victim.id}/actief", data={"actief": "1"})
    assert login(theirs, victim.email).status_code == 302


def test_password_reset_logs_the_user_out_everywhere(
    client, app, beheerder, make_user, db, monkeypatch
):
    victim = make_user(Role.BACKOFFICE)
    theirs = patch_client(app, app.test_client(), monkeypatch)
    login(theirs, victim.email)
    assert theirs.get("/financiers/").status_code == 200

    resp = client.post(f"/beheer/gebruikers/{victim.id}/wachtwoord", data={"password": "kort"})
    assert resp.status_code == 422
    assert theirs.get("/financiers/").status_code == 200  # a refused reset changes nothing

    resp = client.post(
        f"/beheer/gebruikers/{victim.id}/wachtwoord", data={"password": "tijdelijk-wachtwoord-9"}
    )
    assert resp.status_code == 302
    old = theirs.get("/financiers/")
    assert old.status_code == 302 and "/login" in old.headers["Location"]
    assert login(theirs, victim.email, PASSWORD).status_code == 401
    assert login(theirs, victim.email, "tijdelijk-wachtwoord-9").status_code == 302
    assert any(
        e.action == "gebruiker.wachtwoord-opnieuw" and e.user_id == beheerder.id
        for e in db.scalars(select(AuditEvent))
    )


def test_reset_2fa_clears_the_authenticator(client, beheerder, make_user, db):
    user = make_user(Role.BACKOFFICE)
    user.totp_secret, user.totp_enabled = "JBSWY3DPEHPK3PXP", True
    db.commit()
    assert client.post(f"/beheer/gebruikers/{user.id}/tweestaps").status_code == 302
    db.expire_all()
    user = db.get(User, user.id)
    assert (user.totp_secret, user.totp_enabled) == (None, False)


# -- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BACKOFFICE, Role.ALLEEN_LEZEN, Role.ZORGPROFESSIONAL])
def test_only_beheerder_reaches_organisation_and_users(client, login_as, db, role):
    login_as(role)
    for url in ("/beheer/organisatie", "/beheer/gebruikers", "/beheer/gebruikers/nieuw"):
        assert client.get(url).status_code == 403, url
    assert client.post("/beheer/organisatie", data=GOOD_ORG).status_code == 403
    assert (
        client.post(
            "/beheer/gebruikers/nieuw",
            data={
                "naam": "X",
                "email": "x@zorg.nl",
                "role": "beheerder",
                "password": "goed-wachtwoord-42",
            },
        ).status_code
        == 403
    )
    assert db.scalars(select(User).where(User.email == "x@zorg.nl")).first() is None
    assert _org(db) is None


def test_post_without_csrf_is_refused(client, beheerder, db):
    resp = client.post("/beheer/organisatie", data=GOOD_ORG, csrf=False)
    assert resp.status_code == 400
    org = _org(db)
    assert org is None or org.naam != GOOD_ORG["naam"]


def test_start_page_reminds_the_beheerder_until_the_organisation_is_set_up(client, beheerder):
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="inrichting"' in page and "de organisatiegegevens" in page
    client.post("/beheer/organisatie", data=GOOD_ORG)
    page = client.get("/").get_data(as_text=True)
    assert "een AGB-code" in page and "KvK-nummer en IBAN" not in page
    client.post("/beheer/organisatie/agb", data={"agb_code": "73730001", "locatie": "Hoofd"})
    assert 'data-testid="inrichting"' not in client.get("/").get_data(as_text=True)


def test_backoffice_start_page_has_no_set_up_reminder(client, backoffice):
    assert 'data-testid="inrichting"' not in client.get("/").get_data(as_text=True)
