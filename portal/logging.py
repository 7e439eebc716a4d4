"""Logging that never prints a BSN.

Every 9-digit number that passes the 11-proef (also written in groups with dots or spaces) is masked when a log record is made (message and
arguments) and again in exception text on the handlers, so a BSN that slips into a log line (an
exception text, a query parameter) never reaches the log in clear.
"""

from __future__ import annotations

import logging

from flask import Flask

from portal.privacy import mask_all


def mask_bsn(text: str) -> str:
    """Mask every BSN, also written with dots or spaces (``158.813.996``)."""
    return mask_all(text)


class BsnFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken format string; keep the record
            return True
        masked = mask_bsn(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_bsn(record.exc_text)
        record.msg, record.args = masked, None
        return True


_factory_installed = False


def _install_record_factory() -> None:
    """Mask at record creation, so every handler (also ones added later) gets the masked text."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken format string; keep the record
            return record
        record.msg, record.args = mask_bsn(message), None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so every handler prints the masked traceback.
            record.exc_text = mask_bsn(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def install_filter(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, BsnFilter) for f in handler.filters):
            handler.addFilter(BsnFilter())


def init_logging(app: Flask) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    _install_record_factory()
    install_filter(root)
    # Libraries that narrate every step at INFO (PDF rendering, migrations) only speak up on problems.
    for noisy in ("weasyprint", "weasyprint.progress", "fontTools", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_filter(app.logger)
    # werkzeug logs request lines (paths); keep it under the same filter.
    install_filter(logging.getLogger("werkzeug"))
