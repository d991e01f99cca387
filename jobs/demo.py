"""``make demo``: the main job end to end on the built-in CRM sandbox, no credentials.

Starts the sandbox (a seeded Salesforce org and HubSpot portal on loopback), writes a
config pointing one source at each, then runs what a revenue-operations engineer would:
a full sync, ``status``, the quarter's metrics by team, an incremental sync after some
deals changed in the CRMs, and a JSON export of the metrics.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from sandbox import Sandbox
from sandbox.standalone import config_toml
from tracker.cli import app

DEMO_DEALS = 4000
SF_ENV, HS_ENV = "TRACKER_DEMO_SF_TOKEN", "TRACKER_DEMO_HS_TOKEN"


def _run(args: list[str]) -> int:
    print(f"\n$ tracker {' '.join(args)}", flush=True)
    try:
        app(args=args, prog_name="tracker")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def main(folder: Path, deals: int = DEMO_DEALS) -> int:
    """Set up ``folder`` from scratch and run the pipeline; returns the exit code."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    config = folder / "tracker.toml"
    print(f"starting the CRM sandbox with {deals:,} deals ...", flush=True)
    with Sandbox.start(deals=deals, seed=7, now=datetime.now(UTC)) as sandbox:
        os.environ[SF_ENV] = sandbox.salesforce_token
        os.environ[HS_ENV] = sandbox.hubspot_token
        config.write_text(
            "# Written by `make demo`: sources on the built-in CRM sandbox.\n"
            + config_toml(sandbox, sf_token_env=SF_ENV, hs_token_env=HS_ENV),
            encoding="utf-8",
        )
        base = ["--config", str(config)]
        steps: list[list[str]] = [
            ["sync"],
            ["status"],
            [
                "metrics",
                "--period",
                "last-quarter",
                "--by",
                "team",
                "--metric",
                "revenue",
                "--metric",
                "win_rate",
                "--metric",
                "sales_cycle_days",
                "--metric",
                "discount_pct",
                "--metric",
                "gross_margin_pct",
                "--metric",
                "new_customers",
            ],
        ]
        for args in steps:
            if (code := _run(base + args)) != 0:
                return code
        print("\n# meanwhile in the CRMs: 40 deals change, 5 are deleted", flush=True)
        for crm in ("salesforce", "hubspot"):
            sandbox.update_deals(crm, n=20)
            sandbox.delete_deals(crm, n=3 if crm == "salesforce" else 2)
        for args in (
            ["sync"],  # incremental: only what changed
            ["sync", "--reconcile"],  # id sets compared as well: every deletion caught
            [
                "metrics",
                "--period",
                "this-quarter",
                "--format",
                "json",
                "--output",
                str(folder / "metrics.json"),
                "--save",
            ],
        ):
            if (code := _run(base + args)) != 0:
                return code
    print(
        f"\nDemo store: {folder / 'tracker.db'} (config {config}); "
        f"metrics JSON: {folder / 'metrics.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".demo")))
