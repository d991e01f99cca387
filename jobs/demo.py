"""``make demo`` / ``tracker demo``: the whole product on the built-in CRM sandbox, no
credentials, in about a minute.

Starts the sandbox (a seeded Salesforce org and HubSpot portal on loopback, about 20,000
deals, a few transient faults on), writes a config into the demo folder, then does what a
revenue-operations team would: sync both CRMs with progress, look at the metrics, sync
again after the CRMs changed (incremental, then with reconciliation), set goals
calibrated on the data (every status and tier, a per-owner quotas file, a guardrail, a
linter warning), read the goal report, check the goals, write the review pack and each
manager's digest to an outbox, send the digests once to an SMTP server the demo runs,
start the scheduler in the background and run ``tracker doctor`` against it, and print
where everything is and what to try next. The goals are calibrated on the store as it
stays, so the statuses the demo prints are the ones a rerun of
``tracker report`` shows.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from jobs.demo_goals import demo_goals
from jobs.tasks import open_store
from sandbox import Sandbox
from sandbox.standalone import config_toml
from tracker.settings import load_settings

DEMO_DEALS = 20_000
SF_ENV, HS_ENV = "TRACKER_DEMO_SF_TOKEN", "TRACKER_DEMO_HS_TOKEN"
FAULTS = "429@hs.deals.list,every=20,retry_after=0.05;503@sf.query,every=25"
"""A few transient faults, retried as they would be against the real CRMs."""


def _run(args: list[str]) -> int:
    from tracker.cli.app import app  # here: `tracker demo` imports this module

    print(f"\n$ tracker {' '.join(args)}", flush=True)
    try:
        app(args=args, prog_name="tracker")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@contextmanager
def _mail_server() -> Iterator[tuple[int, list[bytes]] | None]:
    """An SMTP server in this process (aiosmtpd, from the ``demo`` or ``test`` extra) that
    keeps what it receives; None when aiosmtpd is not installed."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        yield None
        return
    import socket

    received: list[bytes] = []

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            received.append(bytes(envelope.original_content))  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def _extra_config(port: int | None) -> str:
    host = f'host = "127.0.0.1"\nport = {port or 2525}\nsecurity = "none"\n'
    return f"""
# the sandbox portal allows the Professional tier's burst (190 requests / 10 s)
[sources.sandbox-hubspot.rate_limits]
requests_per_10s = 190

[goal_thresholds]
discount_points = 0.005   # sensitive guardrails for the demo: half a point of discount
margin_points = 0.005

[schedule]                # nightly jobs; `tracker scheduler list` shows their next runs
sync = "0 2 * * *"
reconcile = "30 3 * * SUN"
snapshot = "15 2 * * *"
digest = "0 7 * * MON"

[schedule.sources]
sandbox-hubspot = "0 */4 * * *"

[email]
{host}from = "Sales tracker <tracker@demo.example>"
default_to = ["revops@demo.example"]
max_data_age = "36h"
"""


