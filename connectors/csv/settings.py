"""Settings of a ``kind = "csv"`` source: the file and its column mapping."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from connectors.csv.reader import Layout
from tracker.config_types import ConfigPath, Strict
from tracker.records import ACTIVITY_KINDS
from tracker.settings import SourceSettings

SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


def _known_suffix(value: ConfigPath) -> ConfigPath:
    if value.suffix.lower() not in SUFFIXES:
        raise ValueError(f"{value.name}: expected a .csv, .tsv or .xlsx file")
    return value


def _mapped(columns: Strict) -> dict[str, str]:
    return {k: v for k, v in columns.model_dump().items() if v is not None}


class CsvColumns(Strict):
    """Canonical field = column name in the file. Only ``id`` and ``stage`` are required."""

    id: str
    """Column of the deal's unique id."""
    stage: str
    """Column of the deal's stage."""
    name: str | None = None
    """Deal name."""
    owner: str | None = None
    """Owner name."""
    owner_email: str | None = None
    """Owner e-mail (quotas, digests)."""
    team: str | None = None
    """Owner's team."""
    region: str | None = None
    """Region."""
    account: str | None = None
    """Account (customer) name or id."""
    segment: str | None = None
    """Account segment."""
    industry: str | None = None
    """Account industry."""
    created: str | None = None
    """Creation date."""
    closed: str | None = None
    """Close date."""
    amount: str | None = None
    """Amount."""
    list_amount: str | None = None
    """List (undiscounted) amount."""
    cost_amount: str | None = None
    """Cost of the deal (margins)."""
    currency: str | None = None
    """Currency code of the amounts."""
    type: str | None = None
    """Deal type (new customer or not, see deal_types)."""
    pipeline: str | None = None
    """Pipeline."""

    def mapped(self) -> dict[str, str]:
        """canonical field → column, for the fields that are mapped."""
        return _mapped(self)


class CsvStages(Strict):
    """Which stage values mean won and lost (compared case-insensitively); others are open."""

    won: list[str] = Field(min_length=1)
    """Stage values meaning won."""
    lost: list[str] = Field(default_factory=list)
    """Stage values meaning lost."""


class CsvDealTypes(Strict):
    """Deal type values that mean a new customer (sets ``is_new_business``)."""

    new_customer: list[str] = Field(default_factory=list)
    """Deal type values meaning a new customer."""


class CsvActivityColumns(Strict):
    """Activity field = column name. Only ``id``, ``kind`` and ``occurred`` are required."""

    id: str
    """Column of the activity's unique id."""
    kind: str
    """Column of the activity's kind (call, meeting, email, task; see kinds)."""
    occurred: str
    """When it happened: a date, or a date and time (local to [tracker] timezone)."""
    subject: str | None = None
    """Subject or title."""
    owner: str | None = None
    """Owner, written as in the deals file's owner column."""
    duration_minutes: str | None = None
    """Duration in minutes."""
    completed: str | None = None
    """Done or not: true/false, yes/no, 1/0 (blank: unknown)."""
    outcome: str | None = None
    """Status, disposition or outcome text."""
    deal: str | None = None
    """Id of the deal it is about, as in the deals file's id column (blank: unlinked)."""
    account: str | None = None
    """Account it is about, as in the deals file's account column."""

    def mapped(self) -> dict[str, str]:
        """activity field → column, for the fields that are mapped."""
        return _mapped(self)


class CsvActivityKinds(Strict):
    """Kind values meaning each kind (any case); the kind's own name always counts.

    A value listed under two kinds is an error."""

    call: list[str] = Field(default_factory=list)
    """Values meaning a call (e.g. "Phone Call")."""
    meeting: list[str] = Field(default_factory=list)
    """Values meaning a meeting (e.g. "Demo")."""
    email: list[str] = Field(default_factory=list)
    """Values meaning an email."""
    task: list[str] = Field(default_factory=list)
    """Values meaning a task (a to-do)."""

    @model_validator(mode="after")
    def _one_kind_per_value(self) -> CsvActivityKinds:
        owner: dict[str, str] = {k: k for k in ACTIVITY_KINDS}
        for kind in ACTIVITY_KINDS:
            for value in getattr(self, kind):
                key = value.strip().casefold()
                if owner.setdefault(key, kind) != kind:
                    raise ValueError(
                        f"{value!r} is listed as both {owner[key]} and {kind}; list it under one"
                    )
        return self

    def lookup(self) -> dict[str, str]:
        """casefolded value → kind, the kinds' own names included."""
        table = {k: k for k in ACTIVITY_KINDS}
        for kind in ACTIVITY_KINDS:
            table.update({v.strip().casefold(): kind for v in getattr(self, kind)})
        return table


