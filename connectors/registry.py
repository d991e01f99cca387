"""Maps a source ``kind`` to its connector and settings model, and builds connectors.

Entries are import paths so a kind's SDK is imported only when that kind is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from tracker.settings import Settings, SourceSettings

if TYPE_CHECKING:
    from connectors.base import Connector, SyncContext

#: kind -> ("module:SettingsClass", "module:ConnectorClass")
KINDS: dict[str, tuple[str, str]] = {
    "csv": ("connectors.csv.settings:CsvSourceSettings", "connectors.csv.connector:CsvConnector"),
    "hubspot": (
        "connectors.hubspot.settings:HubSpotSourceSettings",
        "connectors.hubspot.connector:HubSpotConnector",
    ),
    "salesforce": (
        "connectors.salesforce.settings:SalesforceSourceSettings",
        "connectors.salesforce.connector:SalesforceConnector",
    ),
}


def _load(path: str) -> object:
    module, _, attr = path.partition(":")
    return getattr(import_module(module), attr)


def settings_models() -> dict[str, type[SourceSettings]]:
    """kind → settings model, for ``tracker.settings.load_settings``."""
    models: dict[str, type[SourceSettings]] = {}
    for kind, (settings_path, _) in KINDS.items():
        model = _load(settings_path)
        assert isinstance(model, type) and issubclass(model, SourceSettings)
        models[kind] = model
    return models


def connector_class(kind: str) -> type[Connector]:
    """The connector implementing ``kind``."""
    from connectors.base import Connector

    cls = _load(KINDS[kind][1])
    assert isinstance(cls, type) and issubclass(cls, Connector)
    return cls


def open_source(settings: Settings, name: str, context: SyncContext) -> Connector:
    """The connector of source NAME, built from its validated settings.

    Raises ``ConfigError`` naming the configured sources when NAME is not one of them.
    """
    source = settings.source(name)
    return connector_class(source.kind)(name, source, context)
