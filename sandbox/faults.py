"""Faults on demand: rules that turn some requests into errors, drops, delays or data changes.

``--faults SPEC`` grammar (also ``FaultPlan.add(SPEC)`` / ``Sandbox.faults.add(SPEC)``)::

    SPEC  := RULE (";" RULE)*
    RULE  := KIND ["@" SCOPE] ("," OPT)*
    SCOPE := "*" | API | API "." ENDPOINT          (default "*": every request)
    API   := salesforce | sf | hubspot | hs
    ENDPOINT := an endpoint label, "*" wildcards allowed (deals.search, query, objects.*)
    OPT   := after=N     skip the first N matching requests            (default 0)
           | every=N     then fire on every Nth matching request         (default 1)
           | times=N     fire at most N times; 0 = unlimited   (default 1, or unlimited
                         when every= or p= is given)
           | p=F         fire with probability F (seeded, reproducible)
           | retry_after=S   429 only: send "Retry-After: S"
           | delay=S     slow only: seconds to wait before answering  (default 1.0)
           | n=N         data kinds: how many records to change       (default 5)

KIND, errors (answered in the api's own shape so the SDK raises its own exception):

* ``429``   too many requests (HubSpot ``policyName`` SECONDLY), Retry-After only with
            ``retry_after=``;
* ``500`` / ``503``  server errors;
* ``expire`` 401 session expired (Salesforce INVALID_SESSION_ID, HubSpot EXPIRED_AUTHENTICATION)
            on the requests it fires on (``Sandbox.expire_session()`` rotates the token for
            good: every later call with the old one is a 401);
* ``daily``  daily budget exhausted (Salesforce 403 REQUEST_LIMIT_EXCEEDED, HubSpot 429
            ``policyName`` DAILY);
* ``drop``   close the connection without answering;
* ``slow``   answer normally after ``delay`` seconds.

KIND, data changing during a sync (applied just before the request is served, which then
proceeds normally; the records are picked with the rule's seeded RNG among the api's deals):

* ``update``     ``n`` deals get a new amount/stage and a fresh modstamp;
* ``delete``     ``n`` deals deleted (Salesforce recycle bin, HubSpot archived);
* ``undelete``   ``n`` deleted deals restored;
* ``late``       ``n`` deals change but carry a modstamp 10 minutes in the past (a late commit);
* ``samestamp``  ``n`` deals change and all share one modstamp (straddling page boundaries);
* ``harddelete`` ``n`` deals vanish for good (not even in queryAll / archived listings);
* ``merge``      ``n`` pairs of deals merged (the loser disappears into the winner).

Wire fact seen through these rules: hubspot-api-client's urllib3 pool keeps urllib3's default
``Retry(3)``, so a GET answered 429/503 *with* ``Retry-After`` is silently retried three
times (sleeping Retry-After) and a dropped GET connection is retried too; POSTs (search,
batch read) are never retried. Rules with ``times=1`` may therefore be invisible to a
HubSpot GET.

Examples: ``429@hubspot,retry_after=1,every=10`` · ``500@sf.query,after=2`` ·
``slow@*,delay=0.2,p=0.05`` · ``update@hs.deals.list,after=3,n=20`` · ``daily@salesforce``.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sandbox.errors import daily_limit, session_expired
from sandbox.server import ApiError, DropConnection

if TYPE_CHECKING:
    from sandbox.state import SandboxState

ERROR_KINDS = ("429", "500", "503", "expire", "daily", "drop", "slow")
DATA_KINDS = ("update", "delete", "undelete", "late", "samestamp", "harddelete", "merge")
KINDS = ERROR_KINDS + DATA_KINDS
_API_ALIASES = {
    "salesforce": "salesforce",
    "sf": "salesforce",
    "hubspot": "hubspot",
    "hs": "hubspot",
}


class FaultSpecError(ValueError):
    """A ``--faults`` SPEC that does not parse; the message says where."""


@dataclass
class Fault:
    """One fault rule; see the module docstring for the meaning of each field."""

    kind: str
    api: str = "*"
    endpoint: str = "*"
    after: int = 0
    every: int = 1
    times: int = 1
    p: float = 1.0
    retry_after: float | None = None
    delay: float = 1.0
    n: int = 5
    seed: int = 0
    seen: int = 0
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        """True once the rule fired ``times`` times (never when unlimited)."""
        return self.times > 0 and self.fired >= self.times

    def matches(self, api: str, endpoint: str) -> bool:
        """Does the rule's scope cover this request?"""
        if self.api not in ("*", api):
            return False
        return fnmatch.fnmatchcase(endpoint, self.endpoint)

    def should_fire(self) -> bool:
        """Count one matching request; True when the rule fires on it."""
        self.seen += 1
        if self.exhausted or self.seen <= self.after:
            return False
        if (self.seen - self.after - 1) % self.every:
            return False
        if self.p < 1.0 and self._rng.random() >= self.p:
            return False
        self.fired += 1
        return True

    def apply(self, api: str, state: SandboxState) -> None:
        """Serve the fault: raise an error/drop, sleep, or change data and return."""
        kind = self.kind
        if kind == "429":
            headers = {} if self.retry_after is None else {"Retry-After": _num(self.retry_after)}
            raise ApiError(
                429,
                "RATE_LIMITS" if api == "hubspot" else "REQUEST_LIMIT_EXCEEDED",
                "You have reached your secondly limit.",
                extra={"errorType": "RATE_LIMIT", "policyName": "SECONDLY"},
                headers=headers,
            )
        if kind == "500":
            raise ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
        if kind == "503":
            raise ApiError(503, "SERVER_UNAVAILABLE", "Service temporarily unavailable.")
        if kind == "expire":
            raise session_expired(api)
        if kind == "daily":
            raise daily_limit(api)
        if kind == "drop":
            raise DropConnection()
        if kind == "slow":
            time.sleep(self.delay)
            return
        change = state.faults.apply_data
        if change is None:
            raise RuntimeError("data-change faults need a sandbox built by Sandbox.start")
        with state.lock:
            change(state, api, kind, self.n, self._rng)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


