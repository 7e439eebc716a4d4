"""Invoice e-mail goes out encrypted, to a server whose certificate checks out, or not at all."""

from __future__ import annotations

import pytest
import trustme

from portal.services import mail
from tests.portal import smtp_server


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server_context(ca):
    cert = ca.issue_cert("127.0.0.1", "localhost")
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


@pytest.fixture
def ca_file(ca, tmp_path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def message():
    return mail.build_message(
        sender="facturen@zorg.test",
        sender_name="Zorg BV",
        to="klant@example.test",
        subject="Factuur 2026-0001",
        body="In de bijlage uw factuur.",
        attachments=[mail.Attachment("factuur.pdf", b"%PDF-1.7 vertrouwelijk")],
    )


def config(record, **extra) -> dict:
    return {
        "SMTP_HOST": record.host,
        "SMTP_PORT": record.port,
        "SMTP_USER": "portal",
        "SMTP_PASSWORD": "geheim-wachtwoord",
        "MAIL_OUTBOX_DIR": "/nonexistent",
        **extra,
    }


@pytest.fixture
def serve():
    servers = []

    def start(*args, **kwargs):
        record, server = smtp_server.start(*args, **kwargs)
        servers.append(server)
        return record

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_starttls_with_a_trusted_certificate_delivers(serve, tls_server_context, ca_file):
    record = serve(tls_server_context)
    where = mail.send(config(record, SMTP_CA_BUNDLE=ca_file), message())
    assert where == f"smtp:{record.host}"
    [got] = record.received
    assert got.tls and got.auth_tls  # password and PDF went over TLS
    assert b"Factuur 2026-0001" in got.data
    assert record.auth_in_clear == []


def test_an_untrusted_certificate_stops_the_mail(serve, tls_server_context):
    """The same server, but its CA is not trusted (system CAs only): nothing is sent."""
    record = serve(tls_server_context)
    with pytest.raises(mail.MailError, match="certificaat van mailserver"):
        mail.send(config(record), message())
    assert record.received == [] and record.auth_in_clear == []


def test_a_server_without_starttls_gets_nothing(serve):
    record = serve(None)  # plain SMTP, no STARTTLS offered
    with pytest.raises(mail.MailError, match="biedt geen versleuteling"):
        mail.send(config(record), message())
    assert record.received == [] and record.auth_in_clear == []


def test_smtps_from_the_first_byte(serve, tls_server_context, ca_file):
    record = serve(tls_server_context, implicit_tls=True)
    mail.send(config(record, SMTP_SECURITY="ssl", SMTP_CA_BUNDLE=ca_file), message())
    [got] = record.received
    assert got.tls and got.auth_tls


def test_smtps_with_an_untrusted_certificate_is_refused(serve, tls_server_context):
    record = serve(tls_server_context, implicit_tls=True)
    with pytest.raises(mail.MailError, match="certificaat van mailserver"):
        mail.send(config(record, SMTP_SECURITY="ssl"), message())
    assert record.received == []


def test_a_local_relay_in_clear_only_when_configured(serve):
    record = serve(None)
    mail.send(config(record, SMTP_SECURITY="none", SMTP_USER=None), message())
    [got] = record.received
    assert not got.tls


def test_an_unknown_security_setting_sends_nothing(serve):
    record = serve(None)
    with pytest.raises(mail.MailError, match="SMTP_SECURITY"):
        mail.send(config(record, SMTP_SECURITY="misschien"), message())
    assert record.received == []
