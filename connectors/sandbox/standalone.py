"""``tracker sandbox serve``: run the sandbox standalone and print a ready-to-paste config."""

from __future__ import annotations

import logging
import threading
from typing import TextIO

from .control import Sandbox, build_state
from .faults import parse_spec
from .generator import generate

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
    """``config_toml`` preceded by the shell lines that export the sandbox's tokens."""
    return f"""\
# --- shell: the tokens the sources below read ---------------------------------------
# export SANDBOX_SALESFORCE_TOKEN='{sandbox.salesforce_token}'
# export SANDBOX_HUBSPOT_TOKEN='{sandbox.hubspot_token}'
# --- tracker.toml --------------------------------------------------------------------
{config_toml(sandbox)}"""


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
            f"# serving {deals} deals (seed {seed}) on {sandbox.url}"
            + (f" with faults {faults!r}" if faults else "")
            + "; Ctrl-C to stop",
            file=out,
            flush=True,
        )
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        log.info("sandbox interrupted")
    finally:
        sandbox.stop()
