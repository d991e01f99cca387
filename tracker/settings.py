"""Typed settings: one TOML file validated into one ``Settings`` object.

The file is found by ``--config PATH``, else ``$TRACKER_CONFIG``, else ``./tracker.toml``
(the CLI resolves that order). Relative paths resolve against the config file's folder.
Secrets are never literal values: a secret key takes ``{ env = "NAME" }`` or
``{ file = "path" }`` and is only read when a connector needs it (``Secret.reveal``).

Each source kind owns the model of its ``[sources.NAME]`` table (a ``SourceSettings``
subclass in ``connectors/<kind>/settings.py``); the loader is handed the kind → model map
so the core never imports a connector.
"""

from __future__ import annotations

import glob
import os
import re
import tomllib
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracker.config_types import Secret, Strict, zone_name
from tracker.errors import ConfigError
from tracker.goals.model import GoalConfig
from tracker.goals.thresholds import GoalThresholds
from tracker.ops_settings import EmailSection, ScheduleSection

DEFAULT_CONFIG_NAME = "tracker.toml"
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


class TrackerSection(Strict):
    """``[tracker]``: calendar and currency of the organisation."""

    timezone: str = "UTC"
    """IANA time zone of the organisation: periods, dates and times are read in it."""
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    """Month (1-12) the fiscal year starts in; fiscal quarters follow it."""
    currency: str = "USD"
    """Reporting currency (ISO code) every amount is converted to."""
    exchange_rates: dict[str, float] = Field(default_factory=dict)
    """Units of the reporting currency per 1 unit of another currency (CSV, HubSpot)."""
    goal_files: list[str] = Field(default_factory=list)
    """Further TOML files (globs, relative to this file) holding [[goals]] tables."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return zone_name(value)

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError(f"{value!r} is not a 3-letter ISO currency code such as 'USD'")
        return value.upper()

    @field_validator("exchange_rates")
    @classmethod
    def _positive_rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, rate in value.items():
            if not re.fullmatch(r"[A-Za-z]{3}", code) or rate <= 0:
                raise ValueError(
                    f"{code} = {rate}: give 3-letter codes and positive rates "
                    "(units of the reporting currency per 1 unit)"
                )
        return {code.upper(): rate for code, rate in value.items()}

    @property
    def tz(self) -> ZoneInfo:
        """The organisation's time zone."""
        return ZoneInfo(self.timezone)


class StoreSection(Strict):
    """``[store]``: where deals are kept (a SQLAlchemy URL) and the database password."""

    url: str = Field(default="sqlite:///tracker.db", validate_default=True)
    """SQLAlchemy URL of the store: sqlite:///file.db (default) or postgresql+psycopg://user@host/db."""
    password: Secret | None = None
    """The database password, as a secret ({ env = ... } or { file = ... })."""

    def connect_url(self) -> str:
        """The URL to connect with: the password (read now, if any) filled in."""
        if self.password is None:
            return self.url
        url = make_url(self.url).set(password=self.password.reveal())
        return url.render_as_string(hide_password=False)

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str, info: ValidationInfo) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL; use e.g. 'sqlite:///tracker.db' or "
                "'postgresql+psycopg://user@host/db'"
            ) from None
        if url.password is not None or "password" in url.query:
            raise ValueError(
                'no passwords in the URL: write [store] password = { env = "PGPASSWORD" }'
            )
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}; use sqlite or postgresql"
            )
        base = (info.context or {}).get("base_dir")
        db = url.database
        if url.get_backend_name() == "sqlite" and db and db != ":memory:" and base:
            path = Path(db).expanduser()
            if not path.is_absolute():
                url = url.set(database=str(Path(base) / path))
        return url.render_as_string(hide_password=False)


class Reserved(Strict):
    """A section reserved for a later version: it takes no keys yet."""


class SourceSettings(Strict):
    """Base of every ``[sources.NAME]`` table; each kind subclasses it with its own keys."""

    kind: str


