"""Settings of a ``kind = "csv"`` source: the file and its column mapping."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from connectors.csv.reader import Layout
from tracker.config_types import ConfigPath, Strict
from tracker.settings import SourceSettings


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
        return {k: v for k, v in self.model_dump().items() if v is not None}


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

    @field_validator("path")
    @classmethod
    def _known_suffix(cls, value: ConfigPath) -> ConfigPath:
        if value.suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx"):
            raise ValueError(f"{value.name}: expected a .csv, .tsv or .xlsx file")
        return value

    @property
    def field_delimiter(self) -> str:
        """The delimiter: as configured, else a tab for .tsv files and a comma otherwise."""
        if self.delimiter is not None:
            return self.delimiter
        return "\t" if self.path.suffix.lower() == ".tsv" else ","

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

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("the delimiter is one character, e.g. ',' or ';'")
        return value
