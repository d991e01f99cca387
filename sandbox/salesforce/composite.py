"""The Salesforce Composite resource of the sandbox: many REST reads in one call.

``POST /services/data/vXX.X/composite`` [composite] takes::

    {"allOrNone": false,
     "compositeRequest": [{"method": "GET", "url": "/services/data/v59.0/query/?q=...",
                           "referenceId": "ref1"}, ...]}

and answers ``{"compositeResponse": [{"body", "httpHeaders", "httpStatusCode",
"referenceId"}, ...]}`` (200 even when subrequests fail), as Salesforce does
("Send Multiple Requests Using Composite"):

* the whole call counts as ONE request toward the daily budget and ``Sforce-Limit-Info``
  (the core dispatcher charges it like any other route); the counters still record each
  subrequest under its own endpoint label (``salesforce.query``...) and status;
* each subrequest runs through the same router and handlers as a direct call, with the
  fault rules of its endpoint (an error fault becomes that subrequest's error; a dropped
  connection drops the whole call);
* at most 25 subrequests, at most 5 of them queries (query, queryAll, query more): more is
  a 400 for the whole call (error code and wording are this sandbox's own (check));
* only GET subrequests of the sObject and query resources are served here (the sandbox is
  read-only); others answer 400 in their ``body``. ``allOrNone: true`` turns every other
  subrequest into 400 PROCESSING_HALTED once one fails. ``@{ref.field}`` references are
  not emulated.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.server import (
    ApiError,
    DropConnection,
    Handler,
    Headers,
    Request,
    Response,
    Router,
    error_response,
)
from sandbox.state import SandboxState

log = logging.getLogger(__name__)
MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
#: endpoints (labels of ``salesforce.py``) a composite subrequest may reach
ALLOWED = frozenset(
    {"query", "query.more", "describeGlobal", "sobject", "describe", "updated", "deleted", "record"}
)
QUERIES = frozenset({"query", "query.more"})
_REFERENCE = re.compile(r"^[A-Za-z0-9_]+$")
_HALTED = ApiError(
    400,
    "PROCESSING_HALTED",
    "The transaction was rolled back since another operation in the same transaction failed.",
)


_Routed = tuple[Request, str, Handler, "re.Match[str]"]


class CompositeApi:
    """The composite handler over a router (its subrequests' routes) and the state."""

    def __init__(self, router: Router, state: SandboxState) -> None:
        self.router = router
        self.state = state

    def composite(self, req: Request, m: re.Match[str]) -> Response:
        """``POST .../composite``."""
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
            raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        subs: list[Any] = body["compositeRequest"]
        if not subs:
            raise ApiError(400, "INVALID_INPUT", "compositeRequest must not be empty")
        if len(subs) > MAX_SUBREQUESTS:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite requests may contain at most {MAX_SUBREQUESTS} subrequests; "
                f"got {len(subs)}",
            )
        routed = [self._route(sub) for sub in subs]
        queries = sum(1 for r in routed if not isinstance(r, ApiError) and r[1] in QUERIES)
        if queries > MAX_QUERIES:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                f"Composite requests may contain at most {MAX_QUERIES} query operations; "
                f"got {queries}",
            )
        refs = [sub.get("referenceId") if isinstance(sub, dict) else None for sub in subs]
        for ref in refs:
            if not isinstance(ref, str) or not _REFERENCE.match(ref):
                raise ApiError(
                    400, "INVALID_INPUT", f"Invalid referenceId {ref!r}: use letters, digits, _"
                )
        if len(set(refs)) != len(refs):
            raise ApiError(400, "INVALID_INPUT", "Duplicate referenceId in compositeRequest")
        all_or_none = bool(body.get("allOrNone", False))
        results: list[dict[str, Any]] = []
        failed = False
        for ref, route in zip(refs, routed, strict=True):
            if failed and all_or_none:
                resp = error_response("salesforce", _HALTED)
            else:
                resp = self._serve(route)
            failed = failed or resp.status >= 300
            results.append(_result(resp, str(ref)))
        if failed and all_or_none:
            for entry in results:
                if entry["httpStatusCode"] < 300:
                    entry.update(
                        _result(error_response("salesforce", _HALTED), entry["referenceId"])
                    )
        return Response.json({"compositeResponse": results})

    def _route(self, sub: Any) -> _Routed | ApiError:
        """The request, endpoint label, handler and match of one subrequest, or its error."""
        if not isinstance(sub, dict) or not isinstance(sub.get("url"), str):
            return ApiError(400, "INVALID_INPUT", "a subrequest needs a method and a url")
        method = str(sub.get("method", "")).upper()
        parts = urlsplit(sub["url"])
        found = self.router.match(method, parts.path)
        if isinstance(found, int):
            return ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        route, match = found
        if route.api != "salesforce" or route.endpoint not in ALLOWED:
            return ApiError(
                400, "NOT_SUPPORTED", f"{method} {parts.path} is not supported in a composite"
            )
        raw_headers = sub.get("httpHeaders")
        headers = raw_headers if isinstance(raw_headers, dict) else {}
        request = Request(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=Headers({str(k): str(v) for k, v in headers.items()}),
            body=json.dumps(sub["body"]).encode() if "body" in sub else b"",
        )
        return request, route.endpoint, route.handler, match

    def _serve(self, route: _Routed | ApiError) -> Response:
        """Run one subrequest through its handler (faults of its endpoint applied)."""
        state = self.state
        if isinstance(route, ApiError):
            return error_response("salesforce", route)
        request, endpoint, handler, match = route
        state.counters.count_request("salesforce", endpoint)
        try:
            fault = state.faults.pick("salesforce", endpoint)
            if fault is not None:
                state.counters.count_fault("salesforce", fault.kind)
                fault.apply("salesforce", state)
            with state.lock:
                resp: Response = handler(request, match)
        except ApiError as err:
            resp = error_response("salesforce", err)
        except DropConnection:
            raise
        except Exception:
            log.exception("sandbox composite subrequest salesforce.%s failed", endpoint)
            resp = error_response(
                "salesforce", ApiError(500, "UNKNOWN_EXCEPTION", "Internal error")
            )
        state.counters.count_status("salesforce", resp.status)
        return resp


def _result(resp: Response, ref: str) -> dict[str, Any]:
    """One ``compositeResponse`` entry (no Content-Length/Type: Salesforce omits them)."""
    headers = {
        k: v for k, v in resp.headers.items() if k.lower() not in ("content-type", "content-length")
    }
    body: Any = json.loads(resp.body) if resp.body else None
    return {
        "body": body,
        "httpHeaders": headers,
        "httpStatusCode": resp.status,
        "referenceId": ref,
    }


def register(router: Router, state: SandboxState) -> CompositeApi:
    """Add ``POST /services/data/vXX.X/composite`` to ``router`` (call it after the other
    Salesforce routes: subrequests are matched against the router as it is then)."""
    api = CompositeApi(router, state)
    router.add(
        "POST",
        r"/services/data/v(?P<version>\d{2}\.\d)/composite/?",
        api.composite,
        api="salesforce",
        endpoint="composite",
    )
    return api