def main(folder: Path, deals: int = DEMO_DEALS) -> int:
    """Set up ``folder`` from scratch and run the whole product; returns the exit code."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    config = folder / "tracker.toml"
    outbox = folder / "outbox"
    print(f"starting the CRM sandbox with {deals:,} deals ...", flush=True)
    with (
        Sandbox.start(deals=deals, seed=7, now=datetime.now(UTC)) as sandbox,
        _mail_server() as mail,
    ):
        sandbox.faults.add(FAULTS)
        os.environ[SF_ENV] = sandbox.salesforce_token
        os.environ[HS_ENV] = sandbox.hubspot_token
        port = mail[0] if mail is not None else None
        config.write_text(
            "# Written by `make demo`: sources on the built-in CRM sandbox.\n"
            + config_toml(sandbox, sf_token_env=SF_ENV, hs_token_env=HS_ENV)
            + _extra_config(port),
            encoding="utf-8",
        )
        base = ["--config", str(config)]
        for args in (
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
        ):
            if (code := _run(base + args)) != 0:
                return code
        print("\n# meanwhile in the CRMs: 40 deals change, 5 are deleted", flush=True)
        for crm in ("salesforce", "hubspot"):
            sandbox.update_deals(crm, n=20)
            sandbox.delete_deals(crm, n=3 if crm == "salesforce" else 2)
        for args in (
            ["sync"],  # incremental: only what changed
            ["sync", "--reconcile"],  # id sets compared as well: every deletion caught
        ):
            if (code := _run(base + args)) != 0:
                return code
        _write_goals(config)
        print(f"\n# goals calibrated on this data appended to {config} (quotas: quotas.csv)")
        for args, allowed in (
            (["report"], (0,)),
            (["report", "--period", "last-quarter"], (0,)),
            (["goals", "check"], (0,)),
            (["scheduler", "list"], (0,)),
            (["review", "--period", "last-quarter", "--output", str(folder)], (0,)),
            (["email", "--dry-run", "--outbox", str(outbox)], (0,)),
            (["email"] if mail is not None else [], (0,)),
        ):
            if args and (code := _run(base + args)) not in allowed:
                return code
        if mail is not None:
            print(f"  the demo's SMTP server received {len(mail[1])} messages", flush=True)
        else:
            print("  (aiosmtpd is not installed: the real send is left out)", flush=True)
        with _scheduler(config, folder / "scheduler.log"):
            if (code := _run([*base, "doctor"])) != 0:
                return code
        metrics_json = ["metrics", "--period", "this-quarter", "--format", "json"]
        metrics_json += ["--output", str(folder / "metrics.json"), "--save"]
        if (code := _run(base + metrics_json)) != 0:
            return code
    _next_steps(folder, config, outbox)
    return 0


@contextmanager
def _scheduler(config: Path, log: Path) -> Iterator[None]:
    """``tracker scheduler run`` in the background (its log in ``log``) while the block runs,
    so ``doctor`` sees an active scheduler; stopped with SIGTERM as systemd would."""
    print(f"\n$ tracker --config {config} scheduler run   # in the background, log: {log}")
    with log.open("w", encoding="utf-8") as sink:
        command = [sys.executable, "-m", "tracker", "--config", str(config), "scheduler", "run"]
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "active scheduler" not in log.read_text(encoding="utf-8"):
            if process.poll() is not None or time.monotonic() > deadline:
                print(f"  the scheduler did not start: see {log}", flush=True)
                break
            time.sleep(0.2)
        else:
            print(f"  {_last_line(log, 'active scheduler')}", flush=True)
        yield
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(f"\n# scheduler stopped (exit {process.returncode}): {_last_line(log, '')}")


def _last_line(log: Path, containing: str) -> str:
    lines = [x for x in log.read_text(encoding="utf-8").splitlines() if containing in x]
    return lines[-1].strip() if lines else "(no log line)"


def _write_goals(config: Path) -> None:
    from connectors.registry import settings_models

    settings = load_settings(config, settings_models())
    store = open_store(settings)
    try:
        today = datetime.now(settings.tracker.tz).date()
        goals = demo_goals(settings, store, today, "quotas.csv")
    finally:
        store.close()
    (config.parent / "quotas.csv").write_text(goals.quotas_csv, encoding="utf-8")
    with config.open("a", encoding="utf-8") as fh:
        fh.write("\n# Goals written by the demo, calibrated on the synced data\n" + goals.toml)


def _command() -> str:
    """How to call tracker from here: plain ``tracker`` when it is on PATH."""
    beside = Path(sys.executable).with_name("tracker")
    if shutil.which("tracker") == str(beside) or not beside.exists():
        return "tracker"
    try:
        return str(beside.relative_to(Path.cwd()))
    except ValueError:
        return str(beside)


def _next_steps(folder: Path, config: Path, outbox: Path) -> None:
    tracker = _command()
    print(
        f"""
Demo folder {folder}:
  config        {config}
  store         {folder / "tracker.db"}
  quotas        {folder / "quotas.csv"}
  review pack   {folder}/review-*.html (opens offline, prints) and review-*.xlsx
  digests       {outbox}/ (one .eml per recipient; open one in a mail client)
  metrics JSON  {folder / "metrics.json"}

Try next (the sandbox has stopped: these read the store):
  export TRACKER_CONFIG={config}
  {tracker} report --format md
  {tracker} metrics --period last-quarter --by owner --metric revenue
  {tracker} goals suggest --metric revenue --scope team="EMEA - SMB"
  {tracker} email --dry-run --to someone@example.com --outbox /tmp/outbox
  {tracker} status
  {tracker} doctor
  {tracker} scheduler run      (foreground; the nightly jobs of [schedule])"""
    )


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".demo")))
