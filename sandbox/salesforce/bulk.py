"""Bulk API 2.0 query jobs, as simple-salesforce's ``bulk2`` module drives them.

``POST /services/data/vXX.X/jobs/query`` (``operation`` query|queryAll, ``query``,
``columnDelimiter``, ``lineEnding``) runs the SOQL at once over a snapshot of the matching
rows and answers ``state: UploadComplete``; ``GET .../jobs/query/{id}`` reports
``InProgress`` for ``in_progress_polls`` polls, then ``JobComplete``;
``GET .../jobs/query/{id}/results?maxRecords=&locator=`` returns CSV (every value quoted,
header row first) with ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (``null`` on the
last page; otherwise base64 of the next offset, as Salesforce's look). ``PATCH`` with
``{"state": "Aborted"}`` aborts, ``DELETE`` removes a job, ``GET .../jobs/query`` lists them.

As in Salesforce, Bulk queries reject COUNT(), OFFSET and parent-to-child subqueries.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.salesforce.sobjects import SObjectDatabase, id18
from sandbox.salesforce.soql import SoqlError, parse
from sandbox.salesforce.soql_eval import format_datetime
from sandbox.salesforce.soql_exec import QueryResult, execute
from sandbox.server import ApiError, Request, Response

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^"}
DELIMITERS["BACKQUOTE"] = "`"
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}


@dataclass
class BulkJob:
    """One Bulk 2.0 query job."""

    id: str
    operation: str
    object_name: str
    query: str
    result: QueryResult
    created: datetime
    api_version: str
    column_delimiter: str
    line_ending: str
    created_by: str
    polls_left: int
    state: str = "UploadComplete"

    def info(self) -> dict[str, Any]:
        """The job-info body."""
        stamp = format_datetime(self.created)
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object_name,
            "createdById": self.created_by,
            "createdDate": stamp,
            "systemModstamp": stamp,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }
        if self.state == "JobComplete":
            body.update(
                numberRecordsProcessed=self.result.total_size,
                retries=0,
                totalProcessingTime=len(self.result.rows) // 1000 + 1,
            )
        return body


def _unsupported(message: str) -> ApiError:
    return ApiError(400, "API_ERROR", message)


def encode_locator(offset: int) -> str:
    """Salesforce-looking locator for a result offset."""
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    """The offset of a locator (400 INVALIDLOCATOR when it is not one of ours)."""
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
        return int(text)
    except (ValueError, binascii.Error):
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None


class BulkQueryJobs:
    """Handlers and job store of Bulk 2.0 query jobs."""

    def __init__(
        self,
        db: Callable[[], SObjectDatabase],
        now: Callable[[], datetime],
        user_id: str,
        in_progress_polls: int = 0,
    ) -> None:
        self._db = db
        self._now = now
        self.user_id = user_id
        self.in_progress_polls = in_progress_polls
        self.jobs: dict[str, BulkJob] = {}
        self.created_today = 0
        self._ids = itertools.count(1)

    def _job(self, job_id: str) -> BulkJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def create(self, req: Request, m: re.Match[str]) -> Response:
        """``POST .../jobs/query``."""
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Request body must be a JSON object")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise ApiError(400, "INVALIDJOB", "A query is required for a query job")
        delimiter = str(body.get("columnDelimiter", "COMMA"))
        line_ending = str(body.get("lineEnding", "LF"))
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            raise ApiError(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        try:
            parsed = parse(soql)
            if parsed.offset is not None:
                raise _unsupported("OFFSET clause is not supported by Bulk API 2.0 queries")
            result = execute(
                self._db(),
                soql,
                include_deleted=operation == "queryAll",
                api_version=m["version"],
                today=self._now().date(),
            )
        except SoqlError as err:
            raise ApiError(400, err.error_code, err.message) from None
        if result.csv_columns is None:
            raise _unsupported(
                "Aggregate functions and parent-to-child relationship queries are not "
                "supported by Bulk API 2.0 queries"
            )
        job_id = id18("7500" + str(next(self._ids)).rjust(11, "0"))
        job = BulkJob(
            id=job_id,
            operation=operation,
            object_name=result.object_name,
            query=soql,
            result=result,
            created=self._now(),
            api_version=m["version"],
            column_delimiter=delimiter,
            line_ending=line_ending,
            created_by=self.user_id,
            polls_left=self.in_progress_polls,
        )
        self.jobs[job_id] = job
        self.created_today += 1
        return Response.json(job.info())

    def get(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../jobs/query/{id}``: advances UploadComplete → InProgress → JobComplete."""
        job = self._job(m["job"])
        if job.state in ("UploadComplete", "InProgress"):
            if job.polls_left > 0:
                job.polls_left -= 1
                job.state = "InProgress"
            else:
                job.state = "JobComplete"
        return Response.json(job.info())

    def list_jobs(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../jobs/query``."""
        records = [job.info() for job in self.jobs.values()]
        return Response.json({"done": True, "records": records, "nextRecordsUrl": None})

    def patch(self, req: Request, m: re.Match[str]) -> Response:
        """``PATCH .../jobs/query/{id}`` with ``{"state": "Aborted"}``."""
        job = self._job(m["job"])
        body = req.json()
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            raise ApiError(400, "INVALIDJOB", "Only the Aborted state can be set on query jobs")
        if job.state not in ("UploadComplete", "InProgress"):  # as Salesforce documents
            raise ApiError(
                400, "INVALIDJOB", f"Job is {job.state}: only a job in progress can be aborted"
            )
        job.state = "Aborted"
        return Response.json(job.info())

    def delete(self, req: Request, m: re.Match[str]) -> Response:
        """``DELETE .../jobs/query/{id}``."""
        self._job(m["job"])
        del self.jobs[m["job"]]
        return Response(status=204)

    def results(self, req: Request, m: re.Match[str]) -> Response:
        """``GET .../jobs/query/{id}/results``: one CSV page."""
        job = self._job(m["job"])
        if job.state != "JobComplete":
            raise ApiError(400, "INVALIDJOB", f"Job is not complete: state {job.state}")
        raw_max = req.param("maxRecords")
        try:
            max_records = int(raw_max) if raw_max else None
        except ValueError:
            raise ApiError(400, "INVALIDREQUEST", f"Invalid maxRecords: {raw_max}") from None
        if max_records is not None and max_records <= 0:
            raise ApiError(400, "INVALIDREQUEST", f"Invalid maxRecords: {raw_max}")
        locator = req.param("locator")
        start = decode_locator(locator) if locator and locator != "null" else 0
        total = job.result.total_size
        stop = total if max_records is None else min(start + max_records, total)
        buf = io.StringIO()
        writer = csv.writer(
            buf,
            delimiter=DELIMITERS[job.column_delimiter],
            lineterminator=LINE_ENDINGS[job.line_ending],
            quoting=csv.QUOTE_ALL,
        )
        writer.writerow(job.result.csv_header())
        writer.writerows(job.result.csv_rows(start, stop))
        resp = Response.text(buf.getvalue(), content_type="text/csv; charset=UTF-8")
        resp.headers["Sforce-NumberOfRecords"] = str(max(stop - start, 0))
        resp.headers["Sforce-Locator"] = encode_locator(stop) if stop < total else "null"
        return resp
