"""Activities from a CSV/XLSX file (``[sources.NAME.activities]``): file → connector → sync
engine → store, checked against hand-computed records.

The files are European: day-first dates (``31/12/2026``), decimal commas, and times local
to Europe/Berlin (UTC+1 in winter, UTC+2 in summer).
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from connectors.base import SyncContext
from connectors.csv.connector import CsvConnector
from connectors.registry import settings_models
from tests.connectors.store_truth import activity_differences
from tracker.errors import SourceError
from tracker.records import ActivityRecord
from tracker.settings import Settings, load_settings
from tracker.store import Store
from tracker.sync import SyncResult, run_sync

CONFIG = """
[tracker]
timezone = "Europe/Berlin"
currency = "EUR"
[store]
url = "{store_url}"
[sources.export]
kind = "csv"
path = "deals.csv"
date_format = "%d/%m/%Y"
decimal_separator = ","
[sources.export.columns]
id = "Deal ID"
stage = "Stage"
owner = "Owner"
account = "Account"
created = "Created"
closed = "Closed"
amount = "Amount"
[sources.export.stages]
won = ["Won"]
[sources.export.activities]
path = "{activities}"
date_format = "%d/%m/%Y %H:%M"
[sources.export.activities.columns]
id = "Activity ID"
kind = "Type"
subject = "Subject"
owner = "Assigned To"
occurred = "Date"
duration_minutes = "Duration (min)"
completed = "Done"
outcome = "Result"
deal = "Opportunity ID"
account = "Account"
[sources.export.activities.kinds]
call = ["Phone Call"]
email = ["E-Mail"]
task = ["To-Do"]
"""
DEALS = [
    ["Deal ID", "Stage", "Owner", "Account", "Created", "Closed", "Amount"],
    ["D1", "Won", "Ana", "Acme", "05/01/2026", "01/02/2026", "1.000,50"],
    ["D2", "Open", "Bo", "Globex", "07/01/2026", "", ""],
]
HEADER = [
    "Activity ID",
    "Type",
    "Subject",
    "Assigned To",
    "Date",
    "Duration (min)",
    "Done",
    "Result",
    "Opportunity ID",
    "Account",
]
# the same six activities as text (CSV) and as typed cells (XLSX)
CSV_ROWS: list[list[Any]] = [
    [
        "A1",
        "Phone Call",
        "Intro call",
        "Ana",
        "31/12/2026 09:30",
        "12,5",
        "yes",
        "Connected",
        "D1",
        "Acme",
    ],
    ["A2", "meeting", "Demo", "Ana", "15/07/2026 14:00", "60", "no", "No show", "D1", "Acme"],
    ["A3", "E-Mail", "Follow-up", "Bo", "31/12/2026", "", "", "", "D2", "Globex"],
    ["A4", "to-do", "Send contract", "Bo", "01/03/2026", "", "1", "", "", ""],
    ["A5", "Call", "Cold call", "Bo", "32/12/2026 10:00", "5", "yes", "", "", ""],
    ["A6", "Lunch", "Team lunch", "Ana", "02/01/2026", "", "", "", "", ""],
]
XLSX_ROWS: list[list[Any]] = [
    ["A1", "Phone Call", "Intro call", "Ana", datetime(2026, 12, 31, 9, 30), 12.5, True, "Connected", "D1", "Acme"],
    ["A2", "meeting", "Demo", "Ana", datetime(2026, 7, 15, 14, 0), 60, False, "No show", "D1", "Acme"],
    ["A3", "E-Mail", "Follow-up", "Bo", date(2026, 12, 31), None, None, None, "D2", "Globex"],
    ["A4", "to-do", "Send contract", "Bo", date(2026, 3, 1), None, 1, None, None, None],
    ["A5", "Call", "Cold call", "Bo", "32/12/2026 10:00", 5, True, None, None, None],
    ["A6", "Lunch", "Team lunch", "Ana", date(2026, 1, 2), None, None, None, None, None],
]  # fmt: skip
# worked out by hand: Berlin is UTC+1 on 31 December and UTC+2 on 15 July
EXPECTED = [
    ActivityRecord(
        external_id="A1",
        kind="call",
        subject="Intro call",
        owner_external_id="Ana",
        occurred_at=datetime(2026, 12, 31, 8, 30, tzinfo=UTC),
        duration_minutes=12.5,
        is_completed=True,
        outcome="Connected",
        deal_external_id="D1",
        account_external_id="Acme",
    ),
    ActivityRecord(
        external_id="A2",
        kind="meeting",
        subject="Demo",
        owner_external_id="Ana",
        occurred_at=datetime(2026, 7, 15, 12, 0, tzinfo=UTC),
        duration_minutes=60.0,
        is_completed=False,
        outcome="No show",
        deal_external_id="D1",
        account_external_id="Acme",
    ),
    ActivityRecord(
        external_id="A3",
        kind="email",
        subject="Follow-up",
        owner_external_id="Bo",
        occurred_on=date(2026, 12, 31),
        deal_external_id="D2",
        account_external_id="Globex",
    ),
    ActivityRecord(  # unlinked: no deal, no account
        external_id="A4",
        kind="task",
        subject="Send contract",
        owner_external_id="Bo",
        occurred_on=date(2026, 3, 1),
        is_completed=True,
    ),
]
KINDS_KEY = "sources.export.activities.kinds"


def write_file(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    """A CSV, or an XLSX workbook with typed cells, by the path's suffix."""
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        for values in [header, *rows]:
            sheet.append(values)
        book.save(path)
        return path
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def setup(tmp_path: Path, store: Store, activities: str) -> Settings:
    write_file(tmp_path / "deals.csv", DEALS[1:], DEALS[0])
    config = tmp_path / "tracker.toml"
    config.write_text(CONFIG.format(store_url=store.url, activities=activities), encoding="utf-8")
    return load_settings(config, settings_models())


