"""Outgoing e-mail: through SMTP when ``SMTP_HOST`` is set, otherwise as ``.eml`` files in the
local outbox folder ``MAIL_OUTBOX_DIR`` (demo and tests), so a mail can be opened and checked."""

from __future__ import annotations

import smtplib
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


def send(config: Mapping[str, Any], msg: EmailMessage) -> str:
    """Deliver ``msg``; returns where it went (the outbox file path or "smtp:<host>")."""
    host = config.get("SMTP_HOST")
    if host:
        try:
            with smtplib.SMTP(host, int(config.get("SMTP_PORT") or 587), timeout=30) as smtp:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                user = config.get("SMTP_USER")
                if user:
                    smtp.login(user, config.get("SMTP_PASSWORD") or "")
                smtp.send_message(msg)
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
