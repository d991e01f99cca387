"""``tracker db upgrade``: apply pending schema migrations."""

from __future__ import annotations

import typer

from tracker.cli.common import state

db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    """Add the command group to ``app``."""
    app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Bring the store's schema to the revision this tracker needs."""
    st = state(ctx)
    store = st.store(ready=False)
    before, after = store.upgrade()
    if before == after:
        st.out.print(f"store at {store.display_url} is up to date (revision {after})")
    else:
        st.out.print(f"store at {store.display_url} upgraded: {before or 'empty'} → {after}")