DataChange = Callable[["SandboxState", str, str, int, random.Random], list[str]]
"""Applies a data-change fault (kind, n deals) to a state; the sandbox plugs
``sandbox.mutations.apply_data_fault`` in (so this module does not import it)."""


class FaultPlan:
    """The active fault rules of a sandbox; thread-safe."""

    def __init__(self, apply_data: DataChange | None = None) -> None:
        self._lock = threading.Lock()
        self.rules: list[Fault] = []
        self.apply_data = apply_data

    def add(self, spec: str | Fault) -> list[Fault]:
        """Add rules from a SPEC string (or one :class:`Fault`); returns the rules added."""
        rules = [spec] if isinstance(spec, Fault) else parse_spec(spec)
        with self._lock:
            self.rules.extend(rules)
        return rules

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self.rules.clear()

    def pick(self, api: str, endpoint: str) -> Fault | None:
        """The first rule firing on this request, if any (each matching rule counts it)."""
        with self._lock:
            if not self.rules:
                return None
            chosen: Fault | None = None
            for rule in self.rules:
                if rule.matches(api, endpoint) and rule.should_fire() and chosen is None:
                    chosen = rule
            return chosen

    def pending(self) -> list[Fault]:
        """Rules that can still fire."""
        with self._lock:
            return [r for r in self.rules if not r.exhausted]


def parse_spec(spec: str) -> list[Fault]:
    """Parse a ``--faults`` SPEC into rules (see the module docstring)."""
    rules: list[Fault] = []
    for index, raw in enumerate(s.strip() for s in spec.split(";")):
        if not raw:
            continue
        head, *opts = (part.strip() for part in raw.split(","))
        kind, _, scope = head.partition("@")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise FaultSpecError(f"rule {index + 1} ({raw!r}): unknown kind {kind!r}")
        fault = Fault(kind=kind, seed=index)
        _parse_scope(fault, scope.strip() or "*", raw)
        keys: set[str] = set()
        for opt in opts:
            key, eq, value = opt.partition("=")
            key = key.strip().lower()
            if not eq:
                raise FaultSpecError(f"rule {raw!r}: option {opt!r} needs key=value")
            try:
                if key in ("after", "every", "times", "n", "seed"):
                    setattr(fault, key, int(value))
                elif key in ("p", "retry_after", "delay"):
                    setattr(fault, key, float(value))
                else:
                    raise FaultSpecError(f"rule {raw!r}: unknown option {key!r}")
            except ValueError as exc:
                if isinstance(exc, FaultSpecError):
                    raise
                raise FaultSpecError(f"rule {raw!r}: bad value for {key}: {value!r}") from exc
            keys.add(key)
        if fault.every < 1 or not 0.0 <= fault.p <= 1.0 or fault.n < 1:
            raise FaultSpecError(f"rule {raw!r}: every>=1, n>=1 and 0<=p<=1 required")
        if "times" not in keys and keys & {"every", "p"}:
            fault.times = 0
        fault._rng = random.Random(fault.seed)
        rules.append(fault)
    return rules


def _parse_scope(fault: Fault, scope: str, raw: str) -> None:
    if scope == "*":
        return
    api, _, endpoint = scope.partition(".")
    if api.lower() not in _API_ALIASES:
        raise FaultSpecError(f"rule {raw!r}: unknown api {api!r} (salesforce, sf, hubspot, hs)")
    fault.api = _API_ALIASES[api.lower()]
    fault.endpoint = endpoint or "*"
