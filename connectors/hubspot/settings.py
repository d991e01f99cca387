"""Settings of a ``kind = "hubspot"`` source: token, host, property mapping, limits, resume.

Every key has a default except ``access_token``; see ``docs/hubspot.md`` for the private-app
scopes and how each key changes a sync.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from connectors.retry import RetrySettings
from tracker.config_types import Secret, Strict
from tracker.settings import SourceSettings

DEFAULT_BASE_URL = "https://api.hubapi.com"


class HubSpotProperties(Strict):
    """``[sources.NAME.properties]``: canonical field = HubSpot property name.

    Checked at sync start against the properties API: a missing property fails by name.
    """

    segment: str | None = None
    """Company property holding the customer segment (none by default: often custom)."""
    industry: str | None = "industry"
    """Company property holding the industry."""
    line_item_cost: str | None = "hs_cost_of_goods_sold"
    """Line-item property holding the unit cost."""
    deal_type: str | None = "dealtype"
    """Deal property holding the deal type (new / existing business)."""

    @field_validator("*")
    @classmethod
    def _property_name(cls, value: str | None) -> str | None:
        if value == "":
            return None  # "" = the portal has no such property: leave the field empty
        if value is not None and not value.replace("_", "").isalnum():
            raise ValueError(f"{value!r} is not a HubSpot property name (letters, digits, _)")
        return value


class HubSpotDealTypes(Strict):
    """``[sources.NAME.deal_types]``: deal-type values that mean a new customer."""

    new_customer: list[str] = Field(default_factory=lambda: ["newbusiness"])
    """dealtype values meaning a new customer."""


class HubSpotTeams(Strict):
    """``[sources.NAME.teams]``: how an owner's primary team becomes team and region."""

    region_separator: str = " - "
    """Region = the team name up to this separator ("APAC - Commercial" → "APAC");
    an empty string means "no region from the name"."""
    regions: dict[str, str] = Field(default_factory=dict)
    """Team name → region, when the names do not follow the separator convention."""
    names: dict[str, str] = Field(default_factory=dict)
    """Team name → the team label to store (default: the HubSpot team name)."""


class HubSpotRateLimits(Strict):
    """``[sources.NAME.rate_limits]``: client-side request budgets per bucket."""

    search_per_second: float = Field(default=4.0, gt=0)
    """CRM search API: about 5 requests/s per account; stay a little below."""
    requests_per_10s: float = Field(default=100.0, gt=0)
    """Every other endpoint: 100 per 10 s (Free/Starter), 150-190 (Professional/Enterprise)."""


class HubSpotSourceSettings(SourceSettings):
    """``[sources.NAME]`` with ``kind = "hubspot"``."""

    kind: Literal["hubspot"]
    """hubspot."""
    access_token: Secret
    """A private app token, as a secret."""
    base_url: str = DEFAULT_BASE_URL
    """API base URL."""
    timezone: str | None = None
    """Time zone of close dates (default: ``[tracker] timezone``); use the portal's."""
    overlap_minutes: float = Field(default=5.0, ge=0, le=24 * 60)
    """Each incremental sync re-reads changes this far before its cursor (search index lag)."""
    archived_every_minutes: float = Field(default=0.0, ge=0)
    """List archived deals (to mark them deleted) when the last listing is at least this many
    minutes old; 0 = on every sync. Always listed with ``--reconcile``. The listing costs a
    call per 100 deals archived in the last 90 days, whatever changed since."""
    batch_size: int = Field(default=500, ge=100, le=10_000)
    """Deals per committed batch (and saved cursor)."""
    request_timeout: float = Field(default=60.0, gt=0)
    """Seconds per request."""
    properties: HubSpotProperties = Field(default_factory=HubSpotProperties)
    """Portal-specific property names ([sources.NAME.properties])."""
    deal_types: HubSpotDealTypes = Field(default_factory=HubSpotDealTypes)
    """Which dealtype values are new customers."""
    teams: HubSpotTeams = Field(default_factory=HubSpotTeams)
    """How HubSpot teams map to team and region ([sources.NAME.teams])."""
    custom: dict[str, str] = Field(default_factory=dict)
    """Extra deal properties kept with each deal: name = HubSpot property."""
    activities: bool = False
    """Also sync calls, meetings and emails (needs their read scopes, see docs/hubspot.md)."""
    rate_limits: HubSpotRateLimits = Field(default_factory=HubSpotRateLimits)
    """Request rates to stay under ([sources.NAME.rate_limits])."""
    retry: RetrySettings = Field(default_factory=RetrySettings)
    """Backoff of 429/5xx/dropped connections ([sources.NAME.retry])."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r}: give an http(s) URL such as '{DEFAULT_BASE_URL}'")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use the portal's IANA name, e.g. 'America/New_York'"
            ) from None
        return value
