"""Options and values shared by several commands, defined once (sqlite-utils' way)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import typer

from tracker.errors import UsageError

OUTPUT = typer.Option(
    None, "--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.", dir_okay=False
)


def local_today(text: str | None, timezone: str, *, flag: str = "--today") -> date:
    """The date given as YYYY-MM-DD, else today in ``timezone``."""
    if text is None:
        return datetime.now(ZoneInfo(timezone)).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"bad {flag} '{text}': write a date as YYYY-MM-DD") from None


def local_moment(text: str, timezone: str, *, flag: str) -> datetime:
    """A local date (its last instant) or date-time as an aware instant."""
    try:
        if len(text.strip()) == 10:
            moment = datetime.combine(date.fromisoformat(text.strip()), time.max)
        else:
            moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"bad {flag} '{text}': write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment
