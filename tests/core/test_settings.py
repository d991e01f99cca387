"""Every settings error path names the key and the fix; valid files load as documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.registry import settings_models
from tracker.config_types import Secret
from tracker.errors import ConfigError
from tracker.settings import SourceSettings, load_settings, settings_from_dict

ROOT = Path(__file__).resolve().parents[2]


class TokenSource(SourceSettings):
    """A source kind with a secret, defined here to exercise secret handling."""

    access_token: Secret
    region: str = "eu"


MODELS: dict[str, type[SourceSettings]] = {**settings_models(), "token": TokenSource}
KINDS = ", ".join(sorted(MODELS))


def load(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "tracker.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, MODELS)


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, text)
    return str(exc.value)


def test_defaults_and_store_beside_config(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    assert settings.tracker.timezone == "UTC"
    assert settings.tracker.fiscal_year_start_month == 1
    assert settings.tracker.currency == "USD"
    assert settings.store.url == f"sqlite:///{tmp_path / 'tracker.db'}"
    assert settings.sources == {}


def test_example_config_parses_and_init_template_matches() -> None:
    example = ROOT / "config.example.toml"
    settings = load_settings(example, settings_models())
    assert settings.sources["export"].kind == "csv"
    template = ROOT / "tracker" / "templates" / "tracker.toml"
    assert template.read_text(encoding="utf-8") == example.read_text(encoding="utf-8")


def test_relative_paths_resolve_against_config_folder(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    settings = load_settings(
        _write(tmp_path / "cfg" / "t.toml", CSV_SOURCE + '[store]\nurl = "sqlite:///data/x.db"\n'),
        MODELS,
    )
    assert settings.sources["export"].path == tmp_path / "cfg" / "exports" / "deals.csv"  # type: ignore[attr-defined]
    assert settings.store.url == f"sqlite:///{tmp_path / 'cfg' / 'data' / 'x.db'}"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CSV_SOURCE = """
