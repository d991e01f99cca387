"""The activities frame activity metrics read, built from the store's rows (pure, no I/O).

``tracker.metrics.load.load_activities`` returns one *raw* row per live (not deleted)
call, meeting or email, with the owner columns joined on ``(source, owner id)``, the
linked deal's pipeline and the account's segment when a dimension needs them.
:func:`prepare_activities` turns them into:

==============  ==============================================================
column          meaning
==============  ==============================================================
source          configured source name
kind            ``call``, ``meeting`` or ``email``
day             the local date it occurred on, as days since 1970-01-01: the date
                of ``occurred_at`` in ``tracker.timezone``, else ``occurred_on`` as
                it is (NaN when neither is known)
done            it counts as completed (below)
known           whether it was completed is known: ``is_completed`` is set, or it
                is a meeting (see below); a call or email without it is unknown
deal            the external id of the deal it is about ('' when unlinked)
owner ...       dimensions (owner, team, region, source, pipeline, segment) as
                categoricals, '' meaning "none": the owner's team and region as for
                deals, the linked deal's pipeline, the account's segment
==============  ==============================================================

*Completed* means ``is_completed`` is true, or, for a meeting whose CRM does not say
(null: a Salesforce Event), that it has started by the period's end, which every meeting
placed in a period has.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from tracker.metrics.frame import DIMENSION_COLUMNS, add_dimensions, day_numbers, local_days

ACTIVITY_KINDS: tuple[str, ...] = ("call", "meeting", "email")
"""The kinds activity metrics count (tasks count in none)."""

ACTIVITY_COLUMNS: tuple[str, ...] = (
    "source",
    "kind",
    "owner_external_id",
    "occurred_at",
    "occurred_on",
    "is_completed",
    "deal_external_id",
)
"""Raw columns every activities frame needs."""


def prepare_activities(
    raw: pd.DataFrame, *, timezone: str, dimensions: Iterable[str] = ()
) -> pd.DataFrame:
    """Build the activities frame from the loader's raw rows (see the module doc)."""
    raw = raw[raw["kind"].isin(ACTIVITY_KINDS).to_numpy()]
    frame = pd.DataFrame(index=raw.index)
    frame["kind"] = raw["kind"].astype(object)
    at = local_days(raw["occurred_at"], timezone)
    frame["day"] = at.where(at.notna(), day_numbers(raw["occurred_on"]))
    said = raw["is_completed"].to_numpy(dtype=object)
    unknown = pd.isna(said)
    meeting = (frame["kind"] == "meeting").to_numpy()
    frame["done"] = np.where(unknown, False, said).astype(bool) | (unknown & meeting)
    frame["known"] = ~unknown | meeting
    deal = raw["deal_external_id"].to_numpy(dtype=object)
    frame["deal"] = np.where(pd.isna(deal), "", deal)
    add_dimensions(frame, raw, dimensions)
    return frame.reset_index(drop=True)


def activity_columns(dimensions: Iterable[str]) -> list[str]:
    """The raw columns an activities frame with ``dimensions`` needs, in a stable order."""
    wanted = list(ACTIVITY_COLUMNS)
    for dim in dimensions:
        wanted.extend(DIMENSION_COLUMNS[dim])
    return list(dict.fromkeys(wanted))
