"""Sessions that end on the server, two-step log-in without replays, log-in timing, passwords."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest

from portal.domain import Role
from portal.models import RecoveryCode, User, UserSession
from portal.models._base import utcnow
from portal.services import users as user_service
from tests.conftest import PASSWORD, login
from tests.portal.test_auth import is_login_redirect, next_code, page, setup_totp


@pytest.fixture
def db(app):
    """A session without a pushed app context (see tests/portal/test_auth.py)."""
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


def copy_cookie(app, source) -> object:
    """A second browser holding a copy of ``source``'s session cookie."""
    thief = app.test_client()
    cookie = source.get_cookie(app.config["SESSION_COOKIE_NAME"])
    thief.set_cookie(cookie.key, cookie.value)
    return thief


# -- sessions end on the server -----------------------------------------------------------------


def test_a_copied_cookie_stops_working_at_logout(app, client, make_user):
    user = make_user(Role.BACKOFFICE)
    assert login(client, user.email).status_code == 302
    thief = copy_cookie(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    client.post("/logout")
    assert is_login_redirect(thief.get("/"))
    assert is_login_redirect(thief.get("/clienten/"))


def test_logout_ends_only_this_device(app, make_user, db):
    user = make_user(Role.BACKOFFICE)
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        assert login(c, user.email).status_code == 302
    laptop.post("/logout")
    assert is_login_redirect(laptop.get("/"))
    assert phone.get("/").status_code == 200
    assert db.query(UserSession).filter_by(user_id=user.id, ended_at=None).count() == 1


def test_admin_reset_ends_copied_sessions(app, client, make_user, db):
    user = make_user(Role.BACKOFFICE)
    admin = make_user(Role.BEHEERDER)
    assert login(client, user.email).status_code == 302
    thief = copy_cookie(app, client)
    boss = app.test_client()
    assert login(boss, admin.email).status_code == 302
    resp = boss.post(
        f"/beheer/gebruikers/{user.id}/wachtwoord", data={"password": "Vers-Ww-2026!x"}
    )
    assert resp.status_code == 302
    assert is_login_redirect(thief.get("/"))
    assert is_login_redirect(client.get("/"))
    assert db.query(UserSession).filter_by(user_id=user.id, ended_at=None).count() == 0


def test_polling_progress_does_not_keep_the_session_alive(app, client, make_user, db):
    from portal.jobs import enqueue

    user = make_user(Role.BACKOFFICE)
    assert login(client, user.email).status_code == 302
    with app.app_context():
        job = enqueue(db, "portal.jobs.demo.count_clients", 1, 0, kind="demo", label="Tellen")
        db.commit()
    limit = app.config["IDLE_TIMEOUT_MINUTES"] * 60
    stamp = utcnow() - timedelta(seconds=limit - 30)
    db.query(UserSession).filter_by(user_id=user.id).update({"last_seen_at": stamp})
    db.commit()
    poll = client.get(f"/taken/{job.id}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "hx-trigger" in page(poll)
    db.expire_all()
    seen = db.query(UserSession).filter_by(user_id=user.id).one().last_seen_at
    assert abs((seen.replace(tzinfo=stamp.tzinfo) - stamp).total_seconds()) < 1  # unchanged
    # Thirty seconds later the poll finds the session timed out.
    db.query(UserSession).filter_by(user_id=user.id).update(
        {"last_seen_at": utcnow() - timedelta(seconds=limit + 1)}
    )
    db.commit()
    late = client.get(f"/taken/{job.id}", headers={"HX-Request": "true"})
    assert late.status_code == 401 and late.headers["HX-Redirect"].startswith("/login")


def test_a_page_the_user_opens_counts_as_activity(app, client, make_user, db):
    user = make_user(Role.BACKOFFICE)
    assert login(client, user.email).status_code == 302
    old = utcnow() - timedelta(minutes=10)
    db.query(UserSession).filter_by(user_id=user.id).update({"last_seen_at": old})
    db.commit()
    assert client.get("/").status_code == 200
    db.expire_all()
    seen = db.query(UserSession).filter_by(user_id=user.id).one().last_seen_at
    assert (seen.replace(tzinfo=old.tzinfo) - old).total_seconds() > 500


# -- two-step log-in ----------------------------------------------------------------------------


def two_step_user(client, make_user) -> tuple[User, str]:
    user = make_user(Role.BACKOFFICE)
    login(client, user.email)
    secret = setup_totp(client)
    client.post("/logout")
    return user, secret


def test_a_used_code_is_never_accepted_again(app, client, make_user):
    user, secret = two_step_user(client, make_user)
    code = next_code(secret)
    login(client, user.email)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    thief = app.test_client()  # someone who read the code over a shoulder, a second later
    login(thief, user.email)
    replay = thief.post("/login/code", data={"code": code})
    assert replay.status_code == 401 and "al gebruikt" in page(replay)
    assert is_login_redirect(thief.get("/"))


def test_the_code_used_to_switch_on_is_spent_too(client, make_user):
    user = make_user(Role.BACKOFFICE)
    login(client, user.email)
    html = page(client.get("/account/tweestaps"))
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html).group(1)
    code = pyotp.TOTP(secret).now()
    assert "Uw herstelcodes" in page(client.post("/account/tweestaps", data={"code": code}))
    client.post("/logout")
    login(client, user.email)
    assert client.post("/login/code", data={"code": code}).status_code == 401


def test_wrong_codes_count_across_logins(app, client, make_user, db):
    """A right password between wrong codes does not give a fresh set of guesses."""
    user, _secret = two_step_user(client, make_user)
    max_failures = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(max_failures - 1):
        login(client, user.email)
        assert client.post("/login/code", data={"code": "000000"}).status_code == 401
        client.get("/login")  # start over with the password
    login(client, user.email)
    locked = client.post("/login/code", data={"code": "000000"})
    assert is_login_redirect(locked)
    # Locked: even the password plus the right code does not get in now.
    resp = login(client, user.email)
    assert resp.status_code == 401 and "Te veel onjuiste codes" in page(resp)
    db.expire_all()
    first_lock = db.get(User, user.id).locked_until
    # The next round of wrong codes locks for twice as long.
    db.get(User, user.id).locked_until = utcnow() - timedelta(seconds=1)
    db.commit()
    for _ in range(max_failures):
        login(client, user.email)
        client.post("/login/code", data={"code": "000000"})
    db.expire_all()
    row = db.get(User, user.id)
    assert row.locked_until is not None and first_lock is not None
    minutes = app.config["LOGIN_LOCK_MINUTES"]
    until = row.locked_until.replace(tzinfo=utcnow().tzinfo)
    assert until - utcnow() > timedelta(minutes=2 * minutes - 1)


def test_a_right_code_resets_the_wrong_code_count(app, client, make_user, db):
    user, secret = two_step_user(client, make_user)
    login(client, user.email)
    client.post("/login/code", data={"code": "000000"})
    assert client.post("/login/code", data={"code": next_code(secret)}).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).totp_failures == 0


