"""The deals frame every metric reads, built from the store's rows (pure, no I/O).

``tracker.metrics.load`` returns one *raw* row per live deal: the deal's own columns, the
owner and account columns joined on ``(source, external id)``, and its live line items
aggregated per deal (``li_*`` columns). :func:`prepare` turns that into the *deals frame*:

==============  ==============================================================
column          meaning
==============  ==============================================================
deal_id         store id of the deal
source          configured source name
external_id     deal id in the source
is_won          closed won
is_closed       closed (won or lost)
close_day       close date as days since 1970-01-01 (float, NaN when unknown)
created_day     local date of ``created_at`` in ``tracker.timezone`` (same form)
account         account external id ('' when none)
amount          amount in the reporting currency (``amount_reporting``)
list_amount     list amount, reporting currency
net_amount      net amount, reporting currency
cost_amount     cost, reporting currency
first_won       this deal is its account's first-ever won deal
owner ...       dimensions (owner, team, region, source, pipeline, segment) as
                categoricals, '' meaning "none"
==============  ==============================================================

Money rules (``docs/metrics.md``): a deal's *list* is Σ list price × quantity of its live
line items when every one of them has both, else its mapped ``list_amount``; its *net* is Σ
line-item totals when every live line item has one, else its amount; its *cost* is Σ unit
cost × quantity when every live line item has both, else its ``cost_amount``. Line items and
``list_amount``/``cost_amount`` are in the deal's currency and are converted with the deal's
own rate ``amount_reporting / amount`` (1 when the deal is in the reporting currency or has
no currency; unknown, hence missing, otherwise when the rate cannot be formed).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from tracker.metrics.registry import Field

DIMENSIONS: tuple[str, ...] = ("owner", "team", "region", "source", "pipeline", "segment")
"""Dimensions metrics break down and filter by."""

NONE_VALUE = ""
"""How a missing dimension value is held in the frame (rendered as null / "(none)")."""

BASE_COLUMNS: tuple[str, ...] = ("id", "source", "external_id", "is_won", "is_closed", "close_date")
_RATE_COLUMNS = ("amount", "amount_reporting", "currency")
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "amount": ("amount_reporting",),
    "created": ("created_at",),
    "account": ("account_external_id",),
    "net": (*_RATE_COLUMNS, "li_count", "li_net", "li_net_count"),
    "list": (*_RATE_COLUMNS, "list_amount", "li_count", "li_list", "li_list_count"),
    "cost": (*_RATE_COLUMNS, "cost_amount", "li_count", "li_cost", "li_cost_count"),
}
"""Raw (store) columns behind each metric field."""

DIMENSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "owner": ("owner_external_id", "owner_name"),
    "team": ("team",),
    "region": ("region",),
    "source": (),
    "pipeline": ("pipeline",),
    "segment": ("segment",),
}
"""Raw columns behind each dimension (owners and accounts are joined by the loader)."""

_EPOCH = np.datetime64("1970-01-01", "D")


def raw_columns(fields: Iterable[Field | str], dimensions: Iterable[str]) -> list[str]:
    """The raw columns a request needs, in a stable order."""
    wanted: list[str] = list(BASE_COLUMNS)
    for name in fields:
        wanted.extend(FIELD_COLUMNS[name])
    for dim in dimensions:
        wanted.extend(DIMENSION_COLUMNS[dim])
    return list(dict.fromkeys(wanted))


def day_numbers(values: pd.Series) -> pd.Series:
    """Dates (date objects, ISO strings or datetimes) as float days since 1970-01-01."""
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    days = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = (days - _EPOCH).astype("float64")
    out[np.isnat(days)] = np.nan
    return pd.Series(out, index=values.index)


def local_days(values: pd.Series, timezone: str) -> pd.Series:
    """Aware (or naive, meaning UTC) timestamps as local dates in ``timezone``, in days."""
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    local = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
    days = local.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = (days - _EPOCH).astype("float64")
    out[np.isnat(days)] = np.nan
    return pd.Series(out, index=values.index)


def _float(raw: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(raw[column], errors="coerce").astype("float64")


def _bool(raw: pd.DataFrame, column: str) -> pd.Series:
    return raw[column].fillna(False).astype(bool)


def _text(values: pd.Series) -> pd.Series:
    """Text as objects, '' for missing."""
    objects = values.to_numpy(dtype=object)
    return pd.Series(np.where(pd.isna(objects), NONE_VALUE, objects), index=values.index)


def category(values: pd.Series) -> pd.Series:
    """A dimension as a categorical, '' for missing (one factorisation)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    categories = [str(v) for v in uniques]
    if (codes < 0).any():
        if NONE_VALUE in categories:
            codes = np.where(codes < 0, categories.index(NONE_VALUE), codes)
        else:
            codes = np.where(codes < 0, len(categories), codes)
            categories.append(NONE_VALUE)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=pd.Index(categories)), index=values.index
    )


