"""Settings of a ``kind = "salesforce"`` source: connection, auth mode, field mapping, limits.

Three auth modes, picked by which keys are present:

* token: ``access_token`` (a session id from an OAuth flow or ``sf org display``) with
  ``instance_url``;
* password: ``username`` + ``password`` + ``security_token`` (``domain`` = login | test |
  a My Domain prefix);
* JWT bearer: ``username`` + ``consumer_key`` + ``private_key_file``.

Secrets are ``{ env = "NAME" }`` / ``{ file = "path" }`` references, read only on connect.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from connectors.retry import RetrySettings
from tracker.config_types import ConfigPath, Secret, Strict
from tracker.settings import SourceSettings

_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")


class SalesforceFields(Strict):
    """Org-specific API names. Dotted values follow a lookup (``Owner.Region__c``).

    * ``line_item_cost``: unit cost, a field of OpportunityLineItem (None: no cost known).
    * ``segment`` / ``industry``: ``Account.<field>``.
    * ``team`` / ``region``: ``Owner.<field>`` (a User field); when empty on the user the
      manager's value is used.
    """

    line_item_cost: str | None = None
    """OpportunityLineItem field holding the unit cost (margins)."""
    segment: str | None = None
    """Account field of the segment."""
    industry: str | None = "Industry"
    """Account field of the industry."""
    team: str | None = "Department"
    """User field of the team (Owner.<field>; the manager's when empty)."""
    region: str | None = None
    """User field of the region (Owner.<field>; the manager's when empty)."""

    @field_validator("*")
    @classmethod
    def _api_name(cls, value: str | None) -> str | None:
        if value is not None and not _API_NAME.match(value):
            raise ValueError(f"{value!r} is not a Salesforce API name such as 'Unit_Cost__c'")
        return value

    @field_validator("segment", "industry")
    @classmethod
    def _on_account(cls, value: str | None) -> str | None:
        return _on("Account", value)

    @field_validator("team", "region")
    @classmethod
    def _on_owner(cls, value: str | None) -> str | None:
        return _on("Owner", value)

    @field_validator("line_item_cost")
    @classmethod
    def _on_line_item(cls, value: str | None) -> str | None:
        if value is not None and "." in value:
            raise ValueError(f"{value!r}: give a field of OpportunityLineItem (no dot)")
        return value


def _on(prefix: str, value: str | None) -> str | None:
    """``Field`` or ``Prefix.Field`` → ``Field``; anything else is an error."""
    if value is None:
        return None
    head, dot, tail = value.partition(".")
    if not dot:
        return value
    if head.lower() != prefix.lower():
        raise ValueError(f"{value!r}: give a field of {prefix} such as '{prefix}.Segment__c'")
    return tail


class SalesforceDealTypes(Strict):
    """Opportunity ``Type`` values that mean a new customer (sets ``is_new_business``)."""

    new_customer: list[str] = Field(default_factory=lambda: ["New Customer"])
    """Opportunity Type values meaning a new customer."""


class SalesforceSourceSettings(SourceSettings):
    """``[sources.NAME]`` with ``kind = "salesforce"``."""

    kind: Literal["salesforce"]
    """salesforce."""
    instance_url: str | None = None
    """https://yourorg.my.salesforce.com (token mode)."""
    access_token: Secret | None = None
    """An OAuth access token, as a secret (token mode)."""
    username: str | None = None
    """API user (password and JWT modes)."""
    password: Secret | None = None
    """Password, as a secret (password mode)."""
    security_token: Secret | None = None
    """The user's security token, as a secret (password mode)."""
    domain: str = "login"
    """login (production), test (sandbox) or a My Domain prefix."""
    consumer_key: str | None = None
    """Connected app consumer key (JWT mode)."""
    private_key_file: ConfigPath | None = None
    """The connected app's private key file (JWT mode)."""
    api_version: str = "59.0"
    """REST API version."""
    ca_bundle: ConfigPath | None = None
    """A CA bundle to trust (a proxy)."""
    timeout_seconds: float = Field(default=120.0, gt=0)
    """Seconds per request."""
    fields: SalesforceFields = Field(default_factory=SalesforceFields)
    """Org-specific field names ([sources.NAME.fields])."""
    deal_types: SalesforceDealTypes = Field(default_factory=SalesforceDealTypes)
    """Which Opportunity types are new customers."""
    currency: str | None = None
    """Currency of a single-currency org (default the org's corporate currency)."""
    since: date | datetime | None = None
    """Sync only opportunities modified since this date."""
    overlap_minutes: float = Field(default=5.0, ge=0)
    """Minutes re-read before the cursor on each incremental sync."""
    page_size: int = Field(default=2000, ge=200, le=2000)
    """Records per REST page (200-2000)."""
    max_api_percent: float = Field(default=25.0, gt=0, le=100)
    """Share of the org's daily API limit a run may use."""
    bulk_threshold: int = Field(default=50_000, ge=0)
    """Use Bulk API 2.0 above this many records (0 = always)."""
    bulk_chunk_size: int = Field(default=25_000, ge=1)
    """Records per Bulk batch written to the store."""
    bulk_memory_line_items: int = Field(default=100_000, ge=0)
    """Line items held in memory before spilling to disk during Bulk."""
    dated_rates: bool = True
    """Convert at DatedConversionRate on the close date (advanced currency management)."""
    activities: bool = False
    """Also sync Task and Event (calls, emails, meetings); needs read access to both."""
    retry: RetrySettings = Field(default_factory=RetrySettings)
    """Backoff of 429/5xx/dropped connections ([sources.NAME.retry])."""

    @field_validator("instance_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+/?$", value):
            raise ValueError(
                f"{value!r} is not an instance URL such as 'https://acme.my.salesforce.com'"
            )
        return value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.removeprefix("v")
        if not re.fullmatch(r"\d{2}\.0", value):
            raise ValueError(f"{value!r} is not an API version such as '59.0'")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", value):
            raise ValueError("use login, test or your My Domain prefix (e.g. 'acme.my')")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError(f"{value!r} is not a 3-letter ISO currency code")
        return None if value is None else value.upper()

    @model_validator(mode="after")
    def _one_auth_mode(self) -> SalesforceSourceSettings:
        mode = self.auth_mode
        if mode == "token" and self.instance_url is None:
            raise ValueError("access_token needs instance_url (the org's https:// URL)")
        return self

    @property
    def auth_mode(self) -> Literal["token", "password", "jwt"]:
        """Which auth mode the keys select (raises ``ValueError`` when none or several)."""
        modes: list[Literal["token", "password", "jwt"]] = []
        if self.access_token is not None:
            modes.append("token")
        if self.password is not None or self.security_token is not None:
            modes.append("password")
        if self.consumer_key is not None or self.private_key_file is not None:
            modes.append("jwt")
        if len(modes) != 1:
            raise ValueError(
                "give exactly one auth mode: access_token + instance_url; or username + "
                "password + security_token; or username + consumer_key + private_key_file"
            )
        mode = modes[0]
        if mode == "password" and (
            self.username is None or self.password is None or self.security_token is None
        ):
            raise ValueError("password mode needs username, password and security_token")
        if mode == "jwt" and (
            self.username is None or self.consumer_key is None or self.private_key_file is None
        ):
            raise ValueError("JWT mode needs username, consumer_key and private_key_file")
        return mode

    @property
    def since_datetime(self) -> datetime | None:
        """``since`` as an aware UTC datetime (a date means its midnight UTC)."""
        if self.since is None:
            return None
        if isinstance(self.since, datetime):
            return self.since if self.since.tzinfo else self.since.replace(tzinfo=UTC)
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=UTC)
