"""The HTTP core: routing, vendor error shapes, keep-alive, counters, the standalone runner."""

from __future__ import annotations

import http.client
import io
import json
import re
import threading
import time
import tomllib

import pytest
from hubspot import HubSpot

from sandbox import FaultSpecError, Sandbox
from sandbox.server import Request, Response, Router
from sandbox.standalone import serve_forever


def _get(sb: Sandbox, path: str, token: str | None = None) -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=5)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token or sb.hubspot_token}"})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read() or b"null")


def test_unknown_paths_answer_in_the_vendor_shape(sandbox: Sandbox) -> None:
    status, body = _get(sandbox, "/crm/v3/nothing-here")
    assert status == 404 and body["status"] == "error"  # type: ignore[index]
    status, body = _get(sandbox, "/services/data/v59.0/nothing", sandbox.salesforce_token)
    assert status == 404 and body[0]["errorCode"] == "NOT_FOUND"  # type: ignore[index]


def test_wrong_method_is_405(sandbox: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    conn.request("DELETE", "/crm/v3/owners/")
    assert conn.getresponse().status == 405


def test_keep_alive_serves_many_requests_on_one_connection(sandbox: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    headers = {"Authorization": f"Bearer {sandbox.hubspot_token}"}
    ports = set()
    for _ in range(20):
        conn.request("GET", "/crm/v3/objects/deals?limit=2", headers=headers)
        resp = conn.getresponse()
        assert resp.status == 200 and len(json.loads(resp.read())["results"]) == 2
        assert resp.getheader("Content-Type", "").startswith("application/json")
        ports.add(conn.sock.getsockname()[1])
    assert len(ports) == 1


def test_counters_by_endpoint_and_reset(sandbox: Sandbox, hs: HubSpot) -> None:
    hs.crm.deals.basic_api.get_page(limit=1)
    hs.crm.owners.owners_api.get_page()
    hs.crm.owners.owners_api.get_page()
    snap = sandbox.counters.snapshot()
    assert snap["requests"] == {"hubspot.deals.list": 1, "hubspot.owners.list": 2}
    assert snap["statuses"] == {"hubspot.200": 3}
    assert sandbox.counters.total_requests("hubspot") == 3
    sandbox.counters.reset()
    assert sandbox.counters.total_requests() == 0


def test_router_and_request_helpers() -> None:
    router = Router()

    def echo(req: Request, m: re.Match[str]) -> Response:
        return Response.json({"id": m["id"], "p": req.params("p"), "q": req.param("q")})

    router.add("GET", r"/x/(?P<id>\d+)", echo, api="hubspot", endpoint="echo")
    with pytest.raises(ValueError):
        router.add("GET", "/y", echo, api="zoho", endpoint="y")
    found = router.match("GET", "/x/42")
    assert not isinstance(found, int)
    route, m = found
    req = Request("GET", "/x/42", {"p": ["a", "b,c"], "q": ["1"]})
    assert json.loads(route.handler(req, m).body) == {"id": "42", "p": ["a", "b", "c"], "q": "1"}
    assert router.match("POST", "/x/42") == 405 and router.match("GET", "/z") == 404
    hostile = 'a"b\\c\r\n<script>\u202e🚀'
    assert json.loads(Response.json({"s": hostile}).body)["s"] == hostile


def test_serve_forever_prints_a_config_and_stops() -> None:
    out = io.StringIO()
    stop = threading.Event()
    thread = threading.Thread(
        target=serve_forever, args=(0, 120, 1, "500@hs,times=1", out), kwargs={"stop": stop}
    )
    thread.start()
    for _ in range(200):
        if "Ctrl-C" in out.getvalue():
            break
        time.sleep(0.02)
    text = out.getvalue()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    shell, _, pasted = text.partition("# 2. paste into tracker.toml\n")
    # the shell part pastes into a shell, the rest into tracker.toml, each as it is
    exports = [line.split("=")[0] for line in shell.splitlines() if line.startswith("export ")]
    assert exports == ["export SANDBOX_SALESFORCE_TOKEN", "export SANDBOX_HUBSPOT_TOKEN"]
    config = tomllib.loads(pasted)
    served = re.search(
        r"Salesforce ([\d,]+) live \+ ([\d,]+) deleted; HubSpot ([\d,]+) live \+ ([\d,]+) archived",
        text,
    )
    assert served is not None  # how many of the 120 deals are live
    assert sum(int(n.replace(",", "")) for n in served.groups()) == 120
    sources = config["sources"]
    assert {s["kind"] for s in sources.values()} == {"salesforce", "hubspot"}
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sources["sandbox-hubspot"]["base_url"])
    assert "500@hs" in text
    # the printed config is one the connectors accept as it is
    from pathlib import Path

    from connectors.registry import settings_models
    from tracker.settings import settings_from_dict

    settings = settings_from_dict(config, base_dir=Path("."), source_models=settings_models())
    assert sorted(settings.sources) == ["sandbox-hubspot", "sandbox-salesforce"]


def test_serve_forever_rejects_a_bad_spec() -> None:
    with pytest.raises(FaultSpecError):
        serve_forever(0, 100, 1, "explode@everything", io.StringIO())
