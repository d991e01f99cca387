"""The configuration reference (``docs/configuration.md``), generated from the settings
models so it cannot drift from what the loader accepts (a test compares the file with
``reference()``; ``tracker config reference`` prints it)."""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tracker.config_types import Secret
from tracker.settings import Reserved, Settings, SourceSettings

HEADER = """# Configuration reference

Generated from the settings models (`tracker config reference` prints it; a test keeps
this file equal to it). One TOML file, found by `--config`, else `$TRACKER_CONFIG`, else
`./tracker.toml`; relative paths resolve against its folder. An unknown key is an error
naming the valid ones. Secrets are `{ env = "NAME" }` or `{ file = "path" }`, never
literal values.
"""


def _type(annotation: Any) -> str:
    """A reader's name for a field's type."""
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is Literal:
        return " | ".join(f'"{a}"' for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " or ".join(_type(a) for a in args) if len(args) > 1 else _type(args[0])
    if origin in (list, tuple, set, frozenset):
        return f"list of {_type(args[0])}" if args else "list"
    if origin is dict:
        return f"table of {_type(args[-1])}" if args else "table"
    if getattr(annotation, "__metadata__", None) is not None:  # Annotated
        return _type(get_args(annotation)[0])
    if isinstance(annotation, type):
        if issubclass(annotation, Secret):
            return "secret"
        if issubclass(annotation, BaseModel):
            return "table"
        if issubclass(annotation, Path):
            return "path"
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation).replace("typing.", "")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is PydanticUndefined or value is None:
        return "—"
    if isinstance(value, BaseModel):
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value)


def _nested(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds as a sub-table (not a secret), if any."""
    candidates = [annotation, *get_args(annotation)]
    for item in candidates:
        if (
            isinstance(item, type)
            and issubclass(item, BaseModel)
            and not issubclass(item, (Secret, Reserved))
        ):
            return item
    return None


def _section(title: str, model: type[BaseModel]) -> Iterator[str]:
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    yield f"\n## `{title}`\n"
    if doc:
        yield f"{doc}\n"
    yield "| key | type | default | meaning |"
    yield "|---|---|---|---|"
    tables = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        nested = _nested(field.annotation)
        if nested is not None and get_origin(field.annotation) not in (dict, list, tuple):
            tables.append((key, nested))
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        kind = _type(field.annotation).replace("|", "\\|")
        default = _default(field).replace("|", "\\|")
        yield f"| `{key}` | {kind} | {default} | {meaning} |"
    for key, nested in tables:
        inner = f"{title.strip('[]')}.{key}"
        yield from _section(f"[{inner}]", nested)


def reference(source_models: Mapping[str, type[SourceSettings]]) -> str:
    """The whole reference as Markdown: each section of ``Settings``, the goals, and
    each source kind's ``[sources.NAME]`` table."""
    lines = [HEADER]
    for name, field in Settings.model_fields.items():
        model = _nested(field.annotation)
        if name in ("sources", "goals"):
            continue
        if model is not None:
            lines.extend(_section(f"[{name}]", model))
    goals = _nested(get_args(Settings.model_fields["goals"].annotation)[0])
    if goals is not None:
        lines.extend(_section("[[goals]]", goals))
    for kind, model in sorted(source_models.items()):
        lines.append(f"\n# Sources of kind `{kind}`")
        lines.extend(_section("[sources.NAME]", model))
    return "\n".join(lines).rstrip() + "\n"
