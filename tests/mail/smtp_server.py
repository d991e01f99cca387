"""A real SMTP server for the mail tests: aiosmtpd in this process, on an ephemeral port.

``Inbox`` keeps every accepted message and can be told to answer a recipient with a
4xx a number of times, a 5xx always, or to kill a process once DATA has arrived (before
it answers), which leaves that process's send record "sending" on purpose.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "digest-bot", "s3cret-smtp-pass-9f2c"


@dataclass
class Received:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_to: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Inbox:
    """The server's behaviour and what it received."""

    received: list[Received] = field(default_factory=list)
    defer: dict[str, int] = field(default_factory=dict)  # recipient → 4xx answers left
    refuse: set[str] = field(default_factory=set)  # recipient → 550 always
    kill_on_data: int | None = None  # pid to SIGKILL when DATA arrives (once)
    logins: list[str] = field(default_factory=list)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_to]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if self.defer.get(address, 0) > 0:
            self.defer[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        if self.kill_on_data is not None:
            pid, self.kill_on_data = self.kill_on_data, None
            os.kill(pid, signal.SIGKILL)
        return "250 2.0.0 accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append(login)
        # handled=False: aiosmtpd answers 535 itself (True would leave the client waiting)
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: where it listens, its inbox and the CA file clients trust."""

    host: str
    port: int
    inbox: Inbox
    ca_file: Path | None
    security: str


@contextmanager
def smtp_server(tmp_path: Path, *, security: str = "none", auth: bool = False) -> Iterator[Server]:
    """Start a server: ``security`` none, starttls (required) or ssl (implicit TLS);
    ``auth`` requires AUTH with ``USER``/``PASSWORD`` (over TLS)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # its thread outlives CliRunner
    inbox = Inbox()
    port = free_port()
    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": port}
    ca_file = None
    if security != "none":
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(server_ctx)
        ca_file = tmp_path / "smtp-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
    if auth:
        kwargs.update(authenticator=inbox.authenticate, auth_required=True)
        # implicit TLS is TLS too, but aiosmtpd only counts STARTTLS as such
        kwargs["auth_require_tls"] = security == "starttls"
    if security == "starttls":
        kwargs.update(tls_context=server_ctx, require_starttls=True)
        controller: Controller = Controller(inbox, **kwargs)
    elif security == "ssl":
        controller = Controller(inbox, ssl_context=server_ctx, **kwargs)
    else:
        controller = Controller(inbox, **kwargs)
    controller.start()
    try:
        yield Server("127.0.0.1", port, inbox, ca_file, security)
    finally:
        controller.stop()
