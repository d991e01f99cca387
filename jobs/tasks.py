"""The operations, as plain functions: the CLI, the scheduler and tests call these alike.

Each takes the validated ``Settings`` (and, where it needs one, a ``Store``) and returns a
value describing what it did; none prints. Expected failures are ``TrackerError``s.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Protocol

import pandas as pd

from connectors.base import SyncContext
from connectors.registry import open_source
from tracker.errors import ConfigError, TrackerError, UsageError
from tracker.goals import load as goal_store
from tracker.goals.engine import GoalInputs, evaluate
from tracker.goals.expand import canonical
from tracker.goals.plan import goal_metrics, load_needs
from tracker.goals.result import GoalReport
from tracker.goals.suggest import Suggestion, check_scope, next_quarter, suggestions
from tracker.goals.validate import check_goal_configs
from tracker.logs import log_context
from tracker.metrics import DEFINITIONS_VERSION, REGISTRY
from tracker.metrics.compute import build_request, parse_filter
from tracker.metrics.load import activities_frame, build_report, default_metrics
from tracker.metrics.registry import Field
from tracker.metrics.report import Report
from tracker.money import unconverted_warning
from tracker.periods import parse_period
from tracker.records import Batch, JsonDict
from tracker.settings import Settings, secret_problem
from tracker.snapshots import load_snapshot, save_snapshot
from tracker.store import Store, last_successful_syncs
from tracker.sync import Progress, SyncResult, SyncSummary, run_sync, stop_requested

log = logging.getLogger(__name__)


class SyncListener(Protocol):
    """What a caller of :func:`sync` is told while it runs (progress bars, logs)."""

    def started(self, source: str) -> None:
        """Source ``source`` is about to sync."""

    def progress(self, progress: Progress) -> None:
        """A batch of the running source was committed."""

    def finished(self, result: SyncResult) -> None:
        """Source ``result.source`` ended (any outcome)."""


def open_store(settings: Settings, *, ready: bool = True) -> Store:
    """The configured store; with ``ready`` a new database is created, an outdated one
    refused (``StoreError`` naming the fix)."""
    store = Store(settings.store.connect_url())
    if ready:
        store.ensure_ready()
    return store


def sync(
    settings: Settings,
    sources: Sequence[str] | None = None,
    *,
    reconcile: bool = False,
    dry_run: bool = False,
    progress: SyncListener | None = None,
    store: Store | None = None,
    wait: bool = False,
) -> SyncSummary:
    """Sync every configured source (or the named ones, in order) into the store.

    A source's failure is recorded in its result and never stops the others; the summary
    classifies the run (``exit_code``, ``outcome``). A source another process is syncing
    is skipped (outcome ``skipped``, exit 0), or with ``wait`` waited for. Unknown source
    names and a config without sources raise ``ConfigError`` before anything runs. With
    ``dry_run`` every batch is rolled back: the counts say what would change. After
    ``tracker.sync.request_stop`` the running source stops after its batch, the rest wait.
    """
    names = list(dict.fromkeys(sources or settings.sources))
    if not names:
        where = settings.config_path or "the config"
        raise ConfigError(f"no sources configured in {where}: add a [sources.NAME] table")
    for name in names:
        settings.source(name)
    unreadable = {name: secret_problem(settings.source(name)) for name in names}
    if all(unreadable.values()):  # nothing could run: refuse before the store is touched
        if len(names) == 1:
            raise unreadable[names[0]]  # type: ignore[misc]
        raise ConfigError("; ".join(f"{name}: {exc}" for name, exc in unreadable.items()))
    own_store = store is None
    store = store or open_store(settings)  # schema checked before any source starts
    try:
        results = []
        for name in names:
            if stop_requested():  # a signal stopped the run: the next sources wait
                break
            results.append(
                _sync_one(
                    settings,
                    store,
                    name,
                    reconcile=reconcile,
                    dry_run=dry_run,
                    listener=progress,
                    wait=wait,
                )
            )
    finally:
        if own_store:
            store.close()
    return SyncSummary(results, dry_run=dry_run)


def _sync_one(
    settings: Settings,
    store: Store,
    name: str,
    *,
    reconcile: bool,
    dry_run: bool,
    listener: SyncListener | None,
    wait: bool = False,
) -> SyncResult:
    context = sync_context(settings, store, name, reconcile=reconcile, dry_run=dry_run)
    connector = open_source(settings, name, context)

    def checked_batches(cursor: JsonDict | None) -> Iterator[Batch]:
        connector.check()  # inside the run, so a failed check is recorded like any failure
        yield from connector.batches(cursor)

    if listener is not None:
        listener.started(name)
    with log_context(source=name):
        result = run_sync(
            store,
            name,
            settings.source(name).kind,
            checked_batches,
            on_progress=listener.progress if listener is not None else None,
            dry_run=dry_run,
            wait=wait,
        )
        for code, count in result.unconverted.items():
            log.warning("%s: %s", name, unconverted_warning(code, count, settings.tracker.currency))
    if listener is not None:
        listener.finished(result)
    return result


def sync_context(
    settings: Settings, store: Store, name: str, *, reconcile: bool, dry_run: bool
) -> SyncContext:
    """What source ``name``'s connector is told about this run (with ``reconcile``: how to
    learn which of its deals the store holds)."""
    return SyncContext(
        tracker=settings.tracker,
        reconcile=reconcile,
        dry_run=dry_run,
        stored_deal_ids=(lambda: store.live_deal_ids(name)) if reconcile else None,
    )


@dataclass(frozen=True)
class MetricsQuery:
    """What to compute: periods (labels or relative names), metrics, breakdowns, filters."""

    periods: Sequence[str] = ()
    metrics: Sequence[str] = ()
    by: Sequence[str] = ()
    filters: Sequence[str] = ()
    cross: bool = True  # several ``by`` dimensions give their combinations, as a pivot does


def metrics_report(
    settings: Settings,
    store: Store,
    today: date,
    query: MetricsQuery,
    *,
    now: datetime | None = None,
) -> Report:
    """Compute ``query`` over the store; relative periods are resolved against ``today``
    (a date in the org's calendar); ``now`` stamps the report (default: the clock). No
    metrics means ``default_metrics`` (the activity ones once activities are synced)."""
    request = build_request(
        periods=list(query.periods),
        today=today,
        fiscal_year_start_month=settings.tracker.fiscal_year_start_month,
        metrics=list(query.metrics) or default_metrics(store.engine, list(settings.sources)),
        by=list(query.by),
        filters=list(query.filters),
        cross=query.cross,
    )
    return build_report(
        store.engine,
        request,
        timezone=settings.tracker.timezone,
        currency=settings.tracker.currency,
        generated_at=now or datetime.now(UTC),
        sources=list(settings.sources),
    )


def live_deals(settings: Settings, store: Store) -> int:
    """How many live deals of the configured sources the store holds."""
    counts = store.source_counts()
    return sum(counts[name]["deals_live"] for name in settings.sources if name in counts)


def orphan_sources(settings: Settings, store: Store) -> dict[str, int]:
    """Sources whose deals are in the store but not in the config (left out of metrics),
    with their live deal counts."""
    return {
        name: counts["deals_live"]
        for name, counts in sorted(store.source_counts().items())
        if name not in settings.sources
    }


@dataclass(frozen=True)
class SavedSnapshot:
    """A report kept in the store, and its id there."""

    snapshot_id: int
    report: Report


def snapshot(
    settings: Settings,
    store: Store,
    today: date,
    query: MetricsQuery,
    *,
    now: datetime | None = None,
) -> SavedSnapshot:
    """Compute ``query`` (as :func:`metrics_report`) and keep the rows as a snapshot."""
    report = metrics_report(settings, store, today, query, now=now)
    return SavedSnapshot(save_snapshot(store.engine, report), report)


def saved_report(store: Store, at: datetime, metrics: Sequence[str] = ()) -> Report:
    """The snapshot current at ``at`` (the latest taken at or before it), limited to
    ``metrics`` when given; a ``TrackerError`` when none was saved by then."""
    report = load_snapshot(store.engine, at=at)
    if report is None:
        raise TrackerError(f"no metrics snapshot was saved at or before {at.isoformat()}")
    if metrics:
        report = replace(report, rows=[r for r in report.rows if r.metric in metrics])
    return report


# ---------------------------------------------------------------- goals


def _deals_frame(
    settings: Settings, store: Store, fields: Sequence[Field], dims: Sequence[str]
) -> pd.DataFrame:
    return goal_store.load_frame(
        store.engine,
        fields,
        dims,
        timezone=settings.tracker.timezone,
        currency=settings.tracker.currency,
        sources=list(settings.sources),
    )


def _activities(
    settings: Settings, store: Store, metrics: Iterable[str], dims: Sequence[str]
) -> pd.DataFrame | None:
    """The activities frame when one of ``metrics`` needs it (else None, nothing read)."""
    return activities_frame(
        store.engine,
        metrics,
        dims,
        timezone=settings.tracker.timezone,
        sources=list(settings.sources),
    )


def evaluate_goals(
    settings: Settings,
    store: Store,
    as_of: date,
    *,
    period: str | None = None,
    everything: bool = False,
) -> GoalReport:
    """Every configured goal evaluated as of ``as_of`` (a date in the org's calendar), in
    one computation over the store's deals; ``period`` selects the goals of a period,
    ``everything`` every fixed one (else those running on ``as_of``). Invalid goals raise
    ``ConfigError`` naming the goal."""
    configs = settings.goals
    if not configs:
        where = settings.config_path or "the config"
        raise ConfigError(f"no goals configured in {where}: add [[goals]] tables (docs/goals.md)")
    check_goal_configs(configs)
    fiscal = settings.tracker.fiscal_year_start_month
    wanted = parse_period(period, as_of, fiscal) if period else None
    sources = list(settings.sources)
    quotas = goal_store.read_all_quotas(configs)
    store.ensure_ready()  # only once the goals, period and quota files are known good
    fields, dims = load_needs(configs)
    frame = _deals_frame(settings, store, fields, dims)
    inputs = GoalInputs(
        as_of=as_of,
        fiscal_year_start_month=fiscal,
        thresholds=settings.goal_thresholds,
        source_kinds={name: source.kind for name, source in settings.sources.items()},
        owners=goal_store.load_owners(store.engine, sources) if quotas else (),
        quotas=quotas,
        previous=goal_store.previous_checkin(store.engine, as_of),
        activities=_activities(settings, store, goal_metrics(configs), dims),
    )
    results = evaluate(frame, configs, inputs, wanted=wanted, everything=everything)
    synced = last_successful_syncs(store.engine)
    return GoalReport(
        as_of=as_of,
        timezone=settings.tracker.timezone,
        definitions_version=DEFINITIONS_VERSION,
        data_as_of={name: at for name, at in synced.items() if name in sources},
        results=results,
    )


@dataclass(frozen=True)
class GoalCheckIn:
    """A goal report and, when it was saved, the id of its check-in."""

    report: GoalReport
    checkin_id: int | None = None


def report(
    settings: Settings,
    store: Store,
    as_of: date,
    *,
    period: str | None = None,
    save: bool = False,
    now: datetime | None = None,
) -> GoalCheckIn:
    """The variance summary of the goals running on ``as_of`` (or of ``period``); with
    ``save`` it is kept as a check-in (taken ``now``, default the clock)."""
    evaluated = evaluate_goals(settings, store, as_of, period=period)
    if not save:
        return GoalCheckIn(evaluated)
    kept = goal_store.save_checkin(store.engine, evaluated, now or datetime.now(UTC))
    return GoalCheckIn(evaluated, kept)


def goals_check(
    settings: Settings, store: Store, as_of: date, *, period: str | None = None
) -> GoalReport:
    """Every goal (all fixed periods, recurring ones in the current period, or those of
    ``period``) linted against the data as of ``as_of``."""
    return evaluate_goals(settings, store, as_of, period=period, everything=period is None)


@dataclass(frozen=True)
class SuggestQuery:
    """What to suggest goals for: a metric, a scope (``dim=value`` items), a period
    (default: the next quarter) and optionally one goal per owner."""

    metric: str
    scope: Sequence[str] = ()
    period: str | None = None
    for_each: str | None = None


def goals_suggest(
    settings: Settings, store: Store, as_of: date, query: SuggestQuery
) -> tuple[list[Suggestion], list[str]]:
    """Suggested levels from history (``tracker.goals.suggest``), and the owners left out
    for want of history. Bad metrics, scopes or periods raise ``UsageError``."""
    metric = REGISTRY.get(query.metric).name
    scope = canonical(dict(parse_filter(item) for item in query.scope))
    if query.for_each not in (None, "owner"):
        raise UsageError(f"--for-each {query.for_each}: quotas are per owner; use owner")
    fiscal = settings.tracker.fiscal_year_start_month
    period = (
        parse_period(query.period, as_of, fiscal) if query.period else next_quarter(as_of, fiscal)
    )
    fields = REGISTRY.get(metric).required_fields
    dims = [d for d, _ in scope] + ([query.for_each] if query.for_each else [])
    store.ensure_ready()
    frame = _deals_frame(settings, store, fields, dims)
    activities = _activities(settings, store, [metric], dims)
    check_scope(frame, scope, activities)
    return suggestions(
        frame,
        metric,
        scope,
        period,
        activities=activities,
        as_of=as_of,
        for_each=query.for_each,
        fiscal_year_start_month=fiscal,
        thresholds=settings.goal_thresholds,
    )


def suggest_many(
    settings: Settings, store: Store, as_of: date, queries: Sequence[SuggestQuery]
) -> list[Suggestion]:
    """``goals_suggest`` for several metrics and scopes over one load of the deals (the
    review pack's "next period"); a query without enough history is left out."""
    if not queries:
        return []
    fiscal = settings.tracker.fiscal_year_start_month
    parsed = []
    for query in queries:
        metric = REGISTRY.get(query.metric).name
        scope = canonical(dict(parse_filter(item) for item in query.scope))
        period = (
            parse_period(query.period, as_of, fiscal)
            if query.period
            else next_quarter(as_of, fiscal)
        )
        parsed.append((metric, scope, period))
    fields = tuple(dict.fromkeys(f for m, _, _ in parsed for f in REGISTRY.get(m).required_fields))
    dims = list(dict.fromkeys(d for _, scope, _ in parsed for d, _ in scope))
    store.ensure_ready()
    frame = _deals_frame(settings, store, fields, dims)
    activities = _activities(settings, store, [m for m, _, _ in parsed], dims)
    out: list[Suggestion] = []
    for metric, scope, period in parsed:
        try:
            check_scope(frame, scope, activities)
            found, _ = suggestions(
                frame,
                metric,
                scope,
                period,
                as_of=as_of,
                for_each=None,
                fiscal_year_start_month=fiscal,
                thresholds=settings.goal_thresholds,
                activities=activities,
            )
        except TrackerError:
            continue
        out.extend(found)
    return out
