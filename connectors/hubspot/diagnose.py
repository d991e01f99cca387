"""``tracker doctor`` for a HubSpot portal: the token, the daily budget, mapped properties.

The token is tried with a read of the deal properties (one cheap call, needed for the
field check anyway); the daily budget comes from that response's
``X-HubSpot-RateLimit-Daily(-Remaining)`` headers when HubSpot sends them (private apps
do; otherwise HubSpot says nothing until the limit is exceeded). Every mapped property is
looked up in its object type's properties; a missing one names its config key.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.hubspot.client import SCOPES, HubSpotClient
from tracker.checks import FAIL, INFO, PASS, Check, budget_check, credentials_failed
from tracker.errors import BudgetExhausted, ConfigError, TrackerError


def diagnose(
    name: str, make_client: Callable[[], HubSpotClient], wanted: dict[str, dict[str, str]]
) -> list[Check]:
    """The credentials, API budget and mapped-properties lines of source ``name``;
    ``wanted`` is object type → {property: its config key}."""
    cred, budget = f"source {name} credentials", f"source {name} API budget"
    fields = f"source {name} mapped fields"
    try:
        client = make_client()
        have = {"deals": client.property_names("deals")}
    except TrackerError as exc:
        if isinstance(exc, BudgetExhausted):
            fix = "wait for the daily limit to reset (midnight in the portal's time zone)"
        elif isinstance(exc, ConfigError):
            fix = f"set the secret sources.{name}.access_token names"
        else:
            fix = (
                f"put a valid private-app token where sources.{name}.access_token points "
                f"(scopes: {', '.join(SCOPES)}) and check sources.{name}.base_url"
            )
        return credentials_failed(name, exc, fix)
    checks = [Check(cred, PASS, "HubSpot accepted the token (deal properties read)")]
    found = client.daily_budget()
    if found is None:
        checks.append(Check(budget, INFO, "daily budget not reported by HubSpot until exceeded"))
    else:
        checks.append(budget_check(budget, "HubSpot", *found))
    missing: list[str] = []
    try:
        for object_type, props in wanted.items():
            if not props:
                continue
            if object_type not in have:
                have[object_type] = client.property_names(object_type)
            missing += [
                f"sources.{name}.{key}: HubSpot has no {object_type} property {prop!r}"
                for prop, key in props.items()
                if prop not in have[object_type]
            ]
    except TrackerError as exc:
        fix = f"give the private app the scopes {', '.join(SCOPES)}"
        return [*checks, Check(fields, FAIL, str(exc), fix)]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        fix = "fix the name (HubSpot: Settings → Properties) or remove the key"
        checks.append(Check(fields, FAIL, missing[0] + more, fix))
    else:
        count = sum(len(props) for props in wanted.values())
        types = ", ".join(t for t, props in wanted.items() if props) or "none"
        checks.append(Check(fields, PASS, f"{count} mapped properties exist ({types})"))
    return checks
