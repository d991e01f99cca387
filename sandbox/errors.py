"""The vendors' own error answers the sandbox gives for auth and daily-limit failures."""

from __future__ import annotations

from sandbox.server import ApiError


def session_expired(api: str) -> ApiError:
    """The vendor's 401 for a missing, wrong or expired token."""
    if api == "salesforce":
        return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    return ApiError(
        401,
        "EXPIRED_AUTHENTICATION",
        "The OAuth token used to make this call expired 0 second(s) ago.",
    )


def daily_limit(api: str) -> ApiError:
    """The vendor's answer once the daily request budget is spent."""
    if api == "salesforce":
        return ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    return ApiError(
        429,
        "RATE_LIMITS",
        "You have reached your daily limit.",
        extra={"errorType": "RATE_LIMIT", "policyName": "DAILY"},
    )
