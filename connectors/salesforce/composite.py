"""The Composite API's reads: what may be bundled into one call, and how calls are cut."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

#: Composite API limits: subrequests per call, and query/queryAll/query-more among them
COMPOSITE_MAX = 25
COMPOSITE_MAX_QUERIES = 5


@dataclass(frozen=True)
class Read:
    """One GET the connector may bundle into a composite call (see ``prefetch``).

    Build them with :func:`ask_query`, :func:`ask_describe`, :func:`ask_sobject` or
    :func:`ask_deleted` so the key matches the one the direct call looks up.
    """

    key: tuple[Any, ...]
    path: str  # below /services/data/vXX.X/
    is_query: bool
    extra: Any = None


@dataclass
class Answer:
    """A subrequest's result waiting for the direct call it stands for."""

    status: int
    body: Any
    url: str
    extra: Any = None
    key: tuple[Any, ...] = ()


@dataclass
class Prefetched:
    """Answers of composite subrequests, taken (once) by the matching direct calls."""

    answers: dict[tuple[Any, ...], Answer] = field(default_factory=dict)

    def take(self, key: tuple[Any, ...]) -> Answer | None:
        """The answer for ``key``, removed (each answer is taken once)."""
        return self.answers.pop(key, None)  # atomic: the prefetch thread may ask too


def composite_groups(reads: Sequence[Read]) -> list[list[Read]]:
    """``reads`` cut into composite calls within the subrequest and query limits."""
    groups: list[list[Read]] = []
    current: list[Read] = []
    queries = 0
    for read in reads:
        if len(current) == COMPOSITE_MAX or (read.is_query and queries == COMPOSITE_MAX_QUERIES):
            groups.append(current)
            current, queries = [], 0
        current.append(read)
        queries += read.is_query
    if current:
        groups.append(current)
    return groups


def composite_body(group: Sequence[Read], api_version: str) -> dict[str, Any]:
    """The body of one composite call reading ``group`` (``allOrNone`` off: each
    subrequest answers on its own)."""
    return {
        "allOrNone": False,
        "compositeRequest": [
            {
                "method": "GET",
                "url": f"/services/data/v{api_version}/{r.path}",
                "referenceId": f"r{i}",
            }
            for i, r in enumerate(group)
        ],
    }


def composite_answers(group: Sequence[Read], result: dict[str, Any]) -> Iterator[Answer]:
    """The answer of each read of ``group`` in a composite call's ``result`` (in order;
    reads without one are left out)."""
    by_ref = {
        str(sub.get("referenceId")): sub
        for sub in result.get("compositeResponse", ())
        if isinstance(sub, dict)
    }
    for i, read in enumerate(group):
        sub = by_ref.get(f"r{i}")
        if sub is not None:
            status = int(sub.get("httpStatusCode") or 0)
            yield Answer(status, sub.get("body"), read.path, read.extra, read.key)


def _iso(moment: datetime) -> str:
    # as simple-salesforce writes a datetime in a URL: 2026-01-02T03:04:05+00:00, quoted
    text = moment.strftime("%Y-%m-%dT%H:%M:%S%z")
    text = f"{text[:-2]}:{text[-2:]}" if text[-5:-4] in "+-" else text
    return text.replace(":", "%3A").replace("+", "%2B")


def deleted_window_params(start: datetime, end: datetime) -> str:
    """The ``start=...&end=...`` query of a getDeleted window."""
    return f"start={_iso(start)}&end={_iso(end)}"


def ask_query(soql: str, *, include_deleted: bool) -> Read:
    """A ``query``/``queryAll`` to prefetch; ``query()`` with the same SOQL takes it."""
    kind = "queryAll" if include_deleted else "query"
    return Read(("query", include_deleted, soql), f"{kind}/?q={quote(soql)}", True)


def ask_describe(sobject: str) -> Read:
    """A ``describe`` to prefetch."""
    return Read(("describe", sobject), f"sobjects/{sobject}/describe", False)


def ask_sobject(sobject: str) -> Read:
    """An object's basic information to prefetch (``sobject_exists()`` takes it)."""
    return Read(("sobject", sobject), f"sobjects/{sobject}/", False)


def ask_deleted(sobject: str, start: datetime, end: datetime) -> Read:
    """A ``getDeleted`` window to prefetch (taken by ``deleted()`` with the same start)."""
    path = f"sobjects/{sobject}/deleted/?{deleted_window_params(start, end)}"
    return Read(("deleted", sobject, start), path, False, end)
