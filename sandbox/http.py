"""A ``requests.Session`` that sends the SDKs' https:// URLs to the plain-HTTP loopback sandbox.

simple-salesforce builds every URL as ``https://{instance}/...`` and its login flows post to
``https://{domain}.salesforce.com/...``. :class:`LoopbackSession` rewrites
``https://127.0.0.1:PORT`` (and ``https://localhost:PORT``) to ``http://``, and, when given
``login_base``, also the ``https://<anything>.salesforce.com`` login hosts, so the real SDK
runs unchanged against the sandbox::

    session = LoopbackSession(login_base=f"http://127.0.0.1:{port}")
    sf = Salesforce(instance_url=f"http://127.0.0.1:{port}", session_id=token, session=session)
"""

from __future__ import annotations

import re
from typing import Any

import requests

_LOOPBACK = re.compile(r"^https://(127\.0\.0\.1|localhost)(:\d+)?(?=/|$)")
_LOGIN_HOST = re.compile(r"^https://[A-Za-z0-9.-]+\.salesforce\.com(?=/|$)")


class LoopbackSession(requests.Session):
    """Rewrites loopback https:// URLs (and optionally Salesforce login hosts) to http://."""

    def __init__(self, login_base: str | None = None) -> None:
        super().__init__()
        self.login_base = login_base.rstrip("/") if login_base else None

    def rewrite(self, url: str) -> str:
        """The URL actually requested for ``url``."""
        url = _LOOPBACK.sub(r"http://\1\2", url)
        if self.login_base is not None:
            url = _LOGIN_HOST.sub(self.login_base, url)
        return url

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send the request to the rewritten URL."""
        if isinstance(url, bytes):
            url = url.decode()
        return super().request(method, self.rewrite(url), *args, **kwargs)