def connector(settings: Settings) -> CsvConnector:
    source = settings.source("export")
    return CsvConnector("export", source, SyncContext(tracker=settings.tracker))


def sync(settings: Settings, store: Store) -> SyncResult:
    c = connector(settings)
    c.check()
    return run_sync(store, "export", "csv", c.batches)


def stored(store: Store, where: str = "1 = 1") -> set[str]:
    with store.engine.connect() as conn:
        sql = f"SELECT external_id FROM activities WHERE {where}"
        return {r[0] for r in conn.execute(text(sql))}


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_activities_file_is_stored_as_worked_out_by_hand(
    tmp_path: Path, store: Store, suffix: str
) -> None:
    name = f"activities.{suffix}"
    write_file(tmp_path / name, CSV_ROWS if suffix == "csv" else XLSX_ROWS)
    settings = setup(tmp_path, store, name)
    result = sync(settings, store)
    assert result.outcome == "partial" and result.exit_code == 3
    assert [str(r) for r in result.rejected] == [
        f"{name}:6: Date: '32/12/2026 10:00' is not a date in '%d/%m/%Y %H:%M' or "
        "'%d/%m/%Y' or ISO 8601",
        f"{name}:7: Type: 'Lunch' is not a known activity kind; list it under {KINDS_KEY} as "
        "one of call, meeting, email, task",
    ]
    assert activity_differences(store, "export", EXPECTED) == []
    assert stored(store) == {"A1", "A2", "A3", "A4"}
    assert stored(store, "deal_external_id IS NULL") == {"A4"}
    with store.engine.connect() as conn:
        deals = conn.execute(text("SELECT external_id, amount FROM deals")).all()
    assert sorted(deals) == [("D1", 1000.5), ("D2", None)]
    again = sync(settings, store)
    assert again.counts.changed.get("activities", 0) == 0
    assert again.counts.activities_deleted == 0


def test_an_activity_missing_from_a_newer_file_is_marked_deleted(
    tmp_path: Path, store: Store
) -> None:
    path = write_file(tmp_path / "activities.csv", CSV_ROWS)
    settings = setup(tmp_path, store, path.name)
    assert sync(settings, store).outcome == "partial"
    write_file(path, [r for r in CSV_ROWS if r[0] != "A2"])
    result = sync(settings, store)
    assert result.counts.activities_deleted == 1
    assert stored(store, "is_deleted") == {"A2"}
    deleted = [a for a in EXPECTED if a.external_id != "A2"]
    assert activity_differences(store, "export", deleted) == []
    # rejected rows keep their activity: a bad A5 row later never deletes a stored A5
    fixed = [*CSV_ROWS[:4], ["A5", "Call", "Cold call", "Bo", "30/12/2026 10:00", "5", "yes"]]
    write_file(path, [[*r, *[""] * (len(HEADER) - len(r))] for r in fixed])
    assert sync(settings, store).outcome == "ok"
    write_file(path, CSV_ROWS)  # A5 unreadable again, A2 back
    result = sync(settings, store)
    assert result.counts.activities_deleted == 0
    assert stored(store, "NOT is_deleted") == {"A1", "A2", "A3", "A4", "A5"}


@pytest.mark.parametrize(
    ("rows", "warning"),
    [
        ([], "activity deletions not applied: no row could be mapped"),
        (
            [[*r[:1], "Lunch", *r[2:]] for r in CSV_ROWS],
            "activity deletions not applied: no row could be mapped",
        ),
        (
            [CSV_ROWS[0], ["", *CSV_ROWS[1][1:]]],
            "activity deletions not applied: 1 row without an id, activities.csv:3",
        ),
    ],
    ids=["header-only", "every-row-rejected", "a-row-without-id"],
)
def test_a_file_that_maps_nothing_deletes_nothing(
    tmp_path: Path, store: Store, rows: list[list[Any]], warning: str
) -> None:
    path = write_file(tmp_path / "activities.csv", CSV_ROWS)
    settings = setup(tmp_path, store, path.name)
    sync(settings, store)
    write_file(path, rows)
    result = sync(settings, store)
    assert warning in result.warnings
    assert result.counts.activities_deleted == 0
    assert stored(store, "NOT is_deleted") == {"A1", "A2", "A3", "A4"}


