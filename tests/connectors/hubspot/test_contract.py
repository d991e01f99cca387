"""HubSpot-specific contract checks beyond the shared suite (tests/connectors/test_contract.py):
a crash after more commit points (owners, companies and deal batches), API-call accounting,
and the config example block.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.settings import HubSpotSourceSettings
from tests.connectors.hubspot.conftest import SOURCE, Portal
from tracker.errors import SourceError
from tracker.records import Batch, JsonDict
from tracker.sync import run_sync

ROOT = Path(__file__).resolve().parents[3]


class Crash(SourceError):
    """Stands for the process dying right after a commit."""


def _stop_after(connector: HubSpotConnector, commits: int):  # type: ignore[no-untyped-def]
    def open_batches(cursor: JsonDict | None) -> Iterator[Batch]:
        for n, batch in enumerate(connector.batches(cursor)):
            if n == commits:
                raise Crash("crashed")
            yield batch

    return open_batches


@pytest.mark.parametrize("commits", [1, 2, 3, 5])
def test_crash_after_any_commit_resumes_to_the_truth(portal: Portal, commits: int) -> None:
    # batch_size 100: the owners batch, companies, then several deal batches
    crashed = run_sync(
        portal.store, SOURCE, "hubspot", _stop_after(portal.connector(batch_size=100), commits)
    )
    assert crashed.exit_code == 1 and crashed.error == "crashed"
    portal.sb.update_deals("hubspot", n=3)
    resumed = portal.sync(batch_size=100)
    assert resumed.exit_code == 0, resumed.error
    assert portal.differences() == []


def test_rerun_is_idempotent_and_calls_add_up(portal: Portal) -> None:
    first = portal.sync()
    assert first.api_calls == portal.requests()
    served = portal.requests()
    second = portal.sync()
    assert second.exit_code == 0
    assert sum(second.counts.changed.values()) == 0 and second.counts.deleted == 0
    assert second.api_calls == portal.requests() - served


def test_config_example_block_validates() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert text == (ROOT / "tracker" / "templates" / "tracker.toml").read_text(encoding="utf-8")
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("# [sources.hs"):
            inside = True
        elif inside and not line.startswith("#"):
            break
        if inside:
            body = line[2:] if line.startswith("# ") else ""
            lines.append(body[2:] if body.startswith("# ") and "=" in body else body)
    raw = tomllib.loads("\n".join(x for x in lines if not x.startswith("#")))
    settings = HubSpotSourceSettings.model_validate(raw["sources"]["hs"])
    assert settings.access_token.env == "HUBSPOT_TOKEN"
    documented = set(raw["sources"]["hs"])
    assert documented == set(HubSpotSourceSettings.model_fields)  # every key shown
