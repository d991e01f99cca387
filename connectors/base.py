"""The connector contract: the one interface every source kind implements.

A connector is built from its source NAME, its validated settings (a ``SourceSettings``
subclass declared as ``settings_model``) and a ``SyncContext``. ``batches(cursor)`` gets
the cursor saved after the last committed batch (``None`` on the first sync) and yields
``tracker.records.Batch`` objects: the core's own record types, never SDK objects, each
carrying the cursor to save once the batch is committed. Connectors never write to the
store: ``tracker.sync.run_sync`` commits every batch atomically with its cursor.

Rules of the road for implementers:

* map payloads to records right where they arrive (``mapping.py``); import the SDK in one
  module only (``client.py``), which accepts an injected session/client;
* a cursor must describe data *already in* the batches yielded up to it, never ahead;
* raise ``tracker.errors.SourceError`` (or ``BudgetExhausted`` to stop cleanly with exit 3)
  with a one-line message; never put a secret in it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from tracker.checks import FAIL, PASS, Check
from tracker.errors import TrackerError
from tracker.records import Batch, JsonDict
from tracker.settings import SourceSettings, TrackerSection


@dataclass(frozen=True)
class SyncContext:
    """What a connector is told about the run besides its own settings.

    ``stored_deal_ids`` (given with ``reconcile``) answers which live deals of the source
    the store holds, so a reconciling connector can fetch the ones it lacks; connectors
    still never touch the store.
    """

    tracker: TrackerSection
    reconcile: bool = False
    dry_run: bool = False
    stored_deal_ids: Callable[[], frozenset[str]] | None = None


class Connector(ABC):
    """Base class of every source kind."""

    kind: ClassVar[str]
    settings_model: ClassVar[type[SourceSettings]]

    def __init__(self, name: str, settings: SourceSettings, context: SyncContext) -> None:
        self.name = name
        self.settings = settings
        self.context = context

    def check(self) -> None:  # noqa: B027  (optional hook, nothing to check by default)
        """Fail fast (``ConfigError``/``SourceError``) before any batch: secrets, paths."""

    def diagnose(self) -> list[Check]:
        """The source's lines of ``tracker doctor``: its credentials (one cheap call, with
        the API budget left when the source reports it) and its mapped fields. This
        default runs ``check``; kinds with an API override it."""
        name = f"source {self.name}"
        try:
            self.check()
        except TrackerError as exc:
            return [Check(name, FAIL, str(exc), f"fix [sources.{self.name}] as the error says")]
        return [Check(name, PASS, f"{self.kind}: readable, every mapped field present")]

    @abstractmethod
    def batches(self, cursor: JsonDict | None) -> Iterator[Batch]:
        """Yield batches of records, each with the cursor to save after it."""
