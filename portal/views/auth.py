from __future__ import annotations

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

from portal.auth import AUTHENTICATED, PUBLIC, requires
from portal.db import db_session
from portal.models import User
from portal.services import audit, invitations, sessions
from portal.services import users as user_service
from portal.services.organisation import get_organisation

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


def _finish_login(user: User, how: str = "login") -> None:
    s = db_session()
    session.clear()
    login_user(user)
    session["sid"] = sessions.start(s, user.id, ip=request.remote_addr)
    session.permanent = True
    audit.record(s, how, user_id=user.id, ip=request.remote_addr)
    s.commit()


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{max(seconds, 1)} seconden"
    return f"{(seconds + 59) // 60} minuten"


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    error = None
    if request.method == "POST":
        s = db_session()
        attempt = user_service.attempt_login(
            s,
            request.form.get("email", ""),
            request.form.get("password", ""),
            source=request.remote_addr,
            config=current_app.config,
        )
        result, user = attempt.result, attempt.user
        if user is not None and result != user_service.LoginResult.OK:
            audit.record(s, "login.mislukt", user_id=user.id, ip=request.remote_addr)
        s.commit()
        if result == user_service.LoginResult.THROTTLED:
            error = (
                "Te veel mislukte pogingen vanaf hier. Wacht "
                f"{_wait_text(attempt.wait_seconds)} en probeer het dan opnieuw."
            )
        elif result == user_service.LoginResult.LOCKED:
            error = (
                "Te veel onjuiste codes. Dit account is tijdelijk geblokkeerd; "
                f"probeer het over {_wait_text(attempt.wait_seconds)} opnieuw."
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


@bp.route("/login/code", methods=["GET", "POST"])
@requires(PUBLIC)
def login_2fa():
    pending = session.get("pending_2fa")
    if not pending:
        return redirect(url_for("auth.login"))
    ident, _, version = pending.partition(":")
    s = db_session()
    user = s.get(User, int(ident)) if ident.isdigit() else None
    if user is None or str(user.session_version) != version or not user.active:
        session.clear()
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        result = user_service.check_second_factor(
            s,
            user,
            request.form.get("code", ""),
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        )
        if result == user_service.LoginResult.OK:
            target = session.get("pending_next")
            _finish_login(user)
            return redirect(_safe_next(target))
        audit.record(s, "login.code-mislukt", user_id=user.id, ip=request.remote_addr)
        s.commit()
        if result == user_service.LoginResult.LOCKED:
            session.clear()
            flash("Te veel onjuiste codes. Dit account is tijdelijk geblokkeerd.", "error")
            return redirect(url_for("auth.login"))
        error = (
            "Deze code klopt niet, is verlopen of is al gebruikt. Gebruik de code die nu in uw "
            "app staat, of een herstelcode."
        )
    return render_template("auth/login_2fa.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@requires(AUTHENTICATED)
def logout():
    s = db_session()
    sessions.end(s, session.get("sid"))
    audit.record(s, "logout", user_id=current_user.id, ip=request.remote_addr)
    s.commit()
    logout_user()
    session.clear()
    flash("U bent uitgelogd.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"])
@requires(PUBLIC)
def invitation(token: str):
    """An invited user chooses their own password (the link works once)."""
    s = db_session()
    try:
        user = invitations.user_for_token(s, current_app.config["SECRET_KEY"], token[:500])
    except invitations.InvitationError as exc:
        return render_template("auth/invitation.html", user=None, error=str(exc)), 400
    error = None
    if request.method == "POST":
        try:
            invitations.accept(
                s, user, request.form.get("password", ""), request.form.get("password2", "")
            )
        except invitations.InvitationError as exc:
            error = str(exc)
        else:
            s.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Uw wachtwoord is ingesteld. U kunt nu inloggen.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/invitation.html", user=user, error=error), (422 if error else 200)


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
            user_service.clear_two_step(s, user)
            audit.record(s, "2fa.uit", user_id=user.id, ip=request.remote_addr)
            s.commit()
            flash("Inloggen in twee stappen staat uit.", "info")
            return redirect(url_for("auth.totp_setup"))
    elif request.method == "POST" and request.form.get("action") == "herstelcodes":
        if user.totp_enabled:
            codes = user_service.new_recovery_codes(s, user)
            audit.record(s, "2fa.herstelcodes-nieuw", user_id=user.id, ip=request.remote_addr)
            s.commit()
            return render_template("auth/recovery_codes.html", codes=codes)
    elif request.method == "POST":
        secret = session.get("totp_candidate")
        if secret and user_service.verify_totp(secret, request.form.get("code", "")):
            user.totp_secret, user.totp_enabled = secret, True
            user.totp_last_step = user_service.totp_step(secret, request.form.get("code", ""))
            session.pop("totp_candidate", None)
            codes = user_service.new_recovery_codes(s, user)
            audit.record(s, "2fa.aan", user_id=user.id, ip=request.remote_addr)
            s.commit()
            flash("Inloggen in twee stappen staat aan.", "success")
            # Shown once, on this page; never through a redirect (flash messages live in the cookie).
            return render_template("auth/recovery_codes.html", codes=codes)
        error = "Deze code klopt niet. Scan de QR-code opnieuw en vul de code uit de app in."
    qr = None
    secret = None
    if not user.totp_enabled:
        secret = session.get("totp_candidate") or user_service.new_totp_secret()
        session["totp_candidate"] = secret
        org = get_organisation(s)
        uri = user_service.totp_uri(user, secret, org.naam if org else "Declaratieportaal")
        qr = Markup(segno.make(uri).svg_inline(scale=4))
    left = user_service.recovery_codes_left(s, user) if user.totp_enabled else 0
    return render_template(
        "auth/totp_setup.html", user=user, qr=qr, secret=secret, error=error, codes_left=left
    )
