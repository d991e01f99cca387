"""HubSpot CRM routes: v3 objects (list, get, search, batch read), v4 associations,
pipelines, owners and properties, for what hubspot-api-client sends.

Endpoint labels (for counters and fault scopes, ``hs.<label>``): ``<type>.list``,
``<type>.get``, ``<type>.search``, ``<type>.batch_read``, ``<type>.merge`` with ``<type>``
one of deals, companies, line_items, products; ``associations.list``,
``associations.batch_read``, ``pipelines.list``, ``pipelines.get``, ``owners.list``,
``owners.get``, ``properties.list``, ``properties.get``.

Semantics: list pages ≤ 100 (``after`` is the next id), ``archived=true`` lists only
archived objects; get by id of a merged-away deal answers the winner; batch read ≤ 100
inputs, 207 with ``errors`` for missing ids; v4 associations page at ``limit`` (≤ 500) for
single reads and 100 targets per input in batch reads; search per ``hssearch.py``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from sandbox.hubspot.changes import merge_hubspot_deals
from sandbox.hubspot.data import (
    ASSOC_TYPES,
    DEFAULT_PROPERTIES,
    OBJECT_TYPES,
    PIPELINES,
    HsObject,
    HubSpotData,
    iso,
)
from sandbox.hubspot.props import property_defs, property_types
from sandbox.hubspot.search import compile_filters, id_lower_bound, page_bounds, sort_key
from sandbox.server import ApiError, Request, Response, Router
from sandbox.state import SandboxState

_ALIASES = {
    "0-3": "deals",
    "0-2": "companies",
    "0-8": "line_items",
    "0-7": "products",
    "deal": "deals",
    "company": "companies",
    "line_item": "line_items",
    "product": "products",
    "0-48": "calls",
    "0-47": "meetings",
    "0-49": "emails",
    "call": "calls",
    "meeting": "meetings",
    "email": "emails",
}
_SINGULAR = {
    "deals": "deal",
    "companies": "company",
    "line_items": "line_item",
    "products": "product",
    "calls": "call",
    "meetings": "meeting",
    "emails": "email",
}


def _type(name: str) -> str:
    t = _ALIASES.get(name, name)
    if t not in OBJECT_TYPES:
        raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return t


def _inputs(body: Any) -> list[Any]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise ApiError(400, "VALIDATION_ERROR", "inputs must be a list")
    return inputs


def _flag(req: Request, name: str) -> bool:
    return (req.param(name) or "false").lower() == "true"


def _int_param(req: Request, name: str, default: int, maximum: int) -> int:
    try:
        value = int(req.param(name) or default)
    except ValueError as exc:
        raise ApiError(400, "VALIDATION_ERROR", f"{name} must be an integer") from exc
    if value < 1 or value > maximum:
        raise ApiError(400, "VALIDATION_ERROR", f"{name} must be between 1 and {maximum}")
    return value


def render(
    data: HubSpotData,
    object_type: str,
    obj: HsObject,
    props: Sequence[str],
    associations: Sequence[str] = (),
) -> dict[str, Any]:
    """An object as the v3 API returns it: default plus requested properties."""
    names = props or DEFAULT_PROPERTIES[object_type]
    stored = obj.properties
    out: dict[str, Any] = {
        "id": obj.id,
        "properties": {n: stored[n] for n in names if n in stored},
        "createdAt": obj.created_at,
        "updatedAt": obj.updated_at,
        "archived": obj.archived,
    }
    if obj.archived_at:
        out["archivedAt"] = obj.archived_at
    if associations:
        assoc: dict[str, Any] = {}
        for name in associations:
            to_type = _ALIASES.get(name, name)
            if to_type not in OBJECT_TYPES or (object_type, to_type) not in data.assoc:
                continue
            ids = data.associated(object_type, obj.id, to_type)
            if ids:
                label = f"{_SINGULAR[object_type]}_to_{_SINGULAR[to_type]}"
                # as HubSpot does: the v3 inline key is the type's label, "line items"
                key = to_type.replace("_", " ")
                assoc[key] = {"results": _inline(data, object_type, obj.id, to_type, ids, label)}
        if assoc:
            out["associations"] = assoc
    return out


def _inline(
    data: HubSpotData, object_type: str, oid: str, to_type: str, ids: list[str], label: str
) -> list[dict[str, str]]:
    """The v3 inline association list: company links once per type, the primary one as
    ``deal_to_company`` and every one as ``deal_to_company_unlabeled``."""
    if {object_type, to_type} != {"deals", "companies"}:
        return [{"id": i, "type": label} for i in ids]
    out = []
    for i in ids:
        if data.is_primary(object_type, oid, to_type, i):
            out.append({"id": i, "type": label})
        out.append({"id": i, "type": f"{label}_unlabeled"})
    return out


def batch_response(
    state: SandboxState, results: list[dict[str, Any]], error: dict[str, Any] | None
) -> Response:
    """A batch answer: 200 COMPLETE, or 207 with ``errors`` when some inputs failed."""
    now = iso(state.now())
    out: dict[str, Any] = {"status": "COMPLETE", "results": results}
    out.update(startedAt=now, completedAt=now, requestedAt=now)
    if error is None:
        return Response.json(out)
    out.update(numErrors=1, errors=[error])
    return Response.json(out, status=207)


def register(router: Router, state: SandboxState) -> None:
    """Add every HubSpot route to ``router``."""
    data = state.hubspot

    def lookup(object_type: str, object_id: str, archived: bool) -> HsObject | None:
        objects = data.objects[object_type]
        obj = objects.get(object_id)
        if obj is None and object_type == "deals" and object_id in data.merged:
            winner = object_id
            while winner in data.merged:
                winner = data.merged[winner]
            obj = objects.get(winner)
        if obj is None or obj.archived != archived:
            return None
        return obj

    def list_objects(req: Request, m: re.Match[str]) -> Response:
        object_type = _type(m["type"])
        limit = _int_param(req, "limit", 10, 100)
        archived = _flag(req, "archived")
        props, assocs = req.params("properties"), req.params("associations")
        order, objects = data.order[object_type], data.objects[object_type]
        results: list[dict[str, Any]] = []
        i = data.page_after(object_type, req.param("after"))
        while i < len(order) and len(results) < limit:
            obj = objects[str(order[i])]
            if obj.archived == archived:
                results.append(render(data, object_type, obj, props, assocs))
            i += 1
        while i < len(order) and objects[str(order[i])].archived != archived:
            i += 1
        body: dict[str, Any] = {"results": results}
        if i < len(order):
            nxt = str(order[i])
            body["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return Response.json(body)

    def get_object(req: Request, m: re.Match[str]) -> Response:
        object_type = _type(m["type"])
        if req.param("idProperty") not in (None, "hs_object_id"):
            raise ApiError(400, "VALIDATION_ERROR", "Only hs_object_id is a unique property")
        obj = lookup(object_type, m["id"], _flag(req, "archived"))
        if obj is None:
            raise ApiError(
                404,
                "OBJECT_NOT_FOUND",
                f"Object not found.  objectId are usually numeric. {m['id']}",
            )
        return Response.json(
            render(data, object_type, obj, req.params("properties"), req.params("associations"))
        )

    def search(req: Request, m: re.Match[str]) -> Response:
        object_type = _type(m["type"])
        body = req.json() or {}
        if not isinstance(body, dict):
            raise ApiError(400, "VALIDATION_ERROR", "Search body must be an object")
        offset, limit = page_bounds(body)
        types = property_types(object_type)
        pred = compile_filters(body, types)
        objects, order = data.objects[object_type], data.order[object_type]
        # ids only grow, so a lower bound on hs_object_id (the id walk past the 10,000 cap)
        # skips straight to it instead of scanning everything before
        start = bisect.bisect_left(order, id_lower_bound(body))
        key, desc = sort_key(body, types)
        page: list[HsObject] = []
        if key is None:  # id order: count everything, keep only the page
            total = 0
            for i in order[start:]:
                o = objects[str(i)]
                if o.archived or (pred is not None and not pred(o)):
                    continue
                if offset <= total < offset + limit:
                    page.append(o)
                total += 1
        else:
            hits = [o for i in order[start:] if not (o := objects[str(i)]).archived]
            hits = [o for o in hits if pred is None or pred(o)]
            hits.sort(key=key, reverse=desc)
            total, page = len(hits), hits[offset : offset + limit]
        props = [str(p) for p in body.get("properties") or []]
        out: dict[str, Any] = {
            "total": total,
            "results": [render(data, object_type, o, props) for o in page],
        }
        if offset + limit < total:
            out["paging"] = {"next": {"after": str(offset + limit)}}
        return Response.json(out)

    def batch_read(req: Request, m: re.Match[str]) -> Response:
        object_type = _type(m["type"])
        body = req.json() or {}
        inputs = _inputs(body)
        if len(inputs) > 100:
            raise ApiError(400, "VALIDATION_ERROR", "Batch input limit is 100")
        if body.get("idProperty") not in (None, "hs_object_id"):
            raise ApiError(400, "VALIDATION_ERROR", "Only hs_object_id is a unique property")
        props = [str(p) for p in body.get("properties") or []]
        archived = _flag(req, "archived")
        results, missing = [], []
        for item in inputs:
            oid = str(item.get("id") if isinstance(item, dict) else item)
            obj = lookup(object_type, oid, archived)
            if obj is None:
                missing.append(oid)
            else:
                results.append(render(data, object_type, obj, props))
        error = {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"Could not get some {object_type} objects, they may be deleted or not "
            "exist.",
            "context": {"ids": missing},
        }
        return batch_response(state, results, error if missing else None)

    def merge(req: Request, m: re.Match[str]) -> Response:
        body = req.json() or {}
        primary, other = str(body.get("primaryObjectId")), str(body.get("objectIdToMerge"))
        if primary not in data.objects["deals"] or other not in data.objects["deals"]:
            raise ApiError(404, "OBJECT_NOT_FOUND", "Object not found")
        merge_hubspot_deals(state, primary, other)
        return Response.json(render(data, "deals", data.objects["deals"][primary], []))

    for method, suffix, handler, label in (
        ("GET", "/?", list_objects, "list"),
        ("POST", "/search/?", search, "search"),
        ("POST", "/batch/read/?", batch_read, "batch_read"),
        ("GET", r"/(?P<id>[^/]+)/?", get_object, "get"),
    ):
        for t in OBJECT_TYPES:
            router.add(
                method,
                f"/crm/v3/objects/(?P<type>{t})" + suffix,
                handler,
                api="hubspot",
                endpoint=f"{t}.{label}",
            )
    router.add(
        "POST", "/crm/v3/objects/deals/merge/?", merge, api="hubspot", endpoint="deals.merge"
    )
    _register_associations(router, state)
    _register_settings(router, state)


def _register_associations(router: Router, state: SandboxState) -> None:
    data = state.hubspot

    def targets(from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        kinds = ASSOC_TYPES.get((from_type, to_type), [])
        out = []
        for i in data.associated(from_type, from_id, to_type):
            primary = data.is_primary(from_type, from_id, to_type, i)
            types = [
                {"category": "HUBSPOT_DEFINED", "typeId": tid, "label": label}
                for tid, label in kinds
                # the "Primary" type only on the primary association; the unlabelled on all
                if label is None or primary
            ]
            out.append({"toObjectId": int(i), "associationTypes": types})
        return out

    def pair(m: re.Match[str]) -> tuple[str, str]:
        from_type, to_type = _type(m["from"]), _type(m["to"])
        if (from_type, to_type) not in data.assoc:
            raise ApiError(400, "VALIDATION_ERROR", f"No associations {from_type}→{to_type}")
        return from_type, to_type

    def page(items: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
        start = int(after or 0)
        out: dict[str, Any] = {"results": items[start : start + limit]}
        if start + limit < len(items):
            out["paging"] = {"next": {"after": str(start + limit)}}
        return out

    def single(req: Request, m: re.Match[str]) -> Response:
        from_type, to_type = pair(m)
        if m["id"] not in data.objects[from_type]:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"No {from_type} with id {m['id']}")
        limit = _int_param(req, "limit", 500, 500)
        return Response.json(page(targets(from_type, m["id"], to_type), req.param("after"), limit))

    def batch(req: Request, m: re.Match[str]) -> Response:
        from_type, to_type = pair(m)
        body = req.json() or {}
        inputs = _inputs(body)
        if len(inputs) > 1000:
            raise ApiError(400, "VALIDATION_ERROR", "Batch input limit is 1000")
        results, missing = [], []
        for item in inputs:
            oid = str(item.get("id"))
            if oid not in data.objects[from_type]:
                missing.append(oid)
                continue
            found = targets(from_type, oid, to_type)
            if not found:
                missing.append(oid)
                continue
            p = page(found, item.get("after"), 100)
            entry: dict[str, Any] = {"from": {"id": oid}, "to": p["results"]}
            if "paging" in p:
                entry["paging"] = p["paging"]
            results.append(entry)
        error = {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
            "message": f"No {to_type} is associated with some {from_type}.",
            "context": {"fromObjectId": missing},
        }
        return batch_response(state, results, error if missing else None)

    t = r"(?P<from>[\w-]+)"
    router.add(
        "GET",
        rf"/crm/v4/objects/{t}/(?P<id>\d+)/associations/(?P<to>[\w-]+)/?",
        single,
        api="hubspot",
        endpoint="associations.list",
    )
    router.add(
        "POST",
        rf"/crm/v4/associations/{t}/(?P<to>[\w-]+)/batch/read/?",
        batch,
        api="hubspot",
        endpoint="associations.batch_read",
    )


def _pipeline(pid: str, label: str, stages: Any, order: int) -> dict[str, Any]:
    stamp = "2020-01-01T00:00:00.000Z"
    return {
        "id": pid,
        "label": label,
        "displayOrder": order,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "stages": [
            {
                "id": sid,
                "label": slabel,
                "displayOrder": i,
                "archived": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                "metadata": {"isClosed": "true" if closed else "false", "probability": prob},
            }
            for i, (sid, slabel, prob, closed) in enumerate(stages)
        ],
    }


def _register_settings(router: Router, state: SandboxState) -> None:
    data = state.hubspot

    def pipelines(req: Request, m: re.Match[str]) -> Response:
        if _type(m["type"]) != "deals":
            return Response.json({"results": []})
        return Response.json(
            {"results": [_pipeline(p, lbl, s, i) for i, (p, lbl, s) in enumerate(PIPELINES)]}
        )

    def pipeline(req: Request, m: re.Match[str]) -> Response:
        for i, (pid, label, stages) in enumerate(PIPELINES):
            if pid == m["pid"] and _type(m["type"]) == "deals":
                return Response.json(_pipeline(pid, label, stages, i))
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Pipeline {m['pid']} not found")

    def owner_json(o: Any) -> dict[str, Any]:
        teams = [] if o.team is None else [{"id": o.team[0], "name": o.team[1], "primary": True}]
        return {
            "id": o.id,
            "email": o.email,
            "firstName": o.first_name,
            "lastName": o.last_name,
            "userId": o.user_id,
            "userIdIncludingInactive": o.user_id,
            "type": "PERSON",
            "createdAt": o.created_at,
            "updatedAt": o.updated_at,
            "archived": o.archived,
            "teams": teams,
        }

    def owners(req: Request, m: re.Match[str]) -> Response:
        archived = _flag(req, "archived")
        email = req.param("email")
        limit = _int_param(req, "limit", 100, 500)
        found = [o for o in data.owners if o.archived == archived and email in (None, o.email)]
        start = int(req.param("after") or 0)
        body: dict[str, Any] = {"results": [owner_json(o) for o in found[start : start + limit]]}
        if start + limit < len(found):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return Response.json(body)

    def owner(req: Request, m: re.Match[str]) -> Response:
        archived = _flag(req, "archived")
        for o in data.owners:
            if o.id == m["id"] and o.archived == archived:
                return Response.json(owner_json(o))
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Owner {m['id']} not found")

    def properties(req: Request, m: re.Match[str]) -> Response:
        return Response.json({"results": property_defs(_type(m["type"]))})

    def prop(req: Request, m: re.Match[str]) -> Response:
        for p in property_defs(_type(m["type"])):
            if p["name"] == m["name"]:
                return Response.json(p)
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Property {m['name']} does not exist")

    for method, pattern, handler, label in (
        ("GET", r"/crm/v3/pipelines/(?P<type>[\w-]+)/?", pipelines, "pipelines.list"),
        ("GET", r"/crm/v3/pipelines/(?P<type>[\w-]+)/(?P<pid>[^/]+)/?", pipeline, "pipelines.get"),
        ("GET", r"/crm/v3/owners/?", owners, "owners.list"),
        ("GET", r"/crm/v3/owners/(?P<id>\d+)/?", owner, "owners.get"),
        ("GET", r"/crm/v3/properties/(?P<type>[\w-]+)/?", properties, "properties.list"),
        ("GET", r"/crm/v3/properties/(?P<type>[\w-]+)/(?P<name>\w+)/?", prop, "properties.get"),
    ):
        router.add(method, pattern, handler, api="hubspot", endpoint=label)
