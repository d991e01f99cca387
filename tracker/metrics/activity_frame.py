"""The activities frame activity metrics read, built from the store's rows (pure, no I/O).

``tracker.metrics.load.load_activities`` returns one *raw* row per live (not deleted)
call, meeting or email, with the owner columns joined on ``(source, owner id)``, the
linked deal's pipeline and the account's segment when a dimension needs them.
:func:`prepare_activities` keeps the *completed* ones and turns them into:

==============  ==============================================================
column          meaning
==============  ==============================================================
source          configured source name
kind            ``call``, ``meeting`` or ``email``
day             the local date it occurred on, as days since 1970-01-01: the date
                of ``occurred_at`` in ``tracker.timezone``, else ``occurred_on`` as
                it is (NaN when neither is known)
has_owner       it has an owner
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


def completed(raw: pd.DataFrame) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
    """Which raw rows count as completed (see the module doc)."""
    done = raw["is_completed"].to_numpy(dtype=object)
    unknown = pd.isna(done)
    said = np.where(unknown, False, done).astype(bool)
    meeting = (raw["kind"].astype(object) == "meeting").to_numpy()
    return np.asarray(said | (unknown & meeting), dtype=bool)


def prepare_activities(
    raw: pd.DataFrame, *, timezone: str, dimensions: Iterable[str] = ()
) -> pd.DataFrame:
    """Build the activities frame from the loader's raw rows (see the module doc)."""
    raw = raw[completed(raw) & raw["kind"].isin(ACTIVITY_KINDS).to_numpy()]
    frame = pd.DataFrame(index=raw.index)
    frame["kind"] = raw["kind"].astype(object)
    at = local_days(raw["occurred_at"], timezone)
    frame["day"] = at.where(at.notna(), day_numbers(raw["occurred_on"]))
    owner = raw["owner_external_id"].to_numpy(dtype=object)
    frame["has_owner"] = ~pd.isna(owner)
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
