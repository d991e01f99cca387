"""``tracker status``: per source, the last sync and how old the data is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from tracker.cli.common import state
from tracker.errors import UsageError


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("status")(status)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "never synced"
    seconds = int((now - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def status(
    ctx: typer.Context,
    output_format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Show, per source: the last run, its outcome, records, and the age of the data."""
    if output_format not in ("table", "json"):
        raise UsageError(f"unknown format {output_format!r}; valid formats: table, json")
    st = state(ctx)
    settings = st.settings
    store = st.store()
    runs = {r["source"]: r for r in store.last_runs()}
    success = {k: _aware(v) for k, v in store.last_success().items()}
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for name in sorted(set(settings.sources) | set(runs)):
        run = runs.get(name, {})
        counts = run.get("counts") or {}
        started = _aware(run.get("started_at"))
        last_ok = success.get(name)
        rows.append(
            {
                "source": name,
                "kind": settings.sources[name].kind
                if name in settings.sources
                else run.get("kind"),
                "configured": name in settings.sources,
                "last_run": started.isoformat() if started else None,
                "outcome": run.get("outcome"),
                "deals": (counts.get("received") or {}).get("deals", 0),
                "changed": sum((counts.get("changed") or {}).values()),
                "rejected": counts.get("rejected", 0),
                "error": run.get("error"),
                "last_success": last_ok.isoformat() if last_ok else None,
                "age": _age(last_ok, now),
            }
        )
    if output_format == "json":
        st.out.print_json(json.dumps({"store": store.display_url, "sources": rows}))
        return
    table = Table(title=f"Store: {store.display_url}")
    for col in (
        "source",
        "kind",
        "last run",
        "outcome",
        "deals",
        "changed",
        "rejected",
        "data age",
    ):
        table.add_column(
            col, justify="right" if col in ("deals", "changed", "rejected") else "left"
        )
    for r in rows:
        outcome = r["outcome"] or "-"
        if r["error"]:
            outcome = f"{outcome}: {r['error']}"
        name = r["source"] if r["configured"] else f"{r['source']} (not configured)"
        table.add_row(
            name,
            r["kind"] or "-",
            (r["last_run"] or "-")[:19],
            outcome,
            f"{r['deals']:,}",
            f"{r['changed']:,}",
            f"{r['rejected']:,}",
            r["age"],
        )
    st.out.print(table)
