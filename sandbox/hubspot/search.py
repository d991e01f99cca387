"""HubSpot CRM search semantics: filter groups, sorts, the 200-per-page limit, the 10,000 cap.

* ``filterGroups`` are ORed (at most 5), filters inside a group ANDed (at most 6 per group,
  18 in all); operators EQ NEQ LT LTE GT GTE BETWEEN IN NOT_IN HAS_PROPERTY
  NOT_HAS_PROPERTY CONTAINS_TOKEN NOT_CONTAINS_TOKEN.
* datetime/date properties compare as epoch milliseconds (values may be ms or ISO strings),
  numbers numerically, other properties as case-insensitive strings.
* ``sorts``: at most one, ``"prop"``/``"-prop"`` strings or ``{"propertyName","direction"}``;
  default order is ascending id. ``after`` is an offset into the sorted result.
* ``limit`` above 200 is a 400; an ``after`` at or past 10,000 is a 400 (the vendor's cap);
  archived objects are never found.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from sandbox.hubspot.data import HsObject, parse_iso
from sandbox.server import ApiError

MAX_LIMIT = 200
MAX_RESULTS = 10_000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}

Key = float | str
Predicate = Callable[[HsObject], bool]


def _bad(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


def _converter(prop_type: str) -> Callable[[Any], Key | None]:
    def as_ms(value: Any) -> float | None:
        if value is None or value == "":
            return None
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value)
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return float(text)
        try:
            if len(text) == 10:
                text += "T00:00:00Z"
            return parse_iso(text).timestamp() * 1000
        except ValueError as exc:
            raise _bad(f"{value!r} is not a valid date/time") from exc

    def as_num(value: Any) -> float | None:
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise _bad(f"{value!r} is not a valid number") from exc

    def as_str(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value).lower()

    if prop_type in ("datetime", "date"):
        return as_ms
    if prop_type == "number":
        return as_num
    return as_str


def _filter(f: dict[str, Any], types: dict[str, str]) -> Predicate:
    name = f.get("propertyName")
    op = str(f.get("operator") or "EQ").upper()
    if not isinstance(name, str) or op not in OPERATORS:
        raise _bad(f"Invalid filter: {f!r}")
    conv = _converter("number" if name == "hs_object_id" else types.get(name, "string"))

    def stored(obj: HsObject) -> Key | None:
        return obj.id if name == "id" else conv(obj.properties.get(name))

    if op == "HAS_PROPERTY":
        return lambda o: stored(o) is not None
    if op == "NOT_HAS_PROPERTY":
        return lambda o: stored(o) is None
    if op in ("IN", "NOT_IN"):
        wanted = {conv(v) for v in f.get("values") or []}
        if op == "IN":
            return lambda o: stored(o) in wanted
        return lambda o: stored(o) not in wanted
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = re.escape(str(f.get("value", "")).lower()).replace(r"\*", ".*")
        rx = re.compile(rf"(^|\W){pattern}($|\W)" if "*" not in str(f.get("value")) else pattern)

        def contains(o: HsObject) -> bool:
            v = o.properties.get(name)
            return v is not None and rx.search(v.lower()) is not None

        return contains if op == "CONTAINS_TOKEN" else (lambda o: not contains(o))
    value = conv(f.get("value"))
    if op == "BETWEEN":
        high = conv(f.get("highValue"))
        return lambda o: _cmp(stored(o), value, "GTE") and _cmp(stored(o), high, "LTE")
    return lambda o: _cmp(stored(o), value, op)


def _cmp(a: Key | None, b: Key | None, op: str) -> bool:
    if op == "EQ":
        return a == b
    if op == "NEQ":
        return a != b
    if a is None or b is None or type(a) is not type(b):
        return False
    if op == "LT":
        return a < b  # type: ignore[operator]
    if op == "LTE":
        return a <= b  # type: ignore[operator]
    if op == "GT":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]


def compile_filters(body: dict[str, Any], types: dict[str, str]) -> Predicate | None:
    """One predicate for the request's ``filterGroups`` (and ``query``); None when every
    object passes, or when the only filters are the ``hs_object_id`` lower bounds of a
    single group (:func:`id_lower_bound` already applies them)."""
    groups = body.get("filterGroups") or []
    if len(groups) > 5 or sum(len(g.get("filters") or []) for g in groups) > 18:
        raise _bad("Too many filter groups or filters (max 5 groups, 18 filters)")
    compiled: list[list[Predicate]] = []
    for g in groups:
        filters = g.get("filters") or []
        if len(filters) > 6:
            raise _bad("Too many filters in a group (max 6)")
        compiled.append([_filter(f, types) for f in filters])
    query = str(body.get("query") or "").lower()
    if not query and (not compiled or (len(groups) == 1 and _only_id_bounds(groups[0]))):
        return None

    def pred(o: HsObject) -> bool:
        if query and not any(query in (v or "").lower() for v in o.properties.values()):
            return False
        return not compiled or any(all(p(o) for p in group) for group in compiled)

    return pred


def _only_id_bounds(group: dict[str, Any]) -> bool:
    return all(
        f.get("propertyName") == "hs_object_id"
        and str(f.get("operator", "")).upper() in ("GT", "GTE")
        and _is_number(f.get("value"))
        for f in group.get("filters") or []
    )


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def sort_key(
    body: dict[str, Any], types: dict[str, str]
) -> tuple[Callable[[HsObject], Any] | None, bool]:
    """(key function, descending) for the request's ``sorts``; the key is None for ascending
    id order, the order objects are kept in."""
    sorts = body.get("sorts") or []
    if not sorts:
        return None, False
    first = sorts[0]
    if isinstance(first, dict):
        name = str(first.get("propertyName"))
        desc = str(first.get("direction", "ASCENDING")).upper().startswith("DESC")
    else:
        text = str(first)
        desc, name = text.startswith("-"), text.lstrip("-")
    if name in ("hs_object_id", "id") and not desc:
        return None, False
    conv = _converter("number" if name == "hs_object_id" else types.get(name, "string"))

    def key(o: HsObject) -> Any:
        v = conv(o.properties.get(name))
        # missing values sort last ascending (first descending), ties broken by id
        return (v is None, v if v is not None else 0, int(o.id))

    return key, desc


def id_lower_bound(body: dict[str, Any]) -> int:
    """The smallest id every filter group allows through its ``hs_object_id`` GT/GTE/EQ
    filters (0 when some group has none): objects below it cannot match."""
    bounds = []
    for group in body.get("filterGroups") or [{}]:
        best = 0
        for f in group.get("filters") or []:
            op = str(f.get("operator", "")).upper()
            if f.get("propertyName") != "hs_object_id" or op not in ("GT", "GTE", "EQ"):
                continue
            try:
                value = float(f.get("value"))
            except (TypeError, ValueError):
                continue
            best = max(best, math.floor(value) + 1 if op == "GT" else math.ceil(value))
        bounds.append(best)
    return min(bounds)


def page_bounds(body: dict[str, Any]) -> tuple[int, int]:
    """(offset, limit) of a search request, enforcing the vendor's limits."""
    try:
        limit = int(body.get("limit") or 10)
        after = int(body.get("after") or 0)
    except (TypeError, ValueError) as exc:
        raise _bad("limit and after must be integers") from exc
    if limit > MAX_LIMIT or limit < 0:
        raise _bad(f"limit must be at most {MAX_LIMIT}")
    if after >= MAX_RESULTS:
        raise _bad(f"Paging beyond {MAX_RESULTS} results is not supported; refine the filters.")
    return after, limit