class CsvActivities(Strict):
    """The activities file: present, activities are synced; read like the deals file.

    Dates, numbers and text are read as in the deals file (the source's date_format,
    decimal_separator, encoding and delimiter); date_format can be set here instead."""

    path: ConfigPath
    """The activities file (.csv, .tsv or .xlsx), relative to the config."""
    columns: CsvActivityColumns
    """Activity field = column name ([sources.NAME.activities.columns])."""
    kinds: CsvActivityKinds = Field(default_factory=CsvActivityKinds)
    """Which kind values mean call, meeting, email, task ([sources.NAME.activities.kinds])."""
    date_format: str | None = None
    """strftime format of the occurred column (default the source's date_format)."""
    sheet: str | None = None
    """The XLSX sheet (default the first)."""
    skip_header_rows: int = Field(default=0, ge=0)
    """Rows above the header to skip (report titles)."""
    skip_footer_rows: int = Field(default=0, ge=0)
    """Rows below the data to skip (totals, footers)."""

    _suffix = field_validator("path")(_known_suffix)


class CsvSourceSettings(SourceSettings):
    """``[sources.NAME]`` with ``kind = "csv"``."""

    kind: Literal["csv"]
    """csv."""
    path: ConfigPath
    """The export file (.csv, .tsv or .xlsx), relative to the config."""
    columns: CsvColumns
    """Canonical field = column name ([sources.NAME.columns])."""
    stages: CsvStages
    """Which stage values are won and lost ([sources.NAME.stages])."""
    deal_types: CsvDealTypes = Field(default_factory=CsvDealTypes)
    """Which deal types are new customers."""
    custom: dict[str, str] = Field(default_factory=dict)
    """Further columns kept with each deal: name = column."""
    date_format: str | None = None
    """strftime format of dates (e.g. %d/%m/%Y); default ISO and common forms."""
    decimal_separator: Literal[".", ","] = "."
    """'.' (1,234.50) or ',' (1.234,50)."""
    currency: str | None = None
    """Currency of amounts when the file has no currency column."""
    delimiter: str | None = None
    """Field delimiter (default ',' and a tab for .tsv)."""
    encoding: str = "utf-8-sig"
    """Text encoding of the file."""
    sheet: str | None = None
    """The XLSX sheet (default the first)."""
    skip_header_rows: int = Field(default=0, ge=0)
    """Rows above the header to skip (report titles)."""
    skip_footer_rows: int = Field(default=0, ge=0)
    """Rows below the data to skip (totals, footers)."""
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    """Rows per committed batch."""
    activities: CsvActivities | None = None
    """The activities file and its columns ([sources.NAME.activities]); absent: no activities."""

    _suffix = field_validator("path")(_known_suffix)

    @field_validator("activities", mode="before")
    @classmethod
    def _activities_table(cls, value: Any) -> Any:
        if value is False:
            return None
        if value is True:
            raise ValueError(
                "a CSV source's activities come from their own file: write a "
                "[sources.NAME.activities] table with path and columns (see docs/csv.md)"
            )
        return value

    def _delimiter_of(self, path: ConfigPath) -> str:
        """As configured, else a tab for .tsv files and a comma otherwise."""
        if self.delimiter is not None:
            return self.delimiter
        return "\t" if path.suffix.lower() == ".tsv" else ","

    @property
    def field_delimiter(self) -> str:
        """The deals file's delimiter: as configured, else by the file's suffix."""
        return self._delimiter_of(self.path)

    @property
    def layout(self) -> Layout:
        """How to read the file: encoding, delimiter, sheet, rows around the data."""
        return Layout(
            encoding=self.encoding,
            delimiter=self.field_delimiter,
            sheet=self.sheet,
            skip_header_rows=self.skip_header_rows,
            skip_footer_rows=self.skip_footer_rows,
        )

    def activity_layout(self, activities: CsvActivities) -> Layout:
        """How to read the activities file: the source's encoding and delimiter, its own
        sheet and rows around the data."""
        return Layout(
            encoding=self.encoding,
            delimiter=self._delimiter_of(activities.path),
            sheet=activities.sheet,
            skip_header_rows=activities.skip_header_rows,
            skip_footer_rows=activities.skip_footer_rows,
        )

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("the delimiter is one character, e.g. ',' or ';'")
        return value
