"""The Salesforce client: the only module importing simple-salesforce.

``SalesforceClient`` logs in (token, password or JWT) over the counting session of
``session.py``, answers calls from a composite prefetch when it has one (``composite.py``)
and wraps the few calls the connector makes with bounded retries (``connectors.retry``),
turning SDK errors into one-line errors that never carry a secret.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import exception_handler

from connectors.retry import (
    UNREACHABLE_ATTEMPTS,
    RetryVerdict,
    WaitBudget,
    call_with_retry,
    cannot_reach,
    unreachable,
)
from connectors.salesforce.budget import (
    CallBudget,
    ReplicationWindowError,
    ResourceNotFound,
    error_code,
    first_line,
)
from connectors.salesforce.composite import (
    Prefetched,
    Read,
    composite_answers,
    composite_body,
    composite_groups,
    deleted_window_params,
)
from connectors.salesforce.session import (
    RETRYABLE_CONNECTION,
    CountingSession,
    default_session,
    header_api_usage,
    retry_after,
    server_time,
)
from connectors.salesforce.settings import SalesforceSourceSettings
from tracker.errors import BudgetExhausted, ConfigError, SourceError

log = logging.getLogger(__name__)
T = TypeVar("T")
REAUTH = 1  # a 401 logs in again once (password/JWT modes); the SDK's default is 3
ABORT_TIMEOUT = 5.0  # seconds for a best-effort Bulk job abort on the way out
_SUB_ERRORS: dict[int, type[SalesforceError]] = {
    300: SalesforceMoreThanOneRecord,
    400: SalesforceMalformedRequest,
    401: SalesforceExpiredSession,
    403: SalesforceRefusedRequest,
    404: SalesforceResourceNotFound,
}


class SalesforceClient:
    """The calls the connector makes, retried and with domain errors."""

    def __init__(
        self,
        name: str,
        settings: SalesforceSourceSettings,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.session = session if session is not None else default_session(settings)
        self.budget = CallBudget(source=name)
        self.waits = WaitBudget(settings.retry.max_wait_seconds)
        self._sf: Salesforce | None = None
        self._local_calls = 0
        self._local_lock = threading.Lock()
        self._login_lock = threading.RLock()
        self._prefetched = Prefetched()
        self.composite_supported = True

    # -- connection

    @property
    def sf(self) -> Salesforce:
        """The SDK client, logging in on first use (once, whichever thread asks first)."""
        with self._login_lock:
            return self._logged_in()

    def _logged_in(self) -> Salesforce:
        if self._sf is None:
            self._sf = self._guard(lambda: self._retried(self._login, "login"), "login")
        return self._sf

    def _log_in_again(self, stale: Salesforce) -> Salesforce:
        """A fresh SDK client, unless another thread already replaced ``stale``."""
        with self._login_lock:
            if self._sf is stale:
                self._sf = None
            return self._logged_in()

    def _login(self) -> Salesforce:
        s = self.settings
        # plain dicts: the SDK's default OrderedDict hook costs a third of the decode time
        common: dict[str, Any] = {
            "version": s.api_version,
            "session": self.session,
            "object_pairs_hook": dict,
        }
        mode = s.auth_mode
        if mode == "token":
            assert s.access_token is not None and s.instance_url is not None
            return Salesforce(
                instance_url=s.instance_url, session_id=s.access_token.reveal(), **common
            )
        if mode == "password":
            assert s.password is not None and s.security_token is not None
            return Salesforce(
                username=s.username,
                password=s.password.reveal(),
                security_token=s.security_token.reveal(),
                domain=s.domain,
                **common,
            )
        assert s.private_key_file is not None
        try:
            key = s.private_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"sources.{self.name}.private_key_file: cannot read {s.private_key_file}: "
                f"{exc.strerror}"
            ) from None
        return Salesforce(
            username=s.username,
            consumer_key=s.consumer_key,
            privatekey=key,
            domain=s.domain,
            **common,
        )

    @property
    def calls(self) -> int:
        """HTTP requests made so far (login included)."""
        if isinstance(self.session, CountingSession):
            return self.session.calls
        return self._local_calls

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, total) from the last ``Sforce-Limit-Info`` header seen.

        Read from the response itself: the SDK keeps it per ``SFType`` object only.
        """
        found = header_api_usage(self.session)
        if found is not None:
            return found
        usage = self._sf.api_usage.get("api-usage") if self._sf is not None else None
        return None if usage is None else (usage.used, usage.total)

    # -- calls

    def query(self, soql: str, *, include_deleted: bool = False) -> dict[str, Any]:
        """One page of a SOQL query (``queryAll`` with ``include_deleted``)."""
        log.debug(
            "salesforce %s: %s %s", self.name, "queryAll" if include_deleted else "query", soql
        )
        done = self._answered(("query", include_deleted, soql), "query")
        if done is not None:
            return done
        return self._call(
            lambda: self.sf.query(soql, include_deleted=include_deleted, max_retries=REAUTH),
            "query",
        )

    def query_more(self, next_url: str) -> dict[str, Any]:
        """The page behind a ``nextRecordsUrl``."""
        return self._call(
            lambda: self.sf.query_more(next_url, identifier_is_url=True, max_retries=REAUTH),
            "query_more",
        )

    def describe(self, sobject: str) -> dict[str, Any]:
        """``sobjects/{sobject}/describe``."""
        done = self._answered(("describe", sobject), f"describe {sobject}")
        if done is not None:
            return done
        return self._rest(f"sobjects/{sobject}/describe", f"describe {sobject}")

    def sobject_exists(self, sobject: str) -> bool:
        """Whether this org has ``sobject`` (``sobjects/{sobject}/``: a 404 says no)."""
        what = f"sobject {sobject}"
        try:
            if self._answered(("sobject", sobject), what) is None:
                self._rest(f"sobjects/{sobject}/", what)
        except ResourceNotFound:
            return False
        return True

    def limits(self) -> dict[str, Any]:
        """``limits/``."""
        return self._rest("limits/", "limits")

    def deleted(
        self, sobject: str, start: datetime, end: datetime, *, reuse_until: datetime | None = None
    ) -> dict[str, Any]:
        """``sobjects/{sobject}/deleted/?start=&end=`` (the deleted-records log).

        A prefetched answer for the same ``start`` is used when its window reached
        ``reuse_until`` (the server time the caller needs covered).
        """
        key = ("deleted", sobject, start)
        if reuse_until is not None:
            answer = self._prefetched.answers.get(key)
            if answer is not None and answer.extra is not None and answer.extra >= reuse_until:
                done = self._answered(key, f"getDeleted {sobject}")
                if done is not None:
                    return done
        self._prefetched.take(key)
        window = deleted_window_params(start, end)
        return self._rest(f"sobjects/{sobject}/deleted/?{window}", f"getDeleted {sobject}")

    # -- the Composite API: many reads, one call toward the API limits

    def prefetch(self, reads: Sequence[Read]) -> int:
        """Run ``reads`` as composite calls (25 subrequests, 5 queries each at most).

        Each answer waits for the direct call it stands for (``query``, ``describe``,
        ``deleted``), which then makes no request, or raises the very error it would have
        raised itself; a transient subrequest error (5xx, 429, concurrent limit) lets that
        call go to the API on its own, with its retries. Returns the calls made (0 when the
        org has no composite resource: every read then goes direct).
        """
        made = 0
        for group in composite_groups(reads):
            if not self.composite_supported:
                break
            body = composite_body(group, self.settings.api_version)
            try:
                result = self._rest("composite", "composite", method="POST", json=body)
            except ResourceNotFound:
                log.info(
                    "salesforce %s: no composite resource; reading one call at a time", self.name
                )
                self.composite_supported = False
                break
            made += 1
            for answer in composite_answers(group, result):
                self._prefetched.answers[answer.key] = answer
        return made

    def _answered(self, key: tuple[Any, ...], what: str) -> dict[str, Any] | None:
        """The prefetched answer for ``key`` (or its error, raised as the direct call's),
        None when there is none or it was a transient error worth a direct call."""
        answer = self._prefetched.take(key)
        if answer is None:
            return None
        if 200 <= answer.status < 300:
            if not isinstance(answer.body, dict):
                raise SourceError(f"Salesforce {what}: unexpected answer (not a JSON object)")
            return answer.body
        exc_cls = _SUB_ERRORS.get(answer.status, SalesforceGeneralError)
        exc = exc_cls(answer.url, answer.status, what, answer.body)
        # a 401 goes direct too: the SDK logs in again there (password and JWT modes)
        if answer.status == 401 or self._classify(exc) is not None:
            log.debug(
                "salesforce %s: %s failed in a composite call; retrying it alone", self.name, what
            )
            return None

        def fail() -> dict[str, Any]:
            raise exc

        return self._guard(fail, what)

    def server_time(self) -> datetime | None:
        """The server's clock from the last response's ``Date`` header, if any."""
        return server_time(self.session)

    # -- Bulk API 2.0 query jobs

    def bulk_create(self, soql: str, *, include_deleted: bool) -> str:
        """Start a Bulk 2.0 query job (``queryAll`` with ``include_deleted``); its id."""
        body = {
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        return str(self._rest("jobs/query", "bulk", method="POST", json=body)["id"])

    def bulk_state(self, job_id: str) -> str:
        """The job's ``state`` (UploadComplete, InProgress, JobComplete, Failed, Aborted)."""
        return str(self._rest(f"jobs/query/{job_id}", "bulk job").get("state", ""))

    def bulk_abort(self, job_id: str) -> bool:
        """Abort a query job that is no longer wanted; whether Salesforce took it.

        Best effort, for a sync on its way out: one attempt of at most ``ABORT_TIMEOUT``
        seconds, outside the run's budget (the stop may be the budget's), never raising.
        """
        self._count_attempt()
        try:
            self.sf.restful(
                f"jobs/query/{job_id}",
                method="PATCH",
                json={"state": "Aborted"},
                max_retries=REAUTH,
                timeout=ABORT_TIMEOUT,  # the sync's error is reported after this
            )
        except Exception as exc:  # whatever it is, the sync's own error is the one to report
            log.debug("salesforce %s: Bulk job %s not aborted: %s", self.name, job_id, exc)
            return False
        return True

    def bulk_results(self, job_id: str, locator: str, max_records: int) -> tuple[str, str]:
        """One CSV page of a completed job and the next locator (``"null"`` after the last)."""

        def fetch() -> dict[str, Any]:
            params: dict[str, Any] = {"maxRecords": max_records}
            if locator:
                params["locator"] = locator
            sf = self.sf
            url = f"{sf.base_url}jobs/query/{job_id}/results"
            response = sf.session.request("GET", url, headers=sf.headers, params=params)
            if response.status_code == 401 and self.settings.auth_mode != "token":
                sf = self._log_in_again(sf)  # once, as the SDK's calls do (REAUTH)
                response = sf.session.request("GET", url, headers=sf.headers, params=params)
            if response.status_code >= 300:
                exception_handler(response, name="bulk results")
            return {"csv": response.text, "locator": response.headers.get("Sforce-Locator", "")}

        page = self._call(fetch, "bulk results")
        return str(page["csv"]), str(page["locator"] or "null")

    def _count_attempt(self) -> None:
        with self._local_lock:  # the sync's thread and a Bulk feed thread both call
            self._local_calls += 1

    def _retried(self, fn: Callable[[], T], what: str) -> T:
        """``fn`` with the bounded retries of ``connectors.retry`` (this run's wait budget)."""
        settings = self.settings.retry
        return call_with_retry(
            fn,
            self._classify,
            settings,
            what=f"Salesforce {what}",
            budget=self.waits,
            source=self.name,
        )

    def _rest(self, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        """A REST call below ``/services/data/vXX.X/`` (``restful``), through ``_call``."""
        return self._call(lambda: self.sf.restful(path, max_retries=REAUTH, **kwargs), what)

    def _call(self, fn: Callable[[], Any], what: str) -> dict[str, Any]:
        self.sf  # noqa: B018  (log in before counting the call against the budget)
        if self.budget.limit is not None and self.calls >= self.budget.limit:
            raise self.budget.exhausted_error(self.calls)

        def attempt() -> Any:
            self._count_attempt()
            return fn()

        result = self._guard(lambda: self._retried(attempt, what), what)
        if not isinstance(result, dict):
            raise SourceError(f"Salesforce {what}: unexpected answer (not a JSON object)")
        return result

    def _classify(self, exc: BaseException) -> RetryVerdict | None:
        if isinstance(exc, requests.exceptions.SSLError):
            return None
        if isinstance(exc, RETRYABLE_CONNECTION):
            why = unreachable(exc)
            if why is not None:
                return RetryVerdict(why, attempts=UNREACHABLE_ATTEMPTS)
            return RetryVerdict(f"connection: {type(exc).__name__}")
        if isinstance(exc, SalesforceRefusedRequest):
            code, message = error_code(exc)
            # the concurrent-request limit shares the daily limit's code; only it is transient
            if code == "REQUEST_LIMIT_EXCEEDED" and "concurrent" in message.lower():
                return RetryVerdict("concurrent request limit")
            return None
        if isinstance(exc, SalesforceAuthenticationFailed):
            # a refused login is a SOAP fault (INVALID_LOGIN...) and final; an answer that is
            # no fault at all carries the HTTP status instead: 429 and 5xx are transient
            login_code: object = exc.code
            if (isinstance(login_code, int) and (login_code == 429 or login_code >= 500)) or (
                login_code == "SERVER_UNAVAILABLE"
            ):
                return RetryVerdict(f"login HTTP {login_code}")
            return None
        status = exc.status if isinstance(exc, SalesforceError) else None
        if isinstance(status, int) and (status == 429 or status >= 500):
            return RetryVerdict(f"HTTP {status}", retry_after(self.session))
        return None

    def _guard(self, fn: Callable[[], T], what: str) -> T:
        """Run ``fn`` turning SDK and transport errors into one-line domain errors."""
        prefix = f"Salesforce {what}"
        try:
            return fn()
        except (SourceError, ConfigError):
            raise
        except SalesforceAuthenticationFailed as exc:
            raise SourceError(
                f"{prefix}: login refused ({first_line(str(exc.content or exc.status))}); "
                f"check sources.{self.name} credentials and domain"
            ) from None
        except SalesforceExpiredSession:
            hint = (
                f"get a fresh token (e.g. `sf org display`) into sources.{self.name}.access_token"
                if self.settings.auth_mode == "token"
                else "re-authentication failed too; check the credentials"
            )
            raise SourceError(f"{prefix}: session invalid or expired (401); {hint}") from None
        except SalesforceRefusedRequest as exc:
            code, message = error_code(exc)
            if code == "REQUEST_LIMIT_EXCEEDED":
                raise BudgetExhausted(
                    f"{prefix}: the org's API request limit is spent ({first_line(message)}); "
                    f"run `tracker sync {self.name}` again once the rolling 24-hour window "
                    "frees requests: it resumes from the saved cursor"
                ) from None
            raise SourceError(
                f"{prefix}: refused (403 {code}: {first_line(message)}); the API user needs "
                "'API Enabled' and read access to the objects (see docs/salesforce.md)"
            ) from None
        except SalesforceMalformedRequest as exc:
            code, message = error_code(exc)
            if code == "INVALID_REPLICATION_DATE":
                raise ReplicationWindowError(f"{prefix}: {first_line(message)}") from None
            raise SourceError(f"{prefix}: 400 {code}: {first_line(message)}") from None
        except SalesforceResourceNotFound as exc:
            code, message = error_code(exc)
            raise ResourceNotFound(
                f"{prefix}: not found (404 {code}: {first_line(message)}); "
                f"check sources.{self.name}.api_version and instance_url"
            ) from None
        except SalesforceError as exc:
            code, message = error_code(exc)
            raise SourceError(
                f"{prefix}: HTTP {exc.status} {code}: {first_line(message)} (after retries)"
            ) from None
        except requests.exceptions.SSLError:
            raise SourceError(
                f"{prefix}: TLS verification failed; set sources.{self.name}.ca_bundle to "
                "your proxy's CA file"
            ) from None
        except RETRYABLE_CONNECTION as exc:
            url = self.settings.instance_url or f"https://{self.settings.domain}.salesforce.com"
            key = "instance_url" if self.settings.instance_url else "domain"
            why = unreachable(exc) or f"{type(exc).__name__} after retries"
            raise SourceError(
                cannot_reach("Salesforce", what, url, why, f"sources.{self.name}.{key}")
            ) from None
