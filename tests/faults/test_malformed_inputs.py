"""Malformed input anywhere a user writes one: the config and its sections, goals, goal
files, quota files, e-mail settings, CLI flags and CSV rows. Each gives one line naming
the place (file, key, row or flag) and what to write instead, the documented exit code,
and writes nothing: no store is created by a command that fails on its input, and a
store that exists is left as it was."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.csv_factory import write_config, write_csv
from tracker.cli import app

pytestmark = pytest.mark.slow

GOAL = """
[[goals]]
id = "revenue"
metric = "revenue"
period = "2025-Q2"
target = 100000
why = "the plan"
"""


@dataclass(frozen=True)
class Case:
    """One malformed input: how to make it, what to run, what must come back."""

    id: str
    edit: Callable[[Path], None]
    args: tuple[str, ...]
    message: str  # what the one error line holds (the place and the fix)
    code: int = 2
    synced_first: bool = False  # the case needs data in the store (quota owners)


def append(text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        config = folder / "tracker.toml"
        config.write_text(config.read_text(encoding="utf-8") + text, encoding="utf-8")

    return edit


def replace(old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        config = folder / "tracker.toml"
        text = config.read_text(encoding="utf-8")
        assert old in text, old
        config.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def files(**contents: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        for name, text in contents.items():
            (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")

    return edit


def both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        for one in edits:
            one(folder)

    return edit


def remove_config(folder: Path) -> None:
    (folder / "tracker.toml").unlink()


SYNC = ("sync",)
SCHEDULE = ("scheduler", "list")
REPORT = ("report", "--as-of", "2025-06-15")
QUOTA_GOAL = (
    '\n[[goals]]\nid = "q"\nmetric = "revenue"\nperiod = "2025-Q2"\nquotas = "quotas.csv"\n'
    'why = "quota"\n'
)
ACTIVITIES = (
    '[sources.export.activities]\npath = "acts.csv"\n'
    'columns = { id = "id", kind = "type", occurred = "when" }\n'
)
EMAIL = '\n[email]\nhost = "127.0.0.1"\nfrom = "t@example.com"\n'

CASES = [
    # the config file and its core sections
    Case("config-missing", remove_config, SYNC, "tracker.toml not found: run `tracker init`"),
    Case("config-toml", append("[[[\n"), SYNC, "tracker.toml: invalid TOML"),
    Case("unknown-section", append("[trackr]\nx = 1\n"), SYNC, "trackr: unknown key (a typo?)"),
    Case(
        "timezone",
        replace('timezone = "UTC"', 'timezone = "Mars/Base"'),
        SYNC,
        "tracker.timezone: unknown time zone 'Mars/Base'",
    ),
    Case(
        "fiscal-month",
        replace('currency = "USD"', 'currency = "USD"\nfiscal_year_start_month = 13'),
        SYNC,
        "tracker.fiscal_year_start_month: ",
    ),
    Case(
        "currency",
        replace('currency = "USD"', 'currency = "US"'),
        SYNC,
        "tracker.currency: 'US' is not a 3-letter ISO currency code",
    ),
    Case(
        "exchange-rate",
        replace("EUR = 1.1", "EUR = -1"),
        SYNC,
        "tracker.exchange_rates: EUR = -1.0: give 3-letter codes and positive rates",
    ),
    Case(
        "store-password-in-url",
        replace('url = "sqlite:///tracker.db"', 'url = "postgresql+psycopg://u:secret@db/x"'),
        SYNC,
        "store.url: no passwords in the URL",
    ),
    Case(
        "store-backend",
        replace('url = "sqlite:///tracker.db"', 'url = "mysql://db/x"'),
        SYNC,
        "store.url: unsupported database 'mysql'",
    ),
    # sources
    Case(
        "source-name", append('[sources."bad name!"]\nkind = "csv"\n'), SYNC, "sources.bad name!:"
    ),
    Case("source-kind", append('[sources.pd]\nkind = "pipedrive"\n'), SYNC, "sources.pd.kind: "),
    Case(
        "csv-no-path",
        append(
            '[sources.y]\nkind = "csv"\ncolumns = { id = "a", stage = "b" }\n'
            'stages = { won = ["W"] }\n'
        ),
        SYNC,
        "sources.y.path: required key is missing",
    ),
    Case(
        "csv-no-id-column",
        replace('id = "opportunity_id"\n', ""),
        SYNC,
        "sources.export.columns.id: required key is missing",
    ),
    Case("csv-suffix", replace('.csv"', '.pdf"'), SYNC, "expected a .csv, .tsv or .xlsx file"),
    Case(
        "csv-decimal",
        replace("[sources.export.columns]", 'decimal_separator = ";"\n[sources.export.columns]'),
        SYNC,
        "sources.export.decimal_separator: ",
    ),
    # a CSV source's activities table
    Case(
        "csv-activities-true",
        replace("[sources.export.columns]", "activities = true\n[sources.export.columns]"),
        SYNC,
        "sources.export.activities: a CSV source's activities come from their own file: write a "
        "[sources.NAME.activities] table",
    ),
    Case(
        "csv-activities-no-path",
        append(ACTIVITIES.replace('path = "acts.csv"\n', "")),
        SYNC,
        "sources.export.activities.path: required key is missing",
    ),
    Case(
        "csv-activities-no-kind-column",
        append(ACTIVITIES.replace('kind = "type", ', "")),
        SYNC,
        "sources.export.activities.columns.kind: required key is missing",
    ),
    Case(
        "csv-activities-column-typo",
        append(ACTIVITIES.replace("occurred =", "ocurred =")),
        SYNC,
        "sources.export.activities.columns.ocurred: unknown key",
    ),
    Case(
        "csv-activities-suffix",
        append(ACTIVITIES.replace("acts.csv", "acts.pdf")),
        SYNC,
        "sources.export.activities.path: acts.pdf: expected a .csv, .tsv or .xlsx file",
    ),
    Case(
        "csv-activities-kind-twice",
        append(ACTIVITIES + 'kinds = { call = ["Ring"], meeting = ["ring"] }\n'),
        SYNC,
        "sources.export.activities.kinds: 'ring' is listed as both call and meeting",
    ),
    Case(
        "csv-activities-kind-values",
        append(ACTIVITIES + 'kinds = { call = "Ring" }\n'),
        SYNC,
        "sources.export.activities.kinds.call: ",
    ),
    Case("sf-no-auth", append('[sources.sf]\nkind = "salesforce"\n'), SYNC, "sources.sf"),
    Case(
        "sf-literal-token",
        append(
            '[sources.sf]\nkind = "salesforce"\ninstance_url = "https://x.my.salesforce.com"\n'
            'access_token = "00Dabc!secret"\n'
        ),
        SYNC,
        "sources.sf.access_token: secrets are never literal values",
    ),
    Case(
        "hs-no-token",
        append('[sources.hs]\nkind = "hubspot"\n'),
        SYNC,
        "sources.hs.access_token: required key is missing",
    ),
    Case(
        "hs-batch",
        append('[sources.hs]\nkind = "hubspot"\naccess_token = { env = "X" }\nbatch_size = 5\n'),
        SYNC,
        "sources.hs.batch_size: ",
    ),
    Case(
        "hs-retry",
        append(
            '[sources.hs]\nkind = "hubspot"\naccess_token = { env = "X" }\n'
            "[sources.hs.retry]\nmax_attempts = 0\n"
        ),
        SYNC,
        "sources.hs.retry.max_attempts: ",
    ),
    Case(
        "secret-env-unset",
        append(
            '[sources.hs]\nkind = "hubspot"\naccess_token = { env = "TRACKER_TEST_UNSET_TOKEN" }\n'
        ),
        ("sync", "hs"),
        "environment variable TRACKER_TEST_UNSET_TOKEN is not set",
    ),
    # goals, goal files and quotas
    Case(
        "goal-no-target",
        append(GOAL.replace("target = 100000\n", "")),
        REPORT,
        "target: required key is missing",
    ),
    Case(
        "goal-period-and-every",
        append(GOAL.replace('period = "2025-Q2"', 'period = "2025-Q2"\nevery = "quarter"')),
        REPORT,
        "give exactly one of period",
    ),
    Case(
        "goal-metric",
        append(GOAL.replace('metric = "revenue"', 'metric = "revnue"')),
        REPORT,
        "unknown metric 'revnue': did you mean 'revenue'?",
    ),
    Case(
        "goal-relative-period",
        append(GOAL.replace('"2025-Q2"', '"this-quarter"')),
        REPORT,
        "'this-quarter' is relative",
    ),
    Case(
        "goal-baseline",
        append(GOAL + 'baseline = "median"\n'),
        REPORT,
        "'median' is not a baseline",
    ),
    Case(
        "goal-notify", append(GOAL + 'notify = ["bob"]\n'), REPORT, "'bob' is not an email address"
    ),
    Case("goal-duplicate-id", append(GOAL + GOAL), REPORT, "revenue"),
    Case(
        "goal-file-toml",
        both(
            replace('currency = "USD"', 'currency = "USD"\ngoal_files = ["more.toml"]'),
            files(more__toml="[[goals]\n"),
        ),
        REPORT,
        "more.toml: invalid TOML",
    ),
    Case("quotas-missing", append(QUOTA_GOAL), REPORT, "quotas.csv"),
    Case(
        "quotas-owner",
        both(append(QUOTA_GOAL), files(quotas__csv="owner,target\nNobody Here,100\n")),
        REPORT,
        "unknown owner 'Nobody Here'",
        synced_first=True,
    ),
    Case(
        "quotas-duplicate",
        both(append(QUOTA_GOAL), files(quotas__csv="owner,target\nBo Chen,100\nbo chen,200\n")),
        REPORT,
        "owner 'bo chen' is also on line 2",
        synced_first=True,
    ),
    Case(
        "quotas-target",
        both(append(QUOTA_GOAL), files(quotas__csv="owner,target\nBo Chen,lots\n")),
        REPORT,
        "quotas.csv",
        synced_first=True,
    ),
    # e-mail settings
    Case(
        "email-from",
        append(EMAIL.replace("t@example.com", "nobody")),
        ("email",),
        "email.from: 'nobody' is not an email address",
    ),
    Case(
        "email-age",
        append(EMAIL + 'max_data_age = "soon"\n'),
        ("email",),
        "email.max_data_age: 'soon' is not a duration",
    ),
    Case(
        "email-password",
        append(EMAIL + 'username = "u"\npassword = "hunter2"\n'),
        ("email",),
        "email.password: secrets are never literal values",
    ),
    Case("email-security", append(EMAIL + 'security = "tls"\n'), ("email",), "email.security: "),
    Case(
        "email-no-host",
        append('\n[email]\nfrom = "t@example.com"\n' + GOAL),
        ("email",),
        "[email] host: required to send mail",
    ),
    # the schedule (checked by every command that loads the config; `scheduler list` shows it)
    Case(
        "schedule-cron-range",
        append('\n[schedule]\nsync = "0 25 * * *"\n'),
        SCHEDULE,
        "schedule.sync: '0 25 * * *': ",
    ),
    Case(
        "schedule-cron-weekday",
        append('\n[schedule]\ndigest = "0 7 * * FUNDAY"\n'),
        SCHEDULE,
        "schedule.digest: '0 7 * * FUNDAY': Invalid weekday name \"FUNDAY\"",
    ),
    Case(
        "schedule-unknown-key",
        append('\n[schedule]\nsnyc = "0 2 * * *"\n'),
        SCHEDULE,
        "schedule.snyc: unknown key (a typo?)",
    ),
    Case(
        "schedule-grace",
        append('\n[schedule]\nsync = "0 2 * * *"\nmisfire_grace = "soon"\n'),
        SCHEDULE,
        "schedule.misfire_grace: 'soon' is not a duration",
    ),
    Case(
        "schedule-source",
        append('\n[schedule.sources]\nhubspot = "0 2 * * *"\n'),
        SCHEDULE,
        "schedule.sources.hubspot: no such source; configured: export",
    ),
    Case(
        "schedule-timezone",
        append('\n[schedule]\ntimezone = "Mars/Base"\nsync = "0 2 * * *"\n'),
        SYNC,
        "schedule.timezone: unknown time zone 'Mars/Base'",
    ),
    # flags
    Case(
        "flag-as-of",
        append(GOAL),
        ("report", "--as-of", "2026-13-01"),
        "bad --as-of '2026-13-01': write a date as YYYY-MM-DD",
    ),
    Case("flag-by", lambda _: None, ("metrics", "--by", "tier"), "unknown dimension 'tier'"),
    Case("flag-format", lambda _: None, ("metrics", "--format", "xml"), "unknown format 'xml'"),
    Case("flag-period", append(GOAL), ("report", "--period", "2026-Q5"), "2026-Q5"),
    Case(
        "flag-source",
        lambda _: None,
        ("sync", "exprt"),
        "unknown source 'exprt'; did you mean 'export'?",
    ),
    Case(
        "flag-global-after",
        lambda _: None,
        ("sync", "--verbose"),
        "--verbose is an option of tracker itself: put it before the command",
    ),
    Case(
        "flag-email-as-of",
        append(EMAIL + GOAL),
        ("email", "--as-of", "yesterday"),
        "bad --as-of 'yesterday'",
    ),
]


def _state(folder: Path) -> str | None:
    """A digest of the store's rows (None when there is no store)."""
    db = folder / "tracker.db"
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        dump = [
            (t, sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall())))
            for t in sorted(tables)
        ]
    return hashlib.sha256(repr(dump).encode()).hexdigest()


