"""Deterministic synthetic CRM exports for tests, the demo sample and benchmarks."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

HEADER = [
    "opportunity_id",
    "deal_name",
    "sales_agent",
    "manager",
    "regional_office",
    "account",
    "deal_stage",
    "engage_date",
    "close_date",
    "close_value",
    "list_price",
    "currency",
]
AGENTS = [
    ("Ana Díaz", "Melvin Marxen", "Central"),
    ("Bo Chen", "Melvin Marxen", "Central"),
    ("Cara O'Neil", "Summer Sewald", "West"),
    ("Dev Patel", "Summer Sewald", "West"),
    ("Eve Müller", "Rocco Neubert", "East"),
    ('Finn "Fox" Lee', "Rocco Neubert", "East"),
]
ACCOUNTS = [
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay Industries",
    "Soylent",
    "Stark Ind.",
    "Wayne Ent.",
    "Wonka",
    "Cyberdyne",
    "Tyrell",
]
HOSTILE = ['Quote "deal"', "Ünïcødé ✓ 日本", "<script>alert(1)</script>", "line\r\nbreak", "a,b;c"]


def rows(n: int, seed: int = 7, start: date = date(2024, 1, 1)) -> list[list[str]]:
    """``n`` export rows: won/lost/open deals over two years, a few in EUR."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        agent, manager, region = AGENTS[i % len(AGENTS)]
        engage = start + timedelta(days=rng.randrange(0, 700))
        stage = rng.choices(["Won", "Lost", "Engaging", "Prospecting"], [5, 3, 1, 1])[0]
        closed = engage + timedelta(days=int(rng.lognormvariate(3.5, 0.7)))
        list_price = rng.choice([550, 1096, 3393, 4821, 26768])
        value = round(list_price * rng.uniform(0.8, 1.05), 2)
        currency = "EUR" if i % 25 == 0 else "USD"
        name = HOSTILE[i % len(HOSTILE)] if i % 40 == 0 else f"Deal {i}"
        out.append(
            [
                f"OPP{i:07d}",
                name,
                agent,
                manager,
                region,
                ACCOUNTS[rng.randrange(len(ACCOUNTS))],
                stage,
                engage.isoformat(),
                closed.isoformat() if stage in ("Won", "Lost") else "",
                f"{value:,.2f}" if stage != "Prospecting" else "",
                str(list_price),
                currency,
            ]
        )
    return out


def write_csv(path: Path, n: int, seed: int = 7) -> Path:
    """Write an export of ``n`` deals to ``path``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows(n, seed))
    return path


CONFIG = """
[tracker]
timezone = "{timezone}"
currency = "USD"
[tracker.exchange_rates]
EUR = 1.1
[store]
url = "{store_url}"
[sources.export]
kind = "csv"
path = "{path}"
[sources.export.columns]
id = "opportunity_id"
name = "deal_name"
owner = "sales_agent"
team = "manager"
region = "regional_office"
account = "account"
stage = "deal_stage"
created = "engage_date"
closed = "close_date"
amount = "close_value"
list_amount = "list_price"
currency = "currency"
[sources.export.stages]
won = ["Won"]
lost = ["Lost"]
"""


def write_config(folder: Path, csv_path: Path, store_url: str, timezone: str = "UTC") -> Path:
    """A tracker.toml in ``folder`` reading ``csv_path`` into ``store_url``."""
    path = folder / "tracker.toml"
    path.write_text(
        CONFIG.format(path=csv_path.as_posix(), store_url=store_url, timezone=timezone),
        encoding="utf-8",
    )
    return path