def test_recovery_codes_are_shown_once_stored_hashed_and_work_once(app, client, make_user, db):
    user = make_user(Role.BACKOFFICE)
    login(client, user.email)
    html = page(client.get("/account/tweestaps"))
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html).group(1)
    shown = page(client.post("/account/tweestaps", data={"code": pyotp.TOTP(secret).now()}))
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", shown)
    assert len(codes) == user_service.RECOVERY_CODES
    stored = [r.code_hash for r in db.query(RecoveryCode).filter_by(user_id=user.id)]
    assert len(stored) == len(codes) and not any(
        c.replace("-", "") in h for c in codes for h in stored
    )
    # Not shown again on the account page.
    again = page(client.get("/account/tweestaps"))
    assert codes[0] not in again and "10</strong> ongebruikte herstelcode" in again
    client.post("/logout")
    login(client, user.email)
    assert client.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout")
    login(client, user.email)
    reuse = client.post("/login/code", data={"code": codes[0]})
    assert reuse.status_code == 401
    assert "9</strong> ongebruikte" not in page(reuse)
    # New codes replace the old ones.
    assert client.post("/login/code", data={"code": codes[1]}).status_code == 302
    fresh = page(client.post("/account/tweestaps", data={"action": "herstelcodes"}))
    new_codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", fresh)
    assert len(new_codes) == user_service.RECOVERY_CODES and codes[2] not in new_codes
    client.post("/logout")
    login(client, user.email)
    assert client.post("/login/code", data={"code": codes[2]}).status_code == 401


# -- log-in timing ----------------------------------------------------------------------------


@pytest.fixture
def hash_checks(monkeypatch):
    """Count the password-hash checks (the slow, deliberate part of a log-in)."""
    calls: list[str] = []
    real = user_service.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash.split("$", 1)[0])
        return real(password_hash, password)

    monkeypatch.setattr(user_service, "verify_password", counting)
    return calls


def test_every_kind_of_address_costs_one_hash_check(app, make_user, db, hash_checks):
    known = make_user(Role.BACKOFFICE)
    inactive = make_user(Role.BACKOFFICE)
    db.get(User, inactive.id).active = False
    locked = make_user(Role.BACKOFFICE)
    db.get(User, locked.id).locked_until = utcnow() + timedelta(minutes=10)
    db.commit()
    cases = {
        "wrong password": (known.email, "fout-wachtwoord-99"),
        "unknown address": ("niemand@nergens.nl", "fout-wachtwoord-99"),
        "inactive account": (inactive.email, PASSWORD),
        "locked account": (locked.email, "fout-wachtwoord-99"),
    }
    methods = set()
    for i, (what, (email, password)) in enumerate(cases.items()):
        c = app.test_client()
        hash_checks.clear()
        resp = c.post(
            "/login",
            data={"email": email, "password": password},
            environ_base={"REMOTE_ADDR": f"10.2.0.{i}"},
        )
        assert resp.status_code == 401, what
        assert "E-mailadres of wachtwoord klopt niet." in page(resp), what
        assert len(hash_checks) == 1, what
        methods.add(hash_checks[0])
    assert len(methods) == 1  # the dummy hash is made like the real ones (same method and cost)


def test_unknown_address_takes_about_as_long_as_a_wrong_password(app, make_user):
    """A tolerant check on the clock: no 20x gap as before (108 ms vs 5 ms)."""
    user = make_user(Role.BACKOFFICE)

    def timed(email: str, n: int) -> float:
        best = float("inf")
        for i in range(n):
            c = app.test_client()
            start = time.perf_counter()
            c.post(
                "/login",
                data={"email": email, "password": "x" * 12},
                environ_base={"REMOTE_ADDR": f"10.3.{n}.{i}"},
            )
            best = min(best, time.perf_counter() - start)
        return best

    known, unknown = timed(user.email, 3), timed("niemand@nergens.nl", 3)
    assert unknown > known / 3


# -- passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        " " * 12,
        "aaaaaaaaaaa1",
        "121212121212",
        "Wachtwoord2024!",
        "welkom123456",
        "qwertyuiop12",
        "abcdefghijkl1",
        "Password123!",
    ],
)
def test_common_and_trivial_passwords_are_refused(password):
    assert user_service.password_problem(password) is not None


@pytest.mark.parametrize(
    "password", ["correct-paard-batterij-7", "Zorg met aandacht 2026", "k8#Lm2!pQz9v"]
)
def test_good_passwords_pass(password):
    assert user_service.password_problem(password) is None


def test_the_common_password_list_ships_with_the_portal():
    assert "wachtwoord" in user_service.common_passwords()
    assert len(user_service.common_passwords()) > 100


def test_the_admin_form_refuses_a_trivial_password(client, beheerder):
    resp = client.post(
        "/beheer/gebruikers/nieuw",
        data={"naam": "Piet", "email": "piet@zorg.nl", "role": "backoffice", "password": " " * 12},
    )
    assert resp.status_code == 422 and "te eenvoudig" in page(resp)


# -- headers and the stand-in -----------------------------------------------------------------


def test_security_headers_and_no_server_versions(client, backoffice):
    resp = client.get("/", base_url="https://localhost")
    assert resp.status_code == 200
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "camera=()" in resp.headers["Permissions-Policy"]


def test_the_development_server_shows_no_versions(app):
    """Served for real (as `portal demo` does): the Server header names no product versions."""
    import threading

    import requests
    from werkzeug.serving import make_server

    from portal.runtime import QuietRequestHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        resp = requests.get(f"http://127.0.0.1:{server.server_port}/login", timeout=10)
    finally:
        server.shutdown()
    assert resp.status_code == 200
    assert resp.headers["Server"] == "Declaratieportaal"


def test_the_standin_listens_only_on_this_machine(tmp_path):
    from portal.vecozo.standin.server import StandinExposed, make_standin_server

    config = {"STANDIN_DB": str(tmp_path / "standin.db")}
    with pytest.raises(StandinExposed, match=r"alleen op 127\.0\.0\.1"):
        make_standin_server("0.0.0.0", 0, config=config)
    server = make_standin_server("127.0.0.1", 0, config=config)
    server.server_close()
