"""The ``[sources.sf]`` table: the documented example parses; bad tables fail naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from connectors.registry import settings_models
from connectors.salesforce.settings import SalesforceSourceSettings
from tracker.errors import ConfigError
from tracker.settings import settings_from_dict

ROOT = Path(__file__).resolve().parents[3]


def _example_tables() -> dict[str, object]:
    """The commented ``[sources.sf]`` example of config.example.toml, uncommented once."""
    lines = (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index(next(line for line in lines if line.startswith("# [sources.sf]")))
    block = []
    for line in lines[start:]:
        if not line.startswith("#") or line.startswith("# ----"):
            break
        block.append(line[2:] if line.startswith("# ") else "")
    return tomllib.loads("\n".join(block))


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    raw = _example_tables()
    settings = settings_from_dict(raw, base_dir=tmp_path, source_models=settings_models())
    sf = settings.sources["sf"]
    assert isinstance(sf, SalesforceSourceSettings)
    assert sf.auth_mode == "token"
    assert sf.fields.line_item_cost == "Unit_Cost__c"
    assert (sf.fields.segment, sf.fields.team, sf.fields.region) == (
        "Segment__c",
        "Department",
        "Region__c",
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "sources.sf: give exactly one auth mode"),
        (
            {"access_token": {"env": "X"}},
            "access_token needs instance_url",
        ),
        (
            {"instance_url": "https://x.my.salesforce.com", "access_token": "literal"},
            "sources.sf.access_token: secrets are never literal values",
        ),
        (
            {"username": "u", "password": {"env": "P"}},
            "password mode needs username, password and security_token",
        ),
        (
            {
                "instance_url": "https://x.my.salesforce.com",
                "access_token": {"env": "X"},
                "fields": {"segment": "Owner.Segment__c"},
            },
            "sources.sf.fields.segment: 'Owner.Segment__c': give a field of Account",
        ),
        (
            {"instance_url": "ftp://x", "access_token": {"env": "X"}},
            "sources.sf.instance_url: 'ftp://x' is not an instance URL",
        ),
        (
            {
                "instance_url": "https://x.my.salesforce.com",
                "access_token": {"env": "X"},
                "max_api_percent": 0,
            },
            "sources.sf.max_api_percent",
        ),
    ],
)
def test_bad_tables_name_the_key(tmp_path: Path, table: dict[str, object], message: str) -> None:
    raw = {"sources": {"sf": {"kind": "salesforce", **table}}}
    with pytest.raises(ConfigError) as err:
        settings_from_dict(raw, base_dir=tmp_path, source_models=settings_models())
    assert message in str(err.value)
