"""The Jinja2 environments of the templates beside this package (``templates/``)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def environment(*, html: bool) -> Environment:
    """Autoescaped for HTML, verbatim for plain text; undefined names are errors."""
    return Environment(
        loader=PackageLoader("tracker.reports", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=not html,
    )
