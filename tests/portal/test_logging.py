"""Logging never prints a BSN: log lines and exception texts are masked, other numbers are kept."""

from __future__ import annotations

import io
import logging

import pytest

from portal.logging import BsnFilter, mask_bsn

VALID_BSN = "111222333"  # passes the 11-proef
OTHER_NINE = "123456780"  # 9 digits, fails the 11-proef: an ordinary number (e.g. an amount)


def test_the_numbers_are_what_the_test_says():
    from stdnum.nl import bsn

    assert bsn.is_valid(VALID_BSN)
    assert not bsn.is_valid(OTHER_NINE)


def test_mask_bsn_masks_only_valid_bsns():
    text = f"client {VALID_BSN} factuur {OTHER_NINE} agb 12345678 lang 9876543210"
    masked = mask_bsn(text)
    assert VALID_BSN not in masked
    assert "*********" in masked
    assert OTHER_NINE in masked
    assert "12345678" in masked
    assert "9876543210" in masked  # ten digits: not a BSN


@pytest.fixture
def captured(app):
    """A handler on the app logger writing to a string, as a deployment's handler would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("portal.test_logging")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    from portal.logging import install_filter

    install_filter(logger)
    yield logger, stream
    logger.removeHandler(handler)


def test_log_line_with_bsn_in_args_is_masked(captured):
    logger, stream = captured
    logger.info("opzoeken cliënt %s (nummer %s)", VALID_BSN, OTHER_NINE)
    out = stream.getvalue()
    assert VALID_BSN not in out
    assert "*********" in out
    assert OTHER_NINE in out


def test_log_line_with_bsn_in_message_is_masked(captured):
    logger, stream = captured
    logger.warning(f"import regel 3: BSN {VALID_BSN} bestaat al")
    out = stream.getvalue()
    assert VALID_BSN not in out
    assert "bestaat al" in out


def test_exception_text_with_bsn_is_masked(captured):
    logger, stream = captured
    try:
        raise ValueError(f"geen cliënt met BSN {VALID_BSN}; bedrag {OTHER_NINE}")
    except ValueError:
        logger.exception("verwerking mislukt")
    out = stream.getvalue()
    assert "Traceback" in out
    assert "ValueError" in out
    assert VALID_BSN not in out
    assert OTHER_NINE in out


def test_filter_on_a_handler_also_masks_records_made_elsewhere():
    """A record that did not go through the record factory (e.g. unpickled) is masked too."""
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bsn %s", (VALID_BSN,), None)
    try:
        raise RuntimeError(f"BSN {VALID_BSN}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert BsnFilter().filter(record)
    assert VALID_BSN not in record.getMessage()
    assert VALID_BSN not in record.exc_text


def test_request_path_with_bsn_in_werkzeug_log_is_masked(app):
    """werkzeug logs request lines; a BSN in a query string must not reach the log."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    wz = logging.getLogger("werkzeug")
    wz.addHandler(handler)
    old_level = wz.level
    wz.setLevel(logging.INFO)
    try:
        wz.info('127.0.0.1 - - "GET /clienten?q=%s HTTP/1.1" 200 -', VALID_BSN)
    finally:
        wz.removeHandler(handler)
        wz.setLevel(old_level)
    assert VALID_BSN not in stream.getvalue()
    assert "/clienten?q=*********" in stream.getvalue()


def test_any_handler_added_later_gets_masked_exceptions(app):
    """A handler a deployment adds after start-up (without our filter) never sees a BSN."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("portal.test_logging.late")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise KeyError(f"cliënt {VALID_BSN}")
        except KeyError:
            logger.exception("mislukt voor %s", VALID_BSN)
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "KeyError" in out
    assert VALID_BSN not in out
