"""Deterministic sales data for one B2B company whose CRMs are a Salesforce org and a HubSpot
portal.

:func:`generate` builds a neutral :class:`Company` (users under managers in regions, accounts,
deals with 1–4 line items) from a seed; ``sfload.py`` and ``hsdata.py`` write it into the
two CRMs and ``truth.py`` reads the canonical records back from them. Same config and seed,
same data, byte for byte.

Shapes: deals created over ``quarters`` fiscal (= calendar) quarters up to ``now`` with a
slight growth trend; cycle lengths log-normal (median ~40 days, long tail to two years);
about a third of closes pulled into the last ten days of their quarter, where discounts
run deeper; new logos every quarter (an account's first deal is new business, later ones
existing); ~4 % of deals in EUR/GBP; ~2 % deleted; a few nulls (amount, account, deal type,
industry, segment, unit cost, team/region of some reps) and hostile names (quotes, unicode,
``<script>``, CR/LF, tabs, emoji, RTL marks).

Salesforce gets the NA and EMEA-enterprise teams, HubSpot the APAC and EMEA-SMB teams (the
"acquired" business); ``hubspot_share`` sets the fraction of deals in HubSpot.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sandbox.activity_gen import GenActivity, add_activities

HOSTILE_NAMES = (
    'O\'Brien & "Sons"',
    "<script>alert('pwn')</script>",
    "Line\r\nBreak",
    "Tab\tand\\backslash",
    "Zürich Ünïcødé 株式会社",
    "Rocket 🚀 Labs",
    "Right\u202eto-left",
    "Zero\u200bwidth",
    "Comma, Semicolon; Pipe|",
    "  padded  ",
    "Robert'); DROP TABLE deals;--",
    '{"json": [1, 2]}',
)

INDUSTRIES = (
    "Technology",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Energy",
    "Media",
)
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
CURRENCY_RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
"""Units of the reporting currency (USD) per unit of each currency."""

DatedSchedule = dict[str, list[tuple[date, float]]]
"""Per currency, (start date, units of USD per unit) in date order: Salesforce's dated
rates under advanced currency management."""


def dated_schedule(now: datetime) -> DatedSchedule:
    """The org's dated rates: two changes, about 18 and 6 months before ``now`` (on the
    first of a month), ending at ``CURRENCY_RATES``."""

    def months_back(n: int) -> date:
        month = now.year * 12 + now.month - 1 - n
        return date(month // 12, month % 12 + 1, 1)

    early, late = months_back(18), months_back(6)
    return {
        "USD": [(date(1900, 1, 1), 1.0)],
        "EUR": [(date(1900, 1, 1), 1.02), (early, 1.05), (late, CURRENCY_RATES["EUR"])],
        "GBP": [(date(1900, 1, 1), 1.2), (early, 1.25), (late, CURRENCY_RATES["GBP"])],
    }


def rate_on(schedule: DatedSchedule, currency: str, day: date) -> float | None:
    """The dated rate in force on ``day`` (None before the currency's first range, or for
    a currency without dated rates)."""
    in_force = [rate for start, rate in schedule.get(currency, ()) if start <= day]
    return in_force[-1] if in_force else None


# (code, name, list price USD, unit cost USD or None)
PRODUCTS = (
    ("PLT-CORE", "Platform Core", 1200.0, 310.0),
    ("PLT-PRO", "Platform Pro", 2400.0, 560.0),
    ("ANL-ADD", "Analytics Add-on", 600.0, 90.0),
    ("SEC-ADD", "Security Add-on", 450.0, 70.0),
    ("API-TIER", "API Tier", 300.0, 45.0),
    ("SUP-PREM", "Premium Support", 900.0, 420.0),
    ("SVC-ONB", "Onboarding Services", 5000.0, None),
    ("TRN-SEAT", "Training Seat", 250.0, 60.0),
)

# crm, region, team
TEAMS = (
    ("salesforce", "NA", "NA - Enterprise"),
    ("salesforce", "NA", "NA - Commercial"),
    ("salesforce", "EMEA", "EMEA - Enterprise"),
    ("hubspot", "APAC", "APAC - Commercial"),
    ("hubspot", "EMEA", "EMEA - SMB"),
)
FIRST = ("Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Giulia", "Hiro", "Ines", "Jon")
LAST = ("Silva", "Okafor", "Müller", "Tanaka", "O'Neil", "Novak", "Haddad", "Kim", "Lund", "Roy")


@dataclass(slots=True)
class GenUser:
    """A CRM user: a manager (``manager`` None) or a rep under one."""

    key: int
    crm: str
    first: str
    last: str
    email: str
    team: str | None
    region: str | None
    manager: int | None
    is_active: bool
    created: datetime


@dataclass(slots=True)
class GenAccount:
    """A customer account."""

    key: int
    crm: str
    name: str
    industry: str | None
    segment: str | None
    created: datetime
    owner: int


@dataclass(slots=True)
class GenLine:
    """One product line; money in the deal's currency, ``discount`` a fraction."""

    code: str
    product: str
    list_price: float
    quantity: float
    discount: float
    total: float
    unit_cost: float | None
    discount_in_price: bool
    """True: the discount is baked into the unit price (Salesforce Discount left empty)."""


