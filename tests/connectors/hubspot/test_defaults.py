"""With the default settings, a deal archived in HubSpot stops counting at the next sync."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from sandbox import Sandbox
from sandbox.standalone import config_toml
from tracker.cli import app
from tracker.store import Store

SF_ENV, HS_ENV = "TRACKER_TEST_DEFAULTS_SF", "TRACKER_TEST_DEFAULTS_HS"


def test_an_archived_deal_is_deleted_by_the_very_next_sync(tmp_path: Path) -> None:
    runner = CliRunner()
    with Sandbox.start(deals=300, seed=4, now=datetime.now(UTC), hubspot_share=1.0) as sb:
        config = tmp_path / "tracker.toml"
        config.write_text(
            config_toml(sb, sf_token_env=SF_ENV, hs_token_env=HS_ENV)
            + f'\n[store]\nurl = "sqlite:///{tmp_path / "t.db"}"\n',
            encoding="utf-8",
        )
        env = {SF_ENV: sb.salesforce_token, HS_ENV: sb.hubspot_token}

        def sync() -> None:
            result = runner.invoke(
                app, ["--config", str(config), "sync", "sandbox-hubspot"], env=env
            )
            assert result.exit_code == 0, result.stderr

        sync()
        [gone] = sb.delete_deals("hubspot", n=1)
        sync()  # minutes later, with no setting changed
    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    with store.engine.connect() as conn:
        deleted = conn.execute(
            text("SELECT is_deleted FROM deals WHERE external_id = :i"), {"i": gone}
        ).scalar_one()
    store.close()
    assert deleted in (1, True)
