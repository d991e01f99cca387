"""``tracker doctor`` for a Salesforce org: credentials, the API budget left, mapped fields.

The credentials are tried with ``limits/`` (one cheap call, which also says how many of
the org's daily API requests are left); the mapped fields against ``describe`` of the four
objects a sync reads. Each failure names the config key to fix.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.mapping import REQUIRED, field_problems
from connectors.salesforce.settings import SalesforceSourceSettings
from tracker.checks import FAIL, INFO, PASS, Check, budget_check, credentials_failed
from tracker.errors import BudgetExhausted, ConfigError, TrackerError

OBJECTS = tuple(REQUIRED)


def credentials_fix(name: str, settings: SalesforceSourceSettings) -> str:
    """What to check for the org's auth mode."""
    key = f"sources.{name}"
    try:
        mode = settings.auth_mode
    except ValueError:
        return f"give one auth mode in [{key}] (docs/salesforce.md)"
    return {
        "token": f"put a valid access token (e.g. from `sf org display`) where {key}.access_token "
        f"points and check {key}.instance_url",
        "password": f"check {key}.username, password, security_token and domain",
        "jwt": f"check {key}.username, consumer_key, private_key_file and that the connected "
        "app is pre-authorised for the user",
    }[mode]


def diagnose(
    name: str,
    settings: SalesforceSourceSettings,
    client: SalesforceClient,
    check: Callable[[], None],
) -> list[Check]:
    """The credentials line (with the API budget left today) and the mapped-fields line;
    ``check`` is the connector's own offline check (auth mode, secrets, key file)."""
    cred, fields = f"source {name} credentials", f"source {name} mapped fields"
    try:
        check()
        daily = client.limits().get("DailyApiRequests") or {}
    except TrackerError as exc:
        if isinstance(exc, BudgetExhausted):
            fix = "wait until the rolling 24-hour window frees requests, or raise the org's limit"
        elif isinstance(exc, ConfigError):
            fix = f"set the secret or file that [sources.{name}] names"
        else:
            fix = credentials_fix(name, settings)
        return credentials_failed(name, exc, fix)
    checks = [
        Check(cred, PASS, f"Salesforce accepted the credentials ({settings.auth_mode} mode)"),
        _budget(f"source {name} API budget", daily),
    ]
    try:
        describes = {obj: client.describe(obj) for obj in OBJECTS}
    except TrackerError as exc:
        fix = "give the API user read access to Opportunity, OpportunityLineItem, Account, User"
        return [*checks, Check(fields, FAIL, str(exc), fix)]
    problems = field_problems(name, describes, settings.fields.model_dump())
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        fix = f"fix the API name in [sources.{name}.fields] or the user's field-level security"
        checks.append(Check(fields, FAIL, problems[0] + more, fix))
    else:
        mapped = sum(v is not None for v in settings.fields.model_dump().values())
        objects = ", ".join(OBJECTS)
        checks.append(Check(fields, PASS, f"{mapped} mapped fields exist (describe of {objects})"))
    return checks


def _budget(name: str, daily: dict[str, object]) -> Check:
    total, remaining = daily.get("Max"), daily.get("Remaining")
    if not isinstance(total, int) or not isinstance(remaining, int):
        return Check(name, INFO, "limits/ reported no DailyApiRequests")
    return budget_check(name, "Salesforce", remaining, total)