def currency_rate(raw: pd.DataFrame, reporting_currency: str) -> pd.Series:
    """Each deal's rate from its own currency to the reporting one (NaN when unknown)."""
    amount = _float(raw, "amount")
    reporting = _float(raw, "amount_reporting")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (reporting / amount).where((amount != 0) & amount.notna() & reporting.notna())
    currency = raw["currency"].astype(object)
    codes = [
        c for c in pd.unique(currency.dropna()) if str(c).upper() == reporting_currency.upper()
    ]
    same = currency.isna() | currency.isin(codes)
    return rate.where(rate.notna() | ~same, 1.0)


def _from_items(raw: pd.DataFrame, total: str, count: str) -> tuple[pd.Series, pd.Series]:
    """Line-item sums usable for a deal (all live items had the value) and the mask."""
    items = _float(raw, "li_count").fillna(0)
    usable = (items > 0) & (_float(raw, count).fillna(-1) == items)
    return _float(raw, total).round(6), usable


def prepare(
    raw: pd.DataFrame,
    *,
    timezone: str,
    reporting_currency: str,
    fields: Iterable[Field | str] = (),
    dimensions: Iterable[str] = (),
) -> pd.DataFrame:
    """Build the deals frame from the loader's raw rows (see the module doc)."""
    fields = set(fields)
    frame = pd.DataFrame(index=raw.index)
    frame["deal_id"] = pd.to_numeric(raw["id"]).astype("int64")
    frame["external_id"] = raw["external_id"].astype(object)
    frame["is_won"] = _bool(raw, "is_won")
    frame["is_closed"] = _bool(raw, "is_closed") | frame["is_won"]
    frame["close_day"] = day_numbers(raw["close_date"])
    if "created" in fields:
        frame["created_day"] = local_days(raw["created_at"], timezone)
    if "account" in fields:
        frame["account"] = _text(raw["account_external_id"])
    if "amount" in fields or fields & {"net", "list", "cost"}:
        frame["amount"] = _float(raw, "amount_reporting")
    if fields & {"net", "list", "cost"}:
        rate = currency_rate(raw, reporting_currency)
        if "net" in fields:
            net, usable = _from_items(raw, "li_net", "li_net_count")
            frame["net_amount"] = (net * rate).where(usable, frame["amount"])
        if "list" in fields:
            listed, usable = _from_items(raw, "li_list", "li_list_count")
            frame["list_amount"] = listed.where(usable, _float(raw, "list_amount")) * rate
        if "cost" in fields:
            cost, usable = _from_items(raw, "li_cost", "li_cost_count")
            frame["cost_amount"] = cost.where(usable, _float(raw, "cost_amount")) * rate
    add_dimensions(frame, raw, dimensions)
    if "account" in fields:
        frame["first_won"] = first_won(frame)
    return frame.reset_index(drop=True)


def add_dimensions(frame: pd.DataFrame, raw: pd.DataFrame, dimensions: Iterable[str]) -> None:
    """Add the ``dimensions`` (and ``source``, always) of ``raw`` to ``frame`` as
    categoricals: the owner by name, else by external id."""
    dims = set(dimensions) | {"source"}
    for dim in DIMENSIONS:
        if dim not in dims:
            continue
        if dim == "owner":
            name = raw["owner_name"].to_numpy(dtype=object)
            external = raw["owner_external_id"].to_numpy(dtype=object)
            values = pd.Series(np.where(pd.isna(name), external, name), index=raw.index)
        else:
            values = raw[dim]
        frame[dim] = category(values)


def first_won(frame: pd.DataFrame) -> pd.Series:
    """Mark each account's first-ever won deal.

    Among the frame's won deals with an account and a close date (the whole store, before
    any filter), the earliest close date wins; ties go to the smallest deal external id.
    Accounts are keyed by ``(source, account)``.
    """
    won = frame["is_won"] & (frame["account"] != NONE_VALUE) & frame["close_day"].notna()
    candidates = frame.loc[won, ["source", "account", "close_day", "external_id"]]
    keys = [candidates["source"].cat.codes, candidates["account"]]
    earliest = candidates.groupby(keys, sort=False)["close_day"].transform("min")
    tied = candidates[candidates["close_day"] == earliest]
    ordered = tied.sort_values(["source", "account", "external_id"], kind="stable")
    firsts = ordered.drop_duplicates(["source", "account"], keep="first").index
    mark = pd.Series(False, index=frame.index)
    mark[firsts] = True
    return mark
