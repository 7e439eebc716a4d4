"""The organisation's VECOZO system certificate: checked on upload, encrypted at rest.

The .pfx and its password are encrypted with Fernet under a key derived from ``VECOZO_CERT_KEY``
(or, when that is not set, from ``SECRET_KEY``). They are never shown again; the client gets the
key pair only as short-lived PEM files in a private temporary folder.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.models import VecozoCertificate

MAX_PFX_BYTES = 256 * 1024
WARN_DAYS = 31


class CertificateError(ValueError):
    """A Dutch, user-facing reason why a certificate cannot be used."""


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes
    subject: str
    serial: str
    not_valid_before: datetime
    not_valid_after: datetime


def _fernet() -> Fernet:
    secret = current_app.config.get("VECOZO_CERT_KEY") or current_app.config["SECRET_KEY"]
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"portal-vecozo-certificate", info=b"fernet"
    ).derive(secret.encode() if isinstance(secret, str) else secret)
    return Fernet(base64.urlsafe_b64encode(key))


def read_pfx(data: bytes, password: str) -> KeyPair:
    """Open a PKCS#12 file; raise :class:`CertificateError` with a Dutch reason."""
    if not data:
        raise CertificateError("Kies een certificaatbestand (.pfx of .p12).")
    if len(data) > MAX_PFX_BYTES:
        raise CertificateError("Dit bestand is te groot voor een certificaat.")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() or None)
    except ValueError as exc:
        raise CertificateError(
            "Het bestand kon niet worden geopend: het wachtwoord klopt niet of het is geen "
            ".pfx-certificaat."
        ) from exc
    if key is None or cert is None:
        raise CertificateError("Het bestand bevat geen certificaat met bijbehorende sleutel.")
    now = datetime.now(UTC)
    if cert.not_valid_after_utc < now:
        raise CertificateError(
            f"Dit certificaat is verlopen op {cert.not_valid_after_utc:%d-%m-%Y}."
        )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (extra or []))
    return KeyPair(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM) + chain,
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        subject=cert.subject.rfc4514_string()[:400],
        serial=format(cert.serial_number, "x")[:80],
        not_valid_before=cert.not_valid_before_utc,
        not_valid_after=cert.not_valid_after_utc,
    )


def store_certificate(
    session: Session, data: bytes, password: str, *, filename: str, user_id: int | None
) -> VecozoCertificate:
    """Check and store a new certificate (encrypted); the previous one stops being used."""
    pair = read_pfx(data, password)
    f = _fernet()
    session.execute(
        update(VecozoCertificate).where(VecozoCertificate.active.is_(True)).values(active=False)
    )
    row = VecozoCertificate(
        filename=(filename or "certificaat.pfx")[:200],
        pfx_encrypted=f.encrypt(data),
        password_encrypted=f.encrypt(password.encode()),
        subject=pair.subject,
        serial=pair.serial,
        not_valid_before=pair.not_valid_before,
        not_valid_after=pair.not_valid_after,
        active=True,
        uploaded_by=user_id,
    )
    session.add(row)
    from portal.services import audit

    audit.record(
        session,
        "vecozo.certificaat",
        user_id=user_id,
        object_type="vecozo_certificate",
        detail={"subject": pair.subject, "geldig_tot": pair.not_valid_after.date().isoformat()},
    )
    return row


def active_certificate(session: Session) -> VecozoCertificate | None:
    return session.scalar(
        select(VecozoCertificate)
        .where(VecozoCertificate.active.is_(True))
        .order_by(VecozoCertificate.id.desc())
        .limit(1)
    )


def key_pair(row: VecozoCertificate) -> KeyPair:
    f = _fernet()
    try:
        data = f.decrypt(row.pfx_encrypted)
        password = f.decrypt(row.password_encrypted).decode()
    except InvalidToken as exc:
        raise CertificateError(
            "Het opgeslagen certificaat kan niet worden ontsleuteld (is de sleutel gewijzigd?). "
            "Upload het certificaat opnieuw."
        ) from exc
    return read_pfx(data, password)


@contextmanager
def pem_files(pair: KeyPair) -> Iterator[tuple[str, str]]:
    """The certificate and key as files readable only by this process, removed afterwards."""
    folder = tempfile.mkdtemp(prefix="vecozo-")
    try:
        os.chmod(folder, 0o700)
        cert_path = os.path.join(folder, "cert.pem")
        key_path = os.path.join(folder, "key.pem")
        for path, content in ((cert_path, pair.cert_pem), (key_path, pair.key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
        yield cert_path, key_path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def expiry_state(row: VecozoCertificate | None, today: date | None = None) -> str:
    """ "geen", "verlopen", "bijna" (within a month) or "ok"."""
    if row is None:
        return "geen"
    today = today or date.today()
    end = row.not_valid_after.date()
    if end < today:
        return "verlopen"
    if end <= today + timedelta(days=WARN_DAYS):
        return "bijna"
    return "ok"
