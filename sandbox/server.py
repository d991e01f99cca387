"""The sandbox's HTTP core: requests, responses, the router and the loopback server.

Contract for the CRM modules (``salesforce.py``, ``hubspot.py``)
-----------------------------------------------------------------
Each CRM module exposes ``def register(router: Router, state: SandboxState) -> None`` and
adds its routes there::

    def register(router: Router, state: SandboxState) -> None:
        def query(req: Request, m: re.Match[str]) -> Response:
            soql = req.param("q")
            ...
            return Response.json({"totalSize": n, "done": True, "records": rows})

        router.add("GET", r"/services/data/v[\\d.]+/query/?", query,
                   api="salesforce", endpoint="query")

* ``pattern`` is a regex matched with ``re.fullmatch`` against the path (no query string);
  named groups arrive in the ``re.Match`` passed to the handler.
* ``api`` is ``"salesforce"`` or ``"hubspot"``; ``endpoint`` is a short stable label
  (``"query"``, ``"describe"``, ``"deals.search"``...). Counters and fault rules key on
  ``(api, endpoint)`` (see ``faults.py``), so keep labels stable once chosen.
* Handlers signal vendor errors by raising :class:`ApiError` (status, code, message); the
  server renders it in the api's own error shape (Salesforce ``[{"message","errorCode"}]``,
  HubSpot ``{"status":"error","category",...}``), so the SDKs raise their own exceptions.
  Any other exception becomes a logged 500.
* Handlers run while holding ``state.lock`` (an ``RLock``); control-handle mutations take
  the same lock, so a handler always sees a consistent data set. Do not sleep in handlers.

Generic work done around every handler (``Dispatcher``), in order: route lookup (404/405),
counting ``(api, endpoint)``, bearer-token check (401 in the api's shape: Salesforce
``INVALID_SESSION_ID``, HubSpot ``EXPIRED_AUTHENTICATION``; ``auth=False`` routes skip it),
daily budget (Salesforce 403 ``REQUEST_LIMIT_EXCEEDED`` / HubSpot 429 ``policyName DAILY``),
fault rules (errors, dropped connections, delays, data changes), the handler, then the
api's limit headers (``Sforce-Limit-Info`` / ``X-HubSpot-RateLimit-*``).

Where the data lives: ``state.salesforce`` is the org's ``SObjectDatabase`` (``sobjects.py``),
``state.hubspot`` the portal's ``HubSpotData`` (``hsdata.py``); ``state.now()`` is the
sandbox clock (aware UTC) to stamp modifications with. See ``state.py``.

The server itself is a threading ``http.server`` speaking HTTP/1.1 keep-alive; each
response goes out in one ``sendall`` with ``TCP_NODELAY`` set (separate header/body writes
stall ~40 ms per response on loopback through Nagle + delayed ACK).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from sandbox.state import SandboxState

log = logging.getLogger(__name__)

APIS = ("salesforce", "hubspot")


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): v for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items


@dataclass
class Request:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def json(self) -> Any:
        """The body decoded as JSON; an empty body is ``None``. Bad JSON is a 400."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, "JSON_PARSER_ERROR", f"Invalid JSON body: {exc}") from exc

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        """Every value of a repeated query parameter (``a=1&a=2``, also ``a=1,2``)."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v for v in value.split(",") if v)
        return out


@dataclass
class Response:
    """An HTTP response; ``body`` is already encoded."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """A JSON response (UTF-8, compact); strings survive exactly, hostile or not."""
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        hdrs = {"Content-Type": "application/json;charset=UTF-8"}
        hdrs.update(headers or {})
        return cls(status=status, body=body, headers=hdrs)

    @classmethod
    def text(
        cls, text: str, status: int = 200, content_type: str = "text/csv; charset=UTF-8"
    ) -> Response:
        """A text response (CSV pages of Salesforce Bulk 2.0, for instance)."""
        return cls(status=status, body=text.encode("utf-8"), headers={"Content-Type": content_type})


class ApiError(Exception):
    """A vendor error raised by a handler; rendered in the api's own error shape.

    ``code`` is the Salesforce ``errorCode`` or the HubSpot ``category``; ``extra`` is
    merged into the HubSpot body (``policyName``, ``errorType``...); ``headers`` are added.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}


def error_response(api: str, err: ApiError) -> Response:
    """Render ``err`` the way ``api`` does on the wire."""
    if api == "salesforce":
        body: Any = [{"message": err.message, "errorCode": err.code}]
    else:
        body = {
            "status": "error",
            "message": err.message,
            "correlationId": "00000000-0000-4000-8000-000000000000",
            "category": err.code,
        }
        body.update(err.extra)
    return Response.json(body, status=err.status, headers=err.headers)


Handler = Callable[[Request, "re.Match[str]"], Response]


@dataclass(frozen=True)
class Route:
    """One registered route."""

    method: str
    regex: re.Pattern[str]
    handler: Handler
    api: str
    endpoint: str
    auth: bool


