"""The Salesforce REST API of the sandbox: the routes simple-salesforce calls.

:func:`register` adds, on the core router (``server.py``; ``api="salesforce"``, endpoint
labels in brackets)::

    GET    /services/data/                                   [versions]      (no auth)
    GET    /services/data/vXX.X/                             [resources]
    GET    /services/data/vXX.X/query/?q=                    [query]
    GET    /services/data/vXX.X/queryAll/?q=                 [queryAll]
    GET    /services/data/vXX.X/query|queryAll/{cursor}-{n}  [query.more]
    GET    /services/data/vXX.X/sobjects/                    [describeGlobal]
    GET    /services/data/vXX.X/sobjects/{Object}/           [sobject]
    GET    /services/data/vXX.X/sobjects/{Object}/describe   [describe]
    GET    /services/data/vXX.X/sobjects/{Object}/updated/?start=&end=   [updated]
    GET    /services/data/vXX.X/sobjects/{Object}/deleted/?start=&end=   [deleted]
    GET    /services/data/vXX.X/sobjects/{Object}/{Id}       [record]
    GET    /services/data/vXX.X/limits/                      [limits]
    POST   /services/data/vXX.X/jobs/query                   [bulk2.create]
    GET    /services/data/vXX.X/jobs/query                   [bulk2.list]
    GET    /services/data/vXX.X/jobs/query/{id}              [bulk2.job]
    PATCH  /services/data/vXX.X/jobs/query/{id}              [bulk2.abort]
    DELETE /services/data/vXX.X/jobs/query/{id}              [bulk2.delete]
    GET    /services/data/vXX.X/jobs/query/{id}/results      [bulk2.results]
    POST   /services/oauth2/token                            [oauth.token]   (no auth)
    POST   /services/Soap/u/XX.X                             [soap.login]    (no auth)

Query pages hold up to 2,000 records (``Sforce-Query-Options: batchSize=200..2000`` lowers
it); the cursor behind ``nextRecordsUrl`` lives server-side, and, as in Salesforce, only the
``max_cursors`` most recently used stay open (an evicted one is 400 INVALID_QUERY_LOCATOR).
SOQL errors come back as 400 MALFORMED_QUERY / INVALID_FIELD / INVALID_TYPE with the vendor's
message layout. Bearer auth (401 INVALID_SESSION_ID), the daily budget (403
REQUEST_LIMIT_EXCEEDED) and ``Sforce-Limit-Info`` are applied by the core dispatcher.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.salesforce import composite
from sandbox.salesforce.auth import LoginHandlers, SalesforceCredentials
from sandbox.salesforce.bulk import BulkQueryJobs
from sandbox.salesforce.describe import (
    describe,
    object_summary,
    record_body,
)
from sandbox.salesforce.sobjects import ObjectDef, SObjectDatabase, id18
from sandbox.salesforce.soql import SoqlError
from sandbox.salesforce.soql_eval import format_datetime
from sandbox.salesforce.soql_exec import QueryResult, execute
from sandbox.server import ApiError, Request, Response, Router
from sandbox.state import SandboxState

__all__ = ["SalesforceCredentials", "SalesforceOptions", "register"]

V = r"/services/data/v(?P<version>\d{2}\.\d)"
MIN_VERSION, MAX_VERSION = 31.0, 64.0
MAX_PAGE = 2000
MIN_PAGE = 200
REPLICATION_DAYS = 30
MAX_REPLICATION_IDS = 600_000


@dataclass(frozen=True)
class SalesforceOptions:
    """Tunables of the emulated org."""

    page_size: int = MAX_PAGE
    max_cursors: int = 10
    bulk_in_progress_polls: int = 0
    bulk_daily_jobs: int = 10_000


class SalesforceApi:
    """Route handlers over one sandbox state (cursor and job stores included)."""

    def __init__(
        self, state: SandboxState, credentials: SalesforceCredentials, options: SalesforceOptions
    ) -> None:
        self.state = state
        self.credentials = credentials
        self.options = options
        self.cursors: OrderedDict[str, QueryResult] = OrderedDict()
        self._cursor_seq = 0
        self.bulk = BulkQueryJobs(
            lambda: self.state.salesforce,
            state.now,
            credentials.user_id,
            options.bulk_in_progress_polls,
        )
        self.login = LoginHandlers(credentials, lambda: self.state.tokens["salesforce"])

    @property
    def db(self) -> SObjectDatabase:
        """The org's data."""
        return self.state.salesforce

    # helpers

    @staticmethod
    def version(m: re.Match[str]) -> str:
        """The API version of the URL (404 outside the versions the org serves)."""
        version = m["version"]
        if not MIN_VERSION <= float(version) <= MAX_VERSION:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return version

    def sobject(self, name: str) -> ObjectDef:
        """The object called ``name`` (404 NOT_FOUND otherwise)."""
        obj = self.db.object(name)
        if obj is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return obj

    def page_size(self, req: Request) -> int:
        """Records per page: the option, or a smaller ``Sforce-Query-Options: batchSize``."""
        size = self.options.page_size
        opts = req.headers.get("Sforce-Query-Options", "")
        found = re.search(r"batchSize\s*=\s*(\d+)", opts)
        if found:
            size = min(size, max(MIN_PAGE, int(found.group(1))))
        return size

    def page(
        self, result: QueryResult, start: int, size: int, version: str, kind: str, cursor: str
    ) -> Response:
        """One page of a query starting at record ``start``."""
        total = result.total_size
        stop = start + size
        body: dict[str, Any] = {"totalSize": total, "done": stop >= total}
        if stop < total:
            if not cursor:
                cursor = self._open_cursor(result)
            body["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{cursor}-{stop}"
        body["records"] = result.records(start, stop)
        return Response.json(body)

    def _open_cursor(self, result: QueryResult) -> str:
        self._cursor_seq += 1
        cursor = id18("01g" + str(self._cursor_seq).rjust(12, "0"))
        self.cursors[cursor] = result
        while len(self.cursors) > self.options.max_cursors:
            self.cursors.popitem(last=False)
        return cursor

    # REST handlers

    def versions(self, req: Request, m: re.Match[str]) -> Response:
        """``GET /services/data/``."""
        return Response.json(
            [
                {"label": f"v{v}.0", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
                for v in range(int(MIN_VERSION), int(MAX_VERSION) + 1)
            ]
        )

    def resources(self, req: Request, m: re.Match[str]) -> Response:
        """``GET /services/data/vXX.X/``."""
        base = f"/services/data/v{self.version(m)}"
        names = ("sobjects", "query", "queryAll", "limits", "jobs")
        return Response.json({name: f"{base}/{name}" for name in names})

    def query(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../query/?q=`` and ``.../queryAll/?q=``."""
        version = self.version(m)
        kind = m["kind"]
        soql = req.param("q")
        if not soql:
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            result = execute(
                self.db,
                soql,
                include_deleted=kind == "queryAll",
                api_version=version,
                today=self.state.now().date(),
            )
        except SoqlError as err:
            raise ApiError(400, err.error_code, err.message) from None
        return self.page(result, 0, self.page_size(req), version, kind, "")

    def query_more(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../query/{cursor}-{offset}`` (``nextRecordsUrl``)."""
        version = self.version(m)
        cursor = m["cursor"]
        result = self.cursors.get(cursor)
        if result is None:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        self.cursors.move_to_end(cursor)
        start = int(m["offset"])
        return self.page(result, start, self.page_size(req), version, m["kind"], cursor)

    def describe_global(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../sobjects/``."""
        version = self.version(m)
        return Response.json(
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [object_summary(o, version) for o in self.db.objects.values()],
            }
        )

    def sobject_info(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../sobjects/{Object}/``."""
        version = self.version(m)
        obj = self.sobject(m["object"])
        return Response.json({"objectDescribe": object_summary(obj, version), "recentItems": []})

    def describe(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../sobjects/{Object}/describe``."""
        version = self.version(m)
        return Response.json(describe(self.sobject(m["object"]), self.db.objects, version))

    def record(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../sobjects/{Object}/{Id}``."""
        version = self.version(m)
        obj = self.sobject(m["object"])
        record_id = m["id"]
        if len(record_id) == 15:
            record_id = id18(record_id)
        row = self.db.get(obj.name, record_id)
        if row is None or row["IsDeleted"]:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return Response.json(record_body(obj, row, version))

    def _window(self, req: Request) -> tuple[datetime, datetime, datetime]:
        """(start, end, latestDateCovered) of a replication call, seconds dropped."""
        bounds: list[datetime] = []
        for name in ("start", "end"):
            raw = (req.param(name) or "").replace(" ", "+")
            try:
                value = datetime.fromisoformat(raw)
            except ValueError:
                raise ApiError(
                    400, "INVALID_REPLICATION_DATE", f"Invalid {name} date/time: '{raw}'"
                ) from None
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            bounds.append(value.astimezone(UTC).replace(second=0, microsecond=0))
        start, end = bounds
        now = self.state.now().astimezone(UTC)
        if end < start:
            raise ApiError(400, "INVALID_REPLICATION_DATE", "EndDate before startDate")
        if start < now - timedelta(days=REPLICATION_DAYS):
            raise ApiError(
                400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago"
            )
        covered = min(end, now.replace(second=0, microsecond=0))
        return start, end, covered

    def updated(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../sobjects/{Object}/updated/?start=&end=``: Ids by SystemModstamp."""
        self.version(m)
        obj = self.sobject(m["object"])
        start, _end, covered = self._window(req)
        ids = [
            row["Id"]
            for row in self.db.rows[obj.name].values()
            if not row["IsDeleted"] and start <= row["SystemModstamp"] < covered
        ]
        if len(ids) > MAX_REPLICATION_IDS:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", "too many ids; narrow the date range")
        return Response.json({"ids": ids, "latestDateCovered": format_datetime(covered)})

    def deleted(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../sobjects/{Object}/deleted/?start=&end=``: the deleted-records log."""
        self.version(m)
        obj = self.sobject(m["object"])
        start, _end, covered = self._window(req)
        log = self.db.deleted_log[obj.name]
        records = [
            {"deletedDate": format_datetime(d.deleted_date), "id": d.id}
            for d in log
            if start <= d.deleted_date < covered
        ]
        earliest = min((d.deleted_date for d in log), default=covered)
        return Response.json(
            {
                "deletedRecords": records,
                "earliestDateAvailable": format_datetime(earliest.replace(second=0)),
                "latestDateCovered": format_datetime(covered),
            }
        )

    def limits(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../limits/``."""
        self.version(m)
        budget = self.state.budgets["salesforce"]
        jobs_max = self.options.bulk_daily_jobs
        return Response.json(
            {
                "DailyApiRequests": {"Max": budget.total, "Remaining": budget.remaining},
                "DailyBulkV2QueryJobs": {
                    "Max": jobs_max,
                    "Remaining": max(jobs_max - self.bulk.created_today, 0),
                },
                "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
                "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
                "DataStorageMB": {"Max": 5, "Remaining": 5},
                "FileStorageMB": {"Max": 20, "Remaining": 20},
            }
        )

    def bulk_create(self, req: Request, m: re.Match[str]) -> Response:
        """``POST .../jobs/query`` (403 once the daily job limit is spent)."""
        self.version(m)
        if self.bulk.created_today >= self.options.bulk_daily_jobs:
            raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "Bulk query job limit exceeded.")
        return self.bulk.create(req, m)


def register(
    router: Router,
    state: SandboxState,
    *,
    credentials: SalesforceCredentials | None = None,
    options: SalesforceOptions | None = None,
) -> SalesforceApi:
    """Add the Salesforce routes to ``router``; returns the handler object (cursor and job
    stores) for tests that want to look inside. ``credentials`` default to the state's
    ``salesforce_credentials`` attribute when it has one, else the demo values."""
    creds = credentials or getattr(state, "salesforce_credentials", None)
    api = SalesforceApi(state, creds or SalesforceCredentials(), options or SalesforceOptions())
    kind = r"(?P<kind>query|queryAll)"
    obj = r"(?P<object>[A-Za-z][A-Za-z0-9_]*)"
    job = r"(?P<job>[A-Za-z0-9]{15,18})"
    cursor = r"/(?P<cursor>01g[A-Za-z0-9]+)-(?P<offset>\d+)"
    record_id = r"/(?P<id>[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)/?"
    soap = r"/services/Soap/u/(?P<version>\d{2}\.\d)(?:/.*)?"
    routes: list[tuple[str, str, Any, str, bool]] = [
        ("GET", r"/services/data/?", api.versions, "versions", False),
        ("GET", V + r"/?", api.resources, "resources", True),
        ("GET", V + "/" + kind + r"/?", api.query, "query", True),
        ("GET", V + "/" + kind + cursor, api.query_more, "query.more", True),
        ("GET", V + r"/sobjects/?", api.describe_global, "describeGlobal", True),
        ("GET", V + "/sobjects/" + obj + r"/describe/?", api.describe, "describe", True),
        ("GET", V + "/sobjects/" + obj + r"/updated/?", api.updated, "updated", True),
        ("GET", V + "/sobjects/" + obj + r"/deleted/?", api.deleted, "deleted", True),
        ("GET", V + "/sobjects/" + obj + r"/?", api.sobject_info, "sobject", True),
        ("GET", V + "/sobjects/" + obj + record_id, api.record, "record", True),
        ("GET", V + r"/limits/?", api.limits, "limits", True),
        ("POST", V + r"/jobs/query/?", api.bulk_create, "bulk2.create", True),
        ("GET", V + r"/jobs/query/?", api.bulk.list_jobs, "bulk2.list", True),
        ("GET", V + "/jobs/query/" + job + r"/?", api.bulk.get, "bulk2.job", True),
        ("PATCH", V + "/jobs/query/" + job + r"/?", api.bulk.patch, "bulk2.abort", True),
        ("DELETE", V + "/jobs/query/" + job + r"/?", api.bulk.delete, "bulk2.delete", True),
        ("GET", V + "/jobs/query/" + job + r"/results/?", api.bulk.results, "bulk2.results", True),
        ("POST", r"/services/oauth2/token/?", api.login.token, "oauth.token", False),
        ("POST", soap, api.login.soap_login, "soap.login", False),
    ]
    for method, pattern, handler, endpoint, auth in routes:
        router.add(method, pattern, handler, api="salesforce", endpoint=endpoint, auth=auth)
    composite.register(router, state)  # POST .../composite [composite]
    return api
