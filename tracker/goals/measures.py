"""Measures goals need beyond the product's metrics, in a registry of their own.

They run on the same engine (``tracker.metrics.compute``) but are not metrics people
report on, so ``tracker metrics`` does not list them:

* ``open_pipeline`` / ``open_deals``: amount and count of deals whose (expected) close date
  falls in the period and that were created before it began: the pipeline open at its
  start. Replaying an earlier date counts the deals that closed since as open then.
* ``discount_given``: Σ (list − net) of won deals closed in the period that have both, in
  the reporting currency (for period-end discount clustering).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from tracker.metrics import MetricRegistry
from tracker.metrics.compute import PERIOD_KEY, PeriodData
from tracker.metrics.definitions import count_metric, sum_metric

MEASURES = MetricRegistry()


def _open_at_start(data: PeriodData) -> pd.DataFrame:
    deals = data.scheduled
    starts = np.array([float((p.start - date(1970, 1, 1)).days) for p in data.periods])
    created = deals["created_day"].to_numpy(dtype="float64")
    begun = starts[deals[PERIOD_KEY].to_numpy()]
    keep: pd.DataFrame = deals[np.isnan(created) | (created < begun)]
    return keep


@MEASURES.metric(
    "open_pipeline",
    unit="money",
    direction="higher",
    kind="cumulative",
    fields=("amount", "created"),
    empty_value=0.0,
    description="Σ amount of deals due to close in the period, open at its start.",
)
def open_pipeline(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Σ amount of the pipeline due in the period."""
    return sum_metric(_open_at_start(data), keys, "amount")


@MEASURES.metric(
    "open_deals",
    unit="count",
    direction="higher",
    kind="cumulative",
    fields=("created",),
    empty_value=0.0,
    description="Number of deals due to close in the period, open at its start.",
)
def open_deals(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Count of the deals due in the period."""
    return count_metric(_open_at_start(data), keys)


@MEASURES.metric(
    "discount_given",
    unit="money",
    direction="lower",
    kind="cumulative",
    fields=("net", "list"),
    empty_value=0.0,
    description="Σ (list − net) of won deals closed in the period that have both.",
)
def discount_given(data: PeriodData, keys: list[str]) -> pd.DataFrame:
    """Money given away off list price."""
    won = data.won
    return sum_metric(won.assign(_given=won["list_amount"] - won["net_amount"]), keys, "_given")
