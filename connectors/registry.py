"""Maps a source ``kind`` to its connector and settings model.

Entries are import paths so a kind's SDK is imported only when that kind is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from tracker.settings import SourceSettings

if TYPE_CHECKING:
    from connectors.base import Connector

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