class Settings(Strict):
    """Everything the tool is configured with, loaded once and passed in."""

    tracker: TrackerSection = Field(default_factory=TrackerSection)
    store: StoreSection = Field(default_factory=StoreSection)
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    goals: tuple[GoalConfig, ...] = ()
    goal_thresholds: GoalThresholds = Field(default_factory=GoalThresholds)
    # reserved: filled by later versions; until then any key in them is an error
    email: EmailSection = Field(default_factory=lambda: EmailSection())
    schedule: ScheduleSection = Field(default_factory=lambda: ScheduleSection())
    _config_path: Path | None = PrivateAttr(default=None)

    @property
    def config_path(self) -> Path | None:
        """The file these settings were read from."""
        return self._config_path

    @model_validator(mode="before")
    @classmethod
    def _sections_with_context(cls, data: Any) -> Any:
        # default sections are validated too, so their paths resolve against the config
        if isinstance(data, dict):
            data = {"tracker": {}, "store": {}, **data}
        return data

    def source(self, name: str) -> SourceSettings:
        """The settings of source NAME, or a ``ConfigError`` listing the configured ones."""
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none configured"
            close = get_close_matches(name, list(self.sources), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ConfigError(
                f"unknown source {name!r}; {hint}configured sources: {known}"
            ) from None

    def redacted(self) -> dict[str, Any]:
        """The effective settings as plain data, secrets shown as their reference only."""
        redacted: dict[str, Any] = _redact_value(self)
        return redacted


def _redact_model(model: BaseModel) -> Any:
    out: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        if not field.exclude:
            out[field.alias or name] = _redact_value(getattr(model, name))
    return out


def _redact_value(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.describe()
    if isinstance(value, BaseModel):
        return _redact_model(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# ---------------------------------------------------------------- loading


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the TOML file, with a one-line error naming the file and the fix."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found: run `tracker init` to write one, "
            "or pass --config PATH (or set TRACKER_CONFIG)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory; pass the .toml file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(path: Path, source_models: Mapping[str, type[SourceSettings]]) -> Settings:
    """Load and validate the config file at ``path``.

    ``source_models`` maps each source ``kind`` to its settings model (the connector
    registry provides it). Raises ``ConfigError`` naming the key and the fix.
    """
    path = path.expanduser().resolve()
    raw = read_config_file(path)
    return settings_from_dict(
        raw, base_dir=path.parent, source_models=source_models, config_path=path
    )


def settings_from_dict(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    source_models: Mapping[str, type[SourceSettings]],
    config_path: Path | None = None,
) -> Settings:
    """Validate already-parsed config data (``load_settings`` without the file)."""
    data = dict(raw)
    raw_sources = data.pop("sources", {})
    raw_goals = data.pop("goals", [])
    context = {"base_dir": base_dir}
    try:
        settings = Settings.model_validate(data, context=context)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, Settings, ())) from None
    if not isinstance(raw_sources, dict):
        raise ConfigError("sources: must be a table of [sources.NAME] sections")
    sources = {
        name: _load_source(name, table, context, source_models)
        for name, table in raw_sources.items()
    }
    for name in settings.schedule.sources:
        if name not in sources:
            known = ", ".join(sorted(sources)) or "none configured"
            raise ConfigError(f"schedule.sources.{name}: no such source; configured: {known}")
    goals = load_goals(raw_goals, settings.tracker.goal_files, base_dir, config_path)
    settings = settings.model_copy(update={"sources": sources, "goals": goals})
    settings._config_path = config_path
    _bind_secret_keys(settings, "")
    return settings


def _load_source(
    name: str,
    table: Any,
    context: dict[str, Any],
    source_models: Mapping[str, type[SourceSettings]],
) -> SourceSettings:
    prefix = ("sources", name)
    if not _SOURCE_NAME.match(name):
        raise ConfigError(
            f"sources.{name}: source names use letters, digits, '-' and '_' (at most 100)"
        )
    if not isinstance(table, dict):
        raise ConfigError(f"sources.{name}: must be a table ([sources.{name}])")
    kinds = ", ".join(sorted(source_models))
    kind = table.get("kind")
    if kind is None:
        raise ConfigError(f"sources.{name}.kind: required key is missing; one of: {kinds}")
    model = source_models.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ConfigError(f"sources.{name}.kind: unknown kind {kind!r}; valid kinds: {kinds}")
    try:
        return model.model_validate(table, context=context)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, model, prefix)) from None


