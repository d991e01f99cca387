"""``tracker source drop NAME``: delete every row of one source from the store."""

from __future__ import annotations

import typer

from tracker.cli.common import state
from tracker.errors import UsageError
from tracker.wording import plural

source_app = typer.Typer(
    help="Manage the data of one source in the store.", no_args_is_help=True, rich_markup_mode=None
)


def register(app: typer.Typer) -> None:
    """Add the command group to ``app``."""
    app.add_typer(source_app, name="source")


@source_app.command("drop")
def drop(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The source whose rows to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a source's deals, accounts, owners, line items, cursor and sync history, in one
    transaction. For a source removed from the config (or to sync one again from scratch)."""
    st = state(ctx)
    store = st.store()
    holds = store.source_counts().get(name)
    if holds is None and name not in {r["source"] for r in store.last_runs()}:
        raise UsageError(f"nothing is stored for source {name!r}")
    deals = holds["deals_live"] + holds["deals_deleted"] if holds else 0
    if not yes:
        configured = " (it is still in the config: the next sync reads it again)"
        note = configured if name in st.settings.sources else ""
        typer.confirm(
            f"Delete {plural(deals, 'deal')} and every other row of source {name!r}{note}?",
            abort=True,
            err=True,
        )
    deleted = store.drop_source(name)
    st.out.print(
        f"dropped source {name!r}: {plural(sum(deleted.values()), 'row')} deleted",
        highlight=False,
        markup=False,
    )
