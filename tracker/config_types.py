"""The building blocks of every settings table: strict models, paths resolved against the
config file's folder, IANA time-zone names, and secrets that are references, never values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)

from tracker.errors import ConfigError


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    if base is not None and not value.is_absolute():
        return Path(base) / value
    return value


ConfigPath = Annotated[Path, AfterValidator(_resolve_path)]
"""A path in the config file, resolved against the config file's folder."""


class Strict(BaseModel):
    """Base of every settings table: unknown keys are errors, never silently ignored, and
    nothing changes after validation (settings are loaded once and passed in)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def zone_name(value: str) -> str:
    """``value`` if it names an IANA time zone, else a ``ValueError`` saying what to write."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'"
        ) from None
    return value


class Secret(Strict):
    """A reference to a secret: ``{ env = "NAME" }`` or ``{ file = "path" }``.

    The value is read only by ``reveal()``; ``repr`` and dumps show the reference only.
    """

    env: str | None = Field(default=None, min_length=1)
    file: ConfigPath | None = None
    _key: str = PrivateAttr(default="secret")

    @model_validator(mode="before")
    @classmethod
    def _not_literal(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                'secrets are never literal values: write { env = "NAME" } or { file = "path" }'
            )
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError('give exactly one of { env = "NAME" } or { file = "path" }')
        return self

    def describe(self) -> str:
        """Where the secret comes from, safe to print."""
        return f"<from env {self.env}>" if self.env is not None else f"<from file {self.file}>"

    def reveal(self) -> str:
        """Read the secret now; a ``ConfigError`` naming the key says what is missing."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"{self._key}: environment variable {self.env} is not set")
            return value
        assert self.file is not None
        try:
            value = self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"{self._key}: cannot read secret file {self.file}: {exc.strerror}"
            ) from None
        if not value:
            raise ConfigError(f"{self._key}: secret file {self.file} is empty")
        return value

    def __repr__(self) -> str:
        return f"Secret({self.describe()})"

    __str__ = __repr__