def load_goals(
    tables: Any, patterns: list[str], base_dir: Path, config_path: Path | None
) -> tuple[GoalConfig, ...]:
    """The ``[[goals]]`` of the config, then those of every file ``goal_files`` matches
    (relative to the config's folder; a goal's own paths to its file's folder). Errors
    name the file and the goal id."""
    goals = _goal_tables(tables, config_path.name if config_path else "config", base_dir)
    for pattern in patterns:
        paths = sorted(Path(p) for p in glob.glob(os.path.join(base_dir, pattern)))
        if not paths:
            raise ConfigError(f"tracker.goal_files: {pattern!r} matches no file in {base_dir}")
        for path in paths:
            data = read_config_file(path)
            if set(data) - {"goals"}:
                raise ConfigError(f"{path}: a goal file holds [[goals]] tables only")
            name = os.path.relpath(path, base_dir)
            goals.extend(_goal_tables(data.get("goals", []), name, path.parent))
    seen: dict[str, str] = {}
    for goal in goals:
        if goal.id in seen:
            raise ConfigError(f"goal {goal.id}: duplicate id ({seen[goal.id]} and {goal.origin})")
        seen[goal.id] = goal.origin
    return tuple(goals)


def _goal_tables(tables: Any, origin: str, base_dir: Path) -> list[GoalConfig]:
    if not isinstance(tables, list):
        raise ConfigError(f"{origin}: goals: write each goal as a [[goals]] table")
    out = []
    for number, table in enumerate(tables, start=1):
        name = table.get("id") if isinstance(table, dict) else None
        label = f"goal {name}" if isinstance(name, str) else f"goal #{number}"
        try:
            goal = GoalConfig.model_validate(table, context={"base_dir": base_dir})
        except ValidationError as exc:
            text = _describe(exc, GoalConfig, ()).replace("config: ", "")
            raise ConfigError(f"{origin}: {label}: {text}") from None
        goal._origin = origin
        out.append(goal)
    return out


def secret_problem(model: BaseModel) -> ConfigError | None:
    """The error reading the first secret of ``model`` that cannot be read, else None
    (so a run can refuse before it writes anything)."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Secret):
            try:
                value.reveal()
            except ConfigError as exc:
                return exc
        elif isinstance(value, BaseModel):
            found = secret_problem(value)
            if found is not None:
                return found
    return None


def _bind_secret_keys(value: Any, key: str) -> None:
    """Tell every Secret its dotted key, so errors on reveal can name it."""
    if isinstance(value, Secret):
        value._key = key
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _bind_secret_keys(getattr(value, name), f"{key}.{name}" if key else name)
    elif isinstance(value, dict):
        for name, item in value.items():
            _bind_secret_keys(item, f"{key}.{name}" if key else str(name))


def _describe(exc: ValidationError, model: type[BaseModel], prefix: tuple[str, ...]) -> str:
    """Turn pydantic's errors into '; '-joined 'dotted.key: what is wrong' phrases."""
    parts = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        # pydantic appends the validator's type name for unions/models; keep config keys only
        loc = tuple(p for p in loc if not p.startswith("function-"))
        key = ".".join(prefix + loc) or "config"
        kind = err["type"]
        if kind == "extra_forbidden":
            valid = _valid_keys(model, loc[:-1])
            hint = f"; valid keys here: {', '.join(valid)}" if valid else ""
            parts.append(f"{key}: unknown key (a typo?){hint}")
        elif kind == "missing":
            parts.append(f"{key}: required key is missing")
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"{key}: {message}")
    return "; ".join(parts)


def _valid_keys(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """The field names of the model found by walking ``loc`` through nested models."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) or _by_alias(current, part)
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return []
        while get_origin(current) is not None and get_origin(current) not in (dict, list):
            args = [a for a in get_args(current) if a is not type(None)]
            current = args[0] if args else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(field.alias or name for name, field in current.model_fields.items())
    return []


def _by_alias(model: type[BaseModel], key: str) -> Any:
    return next((f for f in model.model_fields.values() if f.alias == key), None)