def test_there_are_at_least_40_cases_with_distinct_ids() -> None:
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_is_one_line_naming_the_place_and_writes_nothing(
    tmp_path: Path, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_TEST_UNSET_TOKEN", raising=False)
    write_config(tmp_path, write_csv(tmp_path / "crm.csv", 60), "sqlite:///tracker.db")
    runner = CliRunner()
    config = ["--config", str(tmp_path / "tracker.toml")]
    if case.synced_first:
        assert runner.invoke(app, [*config, "sync"]).exit_code == 0
    before = _state(tmp_path)
    case.edit(tmp_path)
    result = runner.invoke(app, [*config, *case.args])
    err = result.stderr
    assert result.exit_code == case.code, (result.exit_code, err, result.exception)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert case.message in err, err
    assert "Traceback" not in err + result.stdout
    assert _state(tmp_path) == before  # no store made, or the one there unchanged


def test_malformed_csv_rows_are_named_by_line_and_only_they_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    export = write_csv(tmp_path / "crm.csv", 12)
    lines = export.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",2025-07-18,", ",2024-02-30,")  # 30 February
    lines[5] = lines[5].replace('"', "")  # "2,797.05" unquoted: one column too many
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_config(tmp_path, export, "sqlite:///tracker.db")
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "tracker.toml"), "sync"])
    assert result.exit_code == 3, result.stderr  # partial: the documented code for rejects
    assert "crm.csv:4: engage_date: '2024-02-30' is not a date" in result.stderr
    assert "crm.csv:6: " in result.stderr
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        stored = {r[0] for r in conn.execute("SELECT external_id FROM deals")}
    assert stored == {f"OPP{i:07d}" for i in range(12)} - {"OPP0000002", "OPP0000004"}


def test_malformed_activity_rows_are_named_by_line_and_only_they_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, write_csv(tmp_path / "crm.csv", 4), "sqlite:///tracker.db")
    config.write_text(config.read_text(encoding="utf-8") + ACTIVITIES, encoding="utf-8")
    (tmp_path / "acts.csv").write_text(
        "id,type,when\n"
        "C1,call,2025-03-04T10:00:00\n"
        "C2,Lunch,2025-03-05\n"
        "C3,meeting,2025-02-30\n"
        "C4,email,2025-03-06\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["--config", str(config), "sync"])
    assert result.exit_code == 3, result.stderr  # partial: the documented code for rejects
    assert (
        "acts.csv:3: type: 'Lunch' is not a known activity kind; list it under "
        "sources.export.activities.kinds as one of call, meeting, email, task"
    ) in result.stderr
    assert "acts.csv:4: when: '2025-02-30' is not a date" in result.stderr
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        stored = {r[0] for r in conn.execute("SELECT external_id FROM activities")}
    assert stored == {"C1", "C4"}