class Router:
    """Maps (method, path) to handlers; routes are tried in registration order."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        api: str,
        endpoint: str,
        auth: bool = True,
    ) -> None:
        """Register ``handler`` for ``method`` and paths fully matching regex ``pattern``."""
        if api not in APIS:
            raise ValueError(f"unknown api {api!r}")
        self.routes.append(Route(method.upper(), re.compile(pattern), handler, api, endpoint, auth))

    def match(self, method: str, path: str) -> tuple[Route, re.Match[str]] | int:
        """The route and match for a request, or 404 / 405 when there is none."""
        path_matched = False
        for route in self.routes:
            m = route.regex.fullmatch(path)
            if m is None:
                continue
            if route.method == method:
                return route, m
            path_matched = True
        return 405 if path_matched else 404


class Counters:
    """Thread-safe request and fault counters, keyed ``"api.endpoint"`` / ``"api.kind"``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.faults: dict[str, int] = {}
        self.statuses: dict[str, int] = {}

    def count_request(self, api: str, endpoint: str) -> None:
        """Count one request to ``api.endpoint``."""
        key = f"{api}.{endpoint}"
        with self._lock:
            self.requests[key] = self.requests.get(key, 0) + 1

    def count_fault(self, api: str, kind: str) -> None:
        """Count one fault of ``kind`` served on ``api``."""
        key = f"{api}.{kind}"
        with self._lock:
            self.faults[key] = self.faults.get(key, 0) + 1

    def count_status(self, api: str, status: int) -> None:
        """Count one response status on ``api``."""
        key = f"{api}.{status}"
        with self._lock:
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def total_requests(self, api: str | None = None) -> int:
        """Requests counted, for one api or all."""
        with self._lock:
            return sum(
                n for k, n in self.requests.items() if api is None or k.startswith(api + ".")
            )

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A copy of every counter."""
        with self._lock:
            return {
                "requests": dict(self.requests),
                "faults": dict(self.faults),
                "statuses": dict(self.statuses),
            }

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.requests.clear()
            self.faults.clear()
            self.statuses.clear()


class DropConnection(Exception):
    """Raised by the dispatcher to close the connection without answering."""


class Dispatcher:
    """Runs one request through routing, auth, budget, faults and the handler."""

    def __init__(self, router: Router, state: SandboxState) -> None:
        self.router = router
        self.state = state

    def dispatch(self, req: Request) -> Response:
        """Answer ``req`` (raises :class:`DropConnection` for a dropped-connection fault)."""
        found = self.router.match(req.method, req.path)
        if isinstance(found, int):
            api = "salesforce" if req.path.startswith("/services") else "hubspot"
            msg = "Not found" if found == 404 else f"Method {req.method} not allowed"
            code = "NOT_FOUND" if found == 404 else "METHOD_NOT_ALLOWED"
            return error_response(api, ApiError(found, code, f"{msg}: {req.path}"))
        route, match = found
        api = route.api
        state = self.state
        state.counters.count_request(api, route.endpoint)
        try:
            if route.auth:
                state.check_auth(api, req)
            state.consume_budget(api)
            fault = state.faults.pick(api, route.endpoint)
            if fault is not None:
                state.counters.count_fault(api, fault.kind)
                fault.apply(api, state)  # raises ApiError / DropConnection, or sleeps/mutates
            with state.lock:
                resp = route.handler(req, match)
        except ApiError as err:
            resp = error_response(api, err)
        except DropConnection:
            raise
        except Exception:
            log.exception("sandbox handler %s.%s failed", api, route.endpoint)
            resp = error_response(api, ApiError(500, "UNKNOWN_EXCEPTION", "Internal error"))
        resp.headers.update(state.limit_headers(api))
        state.counters.count_status(api, resp.status)
        return resp


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    207: "Multi-Status",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    414: "URI Too Long",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        req = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=Headers(dict(self.headers.items())),
            body=body,
        )
        try:
            resp = self.server.dispatcher.dispatch(req)
        except DropConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        head = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Status')}"]
        head.append(f"Content-Length: {len(resp.body)}")
        # the sandbox's clock (tests move it), as a CRM's Date header follows its own
        head.append(
            "Date: " + self.date_time_string(self.server.dispatcher.state.now().timestamp())
        )
        for name, value in resp.headers.items():
            head.append(f"{name}: {value}")
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + resp.body
        self.connection.sendall(data)

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
    do_PUT = _serve
    do_DELETE = _serve


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP/1.1 server bound to loopback, dispatching to a :class:`Dispatcher`."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, port: int, dispatcher: Dispatcher, host: str = "127.0.0.1") -> None:
        self.dispatcher = dispatcher
        super().__init__((host, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log instead of printing a traceback; clients hanging up are routine here."""
        log.debug("sandbox connection from %s failed", client_address, exc_info=True)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self.server_address[1])

    def start_background(self) -> threading.Thread:
        """Serve in a daemon thread; stop with ``shutdown()`` then ``server_close()``."""
        thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="crm-sandbox",
            daemon=True,
        )
        thread.start()
        return thread
