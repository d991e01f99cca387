"""The activity metrics: calls, meetings and emails held, and two ratios to deals
(``docs/metrics.md`` states each one in words).

Each function reads the calls, meetings and emails of a layer of periods
(``data.activities``, see ``tracker.metrics.activity_frame``: only the ``done`` ones
count), and for the ratios the deals, grouped by the same keys: an activity falls in its
owner's owner/team/region group, a deal in its owner's. Dimension values are compared as
plain objects, since the two frames categorise them apart.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pandas.core.groupby import SeriesGroupBy

from tracker.metrics.compute import PERIOD_KEY, PeriodData
from tracker.metrics.definitions import ratio, share
from tracker.metrics.registry import REGISTRY


def _grouped(frame: pd.DataFrame, keys: list[str], series: pd.Series) -> SeriesGroupBy[Any, Any]:
    by = [frame[k] if k == PERIOD_KEY else frame[k].astype(object) for k in keys]
    return series.groupby(by, sort=False)


def _of_kind(data: PeriodData, kind: str) -> pd.DataFrame:
    acts = data.activities
    return acts[(acts["kind"] == kind).to_numpy()]


def _done(acts: pd.DataFrame) -> pd.DataFrame:
    return acts[acts["done"].to_numpy()]


def _known_share(acts: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per group, the share of ``acts`` whose completion is known."""
    known = _grouped(acts, keys, acts["known"])
    return share(known.sum(), known.size())


def activity_count(data: PeriodData, keys: list[str], kind: str) -> pd.DataFrame:
    """Completed activities of ``kind`` per group: value and n the count, coverage the
    share of the group's activities of that kind whose completion is known."""
    acts = _of_kind(data, kind)
    done = _grouped(acts, keys, acts["done"]).sum().astype("int64")
    return pd.DataFrame({"value": done, "n": done, "coverage": _known_share(acts, keys)})


def _per_deal(numerator: pd.Series, denominator: pd.Series, coverage: pd.Series) -> pd.DataFrame:
    """``numerator / denominator`` over the groups either has (null where the denominator
    is 0), n the denominator."""
    index = numerator.index.union(denominator.index)
    top = numerator.reindex(index, fill_value=0).astype("float64")
    bottom = denominator.reindex(index, fill_value=0)
    return pd.DataFrame(
        {
            "value": ratio(top, bottom.astype("float64")),
            "n": bottom.astype("int64"),
            "coverage": coverage.reindex(index),
        }
    )


def _register_count(name: str, kind: str) -> None:
    """Register ``name``: the completed activities of ``kind`` in the period."""

    def count(data: PeriodData, keys: list[str]) -> pd.DataFrame:
        return activity_count(data, keys, kind)

    count.__doc__ = f"Completed {name} in the period."
    REGISTRY.metric(
        name,
        unit="count",
        direction="higher",
        kind="cumulative",
        source="activities",
        empty_value=0.0,
        description=(
            f"Completed {name} (not deleted) that occurred in the period, by local date in "
            "the org's time zone."
        ),
    )(count)


for _name, _kind in (("calls", "call"), ("meetings", "meeting"), ("emails", "email")):
    _register_count(_name, _kind)


@REGISTRY.metric(
    "meetings_per_won_deal",
    unit="ratio",
    direction="higher",
    kind="rate",
    source="activities",
    description="meetings ÷ deals_won in the period; null if no deal won.",
)
def meetings_per_won_deal(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Meetings held per deal won in the period."""
    meetings = _of_kind(data, "meeting")
    held = _grouped(meetings, keys, meetings["done"]).sum()
    won = data.won
    won_count = _grouped(won, keys, won["is_won"]).size()
    return _per_deal(held, won_count, _known_share(meetings, keys))


@REGISTRY.metric(
    "activities_per_open_deal",
    unit="ratio",
    direction="higher",
    kind="rate",
    source="activities",
    fields=("created",),
    description=(
        "Calls, meetings and emails in the period on deals open at its end ÷ deals open "
        "at its end; null if none open."
    ),
)
def activities_per_open_deal(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Activities in the period on the deals open at its end, per such deal."""
    acts = _done(data.activities)
    deals = data.open_at_end
    open_keys = pd.MultiIndex.from_arrays(
        [deals[PERIOD_KEY], deals["source"].astype(object), deals["external_id"].astype(object)]
    )
    act_keys = pd.MultiIndex.from_arrays(
        [acts[PERIOD_KEY], acts["source"].astype(object), acts["deal"]]
    )
    on_open = pd.Series(act_keys.isin(open_keys), index=acts.index)
    linked = _grouped(acts, keys, acts["deal"] != "")
    numerator = _grouped(acts, keys, on_open).sum()
    open_count = _grouped(deals, keys, deals["is_closed"]).size()
    return _per_deal(numerator, open_count, share(linked.sum(), linked.size()))
