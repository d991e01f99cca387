"""[schedule]: configuration errors naming the key, and the next runs across daylight-saving
changes in New York and Berlin (once on the skipped day, at its first valid minute; once
on the repeated day), computed with explicit clocks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from connectors.registry import settings_models
from jobs.scheduler import next_runs, planned_jobs
from tracker.cli import app
from tracker.errors import ConfigError
from tracker.settings import settings_from_dict


def settings(schedule: dict[str, object], timezone: str = "America/New_York") -> object:
    source = {
        "kind": "csv",
        "path": "x.csv",
        "columns": {"id": "id", "stage": "s"},
        "stages": {"won": ["W"]},
    }
    return settings_from_dict(
        {"tracker": {"timezone": timezone}, "sources": {"crm": source}, "schedule": schedule},
        base_dir=Path("/tmp"),
        source_models=settings_models(),
    )


@pytest.mark.parametrize(
    ("zone", "cron", "start", "expected"),
    [
        # spring forward: 02:30 does not exist on 8 March (NY) / 29 March (Berlin)
        (
            "America/New_York",
            "30 2 * * *",
            datetime(2026, 3, 7, 12),
            ["03-08 03:00 EDT", "03-09 02:30 EDT", "03-10 02:30 EDT"],
        ),
        (
            "Europe/Berlin",
            "30 2 * * *",
            datetime(2026, 3, 28, 12),
            ["03-29 03:00 CEST", "03-30 02:30 CEST", "03-31 02:30 CEST"],
        ),
        # fall back: 01:30 (NY, 1 November) and 02:30 (Berlin, 25 October) happen twice
        (
            "America/New_York",
            "30 1 * * *",
            datetime(2026, 10, 31, 12),
            ["11-01 01:30 EDT", "11-02 01:30 EST", "11-03 01:30 EST"],
        ),
        (
            "Europe/Berlin",
            "30 2 * * *",
            datetime(2026, 10, 24, 12),
            ["10-25 02:30 CEST", "10-26 02:30 CET", "10-27 02:30 CET"],
        ),
        # an hourly job keeps its hours on the repeated day, each wall time once
        (
            "America/New_York",
            "15 * * * *",
            datetime(2026, 11, 1, 0),
            ["11-01 00:15 EDT", "11-01 01:15 EDT", "11-01 02:15 EST"],
        ),
    ],
)
def test_daily_jobs_run_once_on_both_dst_days(
    zone: str, cron: str, start: datetime, expected: list[str]
) -> None:
    [job] = planned_jobs(settings({"sync": cron}, zone))  # type: ignore[arg-type]
    tz = ZoneInfo(zone)
    runs = next_runs(job, start.replace(tzinfo=tz), 3)
    assert [f"{r.astimezone(tz):%m-%d %H:%M %Z}" for r in runs] == expected


def test_jobs_exist_only_for_keys_set_with_explicit_ids() -> None:
    found = planned_jobs(
        settings(
            {
                "sync": "0 2 * * *",
                "digest": "0 7 * * MON",  # type: ignore[arg-type]
                "sources": {"crm": "0 */4 * * *"},
            }
        )
    )
    assert [(j.id, j.kind, j.source) for j in found] == [
        ("sync", "sync", None),
        ("digest", "digest", None),
        ("sync:crm", "sync", "crm"),
    ]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"sync": "0 2 * *"}, "schedule.sync: '0 2 * *' is not a cron expression (5 fields"),
        ({"sync": "0 0 2 * * * *"}, "schedule.sync: '0 0 2 * * * *' is not a cron expression"),
        ({"digest": "0 7 * * 8"}, "schedule.digest: '0 7 * * 8': day of week '8' is not 0-7"),
        ({"digest": "0 7 * * 5-1"}, "schedule.digest: '0 7 * * 5-1': day-of-week range '5-1' "),
        ({"digest": "0 7 * * FUNDAY"}, "schedule.digest: '0 7 * * FUNDAY': "),
        ({"snapshot": "61 2 * * *"}, "schedule.snapshot: '61 2 * * *': "),
        ({"sources": {"crm": "0 25 * * *"}}, "schedule.sources.crm: '0 25 * * *': "),
    ],
)
def test_bad_cron_is_a_configuration_error_naming_the_key(
    schedule: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        planned_jobs(settings(schedule))  # type: ignore[arg-type]
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("weekday", "expected_days"),
    [
        # 2026-12-06 is a Sunday; crontab: 0 and 7 Sunday, 1 Monday … 6 Saturday
        ("0", ["Sun", "Sun", "Sun"]),
        ("7", ["Sun", "Sun", "Sun"]),
        ("1", ["Mon", "Mon", "Mon"]),
        ("1-5", ["Mon", "Tue", "Wed"]),
        ("5-7", ["Sun", "Fri", "Sat"]),
        ("0,6", ["Sun", "Sat", "Sun"]),
        ("*/3", ["Sun", "Wed", "Sat"]),  # 0, 3, 6
        ("SUN", ["Sun", "Sun", "Sun"]),
        ("mon-fri", ["Mon", "Tue", "Wed"]),
    ],
)
def test_crontab_day_numbers_mean_what_crontab_means(
    weekday: str, expected_days: list[str]
) -> None:
    [job] = planned_jobs(settings({"digest": f"0 7 * * {weekday}"}))  # type: ignore[arg-type]
    start = datetime(2026, 12, 5, 12, 0, tzinfo=ZoneInfo("America/New_York"))  # a Saturday
    runs = next_runs(job, start, 3)
    assert [f"{r:%a}" for r in runs] == expected_days
    assert {(r.hour, r.minute) for r in runs} == {(7, 0)}


def test_six_fields_put_seconds_first() -> None:
    [job] = planned_jobs(settings({"sync": "*/20 * * * * *"}))  # type: ignore[arg-type]
    start = datetime(2026, 12, 5, 12, 0, 5, tzinfo=ZoneInfo("America/New_York"))
    assert [f"{r:%H:%M:%S}" for r in next_runs(job, start, 4)] == [
        "12:00:20",
        "12:00:40",
        "12:01:00",
        "12:01:20",
    ]
    [daily] = planned_jobs(settings({"sync": "0 2 * * *"}))  # type: ignore[arg-type]
    assert {f"{r:%H:%M:%S}" for r in next_runs(daily, start, 3)} == {"02:00:00"}


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"synk": "0 2 * * *"}, "schedule.synk: unknown key (a typo?)"),
        ({"misfire_grace": "later"}, "schedule.misfire_grace: 'later' is not a duration"),
        ({"timezone": "Mars/Base"}, "schedule.timezone: unknown time zone 'Mars/Base'"),
        (
            {"sources": {"hubspot": "0 2 * * *"}},
            "schedule.sources.hubspot: no such source; configured: crm",
        ),
    ],
)
def test_bad_schedule_keys_fail_at_load(schedule: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(schedule)
    assert str(caught.value).startswith(message)


def test_scheduler_list_shows_each_job_and_its_next_runs(tmp_path: Path) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text(
        '[tracker]\ntimezone = "Europe/Berlin"\n[schedule]\nsync = "0 2 * * *"\n'
        'digest = "0 7 * * MON"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["--config", str(config), "scheduler", "list", "--next", "2"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["sync", "digest"]
    assert all("(Europe/Berlin)  next: " in line and line.count("CE") == 2 for line in lines)
    assert " 02:00 CE" in lines[0] and " 07:00 CE" in lines[1]
