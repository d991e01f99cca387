"""The only module importing hubspot-api-client: requests, auth, retries, budgets, decoding.

The SDK sends every request (auth header, URL building, parameter encoding); its
responses are read with ``_preload_content=False`` and decoded here with ``json``, which
is many times faster than the SDK turning each page into model objects. Every call

* waits for its rate bucket (search, or everything else),
* is retried with bounded, jittered backoff on 429 (honouring ``Retry-After``), 5xx and
  dropped connections (``connectors.retry``),
* stops the sync cleanly on HubSpot's *daily* limit (``BudgetExhausted``, exit 3),
* and fails with a one-line ``SourceError`` otherwise; never with the token in it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import urllib3
from hubspot import HubSpot

from connectors.hubspot.limits import TokenBucket, general_bucket, search_bucket
from connectors.hubspot.settings import HubSpotSourceSettings
from connectors.retry import (
    UNREACHABLE_ATTEMPTS,
    RetryVerdict,
    WaitBudget,
    call_with_retry,
    cannot_reach,
    unreachable,
)
from tracker.errors import BudgetExhausted, SourceError

log = logging.getLogger(__name__)
JsonObj = dict[str, Any]

LIST_LIMIT = 100
SEARCH_LIMIT = 200
BATCH_LIMIT = 100
ASSOCIATION_BATCH_LIMIT = 1000
"""Inputs per v4 batch association read (HubSpot's documented maximum)."""
ACTIVITY_TYPES = ("calls", "meetings", "emails")
SCOPES = (
    "crm.objects.deals.read",
    "crm.objects.companies.read",
    "crm.objects.line_items.read",
    "crm.objects.owners.read",
    "crm.schemas.deals.read",
    "crm.schemas.companies.read",
    "crm.schemas.line_items.read",
)


class HubSpotCallError(Exception):
    """A failed HubSpot call, reduced to status, HubSpot's category/message and headers."""

    def __init__(self, status: int, body: JsonObj, headers: dict[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        super().__init__(f"{status} {body.get('category', '')}")

    @property
    def message(self) -> str:
        """HubSpot's own message, one line."""
        text = str(self.body.get("message") or self.body.get("category") or "no message")
        return " ".join(text.split())[:300]

    @property
    def daily_limit(self) -> bool:
        """A 429 for the daily limit: retrying today is pointless."""
        return self.status == 429 and str(self.body.get("policyName", "")).upper() == "DAILY"


def decode(raw: bytes) -> Any:
    """The JSON body of a response (decoded here: the SDK's model objects are slow)."""
    return json.loads(raw)


def check_partial(result: JsonObj, what: str) -> None:
    """Raise on a batch response's errors other than "not found": a failed association or
    line-item read must never pass for "this deal has none" (that deletes stored data)."""
    for error in result.get("errors") or ():
        if error.get("category") != "OBJECT_NOT_FOUND":
            raise SourceError(
                f"HubSpot {what} failed for some records: {error.get('category')}: "
                f"{error.get('message')}"
            )


Page = tuple[list[JsonObj], str | None]
"""One page's results and the cursor of the next page (None after the last)."""


def paged(fetch: Callable[[str | None], JsonObj], after: str | None = None) -> Iterator[Page]:
    """Every page of an ``after``-cursor listing, from ``after`` on: the one paging loop of
    the HubSpot APIs (objects, owners). ``fetch(after)`` gets one page."""
    while True:
        page = fetch(after)
        after = next_after(page)
        yield list(page.get("results") or ()), after
        if after is None:
            return


def next_after(page: JsonObj) -> str | None:
    """The paging cursor of the next page (of a list, or of one batch input), else None."""
    nxt = ((page.get("paging") or {}).get("next") or {}).get("after")
    return str(nxt) if nxt else None


def _decode_error(exc: Exception) -> HubSpotCallError | None:
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or status == 0:
        return None
    raw = getattr(exc, "body", None)
    body: JsonObj = {}
    if raw:
        try:
            parsed = json.loads(raw)
            body = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            body = {"message": str(raw)[:300]}
    headers = {str(k): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}
    return HubSpotCallError(status, body, headers)


def classify(exc: BaseException) -> RetryVerdict | None:
    """Retry 429 (not the daily one), 5xx and connection-level failures."""
    if isinstance(exc, HubSpotCallError):
        if exc.daily_limit:
            return None
        if exc.status == 429:
            retry_after = exc.headers.get("Retry-After")
            try:
                seconds = float(retry_after) if retry_after is not None else None
            except ValueError:
                seconds = None
            return RetryVerdict("429 rate limited", seconds)
        if exc.status >= 500:
            return RetryVerdict(f"HTTP {exc.status}")
        return None
    if isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError):
        why = unreachable(exc)
        if why is not None:
            return RetryVerdict(why, attempts=UNREACHABLE_ATTEMPTS)
        return RetryVerdict(f"connection error ({type(exc).__name__})")
    if getattr(exc, "status", None) == 0:  # the SDK's ApiException for TLS errors
        return RetryVerdict("connection error")
    return None


class HubSpotClient:
    """HubSpot CRM calls returning decoded JSON, with budgets, retries and a call count.

    ``sdk`` injects a ready ``HubSpot`` client; by default one is built from the settings'
    ``base_url`` and the revealed ``access_token`` (urllib3's own retries off: ours apply).
    """

    def __init__(
        self, settings: HubSpotSourceSettings, source: str, sdk: HubSpot | None = None
    ) -> None:
        self.settings = settings
        self.source = source
        if sdk is None:
            sdk = HubSpot(
                access_token=settings.access_token.reveal(), host=settings.base_url, retry=False
            )
        crm = sdk.crm
        # each SDK property builds a new ApiClient (and connection pool): build them once
        self._basic = {t: getattr(crm, t).basic_api for t in ("deals", "companies")}
        self._batch = {t: getattr(crm, t).batch_api for t in ("deals", "companies", "line_items")}
        self._search = {t: getattr(crm, t).search_api for t in ("deals", "companies")}
        if settings.activities:  # built only when used: each is a client of its own
            for t in ACTIVITY_TYPES:
                api = getattr(crm.objects, t)
                self._basic[t], self._search[t] = api.basic_api, api.search_api
        self._assoc = crm.associations.v4.batch_api
        self._pipelines = crm.pipelines.pipelines_api
        self._owners = crm.owners.owners_api
        self._properties = crm.properties.core_api
        limits = settings.rate_limits
        self.search_bucket = search_bucket(limits.search_per_second)
        self.general_bucket = general_bucket(limits.requests_per_10s)
        self.calls = 0
        self.last_headers: Any = {}  # of the last response, for the rate-limit headers
        self._count_lock = threading.Lock()
        self.waits = WaitBudget(settings.retry.max_wait_seconds)

    # ------------------------------------------------------------------ plumbing

    def _call(self, what: str, bucket: TokenBucket, fn: Callable[..., Any], **kwargs: Any) -> Any:
        timeout = self.settings.request_timeout

        def once() -> Any:
            bucket.take()
            with self._count_lock:
                self.calls += 1
            try:
                resp = fn(**kwargs, _preload_content=False, _request_timeout=timeout)
            except Exception as exc:
                decoded = _decode_error(exc)
                if decoded is None:
                    raise
                raise decoded from None
            self.last_headers = resp.headers
            try:
                return decode(resp.data)
            except ValueError:
                raise SourceError(
                    f"HubSpot {what}: the answer is not JSON; is sources.{self.source}.base_url "
                    f"({self.settings.base_url}) the API host?"
                ) from None
            finally:
                resp.release_conn()

        try:
            return call_with_retry(
                once,
                classify,
                self.settings.retry,
                what=f"HubSpot {what}",
                budget=self.waits,
                source=self.source,
            )
        except HubSpotCallError as exc:
            raise self._failure(what, exc) from None
        except Exception as exc:
            if classify(exc) is None:
                raise
            why = unreachable(exc) or f"{type(exc).__name__} after retries"
            key = f"sources.{self.source}.base_url"
            raise SourceError(
                cannot_reach("HubSpot", what, self.settings.base_url, why, key)
            ) from None

    def _failure(self, what: str, exc: HubSpotCallError) -> SourceError:
        key = f"sources.{self.source}"
        if exc.daily_limit:
            return BudgetExhausted(
                f"HubSpot daily API limit reached during {what}; everything up to the last "
                f"committed batch is saved: rerun `tracker sync {self.source}` after the limit "
                "resets (midnight in the portal's time zone) to resume from there"
            )
        if exc.status == 401:
            return SourceError(
                f"HubSpot rejected the access token (401 {exc.message}); check that "
                f"{key}.access_token holds a valid private-app token"
            )
        if exc.status == 403:
            return SourceError(
                f"HubSpot refused {what} (403 {exc.message}); give the private app the scopes "
                f"{', '.join(SCOPES)}"
            )
        if exc.status == 429:
            return SourceError(
                f"HubSpot kept rate-limiting {what} after {self.settings.retry.max_attempts} "
                f"attempts; lower {key}.rate_limits or retry later"
            )
        return SourceError(f"HubSpot {what} failed: HTTP {exc.status}: {exc.message}")

    def daily_budget(self) -> tuple[int, int] | None:
        """(remaining, total) of the daily API limit from the last response's
        ``X-HubSpot-RateLimit-Daily(-Remaining)`` headers; None when HubSpot sent none
        (OAuth apps are told only once the limit is exceeded)."""
        try:
            total = int(self.last_headers.get("X-HubSpot-RateLimit-Daily", ""))
            left = int(self.last_headers.get("X-HubSpot-RateLimit-Daily-Remaining", ""))
        except ValueError:
            return None
        return left, total

    # ------------------------------------------------------------------ endpoints

    def list_page(
        self,
        object_type: str,
        *,
        after: str | None,
        properties: Sequence[str],
        associations: Sequence[str] = (),
        archived: bool = False,
    ) -> JsonObj:
        """One page (≤ 100) of ``GET /crm/v3/objects/{type}``, ordered by id."""
        kwargs: dict[str, Any] = {
            "limit": LIST_LIMIT,
            "properties": list(properties),
            "archived": archived,
        }
        if after:
            kwargs["after"] = after
        if associations:
            kwargs["associations"] = list(associations)
        result: JsonObj = self._call(
            f"{object_type} list", self.general_bucket, self._basic[object_type].get_page, **kwargs
        )
        return result

    def list_pages(
        self,
        object_type: str,
        *,
        after: str | None = None,
        properties: Sequence[str],
        associations: Sequence[str] = (),
        archived: bool = False,
    ) -> Iterator[Page]:
        """Every page of ``GET /crm/v3/objects/{type}`` from cursor ``after`` on."""

        def fetch(cursor: str | None) -> JsonObj:
            return self.list_page(
                object_type,
                after=cursor,
                properties=properties,
                associations=associations,
                archived=archived,
            )

        return paged(fetch, after)

    def search(self, object_type: str, body: JsonObj) -> JsonObj:
        """One page of ``POST /crm/v3/objects/{type}/search`` (the search bucket)."""
        result: JsonObj = self._call(
            f"{object_type} search",
            self.search_bucket,
            self._search[object_type].do_search,
            public_object_search_request=body,
        )
        return result

    def batch_read(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> list[JsonObj]:
        """Objects by id, ≤ 100 per request; ids HubSpot no longer has are left out."""
        out: list[JsonObj] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            body = {
                "inputs": [{"id": i} for i in ids[start : start + BATCH_LIMIT]],
                "properties": list(properties),
            }
            result = self._call(
                f"{object_type} batch read",
                self.general_bucket,
                self._batch[object_type].read,
                batch_read_input_simple_public_object_id=body,
                archived=False,
            )
            check_partial(result, f"{object_type} batch read")
            out.extend(result.get("results") or [])
        return out

    def associations(
        self, from_type: str, to_type: str, ids: Sequence[str], chunk: int = BATCH_LIMIT
    ) -> dict[str, list[str]]:
        """``from id → [to ids]`` through the v4 batch endpoint (``chunk`` ids a request,
        following each input's own paging when it has more than a page of targets)."""
        typed = self.typed_associations(from_type, to_type, ids, chunk)
        return {i: [to for to, _ in targets] for i, targets in typed.items()}

    def typed_associations(
        self, from_type: str, to_type: str, ids: Sequence[str], chunk: int = BATCH_LIMIT
    ) -> dict[str, list[tuple[str, frozenset[int]]]]:
        """``from id → [(to id, association type ids)]`` (as :meth:`associations`)."""
        found: dict[str, list[tuple[str, frozenset[int]]]] = {i: [] for i in ids}
        pending: list[JsonObj] = [{"id": i} for i in ids]
        while pending:
            inputs, pending = pending[:chunk], pending[chunk:]
            result = self._call(
                f"{from_type}→{to_type} associations",
                self.general_bucket,
                self._assoc.get_page,
                from_object_type=from_type,
                to_object_type=to_type,
                batch_input_public_fetch_associations_batch_request={"inputs": inputs},
            )
            check_partial(result, f"{from_type}→{to_type} associations")
            for entry in result.get("results") or []:
                from_id = str(entry["from"]["id"])
                targets = found.setdefault(from_id, [])
                targets.extend(
                    (
                        str(t["toObjectId"]),
                        frozenset(
                            int(k["typeId"])
                            for k in t.get("associationTypes") or ()
                            if isinstance(k.get("typeId"), int)
                        ),
                    )
                    for t in entry.get("to") or ()
                )
                after = next_after(entry)
                if after:
                    pending.append({"id": from_id, "after": after})
        return found

    def pipelines(self, object_type: str = "deals") -> list[JsonObj]:
        """Every pipeline of ``object_type`` with its stages."""
        result = self._call(
            "pipelines", self.general_bucket, self._pipelines.get_all, object_type=object_type
        )
        return list(result.get("results") or [])

    def owners(self, *, archived: bool) -> list[JsonObj]:
        """Every owner (active, or archived = deactivated users)."""

        def fetch(after: str | None) -> JsonObj:
            kwargs: dict[str, Any] = {"limit": 500, "archived": archived}
            if after:
                kwargs["after"] = after
            result: JsonObj = self._call(
                "owners", self.general_bucket, self._owners.get_page, **kwargs
            )
            return result

        return [owner for results, _ in paged(fetch) for owner in results]

    def property_names(self, object_type: str) -> set[str]:
        """Names of every (non-archived) property of ``object_type``."""
        result = self._call(
            f"{object_type} properties",
            self.general_bucket,
            self._properties.get_all,
            object_type=object_type,
            archived=False,
        )
        return {str(p["name"]) for p in result.get("results") or []}
