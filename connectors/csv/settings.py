"""Settings of a ``kind = "csv"`` source: the file and its column mapping."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from connectors.csv.reader import Layout
from tracker.settings import ConfigPath, SourceSettings, Strict


class CsvColumns(Strict):
    """Canonical field = column name in the file. Only ``id`` and ``stage`` are required."""

    id: str
    stage: str
    name: str | None = None
    owner: str | None = None
    owner_email: str | None = None
    team: str | None = None
    region: str | None = None
    account: str | None = None
    segment: str | None = None
    industry: str | None = None
    created: str | None = None
    closed: str | None = None
    amount: str | None = None
    list_amount: str | None = None
    cost_amount: str | None = None
    currency: str | None = None
    type: str | None = None
    pipeline: str | None = None

    def mapped(self) -> dict[str, str]:
        """canonical field → column, for the fields that are mapped."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CsvStages(Strict):
    """Which stage values mean won and lost (compared case-insensitively); others are open."""

    won: list[str] = Field(min_length=1)
    lost: list[str] = Field(default_factory=list)


class CsvDealTypes(Strict):
    """Deal type values that mean a new customer (sets ``is_new_business``)."""

    new_customer: list[str] = Field(default_factory=list)


class CsvSourceSettings(SourceSettings):
    """``[sources.NAME]`` with ``kind = "csv"``."""

    kind: Literal["csv"]
    path: ConfigPath
    columns: CsvColumns
    stages: CsvStages
    deal_types: CsvDealTypes = Field(default_factory=CsvDealTypes)
    custom: dict[str, str] = Field(default_factory=dict)
    date_format: str | None = None
    decimal_separator: Literal[".", ","] = "."
    currency: str | None = None
    delimiter: str | None = None
    encoding: str = "utf-8-sig"
    sheet: str | None = None
    skip_header_rows: int = Field(default=0, ge=0)
    skip_footer_rows: int = Field(default=0, ge=0)
    batch_size: int = Field(default=5000, ge=1, le=100_000)

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
