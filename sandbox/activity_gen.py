"""The sandbox company's activities: calls, meetings, emails and tasks of its reps, most
about a deal (more on won deals, fewer near a loss), a few unlinked, some deleted. Drawn
from a random stream of their own, so adding them leaves the deals as they were."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.generator import Company


@dataclass(slots=True)
class GenActivity:
    """A call, meeting, email or task of a rep, about a deal (``deal`` None: unlinked)."""

    key: int
    crm: str
    kind: str  # call | meeting | email | task
    owner: int
    deal: int | None
    account: int | None
    when: datetime
    minutes: int | None
    completed: bool
    """Done: a held call or meeting, a sent email, a closed task (False when planned)."""
    result: str
    """What happened: ``held`` (calls, meetings, emails, tasks done), ``no_answer`` (a
    call nobody picked up: still logged and closed), ``no_show`` (a meeting), ``planned``."""
    modified: datetime
    deleted: bool


ACTIVITY_KINDS = {
    "salesforce": ("call", "email", "meeting", "task"),
    "hubspot": ("call", "email", "meeting"),
}
ACTIVITY_WEIGHTS = {"salesforce": (40, 32, 16, 12), "hubspot": (44, 38, 18)}


def add_activities(company: Company, per_deal: float) -> None:
    """Activities for every deal, about ``per_deal`` on average (more on won deals, fewer
    on lost ones, thinning out towards a loss), plus ~3 % unlinked ones (an owner's own
    prospecting); ~2 % deleted. A separate random stream: the deals stay as they were."""
    rng = random.Random(company.seed * 7919 + 18)
    now = company.now
    acts = company.activities
    reps = {
        crm: [u.key for u in company.users if u.crm == crm and u.manager is not None]
        for crm in ("salesforce", "hubspot")
    }
    factor = {"won": 1.6, "lost": 0.6, "open": 1.0}
    for d in company.deals:
        n = int(rng.expovariate(1 / (per_deal * factor[d.status])) + 0.5) if per_deal else 0
        end = d.close_time if d.status != "open" else now + timedelta(days=14)
        span = max((end - d.created).total_seconds(), 3600.0)
        for _ in range(n):
            u = rng.random()
            # lost deals go quiet before the loss: their activity bunches up early
            frac = u**1.8 if d.status == "lost" else u
            when = d.created + timedelta(seconds=int(span * frac))
            _activity(rng, acts, now, d.crm, d.owner, d.key, d.account, when)
    unlinked = int(len(acts) * 0.03) if acts else 0
    start = min((d.created for d in company.deals), default=now)
    for _ in range(unlinked):
        crm = rng.choice(("salesforce", "hubspot"))
        if not reps[crm]:
            continue
        when = start + (now - start) * rng.random()
        _activity(rng, acts, now, crm, rng.choice(reps[crm]), None, None, when)


def _activity(
    rng: random.Random,
    acts: list[GenActivity],
    now: datetime,
    crm: str,
    owner: int,
    deal: int | None,
    account: int | None,
    when: datetime,
) -> None:
    kind = rng.choices(ACTIVITY_KINDS[crm], ACTIVITY_WEIGHTS[crm])[0]
    when = when.replace(microsecond=0)
    if kind == "meeting":  # meetings start on the quarter hour
        when = when.replace(minute=when.minute // 15 * 15, second=0)
    past = when <= now
    result = "planned"
    if past:
        r = rng.random()
        result = "no_answer" if kind == "call" and r < 0.25 else "held"
        if kind == "meeting" and r < 0.06:
            result = "no_show"
    minutes: int | None = None
    if kind == "call":
        minutes = rng.randint(1, 40) if result == "held" else 0 if past else None
    elif kind == "meeting":
        minutes = rng.choice((15, 30, 30, 45, 60, 60, 90))
    completed = past and result != "no_show"
    if past:
        modified = min(now, when + timedelta(minutes=rng.randint(1, 4000)))
    else:
        modified = now - timedelta(minutes=rng.randint(1, 20000))
    deleted = rng.random() < 0.02
    if deleted:
        modified = modified + (now - modified) * rng.random()
    acts.append(
        GenActivity(
            key=len(acts),
            crm=crm,
            kind=kind,
            owner=owner,
            deal=deal,
            account=account,
            when=when,
            minutes=minutes,
            completed=completed,
            result=result,
            modified=modified.replace(microsecond=0),
            deleted=deleted,
        )
    )