def test_a_missing_activities_column_or_file_is_named_with_its_key(
    tmp_path: Path, store: Store
) -> None:
    path = write_file(tmp_path / "activities.csv", [r[:-1] for r in CSV_ROWS], HEADER[:-1])
    settings = setup(tmp_path, store, path.name)
    with pytest.raises(SourceError) as err:
        connector(settings).check()
    assert str(err.value).startswith(
        "activities.csv: column 'Account' (sources.export.activities.columns.account) not found"
    )
    path.unlink()
    with pytest.raises(SourceError, match="activities.csv: file not found"):
        connector(settings).check()
    assert stored(store) == set()


def test_without_an_activities_table_no_activity_is_read(tmp_path: Path, store: Store) -> None:
    write_file(tmp_path / "activities.csv", CSV_ROWS)
    settings = setup(tmp_path, store, "activities.csv")
    config = tmp_path / "tracker.toml"
    body = config.read_text(encoding="utf-8")
    config.write_text(body[: body.index("[sources.export.activities]")], encoding="utf-8")
    result = sync(load_settings(config, settings_models()), store)
    assert result.outcome == "ok" and stored(store) == set()
    assert settings.source("export").activities is not None  # the table is what turns it on


def test_the_worked_example_in_the_docs_gives_what_they_say(tmp_path: Path, store: Store) -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "csv.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Activities") :]
    example = section[section.index("```toml\n") + 8 : section.index("```\n", 10)]
    config = tmp_path / "tracker.toml"
    config.write_text(f'{example}\n[store]\nurl = "{store.url}"\n', encoding="utf-8")
    (tmp_path / "exports").mkdir()
    deals = [["Opportunity ID", "Stage", "Opportunity Owner", "Account Name"]]
    write_file(tmp_path / "exports/deals.csv", [["OPP-7", "Proposal", "Ana", "Acme"]], deals[0])
    header = [
        *["Activity ID", "Type", "Date", "Duration (min)", "Done", "Opportunity ID"],
        *["Subject", "Assigned To", "Result", "Account Name"],
    ]
    rows = [
        ["A1", "Phone Call", "31/12/2026 09:30", "12,5", "yes", "OPP-7"],
        ["A2", "Meeting", "15/07/2026 14:00", "60", "no", "OPP-7"],
        ["A3", "E-Mail", "31/12/2026", None, None, None],
        ["A4", "Lunch", "02/01/2026", None, None, None],
    ]
    write_file(tmp_path / "exports/activities.xlsx", rows, header)
    result = sync(load_settings(config, settings_models()), store)
    rejected = (
        "activities.xlsx:5: Type: 'Lunch' is not a known activity kind; list it under "
        "sources.export.activities.kinds as one of call, meeting, email, task"
    )
    assert [str(r) for r in result.rejected] == [rejected]
    assert rejected.replace("list it under ", "list it under\n") in section
    expected = [
        ActivityRecord(
            external_id="A1",
            kind="call",
            occurred_at=datetime(2026, 12, 31, 8, 30, tzinfo=UTC),
            duration_minutes=12.5,
            is_completed=True,
            deal_external_id="OPP-7",
        ),
        ActivityRecord(
            external_id="A2",
            kind="meeting",
            occurred_at=datetime(2026, 7, 15, 12, 0, tzinfo=UTC),
            duration_minutes=60.0,
            is_completed=False,
            deal_external_id="OPP-7",
        ),
        ActivityRecord(external_id="A3", kind="email", occurred_on=date(2026, 12, 31)),
    ]
    assert activity_differences(store, "export", expected) == []


def test_the_commented_activities_block_of_the_example_config_loads(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[3] / "config.example.toml").read_text("utf-8")
    lines = example.splitlines()
    start = lines.index(
        "# [sources.export.activities]     # optional: calls, meetings, emails, tasks (docs/csv.md);"
    )
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("# "))
    (tmp_path / "tracker.toml").write_text(example + "\n".join(block) + "\n", encoding="utf-8")
    acts = load_settings(tmp_path / "tracker.toml", settings_models()).source("export")
    activities = acts.activities  # type: ignore[attr-defined]
    assert activities.path == tmp_path / "exports" / "activities.csv"
    assert activities.columns.deal == "opportunity_id"
    assert activities.kinds.lookup()["phone call"] == "call"
