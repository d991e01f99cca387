"""Sales metrics: a registry of definitions and a pure engine over a deals frame (and an
activities frame for the activity metrics).

``load`` (the only module doing I/O) reads the columns a request needs from the store,
``frame.prepare`` turns them into the deals frame (``activity_frame.prepare_activities`` the
activities frame, read only when an activity metric is asked for), ``compute.compute``
produces one ``MetricRow`` per metric × period × scope, gathered in a ``report.Report``.
Rendering lives in ``tracker.reports``; saved snapshots in ``tracker.snapshots``.
"""

from __future__ import annotations

from tracker.metrics import activity_defs as _activity_defs
from tracker.metrics import definitions as _definitions
from tracker.metrics.compute import (
    MetricRequest,
    MetricRow,
    PeriodData,
    apply_filters,
    build_request,
    check_dimension,
    compute,
    parse_filter,
    request_dimensions,
    required_fields,
)
from tracker.metrics.frame import DIMENSIONS, prepare, raw_columns
from tracker.metrics.registry import DEFINITIONS_VERSION, REGISTRY, MetricDef, MetricRegistry

del _definitions, _activity_defs  # imported for their registrations

__all__ = [
    "DEFINITIONS_VERSION",
    "DIMENSIONS",
    "REGISTRY",
    "MetricDef",
    "MetricRegistry",
    "MetricRequest",
    "MetricRow",
    "PeriodData",
    "apply_filters",
    "build_request",
    "check_dimension",
    "compute",
    "parse_filter",
    "prepare",
    "raw_columns",
    "request_dimensions",
    "required_fields",
]
