"""Outgoing e-mail: through SMTP when ``SMTP_HOST`` is set, otherwise as ``.eml`` files in the
local outbox folder ``MAIL_OUTBOX_DIR`` (demo and tests), so a mail can be opened and checked."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


class MailError(RuntimeError):
    """Sending failed; the message is Dutch and meant for the person who pressed the button."""


def build_message(
    *,
    sender: str,
    sender_name: str | None,
    to: str,
    subject: str,
    body: str,
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name or "", sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(body)
    for att in attachments:
        maintype, _, subtype = att.mimetype.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg


SECURITY_MODES = ("starttls", "ssl", "none")


def _tls_context(config: Mapping[str, Any]) -> ssl.SSLContext:
    """Verify the mail server's certificate and name: system CAs, or ``SMTP_CA_BUNDLE``."""
    return ssl.create_default_context(cafile=config.get("SMTP_CA_BUNDLE") or None)


def send(config: Mapping[str, Any], msg: EmailMessage) -> str:
    """Deliver ``msg``; returns where it went (the outbox file path or "smtp:<host>").

    Over SMTP the connection is encrypted with a verified certificate before the password or the
    message (a PDF with personal data) is sent: STARTTLS by default, or TLS from the first byte
    (``SMTP_SECURITY=ssl``, port 465). Only ``SMTP_SECURITY=none`` sends in clear, meant for a
    relay on the same machine or network that encrypts onwards.
    """
    host = config.get("SMTP_HOST")
    if host:
        security = (config.get("SMTP_SECURITY") or "starttls").strip().lower()
        if security not in SECURITY_MODES:
            raise MailError(
                f"SMTP_SECURITY '{security}' is onbekend; kies starttls, ssl of none. "
                "Er is niets verstuurd."
            )
        default_port = 465 if security == "ssl" else 587
        port = int(config.get("SMTP_PORT") or default_port)
        try:
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=30, context=_tls_context(config))
            else:
                smtp = smtplib.SMTP(host, port, timeout=30)
            with smtp:
                smtp.ehlo()
                if security == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise MailError(
                            f"De mailserver {host} biedt geen versleuteling (STARTTLS) aan. Er is "
                            "niets verstuurd: het wachtwoord en de factuur zouden onversleuteld "
                            "over het netwerk gaan. Gebruik een server met TLS, of zet "
                            "SMTP_SECURITY=none alleen voor een relay op deze machine."
                        )
                    smtp.starttls(context=_tls_context(config))
                    smtp.ehlo()
                user = config.get("SMTP_USER")
                if user:
                    smtp.login(user, config.get("SMTP_PASSWORD") or "")
                smtp.send_message(msg)
        except ssl.SSLError as exc:
            raise MailError(
                f"Het certificaat van mailserver {host} kon niet worden gecontroleerd "
                f"({getattr(exc, 'verify_message', None) or exc.reason or exc}). Er is niets "
                "verstuurd. Controleer SMTP_HOST, of geef de CA van de server op in SMTP_CA_BUNDLE."
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"De mailserver weigerde het bericht of is niet bereikbaar: {exc}"
            ) from exc
        return f"smtp:{host}"
    outbox = Path(config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msg.as_bytes())
    tmp.rename(path)  # readers never see half a file
    return str(path)
