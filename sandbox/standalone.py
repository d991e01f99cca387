"""``tracker sandbox serve``: run the sandbox standalone and print a ready-to-paste config."""

from __future__ import annotations

import logging
import threading
from typing import TextIO

from sandbox.control import Sandbox, build_state
from sandbox.faults import parse_spec
from sandbox.generator import generate

log = logging.getLogger(__name__)


def config_toml(
    sandbox: Sandbox,
    *,
    sf_token_env: str = "SANDBOX_SALESFORCE_TOKEN",
    hs_token_env: str = "SANDBOX_HUBSPOT_TOKEN",
) -> str:
    """A tracker config (TOML) with one source per CRM pointed at ``sandbox``: the
    connectors' keys, the sandbox org's custom fields mapped, tokens as env references."""
    rates = "\n".join(
        f"{code} = {rate}" for code, rate in sorted(sandbox.rates.items()) if code != "USD"
    )
    return f"""\
[tracker]
timezone = "{sandbox.state.hubspot.timezone}"
currency = "USD"

[tracker.exchange_rates]
{rates}

[sources.sandbox-salesforce]
kind = "salesforce"
instance_url = "{sandbox.salesforce_url}"
access_token = {{ env = "{sf_token_env}" }}

[sources.sandbox-salesforce.fields]
line_item_cost = "Unit_Cost__c"
segment = "Account.Segment__c"
team = "Owner.Department"
region = "Owner.Region__c"

[sources.sandbox-hubspot]
kind = "hubspot"
base_url = "{sandbox.hubspot_url}"
access_token = {{ env = "{hs_token_env}" }}
timezone = "{sandbox.state.hubspot.timezone}"

[sources.sandbox-hubspot.properties]
segment = "customer_segment"
"""


def config_snippet(sandbox: Sandbox) -> str:
    """The shell lines that export the sandbox's tokens, then ``config_toml``: each part
    can be pasted as it is (the first into a shell, the second into tracker.toml)."""
    return f"""\
# 1. paste into your shell: the tokens the sources below read
export SANDBOX_SALESFORCE_TOKEN='{sandbox.salesforce_token}'
export SANDBOX_HUBSPOT_TOKEN='{sandbox.hubspot_token}'

# 2. paste into tracker.toml
{config_toml(sandbox)}"""


def deal_counts(sandbox: Sandbox) -> str:
    """How the generated deals split: live and deleted ones per CRM."""
    parts = []
    for crm, label, gone in (
        ("salesforce", "Salesforce", "deleted"),
        ("hubspot", "HubSpot", "archived"),
    ):
        live = len(sandbox.deal_ids(crm))
        removed = len(sandbox.deal_ids(crm, deleted=True))
        parts.append(f"{label} {live:,} live + {removed:,} {gone}")
    return "; ".join(parts)


def serve_forever(
    port: int,
    deals: int,
    seed: int,
    faults: str | None,
    out: TextIO,
    *,
    stop: threading.Event | None = None,
) -> None:
    """Generate ``deals`` deals from ``seed``, serve both CRMs on ``port`` (0: any free
    port) with the ``faults`` SPEC (see ``faults.py``), print the config to ``out`` and
    block until interrupted (Ctrl-C) or ``stop`` is set. A bad SPEC raises
    ``FaultSpecError`` before anything is served."""
    rules = parse_spec(faults) if faults else []
    company = generate(deals, seed)
    sandbox = Sandbox(build_state(company), port)
    for rule in rules:
        sandbox.faults.add(rule)
    try:
        print(config_snippet(sandbox), file=out, flush=True)
        print(
            f"# serving {deals:,} deals (seed {seed}) on {sandbox.url}: {deal_counts(sandbox)}"
            " (the deleted ones are part of the seed)"
            + (f", with faults {faults!r}" if faults else "")
            + "; Ctrl-C to stop",
            file=out,
            flush=True,
        )
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        log.info("sandbox interrupted")
    finally:
        sandbox.stop()
