"""Real servers for the digest tests: an in-process SMTP server (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import email
import email.policy
import json
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from helpers import free_port

USER = "digest-bot"


@dataclass
class MailSink:
    """Records every message it accepts; refuses recipients starting with ``bad``."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("bad"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    sink: MailSink
    port: int
    controller: Controller


def start_smtp(password: str | None = None, tls: ssl.SSLContext | None = None) -> SmtpServer:
    """aiosmtpd on a free port; with ``password``, AUTH is offered and checked (over plain or STARTTLS)."""
    sink = MailSink()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if password is not None:

        def check(
            server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == USER
                and data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=check, auth_require_tls=tls is not None, auth_required=True)
    if tls is not None:
        kwargs.update(tls_context=tls, require_starttls=True)
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer(sink, port, controller)


@dataclass
class WebhookReceiver:
    """Records JSON POSTs; answers ``fail_first`` of them with HTTP 500 first."""

    url: str
    server: ThreadingHTTPServer
    posts: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_webhook(fail_first: int = 0) -> WebhookReceiver:
    port = free_port()
    receiver: WebhookReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if receiver.fail_first > 0:
                receiver.fail_first -= 1
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"try later")
                return
            receiver.posts.append({"path": self.path, "json": json.loads(body)})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    receiver = WebhookReceiver(
        f"http://127.0.0.1:{port}/services/T0/B0/hook-secret-xyz", server, fail_first=fail_first
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def self_signed(tmp: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 made with the openssl command; (cert path, server context)."""
    import subprocess

    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return cert, ctx