@dataclass(slots=True)
class GenDeal:
    """A deal as the company sees it, before any CRM formats it."""

    key: int
    crm: str
    name: str
    account: int | None
    owner: int
    created: datetime
    close: date
    close_time: datetime
    """The close as an instant (HubSpot stores ``closedate`` as one)."""
    status: str  # open | won | lost
    stage_index: int
    """Open deals: position in the open stages (0 = earliest)."""
    amount: float | None
    currency: str
    new_business: bool | None
    lines: list[GenLine]
    modified: datetime
    deleted: bool


@dataclass
class Company:
    """Everything :func:`generate` produced."""

    now: datetime
    seed: int
    users: list[GenUser] = field(default_factory=list)
    accounts: list[GenAccount] = field(default_factory=list)
    deals: list[GenDeal] = field(default_factory=list)
    activities: list[GenActivity] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=lambda: dict(CURRENCY_RATES))
    dated_rates: DatedSchedule = field(default_factory=dict)


def quarter_start(d: date) -> date:
    """First day of the calendar quarter holding ``d``."""
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_end(d: date) -> date:
    """Last day of the calendar quarter holding ``d``."""
    start = quarter_start(d)
    month = start.month + 3
    nxt = date(start.year + (month > 12), (month - 1) % 12 + 1, 1)
    return nxt - timedelta(days=1)


def default_now() -> datetime:
    """The wall clock truncated to the second (the default ``now``)."""
    return datetime.now(UTC).replace(microsecond=0)


