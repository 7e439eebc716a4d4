"""A small real SMTP server for tests: EHLO, STARTTLS or TLS from the start, AUTH, DATA.

It records every delivered message with whether the connection was encrypted at the time the
password and the message went over it.
"""

from __future__ import annotations

import socketserver
import ssl
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    data: bytes
    tls: bool
    auth_tls: bool | None  # None: no AUTH


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    auth_in_clear: list[bytes] = field(default_factory=list)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        sock = self.request
        tls = False
        try:
            if server.implicit_tls:
                sock = server.ssl_context.wrap_socket(sock, server_side=True)
                tls = True
            rfile = sock.makefile("rb")

            def send(line: str) -> None:
                sock.sendall(line.encode() + b"\r\n")

            send("220 test.local ESMTP")
            auth_tls = None
            while True:
                raw = rfile.readline()
                if not raw:
                    return
                line = raw.decode("latin-1").rstrip("\r\n")
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    lines = ["250-test.local"]
                    if server.offer_starttls and not tls:
                        lines.append("250-STARTTLS")
                    lines += ["250-AUTH PLAIN LOGIN", "250 8BITMIME"]
                    for item in lines:
                        send(item)
                elif verb == "STARTTLS" and server.offer_starttls and not tls:
                    send("220 Ready to start TLS")
                    sock = server.ssl_context.wrap_socket(sock, server_side=True)
                    rfile = sock.makefile("rb")
                    tls = True
                elif verb == "AUTH":
                    auth_tls = tls
                    if not tls:
                        server.record.auth_in_clear.append(raw)
                    send("235 Authentication successful")
                elif verb == "DATA":
                    send("354 End data with <CR><LF>.<CR><LF>")
                    chunks = []
                    while True:
                        chunk = rfile.readline()
                        if chunk in (b".\r\n", b".\n", b""):
                            break
                        chunks.append(chunk)
                    server.record.received.append(Received(b"".join(chunks), tls, auth_tls))
                    send("250 OK")
                elif verb == "RCPT" and any(a in line for a in server.reject_rcpt):
                    send("550 5.1.1 Mailbox unavailable")
                elif verb == "QUIT":
                    send("221 Bye")
                    return
                else:
                    send("250 OK")
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate, or hung up


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def start(
    ssl_context: ssl.SSLContext | None,
    *,
    offer_starttls: bool = True,
    implicit_tls: bool = False,
    reject_rcpt: tuple[str, ...] = (),
) -> tuple[SmtpServer, _Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.reject_rcpt = reject_rcpt  # recipients answered with 550 (a mailbox that does not exist)
    server.ssl_context = ssl_context
    server.offer_starttls = offer_starttls and ssl_context is not None
    server.implicit_tls = implicit_tls
    server.record = SmtpServer("127.0.0.1", server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.record, server
