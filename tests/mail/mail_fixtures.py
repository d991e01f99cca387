"""A store with hand-written deals, owners with managers and e-mail addresses, and goals
whose recipients and figures are known by hand (see ``RECIPIENTS``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert as sql_insert
from sqlalchemy import update

from tests.cli.test_report import GOAL, SOURCE, sample
from tests.goals.goal_fixtures import won
from tests.mail.smtp_server import USER, Server
from tests.metrics.metrics_fixtures import insert
from tracker.models import Owner, SyncRun
from tracker.store import Store

AS_OF = "2026-08-15"
HOSTILE = 'Bob <script>alert("x")</script>\r\nBcc: evil@example.com'
"""A CRM user name built to break HTML and headers."""

GOALS = (
    GOAL
    + """
[[goals]]
id = "emea-rep"
metric = "revenue"
period = "2026-Q3"
scope = { team = "EMEA" }
for_each = "owner"
target = 300
why = "each rep carries a third of EMEA"

[[goals]]
id = "company-win-rate"
metric = "win_rate"
period = "2026-Q3"
target = 0.5
why = "quality over volume"

[[goals]]
id = "na-revenue"
metric = "revenue"
period = "2026-Q3"
scope = { team = "NA" }
target = 100
why = "NA restarts"
notify = ["ops@example.com"]
"""
)

# who gets what, by hand: the team goal to its manager; each rep's goal to the rep and
# their manager; the company goal to default_to; the notify goal to its list only
RECIPIENTS = {
    "ann@example.com": ["emea-rep/Ann"],
    "bob@example.com": [f"emea-rep/{HOSTILE}"],
    "mia@example.com": ["emea-revenue", "emea-rep/Ann", f"emea-rep/{HOSTILE}"],
    "ops@example.com": ["na-revenue"],
    "vp@example.com": ["company-win-rate"],
}
# actuals in USD by hand: Ann's 150 on 10 July, Bob's 200 on 20 July, NA's 120 on 3 August
ACTUALS = {"emea-revenue": 350, "emea-rep/Ann": 150, f"emea-rep/{HOSTILE}": 200, "na-revenue": 120}

PEOPLE = [
    # external id, name, email, manager, team
    ("o1", "Ann", "ann@example.com", "m1", "EMEA"),
    ("o2", HOSTILE, "bob@example.com", "m1", "EMEA"),
    ("m1", "Mia", "mia@example.com", None, "EMEA"),
    ("o3", "Cy", "cy@example.com", "m2", "NA"),
    ("m2", "Nat", "nat@example.com", None, "NA"),
]


def deals() -> list[dict[str, object]]:
    """The report tests' EMEA history plus Bob's and Cy's deals of this quarter."""
    rows = sample()
    rows.append(
        won(
            "bob1",
            date(2026, 7, 20),
            200.0,
            owner_external_id="o2",
            owner_name=HOSTILE,
            team="EMEA",
        )
    )
    rows.append(
        won("cy1", date(2026, 8, 3), 120.0, owner_external_id="o3", owner_name="Cy", team="NA")
    )
    return rows


def email_table(server: Server | None, **extra: object) -> str:
    """The ``[email]`` table for ``server`` (or an unused port when None)."""
    lines = ["[email]", 'from = "tracker@example.com"', 'default_to = ["vp@example.com"]']
    if server is not None:
        lines += [f'host = "{server.host}"', f"port = {server.port}"]
        lines.append(f'security = "{server.security}"')
        if server.ca_file is not None:
            lines.append(f'ca_file = "{server.ca_file}"')
    for key, value in extra.items():
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def auth_lines() -> str:
    return f'username = "{USER}"\npassword = {{ env = "TRACKER_TEST_SMTP_PASSWORD" }}\n'


def make_mail_config(
    tmp_path: Path,
    server: Server | None,
    *,
    synced_hours_ago: float | None = 2.0,
    email_extra: str = "",
    goals: str = GOALS,
    url: str | None = None,
) -> Path:
    """A store holding ``deals()``, ``PEOPLE`` and a sync run that ended
    ``synced_hours_ago`` (none when None), on ``url`` (default a SQLite file); returns
    the config path."""
    url = url or f"sqlite:///{tmp_path / 'tracker.db'}"
    store = Store(url)
    store.ensure_ready()
    insert(store.engine, deals())
    owners = Owner.__table__  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        for external_id, name, email, manager, team in PEOPLE:
            changed = conn.execute(
                update(owners)
                .where(owners.c.source == "crm", owners.c.external_id == external_id)
                .values(email=email, manager_external_id=manager, team=team, name=name)
            ).rowcount
            if not changed:
                conn.execute(
                    sql_insert(owners).values(
                        source="crm",
                        external_id=external_id,
                        name=name,
                        email=email,
                        manager_external_id=manager,
                        team=team,
                        is_active=True,
                    )
                )
        if synced_hours_ago is not None:
            ended = datetime.now(UTC) - timedelta(hours=synced_hours_ago)
            conn.execute(
                sql_insert(SyncRun.__table__).values(  # type: ignore[attr-defined]
                    source="crm",
                    kind="csv",
                    started_at=ended - timedelta(minutes=1),
                    finished_at=ended,
                    outcome="ok",
                    counts={},
                )
            )
    store.close()
    path = tmp_path / "tracker.toml"
    path.write_text(
        f'[store]\nurl = "{url}"\n{SOURCE}{goals}\n{email_table(server)}{email_extra}',
        encoding="utf-8",
    )
    return path


def parts(message: object) -> dict[str, object]:
    """A received message's text, HTML and images by Content-ID."""
    from email.message import EmailMessage

    assert isinstance(message, EmailMessage)
    found: dict[str, object] = {"images": {}}
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/plain":
            found["text"] = part.get_content()
        elif kind == "text/html":
            found["html"] = part.get_content()
        elif kind == "image/png":
            found["images"][part["Content-ID"].strip("<>")] = part.get_content()  # type: ignore[index]
    return found