class _Gen:
    def __init__(
        self, deals: int, seed: int, now: datetime, quarters: int, hubspot_share: float
    ) -> None:
        self.rng = random.Random(seed)
        self.n = deals
        self.now = now.astimezone(UTC)
        self.hubspot_share = hubspot_share
        first_q = quarter_start(self.now.date())
        for _ in range(quarters - 1):
            first_q = quarter_start(first_q - timedelta(days=1))
        self.start = datetime(first_q.year, first_q.month, 1, tzinfo=UTC)
        self.company = Company(now=self.now, seed=seed)
        self.reps: dict[str, list[int]] = {"salesforce": [], "hubspot": []}
        self.accounts: dict[str, list[int]] = {"salesforce": [], "hubspot": []}
        self.first_deal_done: set[int] = set()

    def name(self, base: str) -> str:
        rng = self.rng
        if rng.random() < 0.03:
            return f"{rng.choice(HOSTILE_NAMES)} {base}"
        return base

    def users(self) -> None:
        rng, c = self.rng, self.company
        reps_per_team = max(2, min(80, self.n // 500))
        for crm, region, team in TEAMS:
            mkey = len(c.users)
            c.users.append(self._user(mkey, crm, team, region, None, True))
            for _ in range(reps_per_team):
                key = len(c.users)
                active = rng.random() > 0.1
                # some reps carry no team/region of their own: it comes from the manager
                own = rng.random() > 0.15
                c.users.append(
                    self._user(
                        key, crm, team if own else None, region if own else None, mkey, active
                    )
                )
                self.reps[crm].append(key)

    def _user(
        self, key: int, crm: str, team: str | None, region: str | None, mgr: int | None, act: bool
    ) -> GenUser:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{key}@example.com".lower().replace("'", "")
        created = self.start - timedelta(days=rng.randint(30, 900))
        return GenUser(key, crm, first, last, email, team, region, mgr, act, created)

    def account(self, crm: str, created: datetime) -> int:
        rng, c = self.rng, self.company
        key = len(c.accounts)
        word = rng.choice(("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell"))
        suffix = rng.choice(("Inc", "GmbH", "Ltd", "SA", "KK", "LLC", "Group"))
        c.accounts.append(
            GenAccount(
                key=key,
                crm=crm,
                name=self.name(f"{word} {suffix} {key}"),
                industry=None if rng.random() < 0.05 else rng.choice(INDUSTRIES),
                segment=None if rng.random() < 0.05 else rng.choices(SEGMENTS, (5, 3, 2))[0],
                created=created,
                owner=rng.choice(self.reps[crm]),
            )
        )
        self.accounts[crm].append(key)
        return key

    def deals(self) -> None:
        rng = self.rng
        span = (self.now - self.start).total_seconds()
        base = max(3, self.n // 25)
        for crm in ("salesforce", "hubspot"):
            for _ in range(base):
                self.account(crm, self.start - timedelta(days=rng.randint(1, 1500)))
        offsets = sorted(span * rng.random() ** 0.85 for _ in range(self.n))
        for key, off in enumerate(offsets):
            created = (self.start + timedelta(seconds=off)).replace(microsecond=0)
            self.company.deals.append(self.deal(key, created))

    def deal(self, key: int, created: datetime) -> GenDeal:
        rng, now = self.rng, self.now
        crm = "hubspot" if rng.random() < self.hubspot_share else "salesforce"
        if rng.random() < 0.22:  # a new logo
            acc_key = self.account(crm, created - timedelta(days=rng.randint(0, 20)))
        else:
            acc_key = rng.choice(self.accounts[crm])
        acc = self.company.accounts[acc_key]
        new_business: bool | None = acc_key not in self.first_deal_done
        self.first_deal_done.add(acc_key)
        account: int | None = acc_key
        if rng.random() < 0.01:
            account = None
        if rng.random() < 0.02:
            new_business = None
        cycle = min(720.0, max(1.0, math.exp(rng.gauss(math.log(40), 0.8))))
        close_time = created + timedelta(days=cycle, seconds=rng.randint(0, 36000))
        q_end = quarter_end(close_time.date())
        if rng.random() < 0.33 and (q_end - close_time.date()).days > 10:
            shift = (q_end - close_time.date()).days - rng.randint(0, 9)
            close_time += timedelta(days=shift)
        close = close_time.date()
        if close_time <= now:
            won_p = 0.3 if new_business else 0.45
            status = "won" if rng.random() < won_p else "lost"
            if rng.random() < 0.03:
                status = "open"  # stale pipeline: past close date, never closed
        else:
            status = "open"
        near_q_end = (quarter_end(close) - close).days <= 10
        currency = "USD"
        if rng.random() < 0.04:
            currency = rng.choice(("EUR", "GBP"))
        lines = self.lines(currency, near_q_end and status != "open", acc.segment)
        amount: float | None = round(sum(li.total for li in lines), 2)
        if rng.random() < 0.01:
            amount = None
        last = min(now, close_time if status != "open" else now)
        modified = created + (last - created) * rng.random()
        if status != "open":
            modified = min(now, close_time + timedelta(hours=rng.randint(0, 72)))
        deleted = rng.random() < 0.02
        if deleted:
            modified = modified + (now - modified) * rng.random()
        return GenDeal(
            key=key,
            crm=crm,
            name=self.name(f"{acc.name.split(' ')[0]} - {lines[0].product} #{key}"),
            account=account,
            owner=rng.choice(self.reps[crm]),
            created=created,
            close=close,
            close_time=close_time.replace(microsecond=0),
            status=status,
            stage_index=rng.randint(0, 4),
            amount=amount,
            currency=currency,
            new_business=new_business,
            lines=lines,
            modified=modified.replace(microsecond=0),
            deleted=deleted,
        )

    def lines(self, currency: str, quarter_end_push: bool, segment: str | None) -> list[GenLine]:
        rng = self.rng
        rate = CURRENCY_RATES[currency]
        qmax = {"Enterprise": 400, "Mid-Market": 80}.get(segment or "", 25)
        out: list[GenLine] = []
        for code, product, price_usd, cost_usd in rng.sample(
            PRODUCTS, rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0]
        ):
            list_price = round(price_usd / rate, 2)
            quantity = float(max(1, int(math.exp(rng.random() * math.log(qmax)))))
            discount = rng.random() ** 2 * 0.25 + (rng.random() * 0.12 if quarter_end_push else 0)
            discount = round(min(discount, 0.6), 2)
            total = round(list_price * quantity * (1 - discount), 2)
            cost = None if cost_usd is None or rng.random() < 0.03 else round(cost_usd / rate, 2)
            out.append(
                GenLine(
                    code, product, list_price, quantity, discount, total, cost, rng.random() < 0.2
                )
            )
        return out


def generate(
    deals: int = 1000,
    seed: int = 0,
    now: datetime | None = None,
    *,
    quarters: int = 10,
    hubspot_share: float = 0.3,
    activities_per_deal: float = 0.0,
) -> Company:
    """Build the company's data: ``deals`` deals over ``quarters`` quarters up to ``now``;
    with ``activities_per_deal`` their activities too (``add_activities``)."""
    if not 1 <= deals <= 2_000_000:
        raise ValueError("deals must be between 1 and 2,000,000")
    if quarters < 1:
        raise ValueError("quarters must be >= 1")
    gen = _Gen(deals, seed, now or default_now(), quarters, hubspot_share)
    gen.users()
    gen.deals()
    gen.company.dated_rates = dated_schedule(gen.company.now)
    if activities_per_deal:
        add_activities(gen.company, activities_per_deal)
    return gen.company
