"""The deal metric definitions (``docs/metrics.md`` states each one in words; the activity
metrics are in ``activity_defs``).

Each function gets the deals of a layer of periods (``PeriodData``) and the group keys and
returns, per group that has rows, ``value``, ``n`` (the deals the value rests on) and
``coverage`` (the share of eligible deals that had the fields the metric needs), plus its
statistics. Deleted deals never reach the frame. Everything is a vectorised groupby.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.core.groupby import SeriesGroupBy

from tracker.metrics.compute import PeriodData
from tracker.metrics.registry import REGISTRY


def _grouped(frame: pd.DataFrame, keys: list[str], series: pd.Series) -> SeriesGroupBy[Any, Any]:
    return series.groupby([frame[k] for k in keys], observed=True, sort=False)


def share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """``part / whole`` with NaN where ``whole`` is 0."""
    whole = whole.astype("float64")
    return part.astype("float64") / whole.where(whole != 0)


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """``numerator / denominator``, NaN (null) where it is undefined or overflows: a zero
    denominator, or one so small the quotient is infinite, never reports ±inf."""
    quotient = numerator / denominator.where(denominator != 0)
    return quotient.where(np.isfinite(quotient.to_numpy(dtype="float64")))


def count_metric(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Deals per group (value and n), coverage 1 for every group that has deals."""
    size = _grouped(frame, keys, frame["is_won"]).size()
    return pd.DataFrame({"value": size, "n": size, "coverage": share(size, size)})


