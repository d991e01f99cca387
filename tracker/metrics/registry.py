"""The metric registry: every metric is one registered function plus its description.

A metric function receives the deals (and, for activity metrics, the activities) of one
group of periods (``PeriodData``) and the group keys (always ``"_p"``, the period index,
then at most one dimension), and returns a frame indexed by those keys with the columns
``value``, ``n`` and ``coverage`` plus any statistics it publishes (``stats``). Groups
without any deal are filled by the engine with ``empty_value``, ``n = 0`` and a null
coverage, so a function only handles the groups that have rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tracker.errors import UsageError
from tracker.wording import unknown_name

if TYPE_CHECKING:
    import pandas as pd

    from tracker.metrics.compute import PeriodData

DEFINITIONS_VERSION = 2
"""Version of the metric definitions as a whole (``definitions_version`` in the JSON)."""

Unit = Literal["money", "count", "fraction", "days", "ratio"]
Direction = Literal["higher", "lower"]
Kind = Literal["cumulative", "rate"]
Basis = Literal["close", "created"]
Source = Literal["deals", "activities"]
"""What a metric reads: the deals frame only, or the activities frame as well."""
Field = Literal["amount", "created", "account", "list", "net", "cost"]
"""Deal fields a metric can need, beyond the ones every metric has (id, source, stage flags,
close date): see ``tracker.metrics.frame.FIELD_COLUMNS`` for the store columns behind each."""

MetricFunction = Callable[["PeriodData", list[str]], "pd.DataFrame"]


@dataclass(frozen=True, slots=True)
class MetricDef:
    """One registered metric.

    * ``unit``: how values are expressed and rendered (money in the reporting currency,
      counts, fractions such as 0.25, days, ratios such as 3.25 meetings per won deal).
    * ``direction``: whether a higher or a lower value is better.
    * ``kind``: ``cumulative`` values add up over time and scopes (revenue); ``rate`` values
      are ratios or averages (win rate) and do not: pacing treats them differently.
    * ``basis``: the date that places a deal in a period (close date or created date).
    * ``source``: ``activities`` when the metric reads the activities frame (loaded only
      for such metrics, so deal metrics cost nothing more).
    * ``required_fields``: what the store must load for it.
    * ``stats``: names of the extra statistics published with each value;
      ``count_stats`` those of them that are counts (integers, 0 for an empty group).
    * ``empty_value``: the value of a group without any eligible deal (0 or null).
    """

    name: str
    unit: Unit
    direction: Direction
    kind: Kind
    basis: Basis
    required_fields: tuple[Field, ...]
    version: int
    description: str
    compute: MetricFunction
    stats: tuple[str, ...] = ()
    count_stats: tuple[str, ...] = ()
    empty_value: float | None = None
    source: Source = "deals"


class MetricRegistry:
    """Metrics by name, in registration order."""

    def __init__(self) -> None:
        self._metrics: dict[str, MetricDef] = {}

    def add(self, definition: MetricDef) -> None:
        """Register ``definition``; names are unique."""
        if definition.name in self._metrics:
            raise ValueError(f"metric {definition.name!r} is already registered")
        self._metrics[definition.name] = definition

    def metric(
        self,
        name: str,
        *,
        unit: Unit,
        direction: Direction,
        kind: Kind,
        basis: Basis = "close",
        fields: tuple[Field, ...] = (),
        version: int = 1,
        description: str,
        stats: tuple[str, ...] = (),
        count_stats: tuple[str, ...] = (),
        empty_value: float | None = None,
        source: Source = "deals",
    ) -> Callable[[MetricFunction], MetricFunction]:
        """Decorator registering a metric function under ``name``."""

        def wrap(function: MetricFunction) -> MetricFunction:
            self.add(
                MetricDef(
                    name=name,
                    unit=unit,
                    direction=direction,
                    kind=kind,
                    basis=basis,
                    required_fields=fields,
                    version=version,
                    description=description,
                    compute=function,
                    stats=stats,
                    count_stats=count_stats,
                    empty_value=empty_value,
                    source=source,
                )
            )
            return function

        return wrap

    def names(self, source: Source | None = None) -> list[str]:
        """Registered metric names, in registration order (those reading ``source`` only,
        when given)."""
        return [n for n, d in self._metrics.items() if source in (None, d.source)]

    def get(self, name: str) -> MetricDef:
        """The metric called ``name``; an unknown name is a ``UsageError`` listing them."""
        try:
            return self._metrics[name.strip().lower()]
        except KeyError:
            raise UsageError(unknown_name("metric", name, self._metrics)) from None

    def all(self) -> list[MetricDef]:
        """Every registered metric, in registration order."""
        return list(self._metrics.values())

    def needs_activities(self, names: Iterable[str]) -> bool:
        """Whether any of the metrics called ``names`` reads the activities frame."""
        return any(self.get(name).source == "activities" for name in names)

    def __contains__(self, name: object) -> bool:
        return name in self._metrics


REGISTRY = MetricRegistry()
"""The product's metrics; ``tracker.metrics.definitions`` fills it on import."""
