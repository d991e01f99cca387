"""Benchmark: the CRM sandbox serving deals to the real SDKs over loopback.

Run ``.venv/bin/python bench/sandbox.py [--deals 100000] [--seed 0]``. It generates the data,
then reads every live deal of both CRMs

* with the SDKs: ``simple_salesforce.Salesforce.query_all_iter`` (2,000 a page) and
  ``HubSpot.crm.deals.get_all`` (100 a page, the vendor's maximum), and
* with a bare ``requests`` loop over the same endpoints (the baseline: HTTP + JSON only),

and prints records/s for each plus the SDK/baseline ratio. Target: ≥ 5,000 records/s
through the SDKs for 100,000 deals.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from _common import result
from hubspot import HubSpot
from simple_salesforce import Salesforce

from sandbox import Sandbox

SOQL = (
    "SELECT Id, Name, AccountId, OwnerId, Amount, CurrencyIsoCode, CloseDate, CreatedDate, "
    "StageName, IsClosed, IsWon, Type, SystemModstamp FROM Opportunity"
)
HS_PROPS = [
    "dealname",
    "amount",
    "closedate",
    "createdate",
    "dealstage",
    "pipeline",
    "hubspot_owner_id",
    "deal_currency_code",
    "dealtype",
    "hs_lastmodifieddate",
]


def sdk_salesforce(sb: Sandbox) -> int:
    """Opportunities read through simple-salesforce."""
    sf = Salesforce(
        instance_url=sb.salesforce_url, session_id=sb.salesforce_token, session=sb.session()
    )
    return sum(1 for _ in sf.query_all_iter(SOQL))


def sdk_hubspot(sb: Sandbox) -> int:
    """Deals read through hubspot-api-client."""
    hs = HubSpot(access_token=sb.hubspot_token, host=sb.hubspot_url)
    return len(hs.crm.deals.get_all(properties=HS_PROPS))


def bare_salesforce(sb: Sandbox) -> int:
    """Opportunities read with a bare requests loop (baseline)."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {sb.salesforce_token}"
    n = 0
    url: str | None = f"{sb.url}/services/data/v59.0/query/"
    params: dict[str, Any] | None = {"q": SOQL}
    while url:
        body = s.get(url, params=params, timeout=60).json()
        n += len(body["records"])
        url = sb.url + body["nextRecordsUrl"] if not body["done"] else None
        params = None
    return n


def bare_hubspot(sb: Sandbox) -> int:
    """Deals read with a bare requests loop (baseline)."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {sb.hubspot_token}"
    n = 0
    after: str | None = ""
    while after is not None:
        query: dict[str, Any] = {"limit": 100, "properties": HS_PROPS}
        if after:
            query["after"] = after
        body = s.get(f"{sb.url}/crm/v3/objects/deals", params=query, timeout=60).json()
        n += len(body["results"])
        after = body["paging"]["next"]["after"] if "paging" in body else None
    return n


def timed(fn: Callable[[Sandbox], int], sb: Sandbox) -> tuple[int, float]:
    """(records, seconds) of one read."""
    t = time.perf_counter()
    n = fn(sb)
    return n, time.perf_counter() - t


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    with Sandbox.start(deals=args.deals, seed=args.seed) as sb:
        print(f"generated and loaded {args.deals:,} deals in {time.perf_counter() - t0:.1f} s")
        totals: dict[str, tuple[int, float]] = {}
        for label, sf_fn, hs_fn in (
            ("baseline (bare requests)", bare_salesforce, bare_hubspot),
            ("SDKs", sdk_salesforce, sdk_hubspot),
        ):
            n_sf, t_sf = timed(sf_fn, sb)
            n_hs, t_hs = timed(hs_fn, sb)
            totals[label] = (n_sf + n_hs, t_sf + t_hs)
            print(
                f"{label:25s} Salesforce {n_sf:,} in {t_sf:.2f} s ({n_sf / t_sf:,.0f}/s), "
                f"HubSpot {n_hs:,} in {t_hs:.2f} s ({n_hs / t_hs:,.0f}/s), "
                f"overall {(n_sf + n_hs) / (t_sf + t_hs):,.0f} records/s"
            )
        sdk = totals["SDKs"][0] / totals["SDKs"][1]
        base = totals["baseline (bare requests)"][0] / totals["baseline (bare requests)"][1]
        verdict = "OK" if sdk >= 5000 else "BELOW TARGET"
        print(
            f"SDK throughput {sdk:,.0f} records/s ({verdict}, target 5,000); "
            f"ratio to the bare-requests baseline {sdk / base:.2f}"
        )
        result(
            "sandbox: records/s through the SDKs",
            f"{sdk:,.0f}/s",
            f"bare requests {base:,.0f}/s",
            sdk,
            5000,
            higher_is_better=True,
        )


if __name__ == "__main__":
    main()
