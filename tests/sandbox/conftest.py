"""Fixtures giving a running CRM sandbox and the real SDKs pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from sandbox import Sandbox

SANDBOX_NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
"""The fixed "now" of the fixture data (mid-quarter, so every quarter shape shows)."""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox with 300 deals (seed 42) on an ephemeral port."""
    with Sandbox.start(deals=300, seed=42, now=SANDBOX_NOW) as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with custom arguments (``Sandbox.start`` keywords); all are stopped
    at the end of the test."""
    managers: list[AbstractContextManager[Sandbox]] = []

    def start(**kwargs: Any) -> Sandbox:
        kwargs.setdefault("now", SANDBOX_NOW)
        cm = Sandbox.start(**kwargs)
        managers.append(cm)
        return cm.__enter__()

    yield start
    for cm in reversed(managers):
        cm.__exit__(None, None, None)


def hubspot_client(sb: Sandbox, **kwargs: Any) -> HubSpot:
    """The real HubSpot SDK pointed at ``sb``."""
    return HubSpot(access_token=sb.hubspot_token, host=sb.hubspot_url, **kwargs)


def salesforce_client(sb: Sandbox) -> Salesforce:
    """The real simple-salesforce client pointed at ``sb`` (token login, no login call)."""
    return Salesforce(
        instance_url=sb.salesforce_url, session_id=sb.salesforce_token, session=sb.session()
    )


@pytest.fixture
def hs(sandbox: Sandbox) -> HubSpot:
    """The HubSpot SDK on the ``sandbox`` fixture."""
    return hubspot_client(sandbox)


@pytest.fixture
def sf(sandbox: Sandbox) -> Salesforce:
    """simple-salesforce on the ``sandbox`` fixture."""
    return salesforce_client(sandbox)
