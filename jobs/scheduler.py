"""The schedule of ``[schedule]`` on APScheduler 3.11 (its triggers; ``jobs/daemon.py`` runs it).

This module turns the configuration into jobs with explicit ids and DST-safe cron
triggers, and says when each runs next (``tracker scheduler list``). A job exists only if
its key is set; a per-source entry of ``[schedule.sources]`` replaces the shared sync
for that source.

Cron wall times and daylight saving time: APScheduler's cron trigger runs a daily job at
a wall time the spring-forward day skips one hour late, and twice on the fall-back day
(once per occurrence of the repeated hour). ``DstSafeCronTrigger`` runs it once on both
days: at the first valid minute after the skipped hour, and only at the first occurrence
of a repeated time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from tracker.errors import ConfigError
from tracker.settings import Settings

JOB_KINDS = ("sync", "reconcile", "snapshot", "digest")
CRON_FORM = (
    "5 fields: minute hour day-of-month month day-of-week, e.g. '0 2 * * *' "
    "(or 6 with seconds first: '*/10 * * * * *')"
)
#: crontab day numbers: 0 and 7 are Sunday, 1 is Monday (APScheduler's own numbers start
#: at Monday = 0, so numbers are translated to names)
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """The local wall time of an instant, without zone."""
    return moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


class DstSafeCronTrigger(CronTrigger):  # type: ignore[misc]
    """A cron trigger that fires once on each day of a daylight-saving change."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The next fire time, moved out of a skipped hour and never a repeated wall time."""
        zone = self.timezone
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        for _ in range(3):  # at most one skipped and one repeated occurrence in a row
            if fire is None:
                return None
            wall = fire.replace(tzinfo=None)
            if _wall(fire, zone) != wall:  # in the hour the clocks skip: the first valid minute
                instant = fire.astimezone(UTC) - timedelta(hours=3)
                while _wall(instant, zone) < wall:
                    instant += timedelta(minutes=1)
                fire = instant.astimezone(zone)
            repeated = previous_fire_time is not None and (
                fire <= previous_fire_time or _wall(fire, zone) == _wall(previous_fire_time, zone)
            )
            if not repeated:
                return fire
            # the hour the clocks repeat: look again from just after this wall time's second
            # occurrence (APScheduler would offer that second occurrence again)
            after = (_wall(fire, zone) + timedelta(minutes=1)).replace(tzinfo=zone, fold=1)
            fire = super().get_next_fire_time(None, after.astimezone(UTC).astimezone(zone))
        return None


@dataclass(frozen=True)
class PlannedJob:
    """One job of the schedule: its id, what it runs, and when."""

    id: str
    kind: str
    source: str | None
    cron: str
    key: str  # the config key it comes from
    trigger: DstSafeCronTrigger


def _day_number(token: str) -> int:
    word = token.strip().lower()
    if word.isdigit():
        number = int(word)
        if number > 7:
            raise ValueError(f"day of week {token!r} is not 0-7 (0 and 7: Sunday)")
        return number
    if word in _DAY_NAMES:
        return _DAY_NAMES.index(word)
    raise ValueError(f"unknown day of week {token!r}")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (numbers: 0 or 7 Sunday, 1 Monday … 6 Saturday; names;
    ranges, lists and steps) as APScheduler reads it: the days by name."""
    if not any(ch.isdigit() for ch in field):
        return field  # "*", names and name ranges mean the same to both
    days: list[str] = []
    for token in field.split(","):
        base, _, step = token.partition("/")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            first, last = (_day_number(part) for part in base.split("-", 1))
        else:
            first = last = _day_number(base)
            if step:
                last = 6
        if first > last:
            raise ValueError(f"day-of-week range {base!r} runs backwards")
        days.extend(_DAY_NAMES[d] for d in range(first, last + 1, int(step) if step else 1))
    return ",".join(dict.fromkeys(days))


def cron_trigger(expression: str, zone: ZoneInfo, key: str) -> DstSafeCronTrigger:
    """The trigger of a cron expression (crontab's 5 fields, or 6 with seconds first); a
    ``ConfigError`` naming ``key`` if it is not one."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ConfigError(f"{key}: {expression!r} is not a cron expression ({CRON_FORM})")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    try:
        trigger = DstSafeCronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone=zone,
        )
    except ValueError as exc:
        raise ConfigError(f"{key}: {expression!r}: {exc} ({CRON_FORM})") from None
    return trigger


def planned_jobs(settings: Settings) -> list[PlannedJob]:
    """Every job the configuration asks for, with explicit ids (``sync:NAME`` per source
    with its own schedule, else ``sync``; ``reconcile``, ``snapshot``, ``digest``)."""
    schedule = settings.schedule
    zone = ZoneInfo(schedule.zone(settings.tracker))
    jobs: list[PlannedJob] = []
    own = schedule.sources
    for kind in JOB_KINDS:
        expression = getattr(schedule, kind)
        if expression is None:
            continue
        key = f"schedule.{kind}"
        jobs.append(
            PlannedJob(kind, kind, None, expression, key, cron_trigger(expression, zone, key))
        )
    for name, expression in sorted(own.items()):
        key = f"schedule.sources.{name}"
        jobs.append(
            PlannedJob(
                f"sync:{name}", "sync", name, expression, key, cron_trigger(expression, zone, key)
            )
        )
    return jobs


def next_runs(job: PlannedJob, now: datetime, count: int = 3) -> list[datetime]:
    """The job's next ``count`` runs after ``now``, in the schedule's time zone."""
    out: list[datetime] = []
    previous: datetime | None = None
    moment = now
    while len(out) < count:
        fire = job.trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        out.append(fire)
        previous, moment = fire, fire + timedelta(seconds=1)
    return out
