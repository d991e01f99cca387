"""HubSpot payloads (decoded JSON) → the core's records, right where they arrive.

Conventions (shared with the sandbox's truth, ``sandbox/truth.py``):

* ``stage`` / ``pipeline`` are the *labels*; closed and won come from the stage metadata
  (``isClosed`` "true", ``probability`` "1.0"), never from stage names;
* ``close_date`` is ``closedate`` (a UTC instant) read as a date in the configured zone;
* the account is the deal's primary company (``primary_first``): the association labelled
  "Primary" (v4 type id 5; ``deal_to_company`` in the v3 inline list), else the only
  company, else the lowest company id;
* line items: ``list_price`` = ``price``, ``total`` = ``amount`` (net), ``unit_price`` =
  total / quantity, ``discount_pct`` = 1 − total / (price × quantity), ``unit_cost`` from
  the mapped cost property; deal ``list_amount`` / ``cost_amount`` sum them (cost None when
  any line lacks one);
* deals without ``deal_currency_code`` are in the portal's currency.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from connectors.hubspot.settings import HubSpotSourceSettings
from tracker.money import Rates
from tracker.records import AccountRecord, DealRecord, LineItemRecord, OwnerRecord, line_totals
from tracker.settings import TrackerSection

log = logging.getLogger(__name__)
JsonObj = dict[str, Any]

DEAL_BASE_PROPERTIES = (
    "dealname",
    "amount",
    "closedate",
    "createdate",
    "dealstage",
    "pipeline",
    "hubspot_owner_id",
    "deal_currency_code",
    "hs_lastmodifieddate",
    "hs_object_id",
    "hs_merged_object_ids",
)
LINE_ITEM_BASE_PROPERTIES = (
    "name",
    "price",
    "quantity",
    "amount",
    "discount",
    "hs_discount_percentage",
    "hs_lastmodifieddate",
)
COMPANY_BASE_PROPERTIES = ("name", "createdate", "hs_lastmodifieddate")


def parse_datetime(value: str | None) -> datetime | None:
    """A HubSpot datetime (ISO with ``Z``, or epoch milliseconds) as aware UTC."""
    return _parse_datetime(value) if value else None


@lru_cache(maxsize=16_384)
def _parse_datetime(value: str) -> datetime:
    # line items and their deal often share stamps: the cache saves most of the parsing
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # HubSpot stamps are UTC; never read them in the host's zone
        return parsed.replace(tzinfo=UTC)
    return parsed if value.endswith("Z") else parsed.astimezone(UTC)


def epoch_ms(value: str | None) -> int | None:
    """A HubSpot datetime as epoch milliseconds (the search API's unit)."""
    dt = parse_datetime(value)
    return None if dt is None else round(dt.timestamp() * 1000)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def merged_ids(props: Mapping[str, Any]) -> list[str]:
    """Ids of deals merged into this one (``hs_merged_object_ids``, ``;``-separated)."""
    raw = props.get("hs_merged_object_ids") or ""
    return [x.strip() for x in str(raw).split(";") if x.strip()]


@dataclass(frozen=True, slots=True)
class Stage:
    """What a deal stage means: labels and closed/won from the stage metadata."""

    label: str
    pipeline: str | None
    is_closed: bool
    is_won: bool


def stage_map(pipelines: Iterable[JsonObj]) -> dict[tuple[str, str], Stage]:
    """(pipeline id, stage id) → ``Stage``, from ``GET /crm/v3/pipelines/deals``."""
    out: dict[tuple[str, str], Stage] = {}
    for p in pipelines:
        for s in p.get("stages") or ():
            meta = s.get("metadata") or {}
            closed = str(meta.get("isClosed", "false")).lower() == "true"
            probability = _number(meta.get("probability"))
            out[(str(p["id"]), str(s["id"]))] = Stage(
                label=str(s.get("label") or s["id"]),
                pipeline=p.get("label"),
                is_closed=closed,
                is_won=closed and probability == 1.0,
            )
    return out


class Mapper:
    """Turns one portal's payloads into records, with its stages and settings."""

    def __init__(
        self,
        settings: HubSpotSourceSettings,
        tracker: TrackerSection,
        stages: dict[tuple[str, str], Stage],
    ) -> None:
        self.settings = settings
        self.props = settings.properties
        self.tz = ZoneInfo(settings.timezone) if settings.timezone else tracker.tz
        self.currency = tracker.currency
        self.rates = Rates(tracker.currency, tracker.exchange_rates)
        self.stages: dict[tuple[Any, Any], Stage] = dict(stages)
        self.pipeline_labels = {pid: s.pipeline for (pid, _), s in stages.items()}
        self.new_types = set(settings.deal_types.new_customer)
        self._deal_type = self.props.deal_type
        self._cost = self.props.line_item_cost
        self._custom = tuple(settings.custom.items())

    # ----------------------------------------------------------- property lists

    def deal_properties(self) -> list[str]:
        """Deal properties every read asks for."""
        extra = [self.props.deal_type, *self.settings.custom.values()]
        return _unique([*DEAL_BASE_PROPERTIES, *(p for p in extra if p)])

    def line_item_properties(self) -> list[str]:
        """Line-item properties every read asks for."""
        return _unique([*LINE_ITEM_BASE_PROPERTIES, self.props.line_item_cost])

    def company_properties(self) -> list[str]:
        """Company properties every read asks for."""
        return _unique([*COMPANY_BASE_PROPERTIES, self.props.industry, self.props.segment])

    def required_properties(self) -> dict[str, dict[str, str]]:
        """object type → {HubSpot property: its config key below ``[sources.NAME]``}."""
        pr = self.props
        deals = {pr.deal_type: "properties.deal_type"} if pr.deal_type else {}
        deals.update({p: f"custom.{k}" for k, p in self.settings.custom.items()})
        companies = (("industry", pr.industry), ("segment", pr.segment))
        return {
            "deals": deals,
            "companies": {p: f"properties.{k}" for k, p in companies if p},
            "line_items": {p: "properties.line_item_cost" for p in (pr.line_item_cost,) if p},
        }

    # ----------------------------------------------------------- records

    def owner(self, raw: JsonObj) -> OwnerRecord:
        """An owner (``/crm/v3/owners``); archived owners are deactivated users."""
        teams = raw.get("teams") or []
        primary = next((t for t in teams if t.get("primary")), teams[0] if teams else None)
        team_name = str(primary["name"]) if primary and primary.get("name") else None
        cfg = self.settings.teams
        region = None
        if team_name is not None:
            if team_name in cfg.regions:
                region = cfg.regions[team_name]
            elif cfg.region_separator:
                region = team_name.split(cfg.region_separator)[0]
        first, last = raw.get("firstName"), raw.get("lastName")
        name = f"{first} {last}" if first and last else (first or last or None)
        return OwnerRecord(
            external_id=str(raw["id"]),
            name=name,
            email=raw.get("email"),
            manager_external_id=None,
            team=cfg.names.get(team_name, team_name) if team_name else None,
            region=region,
            is_active=not raw.get("archived", False),
            source_modified_at=parse_datetime(raw.get("updatedAt")),
        )

    def account(self, raw: JsonObj) -> AccountRecord:
        """A company."""
        p = raw.get("properties") or {}
        return AccountRecord(
            external_id=str(raw["id"]),
            name=p.get("name"),
            industry=p.get(self.props.industry) if self.props.industry else None,
            segment=p.get(self.props.segment) if self.props.segment else None,
            created_at=parse_datetime(p.get("createdate")),
            source_modified_at=parse_datetime(p.get("hs_lastmodifieddate")),
            is_deleted=bool(raw.get("archived", False)),
        )

    def line_item(self, raw: JsonObj, deal_id: str) -> LineItemRecord:
        """A line item of deal ``deal_id``."""
        p = raw.get("properties") or {}
        price, quantity = _number(p.get("price")), _number(p.get("quantity"))
        total = _number(p.get("amount"))
        if total is None and price is not None and quantity is not None:
            pct, unit_discount = (
                _number(p.get("hs_discount_percentage")),
                _number(p.get("discount")),
            )
            if pct is not None:
                total = price * quantity * (1 - pct / 100)
            else:
                total = (price - (unit_discount or 0.0)) * quantity
        return LineItemRecord.from_totals(
            external_id=str(raw["id"]),
            deal_external_id=deal_id,
            quantity=quantity,
            list_price=price,
            total=total,
            product=p.get("name"),
            unit_cost=_number(p.get(self._cost)) if self._cost else None,
            source_modified_at=parse_datetime(p.get("hs_lastmodifieddate")),
        )

    def deal(
        self, raw: JsonObj, company_ids: Sequence[str], lines: list[LineItemRecord]
    ) -> DealRecord:
        """A live deal with its account (first of ``company_ids``) and complete line items."""
        p = raw.get("properties") or {}
        deal_id = str(raw["id"])
        pipeline, stage_id = p.get("pipeline"), p.get("dealstage")
        stage = self.stages.get((pipeline, stage_id))
        amount = _number(p.get("amount"))
        currency = (p.get("deal_currency_code") or self.currency).upper()
        deal_type = p.get(self._deal_type) if self._deal_type else None
        closed_at = parse_datetime(p.get("closedate"))
        list_amount, cost = line_totals(lines)
        return DealRecord(
            external_id=deal_id,
            name=p.get("dealname"),
            account_external_id=company_ids[0] if company_ids else None,
            owner_external_id=p.get("hubspot_owner_id") or None,
            stage=stage.label if stage else stage_id,
            pipeline=self.pipeline_labels.get(pipeline) if pipeline else None,
            is_closed=stage.is_closed if stage else False,
            is_won=stage.is_won if stage else False,
            created_at=parse_datetime(p.get("createdate")),
            close_date=_local_date(closed_at, self.tz),
            amount=amount,
            currency=currency,
            amount_reporting=self.rates.convert(amount, currency),
            list_amount=list_amount,
            cost_amount=cost,
            deal_type=deal_type,
            is_new_business=None if not deal_type else deal_type in self.new_types,
            source_modified_at=parse_datetime(p.get("hs_lastmodifieddate")),
            custom={name: p.get(prop) for name, prop in self._custom},
            line_items=lines,
        )


PRIMARY_TYPE_IDS = frozenset({5})  # deal→company "Primary" (HUBSPOT_DEFINED)
PRIMARY_INLINE_TYPE = "deal_to_company"  # v3 inline; the others are "..._unlabeled"


def primary_first(targets: Iterable[tuple[str, bool]]) -> list[str]:
    """A deal's company ids, its account first: the one labelled "Primary"; else the only
    one; else the lowest id (HubSpot lists associations in no meaningful order)."""
    ids: dict[str, bool] = {}
    for company_id, primary in targets:
        ids[company_id] = ids.get(company_id, False) or primary
    chosen = [i for i, primary in ids.items() if primary]
    rest = sorted((i for i in ids if i not in chosen[:1]), key=_id_order)
    return chosen[:1] + rest


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (2**63, value)


def _local_date(instant: datetime | None, tz: ZoneInfo) -> date | None:
    return None if instant is None else instant.astimezone(tz).date()


def _unique(names: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n))
