"""The connectors' sandbox fixtures, shared with the fault suite."""

from tests.connectors.hubspot.conftest import portal_factory
from tests.connectors.salesforce.conftest import harness_factory

__all__ = ["harness_factory", "portal_factory"]
