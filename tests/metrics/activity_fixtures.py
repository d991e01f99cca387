"""A hand-written week of activities (and the deals they are about) for the activity
metrics, with every figure worked out by hand in ``docs``-style comments below.

Weeks 2026-W37 (Mon 7 – Sun 13 September) and 2026-W38 (14 – 20 September), org time
zone Europe/Berlin (UTC+2 then). Owners: Ann and Bob (team EMEA, region EU), Cy (team US,
region NA, no deal at all).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import insert as insert_into

from tests.metrics.metrics_fixtures import deal, insert, utc
from tracker.models import Activity, Owner

EMEA = {"team": "EMEA", "region": "EU"}
ANN = {"owner_external_id": "o1", "owner_name": "Ann", **EMEA}
BOB = {"owner_external_id": "o2", "owner_name": "Bob", **EMEA}
CY = {"source": "crm", "external_id": "o3", "name": "Cy", "team": "US", "region": "NA"}


def activity(
    external_id: str,
    kind: str,
    owner: str | None,
    when: datetime | None = None,
    *,
    on: date | None = None,
    done: bool | None = True,
    deal_id: str | None = None,
    deleted: bool = False,
) -> dict[str, Any]:
    """An activity row of source ``crm``."""
    return {
        "source": "crm",
        "external_id": external_id,
        "kind": kind,
        "owner_external_id": owner,
        "occurred_at": when,
        "occurred_on": on,
        "is_completed": done,
        "deal_external_id": deal_id,
        "is_deleted": deleted,
    }


def deals() -> list[dict[str, Any]]:
    """d1 Ann won in W37; d2 Ann open; d3 Bob lost in W38 (open at the end of W37); d4 Bob
    won in W37; d5 Bob open, created in W38; d6 Ann open but deleted."""
    return [
        deal(
            "d1", won=True, close_date=date(2026, 9, 10), created_at=utc("2026-08-01 09:00"), **ANN
        ),
        deal("d2", created_at=utc("2026-08-15 09:00"), **ANN),
        deal(
            "d3", lost=True, close_date=date(2026, 9, 16), created_at=utc("2026-08-20 09:00"), **BOB
        ),
        deal(
            "d4", won=True, close_date=date(2026, 9, 11), created_at=utc("2026-09-01 09:00"), **BOB
        ),
        deal("d5", created_at=utc("2026-09-15 09:00"), **BOB),
        deal("d6", created_at=utc("2026-08-15 09:00"), is_deleted=True, **ANN),
    ]


def activities() -> list[dict[str, Any]]:
    """The activities; what each one counts for is said beside it."""
    return [
        # W37 meetings: a1, a2 (Ann), a10 (Bob), a14 (no owner) = 4
        activity("a1", "meeting", "o1", utc("2026-09-07 09:00"), deal_id="d2"),
        activity("a2", "meeting", "o1", utc("2026-09-08 10:00"), done=None, deal_id="d1"),
        # Sunday 23:30 UTC is Monday 01:30 in Berlin: W38 there, W37 in UTC
        activity("a3", "meeting", "o1", utc("2026-09-13 23:30"), deal_id="d2"),
        activity("a4", "meeting", "o1", utc("2026-09-09 10:00"), done=False, deal_id="d2"),
        activity("a5", "meeting", "o1", utc("2026-09-09 11:00"), deal_id="d2", deleted=True),
        # W37 calls: a6, a7 (Ann, a7 unlinked), a11 (Bob), a13 (Cy, unlinked) = 4
        activity("a6", "call", "o1", utc("2026-09-07 12:00"), deal_id="d2"),
        activity("a7", "call", "o1", utc("2026-09-08 12:00")),
        activity("a8", "call", "o1", utc("2026-09-08 13:00"), done=None, deal_id="d2"),
        # W37 emails: a9 (Bob), a16 (Ann: 21:30 UTC Sunday is still Sunday in Berlin) = 2
        activity("a9", "email", "o2", utc("2026-09-10 08:00"), deal_id="d3"),
        activity("a10", "meeting", "o2", utc("2026-09-11 08:00"), deal_id="d4"),
        activity("a11", "call", "o2", on=date(2026, 9, 12), deal_id="d3"),  # a day only
        # W38: one meeting of Bob's on d5
        activity("a12", "meeting", "o2", utc("2026-09-15 08:00"), deal_id="d5"),
        activity("a13", "call", "o3", utc("2026-09-09 08:00")),
        activity("a14", "meeting", None, utc("2026-09-10 08:00")),
        activity("a15", "task", "o1", utc("2026-09-09 08:00"), deal_id="d2"),
        activity("a16", "email", "o1", utc("2026-09-13 21:30"), deal_id="d2"),
    ]


def insert_week(engine: Engine) -> None:
    """Write the deals, Cy (an owner without deals) and the activities to a store."""
    insert(engine, deals())
    with engine.begin() as conn:
        conn.execute(insert_into(Owner.__table__), [CY])  # type: ignore[attr-defined]
        conn.execute(insert_into(Activity.__table__), activities())  # type: ignore[attr-defined]
