from __future__ import annotations

import hashlib

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from redis.exceptions import RedisError

from portal.auth import AUTHENTICATED, PUBLIC, requires
from portal.db import db_session
from portal.models import User
from portal.services import audit
from portal.services import users as user_service
from portal.services.organisation import get_organisation

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


def _finish_login(user: User) -> None:
    session.clear()
    login_user(user)
    session["last_seen"] = __import__("time").time().__int__()
    session.permanent = True
    audit.record(db_session(), "login", user_id=user.id, ip=request.remote_addr)
    db_session().commit()


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    error = None
    if request.method == "POST":
        s = db_session()
        result, user = user_service.attempt_login(
            s,
            request.form.get("email", ""),
            request.form.get("password", ""),
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
        if user is not None and result != user_service.LoginResult.OK:
            audit.record(s, "login.mislukt", user_id=user.id, ip=request.remote_addr)
        s.commit()
        if user is None and _unknown_email_locked(request.form.get("email", "")):
            result = user_service.LoginResult.LOCKED
        if result == user_service.LoginResult.LOCKED:
            error = (
                "Te veel mislukte pogingen. Dit account is tijdelijk geblokkeerd; "
                f"probeer het over {current_app.config['LOGIN_LOCK_MINUTES']} minuten opnieuw."
            )
        elif result == user_service.LoginResult.BAD:
            error = "E-mailadres of wachtwoord klopt niet."
        elif user.totp_enabled:
            session.clear()
            session["pending_2fa"] = user.get_id()
            session["pending_next"] = _safe_next(request.args.get("next"))
            return redirect(url_for("auth.login_2fa"))
        else:
            _finish_login(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error), (401 if error else 200)


def _unknown_email_locked(email: str) -> bool:
    """Count failures for e-mail addresses without an account, like those of real accounts.

    Otherwise the lock-out message would tell an attacker which addresses exist: a real account
    answers "te veel pogingen" after LOGIN_MAX_FAILURES tries, an unknown one never would.
    """
    from portal.jobs import redis_connection

    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    lock_seconds = current_app.config["LOGIN_LOCK_MINUTES"] * 60
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    key = f"{current_app.config['RQ_QUEUE_PREFIX']}:login-unknown:{digest}"
    try:
        conn = redis_connection()
        count = conn.incr(key)
        if count == max_failures:
            conn.expire(key, lock_seconds)  # the "lock" lasts as long as a real one
        elif count < max_failures:
            conn.expire(key, 24 * 3600)
        return count >= max_failures
    except RedisError:  # never block log-ins on Redis; real accounts are locked in the database
        return False


@bp.route("/login/code", methods=["GET", "POST"])
@requires(PUBLIC)
def login_2fa():
    pending = session.get("pending_2fa")
    if not pending:
        return redirect(url_for("auth.login"))
    ident, _, version = pending.partition(":")
    user = db_session().get(User, int(ident))
    if user is None or str(user.session_version) != version:
        session.clear()
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        if user_service.verify_totp(user.totp_secret, request.form.get("code", "")):
            target = session.get("pending_next")
            _finish_login(user)
            return redirect(_safe_next(target))
        s = db_session()
        user.failed_logins = (user.failed_logins or 0) + 1
        audit.record(s, "login.code-mislukt", user_id=user.id, ip=request.remote_addr)
        s.commit()
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            session.clear()
            flash("Te veel onjuiste codes. Log opnieuw in.", "error")
            return redirect(url_for("auth.login"))
        error = "Deze code klopt niet of is verlopen. Gebruik de code die nu in uw app staat."
    return render_template("auth/login_2fa.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@requires(AUTHENTICATED)
def logout():
    logout_user()
    session.clear()
    flash("U bent uitgelogd.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/tweestaps", methods=["GET", "POST"])
@requires(AUTHENTICATED)
def totp_setup():
    s = db_session()
    user = s.get(User, current_user.id)
    error = None
    if request.method == "POST" and request.form.get("action") == "uitzetten":
        org = get_organisation(s)
        if org and org.require_2fa:
            error = "Uw organisatie vraagt inloggen in twee stappen; uitzetten kan niet."
        else:
            user.totp_enabled, user.totp_secret = False, None
            audit.record(s, "2fa.uit", user_id=user.id, ip=request.remote_addr)
            s.commit()
            flash("Inloggen in twee stappen staat uit.", "info")
            return redirect(url_for("auth.totp_setup"))
    elif request.method == "POST":
        secret = session.get("totp_candidate")
        if secret and user_service.verify_totp(secret, request.form.get("code", "")):
            user.totp_secret, user.totp_enabled = secret, True
            session.pop("totp_candidate", None)
            audit.record(s, "2fa.aan", user_id=user.id, ip=request.remote_addr)
            s.commit()
            flash("Inloggen in twee stappen staat aan.", "success")
            return redirect(url_for("main.index"))
        error = "Deze code klopt niet. Scan de QR-code opnieuw en vul de code uit de app in."
    qr = None
    secret = None
    if not user.totp_enabled:
        secret = session.get("totp_candidate") or user_service.new_totp_secret()
        session["totp_candidate"] = secret
        org = get_organisation(s)
        uri = user_service.totp_uri(user, secret, org.naam if org else "Declaratieportaal")
        qr = Markup(segno.make(uri).svg_inline(scale=4))
    return render_template("auth/totp_setup.html", user=user, qr=qr, secret=secret, error=error)
