"""The HTTP session under the Salesforce SDK: counts requests, keeps the last response,
applies a timeout and, for an ``http://`` instance URL (the sandbox), speaks plain HTTP."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.salesforce.settings import SalesforceSourceSettings

RETRYABLE_CONNECTION = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
"""Connection failures worth a retry (and named in the final error)."""


class CountingSession(requests.Session):
    """A session that counts requests, remembers the last response and may rewrite URLs.

    Safe to share between the sync's thread and a Bulk feed thread: the count is locked
    and the last response is kept per thread.

    ``plain_http_base`` (``http://host:port``) sends the SDK's ``https://host:port`` URLs,
    and its login hosts ``https://*.salesforce.com``, to that base over plain HTTP.
    """

    def __init__(self, *, timeout: float = 120.0, plain_http_base: str | None = None) -> None:
        super().__init__()
        self.timeout = timeout
        self.calls = 0
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self._rewrites: list[tuple[re.Pattern[str], str]] = []
        if plain_http_base is not None:
            netloc = urlsplit(plain_http_base).netloc
            self._rewrites = [
                (re.compile(r"^https://" + re.escape(netloc) + r"(?=/|$)"), plain_http_base),
                (re.compile(r"^https://[A-Za-z0-9.-]+\.salesforce\.com(?=/|$)"), plain_http_base),
            ]

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send one request (rewritten, with the default timeout) and count it."""
        if isinstance(url, bytes):
            url = url.decode()
        for pattern, base in self._rewrites:
            url = pattern.sub(base, url)
        kwargs.setdefault("timeout", self.timeout)
        with self._count_lock:
            self.calls += 1
        self._local.response = None
        response = super().request(method, url, *args, **kwargs)
        self._local.response = response
        return response

    @property
    def last_response(self) -> requests.Response | None:
        """The last response this thread received (a Bulk feed thread has its own)."""
        response: requests.Response | None = getattr(self._local, "response", None)
        return response


def default_session(settings: SalesforceSourceSettings) -> CountingSession:
    """The counting session for ``settings`` (timeout, CA bundle, plain HTTP for http://)."""
    url = settings.instance_url
    plain = url if url is not None and url.startswith("http://") else None
    session = CountingSession(timeout=settings.timeout_seconds, plain_http_base=plain)
    if settings.ca_bundle is not None:
        session.verify = str(settings.ca_bundle)
    return session


def server_time(session: requests.Session) -> datetime | None:
    """The server's clock from the last response's ``Date`` header, if any."""
    response = getattr(session, "last_response", None)
    raw = response.headers.get("Date") if response is not None else None
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