def sum_metric(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Σ ``column`` per group; null (not 0) for a group none of whose deals has it."""
    grouped = _grouped(frame, keys, frame[column])
    count = grouped.count()
    return pd.DataFrame(
        {"value": grouped.sum(min_count=1), "n": count, "coverage": share(count, grouped.size())}
    )


@REGISTRY.metric(
    "revenue",
    unit="money",
    direction="higher",
    kind="cumulative",
    fields=("amount",),
    empty_value=0.0,
    description="Σ amount (reporting currency) of won deals closed in the period; 0 if none.",
)
def revenue(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Σ amount of won deals closed in the period."""
    return sum_metric(data.won, keys, "amount")


@REGISTRY.metric(
    "deals_won",
    unit="count",
    direction="higher",
    kind="cumulative",
    empty_value=0.0,
    description="Number of deals closed won in the period.",
)
def deals_won(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Count of won deals closed in the period."""
    return count_metric(data.won, keys)


@REGISTRY.metric(
    "deals_lost",
    unit="count",
    direction="lower",
    kind="cumulative",
    empty_value=0.0,
    description="Number of deals closed lost in the period.",
)
def deals_lost(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Count of lost deals closed in the period."""
    return count_metric(data.lost, keys)


@REGISTRY.metric(
    "win_rate",
    unit="fraction",
    direction="higher",
    kind="rate",
    description="won ÷ (won + lost) by count, deals closed in the period; null if none.",
)
def win_rate(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Share of closed deals that were won, by count."""
    closed = data.closed
    grouped = _grouped(closed, keys, closed["is_won"])
    size = grouped.size()
    return pd.DataFrame(
        {"value": share(grouped.sum(), size), "n": size, "coverage": share(size, size)}
    )


@REGISTRY.metric(
    "win_rate_value",
    unit="fraction",
    direction="higher",
    kind="rate",
    fields=("amount",),
    description="Won amount ÷ closed amount, deals closed in the period with an amount.",
)
def win_rate_value(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Share of the closed amount that was won."""
    closed = data.closed
    amount = closed["amount"]
    won_amount = amount.where(closed["is_won"].to_numpy())
    total = _grouped(closed, keys, amount)
    count = total.count()
    won_sum = _grouped(closed, keys, won_amount).sum()
    value = ratio(won_sum, total.sum()).where(count > 0)
    return pd.DataFrame({"value": value, "n": count, "coverage": share(count, total.size())})


@REGISTRY.metric(
    "avg_deal_size",
    unit="money",
    direction="higher",
    kind="rate",
    fields=("amount",),
    description="revenue ÷ deals_won over won deals with an amount; null if none won.",
)
def avg_deal_size(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Mean amount of the won deals closed in the period."""
    won = data.won
    grouped = _grouped(won, keys, won["amount"])
    count = grouped.count()
    value = ratio(grouped.sum(), count.astype("float64"))
    return pd.DataFrame({"value": value, "n": count, "coverage": share(count, grouped.size())})


@REGISTRY.metric(
    "sales_cycle_days",
    unit="days",
    direction="lower",
    kind="rate",
    fields=("created",),
    stats=("mean", "p75", "negative_excluded"),
    count_stats=("negative_excluded",),
    description=(
        "Median days from created date to close date, won deals closed in the period; "
        "negative durations excluded (counted in negative_excluded)."
    ),
)
def sales_cycle_days(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Median (with mean and p75) of created → close days of won deals."""
    won = data.won
    days = won["close_day"] - won["created_day"]
    negative = days < 0
    usable = days.where(~negative.to_numpy())
    grouped = _grouped(won, keys, usable)
    count = grouped.count()
    return pd.DataFrame(
        {
            "value": grouped.median(),
            "n": count,
            "coverage": share(count, grouped.size()),
            "mean": grouped.mean(),
            "p75": grouped.quantile(0.75),
            "negative_excluded": _grouped(won, keys, negative).sum().astype("int64"),
        }
    )


@REGISTRY.metric(
    "new_customers",
    unit="count",
    direction="higher",
    kind="cumulative",
    fields=("account",),
    empty_value=0.0,
    description="Accounts whose first-ever won deal closes in the period.",
)
def new_customers(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Distinct accounts whose first-ever won deal closed in the period."""
    won = data.won
    firsts = _grouped(won, keys, won["first_won"]).sum().astype("int64")
    with_account = _grouped(won, keys, won["account"] != "").sum()
    size = _grouped(won, keys, won["is_won"]).size()
    return pd.DataFrame({"value": firsts, "n": firsts, "coverage": share(with_account, size)})


def _money_ratio(data: PeriodData, keys: list[str], other: str) -> tuple[pd.Series, ...]:
    """Σ net, Σ other and counts over won deals that have both net and ``other``."""
    won = data.won
    usable = (won["net_amount"].notna() & won[other].notna()).to_numpy()
    net = _grouped(won, keys, won["net_amount"].where(usable))
    second = _grouped(won, keys, won[other].where(usable))
    count = net.count()
    return net.sum(), second.sum(), count, share(count, net.size())


@REGISTRY.metric(
    "discount_pct",
    unit="fraction",
    direction="lower",
    kind="rate",
    fields=("net", "list"),
    description="1 − Σ net ÷ Σ list over won deals closed in the period that have a list.",
)
def discount_pct(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Discount off list price; negative when sold above list."""
    net, listed, count, coverage = _money_ratio(data, keys, "list_amount")
    value = (1.0 - ratio(net, listed)).where(count > 0)
    return pd.DataFrame({"value": value, "n": count, "coverage": coverage})


@REGISTRY.metric(
    "gross_margin_pct",
    unit="fraction",
    direction="higher",
    kind="rate",
    fields=("net", "cost"),
    description="(Σ net − Σ cost) ÷ Σ net over won deals closed in the period with a cost.",
)
def gross_margin_pct(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Gross margin over the won deals whose cost is known."""
    net, cost, count, coverage = _money_ratio(data, keys, "cost_amount")
    value = ratio(net - cost, net).where(count > 0)
    return pd.DataFrame({"value": value, "n": count, "coverage": coverage})


@REGISTRY.metric(
    "pipeline_created",
    unit="money",
    direction="higher",
    kind="cumulative",
    basis="created",
    fields=("amount", "created"),
    empty_value=0.0,
    description="Σ amount of deals created in the period (any stage, amount known).",
)
def pipeline_created(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Σ amount of deals created in the period."""
    return sum_metric(data.created, keys, "amount")
