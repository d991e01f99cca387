"""``make demo``: the main job end to end on built-in data, no credentials needed.

For now it syncs the synthetic sample export shipped with the package into a fresh store
in the demo folder, shows ``tracker status``, syncs again (nothing changes) and prints the
store's totals.
"""

from __future__ import annotations

import shutil
import sys
from importlib.resources import files
from pathlib import Path

from tracker.cli import app

DEMO_CONFIG = """\
# Written by `make demo`: the sample export shipped with tracker.
[tracker]
timezone = "America/New_York"
currency = "USD"

[tracker.exchange_rates]
EUR = 1.08

[store]
url = "sqlite:///tracker.db"

[sources.sample]
kind = "csv"
path = "sample_deals.csv"

[sources.sample.columns]
id = "opportunity_id"
name = "deal_name"
owner = "sales_agent"
team = "manager"
region = "regional_office"
account = "account"
stage = "deal_stage"
created = "engage_date"
closed = "close_date"
amount = "close_value"
list_amount = "list_price"
currency = "currency"

[sources.sample.stages]
won = ["Won"]
lost = ["Lost"]
"""


def _run(args: list[str]) -> int:
    print(f"\n$ tracker {' '.join(args)}", flush=True)
    try:
        app(args=args, prog_name="tracker", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def main(folder: Path) -> int:
    """Set up ``folder`` from scratch and run the pipeline; returns the exit code."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    sample = files("tracker").joinpath("data/sample_deals.csv").read_bytes()
    (folder / "sample_deals.csv").write_bytes(sample)
    config = folder / "tracker.toml"
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    base = ["--config", str(config)]
    for args in (["sync"], ["status"], ["sync", "sample"]):
        code = _run(base + args)
        if code != 0:
            return code
    print(f"\nDemo store: {folder / 'tracker.db'}  (config: {config})")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".demo")))
