"""Accounts: lock-out, two-step log-in, idle time-out, cookies, sessions ending, the admin CLI."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest

from portal.app import create_app
from portal.domain import Role
from portal.models import AuditEvent, LoginThrottle, Organisation, User, UserSession
from portal.models._base import utcnow
from tests.conftest import PASSWORD, login

WRONG = "fout-wachtwoord-99"
BAD_TEXT = "E-mailadres of wachtwoord klopt niet."


def page(resp) -> str:
    return resp.get_data(as_text=True)


def is_login_redirect(resp) -> bool:
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.fixture
def db(app):
    """A session with no app context held open.

    The shared ``db`` fixture keeps an app context pushed for the whole test; Flask then reuses it
    for every test-client request, so ``g`` (the request's database session and flask-login's
    user) would leak from one request to the next. Here every request gets its own context, as
    in production, which is what session-ending tests must see.
    """
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


# -- lock-out ----------------------------------------------------------------------------------


def test_wrong_password_and_unknown_email_say_the_same(client, make_user):
    user = make_user(Role.BACKOFFICE)
    wrong = login(client, user.email, WRONG)
    unknown = login(client, "niemand@nergens.nl", WRONG)
    assert wrong.status_code == unknown.status_code == 401
    assert BAD_TEXT in page(wrong)
    assert BAD_TEXT in page(unknown)
    assert client.get("/").status_code == 302  # still not logged in


THROTTLED_TEXT = "Te veel mislukte pogingen vanaf hier"


def login_from(client, email: str, password: str, ip: str):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def waited(resp) -> int:
    """The wait the page asks for, in seconds (a slow machine may show a second or two less)."""
    return int(re.search(r"Wacht (\d+) seconden", page(resp)).group(1))


def test_failures_slow_down_this_source_with_a_growing_delay(app, client, make_user, db):
    user = make_user(Role.BACKOFFICE)
    max_failures = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(max_failures - 1):
        assert BAD_TEXT in page(login_from(client, user.email, WRONG, "10.0.0.9"))
    last = login_from(client, user.email, WRONG, "10.0.0.9")
    assert BAD_TEXT in page(last)
    # Now this address from this source waits, even with the right password ...
    resp = login_from(client, user.email, PASSWORD, "10.0.0.9")
    assert resp.status_code == 401 and THROTTLED_TEXT in page(resp)
    assert 0 < waited(resp) <= app.config["LOGIN_DELAY_SECONDS"]
    assert is_login_redirect(client.get("/"))
    # ... but the user at their own desk is not locked out by someone guessing elsewhere.
    desk = app.test_client()
    assert login_from(desk, user.email, PASSWORD, "10.0.0.1").status_code == 302
    # An unknown e-mail address gets exactly the same answers, so nobody can tell which
    # addresses have an account.
    for _ in range(max_failures):
        assert BAD_TEXT in page(login_from(client, "onbekend@test.nl", WRONG, "10.0.0.9"))
    assert THROTTLED_TEXT in page(login_from(client, "onbekend@test.nl", WRONG, "10.0.0.9"))
    # The failures are in the audit trail.
    fails = db.query(AuditEvent).filter_by(user_id=user.id, action="login.mislukt").count()
    assert fails >= max_failures
    # The wait ends by itself, and each further failure doubles it.
    db.query(LoginThrottle).update({"blocked_until": utcnow() - timedelta(seconds=1)})
    db.commit()
    assert BAD_TEXT in page(login_from(client, user.email, WRONG, "10.0.0.9"))
    again = login_from(client, user.email, PASSWORD, "10.0.0.9")
    assert (
        app.config["LOGIN_DELAY_SECONDS"] < waited(again) <= 2 * app.config["LOGIN_DELAY_SECONDS"]
    )
    db.query(LoginThrottle).update({"blocked_until": utcnow() - timedelta(seconds=1)})
    db.commit()
    assert login_from(client, user.email, PASSWORD, "10.0.0.9").status_code == 302


def test_many_sources_together_only_delay_the_account(app, make_user, db):
    """Guessing from many addresses at once still meets a (growing) wait per account."""
    user = make_user(Role.BACKOFFICE)
    c = app.test_client()
    per_account = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]
    for i in range(per_account):
        assert BAD_TEXT in page(login_from(c, user.email, WRONG, f"10.1.{i}.1"))
    assert THROTTLED_TEXT in page(login_from(c, user.email, PASSWORD, "10.9.9.9"))
    # It is a delay, not a lock: once it has passed, the right password works.
    db.query(LoginThrottle).update({"blocked_until": utcnow() - timedelta(seconds=1)})
    db.commit()
    assert login_from(c, user.email, PASSWORD, "10.9.9.9").status_code == 302


def test_successful_login_resets_the_failure_count(app, client, make_user, db):
    user = make_user(Role.BACKOFFICE)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        login(client, user.email, WRONG)
    assert login(client, user.email, PASSWORD).status_code == 302
    client.post("/logout")
    # The count starts again: as many wrong tries as before still get no wait.
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert BAD_TEXT in page(login(client, user.email, WRONG))
    assert login(client, user.email, PASSWORD).status_code == 302


def test_login_does_not_follow_outside_next(client, make_user):
    user = make_user(Role.BACKOFFICE)
    resp = client.post(
        "/login?next=//evil.example/", data={"email": user.email, "password": PASSWORD}
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"


def test_inactive_user_cannot_log_in(client, make_user, db):
    user = make_user(Role.BACKOFFICE)
    db.get(User, user.id).active = False
    db.commit()
    assert BAD_TEXT in page(login(client, user.email, PASSWORD))


# -- two-step log-in (TOTP) --------------------------------------------------------------------


def setup_totp(client) -> str:
    """Go through /account/tweestaps like a user: read the key, type the app's code."""
    resp = client.get("/account/tweestaps")
    assert resp.status_code == 200
    html = page(resp)
    assert "<svg" in html  # the QR code
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html).group(1)
    wrong = client.post("/account/tweestaps", data={"code": "000000"})
    assert "Deze code klopt niet" in page(wrong)
    ok = client.post("/account/tweestaps", data={"code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 200
    assert "Uw herstelcodes" in page(ok)
    return secret


def next_code(secret: str) -> str:
    """The app's next code: the current one was used to switch two-step log-in on."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_totp_setup_then_login_asks_for_the_code(client, make_user, db):
    user = make_user(Role.BACKOFFICE)
    assert login(client, user.email).status_code == 302
    secret = setup_totp(client)
    db.expire_all()
    assert db.get(User, user.id).totp_enabled
    client.post("/logout")
    assert is_login_redirect(client.get("/"))

    resp = login(client, user.email)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/code")
    # Password alone is not a log-in.
    assert is_login_redirect(client.get("/"))
    wrong_code = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"
    bad = client.post("/login/code", data={"code": wrong_code})
    assert bad.status_code == 401
    assert "Deze code klopt niet, is verlopen of is al gebruikt" in page(bad)
    assert is_login_redirect(client.get("/"))
    good = client.post("/login/code", data={"code": next_code(secret)})
    assert good.status_code == 302
    assert client.get("/").status_code == 200


def test_too_many_wrong_codes_lock_the_account(app, client, make_user):
    user = make_user(Role.BACKOFFICE)
    login(client, user.email)
    setup_totp(client)
    client.post("/logout")
    login(client, user.email)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        resp = client.post("/login/code", data={"code": "12345x"})
    assert is_login_redirect(resp)
    assert client.get("/login/code").headers["Location"].endswith("/login")
    # The right password does not start a new round of guesses.
    again = login(client, user.email)
    assert again.status_code == 401 and "Te veel onjuiste codes" in page(again)


def test_required_2fa_forces_setup_before_anything_else(client, make_user, db):
    db.add(Organisation(naam="Zorg BV", require_2fa=True))
    db.commit()
    user = make_user(Role.BEHEERDER)
    assert login(client, user.email).status_code == 302
    for path in ("/", "/taken/"):
        resp = client.get(path)
        assert resp.status_code == 302, path
        assert resp.headers["Location"].endswith("/account/tweestaps"), path
    follow = client.get("/", follow_redirects=True)
    assert "Uw organisatie vraagt inloggen in twee stappen" in page(follow)
    setup_totp(client)
    assert client.get("/").status_code == 200
    # Switching it off is refused while the organisation demands it.
    resp = client.post("/account/tweestaps", data={"action": "uitzetten"})
    assert "uitzetten kan niet" in page(resp)
    db.expire_all()
    assert db.get(User, user.id).totp_enabled


# -- sessions ------------------------------------------------------------------------------------


def set_last_seen(db, user, seconds_ago: float) -> None:
    db.query(UserSession).filter_by(user_id=user.id).update(
        {"last_seen_at": utcnow() - timedelta(seconds=seconds_ago)}
    )
    db.commit()


def test_idle_timeout_logs_out(app, client, backoffice, db):
    assert client.get("/").status_code == 200
    limit = app.config["IDLE_TIMEOUT_MINUTES"] * 60
    set_last_seen(db, backoffice, limit - 60)  # active a minute before the limit: still in
    assert client.get("/").status_code == 200
    set_last_seen(db, backoffice, limit + 5)
    resp = client.get("/taken/")
    assert is_login_redirect(resp)
    assert "next=" in resp.headers["Location"]
    follow = client.get(resp.headers["Location"])
    assert f"na {app.config['IDLE_TIMEOUT_MINUTES']} minuten zonder activiteit" in page(follow)
    assert is_login_redirect(client.get("/"))  # really logged out, not just redirected once


def test_idle_timeout_during_an_htmx_request_loads_the_login_page(app, client, backoffice, db):
    set_last_seen(db, backoffice, app.config["IDLE_TIMEOUT_MINUTES"] * 60 + 5)
    resp = client.get("/taken/", headers={"HX-Request": "true"})
    assert resp.status_code == 401
    assert resp.headers["HX-Redirect"].startswith("/login")
    assert is_login_redirect(client.get("/"))


def test_session_lifetime_follows_idle_timeout(app):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == app.config["IDLE_TIMEOUT_MINUTES"] * 60


def test_production_cookies_are_secure(app_config, monkeypatch, make_user):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = {k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"}
    config["TESTING"] = False
    prod = create_app(config)
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    user = make_user(Role.BACKOFFICE)
    c = prod.test_client()
    base = "https://portal.test"
    form = c.get("/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', form).group(1)
    resp = c.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        base_url=base,
        headers={"Referer": f"{base}/login"},
    )
    assert resp.status_code == 302
    cookies = resp.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("portal_session="))
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert not any(c.startswith("remember_token=") for c in cookies)


def test_security_headers(client, backoffice):
    resp = client.get("/")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"


def test_password_change_ends_other_sessions(app, make_user, db):
    user = make_user(Role.BACKOFFICE)
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        assert login(c, user.email).status_code == 302
        assert c.get("/").status_code == 200
    row = db.get(User, user.id)
    before = row.session_version
    row.set_password("een-nieuw-wachtwoord-8")
    db.commit()
    assert row.session_version == before + 1
    assert is_login_redirect(laptop.get("/"))
    assert is_login_redirect(phone.get("/"))
    assert BAD_TEXT in page(login(laptop, user.email, PASSWORD))
    assert login(laptop, user.email, "een-nieuw-wachtwoord-8").status_code == 302
    assert laptop.get("/").status_code == 200


def test_beheerder_password_reset_ends_the_users_sessions(app, make_user, db):
    target = make_user(Role.BACKOFFICE)
    theirs = app.test_client()
    login(theirs, target.email)
    assert theirs.get("/").status_code == 200
    admin_user = make_user(Role.BEHEERDER)
    admin = app.test_client()
    login(admin, admin_user.email)
    resp = admin.post(
        f"/beheer/gebruikers/{target.id}/wachtwoord", data={"password": "door-beheer-gezet-1"}
    )
    assert resp.status_code == 302
    assert is_login_redirect(theirs.get("/"))
    assert admin.get("/").status_code == 200  # the beheerder's own session goes on
    assert login(theirs, target.email, "door-beheer-gezet-1").status_code == 302


def test_admin_reset_by_cli_ends_sessions(app, make_user, db):
    user = make_user(Role.BEHEERDER)
    c = app.test_client()
    login(c, user.email)
    assert c.get("/").status_code == 200
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", user.email, "--naam", "X", "--password", "weer-nieuw-123"]
    )
    assert result.exit_code == 0, result.output
    assert is_login_redirect(c.get("/"))


def test_deactivated_user_is_logged_out(app, make_user, db):
    user = make_user(Role.BACKOFFICE)
    c = app.test_client()
    login(c, user.email)
    db.get(User, user.id).active = False
    db.commit()
    assert is_login_redirect(c.get("/"))


def test_logout_needs_post_with_csrf(client, backoffice):
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert is_login_redirect(client.get("/"))


# -- the first admin, from the command line -------------------------------------------------------


def test_create_admin_cli(app, client, db):
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--email",
            "Eerste@Zorg.nl",
            "--naam",
            "Eerste Beheerder",
            "--password",
            "een-sterk-wachtwoord-1",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Beheerder eerste@zorg.nl is klaar om in te loggen." in result.output
    user = db.query(User).filter_by(email="eerste@zorg.nl").one()
    assert user.role == Role.BEHEERDER.value
    assert login(client, "eerste@zorg.nl", "een-sterk-wachtwoord-1").status_code == 302
    assert "Goedendag, Eerste Beheerder" in page(client.get("/"))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kort-1", "Een wachtwoord heeft minstens 12 tekens."),
        ("alleenmaarletters", "Gebruik in een wachtwoord letters én cijfers of leestekens."),
    ],
)
def test_create_admin_cli_refuses_a_weak_password(app, db, password, message):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "zwak@zorg.nl", "--naam", "Z", "--password", password]
    )
    assert result.exit_code == 1
    assert f"Fout: {message}" in result.output
    assert db.query(User).filter_by(email="zwak@zorg.nl").count() == 0


def test_no_user_carries_over_between_requests_in_one_app_context(app, make_user, db):
    """Scripts and tests run requests inside one app context; each still has its own user."""
    admin_user = make_user(Role.BEHEERDER)
    reader = make_user(Role.ALLEEN_LEZEN)
    with app.app_context():
        admin, lezer, anonymous = app.test_client(), app.test_client(), app.test_client()
        login(admin, admin_user.email)
        login(lezer, reader.email)
        assert admin.get("/").status_code == 200
        assert is_login_redirect(anonymous.get("/"))
        assert lezer.get("/beheer/gebruikers").status_code == 403
        row = db.get(User, admin_user.id)
        row.set_password("ander-wachtwoord-42")
        db.commit()
        assert is_login_redirect(admin.get("/"))