[sources.export]
kind = "csv"
path = "exports/deals.csv"
[sources.export.columns]
id = "id"
stage = "stage"
[sources.export.stages]
won = ["Won"]
"""


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found: run `tracker init`"):
        load_settings(tmp_path / "absent.toml", MODELS)


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    message = error(tmp_path, "[tracker]\ntimezone = \n")
    assert "tracker.toml: invalid TOML" in message and "line 2" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[trackr]\n",
            "trackr: unknown key (a typo?); valid keys here: email, goal_thresholds, goals, schedule, sources, store, tracker",
        ),
        (
            "[tracker]\ntimezon = 'UTC'\n",
            "tracker.timezon: unknown key (a typo?); valid keys here: currency",
        ),
        ("[tracker]\ntimezone = 'Mars/Base'\n", "tracker.timezone: unknown time zone 'Mars/Base'"),
        (
            "[tracker]\nfiscal_year_start_month = 13\n",
            "tracker.fiscal_year_start_month: Input should be less than or equal to 12",
        ),
        (
            "[tracker]\nfiscal_year_start_month = 0\n",
            "tracker.fiscal_year_start_month: Input should be greater than or equal to 1",
        ),
        (
            "[tracker]\ncurrency = 'dollars'\n",
            "tracker.currency: 'dollars' is not a 3-letter ISO currency code",
        ),
        (
            "[tracker.exchange_rates]\nEUR = -1\n",
            "tracker.exchange_rates: EUR = -1.0: give 3-letter codes and positive rates",
        ),
        (
            "[store]\nurl = 'not a url'\n",
            "store.url: not a database URL; use e.g. 'sqlite:///tracker.db'",
        ),
        ("[store]\nurl = 'mysql://x/y'\n", "store.url: unsupported database 'mysql'"),
        ("[store]\nurl = 'sqlite:///x.db'\npool = 3\n", "store.pool: unknown key"),
        (
            "[sources.a]\npath = 'x.csv'\n",
            f"sources.a.kind: required key is missing; one of: {KINDS}",
        ),
        (
            "[sources.a]\nkind = 'salesforse'\n",
            f"sources.a.kind: unknown kind 'salesforse'; valid kinds: {KINDS}",
        ),
        ("[sources.'a b']\nkind = 'csv'\n", "sources.a b: source names use letters, digits"),
        ("sources = 3\n", "sources: must be a table"),
        (
            "[sources.t]\nkind = 'token'\naccess_token = 'abc123'\n",
            "sources.t.access_token: secrets are never literal values",
        ),
        (
            "[sources.t]\nkind = 'token'\naccess_token = {env = 'A', file = 'b'}\n",
            "sources.t.access_token: give exactly one of",
        ),
        (
            "[sources.t]\nkind = 'token'\naccess_token = {vault = 'A'}\n",
            "sources.t.access_token.vault: unknown key (a typo?); valid keys here: env, file",
        ),
        ("[sources.t]\nkind = 'token'\n", "sources.t.access_token: required key is missing"),
        (
            "[sources.e]\nkind = 'csv'\npath = 'd.pdf'\n[sources.e.columns]\nid='i'\nstage='s'\n[sources.e.stages]\nwon=['W']\n",
            "sources.e.path: d.pdf: expected a .csv",
        ),
        (
            "[sources.e]\nkind = 'csv'\npath = 'd.csv'\n[sources.e.columns]\nid='i'\nstage='s'\nowner_name='o'\n[sources.e.stages]\nwon=['W']\n",
            "sources.e.columns.owner_name: unknown key (a typo?); valid keys here: account, amount",
        ),
        (
            "[sources.e]\nkind = 'csv'\npath = 'd.csv'\n[sources.e.columns]\nid='i'\n[sources.e.stages]\nwon=['W']\n",
            "sources.e.columns.stage: required key is missing",
        ),
        (
            "[sources.e]\nkind = 'csv'\npath = 'd.csv'\n[sources.e.columns]\nid='i'\nstage='s'\n[sources.e.stages]\nwon=[]\n",
            "sources.e.stages.won: List should have at least 1 item",
        ),
    ],
)
def test_errors_name_the_key_and_the_fix(tmp_path: Path, text: str, expected: str) -> None:
    message = error(tmp_path, text)
    assert expected in message


def test_error_is_one_line(tmp_path: Path) -> None:
    message = error(tmp_path, "[tracker]\ntimezone = 'X/Y'\ncurrency = 'no'\nfoo = 1\n")
    assert "\n" not in message
    assert message.count(";") >= 2


def test_secret_from_env_is_read_only_when_revealed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load(
        tmp_path, "[sources.hubspot]\nkind = 'token'\naccess_token = {env = 'HUBSPOT_TOKEN'}\n"
    )
    secret = settings.sources["hubspot"].access_token
    monkeypatch.delenv("HUBSPOT_TOKEN", raising=False)
    with pytest.raises(ConfigError) as exc:
        secret.reveal()
    assert str(exc.value) == (
        "sources.hubspot.access_token: environment variable HUBSPOT_TOKEN is not set"
    )
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-na1-s3cr3t")
    assert secret.reveal() == "pat-na1-s3cr3t"
    shown = repr(settings) + str(settings.redacted()) + repr(secret)
    assert "s3cr3t" not in shown
    assert "<from env HUBSPOT_TOKEN>" in str(settings.redacted())


def test_secret_from_file_resolves_relative_and_strips(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_text("file-s3cr3t\n", encoding="utf-8")
    settings = load(tmp_path, "[sources.t]\nkind = 'token'\naccess_token = {file = 'token.txt'}\n")
    assert settings.sources["t"].access_token.reveal() == "file-s3cr3t"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "sources.t.access_token: cannot read secret file"),
        ("\n", "sources.t.access_token: secret file"),
    ],
)
def test_secret_file_errors(tmp_path: Path, content: str | None, expected: str) -> None:
    if content is not None:
        (tmp_path / "token.txt").write_text(content, encoding="utf-8")
    settings = load(tmp_path, "[sources.t]\nkind = 'token'\naccess_token = {file = 'token.txt'}\n")
    with pytest.raises(ConfigError, match=expected):
        settings.sources["t"].access_token.reveal()


def test_unknown_source_lookup_lists_configured(tmp_path: Path) -> None:
    settings = settings_from_dict({}, base_dir=tmp_path, source_models=MODELS)
    with pytest.raises(
        ConfigError, match="unknown source 'x'; configured sources: none configured"
    ):
        settings.source("x")
