"""A scan of everything the suite printed, logged and wrote for the secrets it handed out.

Every secret the tests give the product comes from a few places: the CRM sandbox's tokens
and login credentials (fixed defaults, and ``sandbox-sf-…`` / ``sandbox-hs-…`` after a
session expiry), and the SMTP test server's password. At the end of the session, each test's
captured stdout, stderr and log records, and every file under the session's temporary
folder (configs, stores, outboxes, review packs, logs, exports), are searched for them.
A hit fails the session, naming the test or file.

One kind of file holds a secret on purpose and is left out: a secret file a config points
to (``{ file = "..." }``: its whole content is the secret).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.salesforce.auth import SalesforceCredentials
from sandbox.state import SandboxState
from tests.mail.smtp_server import PASSWORD as SMTP_PASSWORD


def known_secrets() -> tuple[str, ...]:
    """The fixed secrets the suite hands out (rotated tokens are matched by pattern)."""
    creds = SalesforceCredentials()
    tokens = SandboxState.__dataclass_fields__["tokens"].default_factory()  # type: ignore[misc]
    return (
        *tokens.values(),
        creds.password,
        creds.security_token,
        creds.consumer_secret,
        SMTP_PASSWORD,
    )


ROTATED = re.compile(rb"sandbox-(?:sa|hu)-[0-9a-f]{12}")
"""A token handed out by ``Sandbox.expire_session``."""


@dataclass
class SecretScan:
    """Hits collected during the session: where, and the line holding the secret with the
    secret masked (never printed)."""

    secrets: tuple[bytes, ...] = field(
        default_factory=lambda: tuple(s.encode() for s in known_secrets())
    )
    hits: list[str] = field(default_factory=list)

    def _found(self, data: bytes) -> str | None:
        """Where the first secret in ``data`` is: its line, the secret masked (None: clean)."""
        spans = [(data.find(secret), len(secret)) for secret in self.secrets if secret in data]
        if match := ROTATED.search(data):
            spans.append((match.start(), match.end() - match.start()))
        if not spans:
            return None
        at, size = min(spans)
        start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at)
        line = data[start : end if end >= 0 else len(data)]
        masked = line.replace(data[at : at + size], b"***")
        for secret in self.secrets:
            masked = masked.replace(secret, b"***")
        return ROTATED.sub(b"***", masked).decode(errors="replace").strip()[:200]

    def _hit(self, line: str) -> None:
        if line not in self.hits:  # a test's sections repeat across its phases
            self.hits.append(line)

    def text(self, where: str, text: str) -> None:
        """Scan captured output or log text of a test."""
        if found := self._found(text.encode()):
            self._hit(f"{where}: holds a secret: {found}")

    def folder(self, root: Path) -> int:
        """Scan every file under ``root``; returns how many files were read."""
        read = 0
        for path in root.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            read += 1
            if data.strip() in self.secrets:
                continue  # a secret file a config points to
            if found := self._found(data):
                self._hit(f"{path}: holds a secret: {found}")
        return read
