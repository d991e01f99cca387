"""Every message and label tells the truth: hints, names in any case, plurals, help."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.cli.test_commands import _commands, invoke
from tests.csv_factory import HEADER, rows, write_config, write_csv


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, write_csv(tmp_path / "deals.csv", 60), "sqlite:///tracker.db")


def test_init_prints_the_next_step_intact(tmp_path: Path) -> None:
    code, out, _ = invoke("--config", str(tmp_path / "t.toml"), "init")
    assert code == 0
    assert out.strip().endswith("edit [sources.*], then run `tracker sync`")


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith("tracker ") and out.strip() != "tracker"


def test_a_global_option_after_the_command_says_where_it_goes(config: Path) -> None:
    code, _, err = invoke("sync", "--config", str(config))
    assert code == 2
    assert err == (
        "error: --config is an option of tracker itself: put it before the command "
        "(tracker --config ... sync)\n"
    )


def test_names_are_read_in_any_case(config: Path) -> None:
    assert invoke("--config", str(config), "sync")[0] == 0
    code, out, _ = invoke(
        "--config",
        str(config),
        "metrics",
        "-p",
        "2024",
        "-m",
        "Revenue",
        "--by",
        "Team",
        "-f",
        "JSON",
    )
    assert code == 0
    report = json.loads(out)
    assert {row["metric"] for row in report["rows"]} == {"revenue"}
    assert {tuple(row["scope"]) for row in report["rows"]} == {(), ("team",)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["metrics", "-m", "revnue"], "unknown metric 'revnue': did you mean 'revenue'?"),
        (["metrics", "--by", "tem"], "unknown dimension 'tem': did you mean 'team'?"),
        (["metrics", "-f", "jsno"], "unknown format 'jsno': did you mean 'json'?"),
        (["sync", "exprot"], "unknown source 'exprot'; did you mean 'export'?"),
    ],
)
def test_unknown_names_suggest_the_closest(config: Path, args: list[str], message: str) -> None:
    code, _, err = invoke("--config", str(config), *args)
    assert code == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1


def test_an_impossible_date_in_a_range_is_named(config: Path) -> None:
    code, _, err = invoke("--config", str(config), "metrics", "-p", "2026-02-30..2026-03-01")
    assert code == 2
    assert err == "error: period '2026-02-30..2026-03-01': 2026-02-30 is not a valid date\n"


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "tracker")
def test_help_has_no_type_placeholders(path: list[str]) -> None:
    code, out, _ = invoke(*path, "--help")
    assert code == 0 and "<bool>" not in out
    options = [line for line in out.splitlines() if line.lstrip().startswith("-")]
    # an option that takes a value names it (FILE, PERIOD...), never a type placeholder
    assert not [line for line in options if re.search(r"<[a-z]+(\[[a-z]+\])?>", line)], out


def test_help_lists_every_exit_code_including_rejected_rows() -> None:
    for path in ([], ["sync"]):
        out = " ".join(invoke(*path, "--help")[1].split())
        for code in ("0 ", "1 error", "2 usage or configuration error", "3 partial"):
            assert code in out, (path, code)
        assert "rows rejected" in out or "had rows rejected" in out


def test_one_more_rejected_row_is_singular_and_rows_changed_is_explained(tmp_path: Path) -> None:
    good = rows(5)
    bad = [[*r[:7], "not a date", *r[8:]] for r in rows(11, seed=3)]
    for number, row in enumerate(bad):
        row[0] = f"BAD{number}"
    path = tmp_path / "deals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(good + bad)
    config = write_config(tmp_path, path, "sqlite:///tracker.db")
    code, out, err = invoke("--config", str(config), "sync")
    assert code == 3
    assert err.count("warning: export: deals.csv:") == 10
    assert err.splitlines()[-1] == (
        "warning: export: 1 more row rejected; all of them: tracker status --rejects export"
    )
    assert (
        "changed: rows of deals, accounts, owners and line items inserted or updated"
        in " ".join(out.split())
    )


MISSING_SECRETS = """
[sources.hs]
kind = "hubspot"
access_token = { env = "TRACKER_TEST_NO_SUCH_HS_TOKEN" }
[sources.sf]
kind = "salesforce"
instance_url = "https://example.my.salesforce.com"
access_token = { env = "TRACKER_TEST_NO_SUCH_SF_TOKEN" }
"""


def test_a_missing_secret_is_a_configuration_error_unless_other_sources_synced(
    config: Path,
) -> None:
    config.write_text(config.read_text(encoding="utf-8") + MISSING_SECRETS, encoding="utf-8")
    # every source it names stops on a missing secret: configuration error, one line,
    # before anything is written
    code, _, err = invoke("--config", str(config), "sync", "hs", "sf")
    assert code == 2
    assert err.startswith("error: hs: sources.hs.access_token: environment variable ")
    assert "; sf: sources.sf.access_token: environment variable " in err
    assert err.count("\n") == 1
    status = json.loads(invoke("--config", str(config), "status", "--format", "json")[1])
    assert all(s["last_run"] is None for s in status["sources"])
    # the CSV source synced while the two CRMs could not: partial
    code, _, _ = invoke("--config", str(config), "sync")
    assert code == 3
    status = json.loads(invoke("--config", str(config), "status", "--format", "json")[1])
    outcomes = {s["source"]: s["last_run"]["outcome"] for s in status["sources"]}
    assert outcomes == {"export": "ok", "hs": "failed", "sf": "failed"}
