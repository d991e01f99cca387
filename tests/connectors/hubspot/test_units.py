"""Small pure pieces: the rate bucket, search positions, stage semantics, value mapping."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.hubspot.limits import TokenBucket, general_bucket, search_bucket
from connectors.hubspot.mapping import Mapper, merged_ids, parse_datetime, stage_map
from connectors.hubspot.search import Position
from connectors.hubspot.settings import HubSpotSourceSettings
from tracker.errors import ConfigError
from tracker.settings import TrackerSection, settings_from_dict


class FakeClock:
    """Time that only moves when slept through."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_allows_a_burst_then_spaces_requests() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5.0, 5.0, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        assert bucket.take() == 0.0
    waits = [bucket.take() for _ in range(10)]
    assert waits == pytest.approx([0.2] * 10)
    assert clock.now == pytest.approx(102.0)  # 15 requests at 5/s after a burst of 5


def test_bucket_refills_while_idle() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10.0, 10.0, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        bucket.take()
    clock.now += 60
    assert [bucket.take() for _ in range(10)] == [0.0] * 10


def test_bucket_shapes() -> None:
    assert search_bucket(4).rate == 4 and search_bucket(4).burst == 4
    assert general_bucket(100).rate == 10 and general_bucket(100).burst == 10


@given(st.integers(min_value=0, max_value=2**45), st.one_of(st.none(), st.integers(0, 2**40)))
def test_position_round_trips(modified: int, last_id: int | None) -> None:
    pos = Position(modified, last_id)
    assert Position.from_json(pos.as_json()) == pos


def test_datetimes() -> None:
    assert parse_datetime("2026-04-01T02:30:00.000Z") == datetime(2026, 4, 1, 2, 30, tzinfo=UTC)
    assert parse_datetime("1775010600000") == datetime(2026, 4, 1, 2, 30, tzinfo=UTC)
    assert parse_datetime("2026-04-01T04:30:00+02:00") == datetime(2026, 4, 1, 2, 30, tzinfo=UTC)
    assert parse_datetime(None) is None and parse_datetime("") is None


def test_won_and_closed_come_from_metadata_not_labels() -> None:
    stages = stage_map(
        [
            {
                "id": "p1",
                "label": "Partners",
                "stages": [
                    {
                        "id": "a",
                        "label": "Lost?",
                        "metadata": {"isClosed": "true", "probability": "1.0"},
                    },
                    {
                        "id": "b",
                        "label": "Won!",
                        "metadata": {"isClosed": "true", "probability": "0.0"},
                    },
                    {
                        "id": "c",
                        "label": "Closed Won",
                        "metadata": {"isClosed": "false", "probability": "0.9"},
                    },
                ],
            }
        ]
    )
    assert (stages[("p1", "a")].is_closed, stages[("p1", "a")].is_won) == (True, True)
    assert (stages[("p1", "b")].is_closed, stages[("p1", "b")].is_won) == (True, False)
    assert (stages[("p1", "c")].is_closed, stages[("p1", "c")].is_won) == (False, False)
    assert stages[("p1", "a")].pipeline == "Partners"


def _mapper(**table: object) -> Mapper:
    settings = HubSpotSourceSettings.model_validate(
        {"kind": "hubspot", "access_token": {"env": "X"}, **table}
    )
    return Mapper(settings, TrackerSection(timezone="America/Los_Angeles"), {})


def test_line_item_total_from_either_discount_form() -> None:
    m = _mapper()
    pct = m.line_item(
        {
            "id": "1",
            "properties": {"price": "100", "quantity": "2", "hs_discount_percentage": "10"},
        },
        "d",
    )
    unit = m.line_item(
        {"id": "2", "properties": {"price": "100", "quantity": "2", "discount": "5"}}, "d"
    )
    assert (pct.total, pct.discount_pct, pct.unit_price) == pytest.approx((180.0, 0.1, 90.0))
    assert (unit.total, unit.discount_pct) == pytest.approx((190.0, 0.05))


def test_close_date_west_of_utc_and_unknown_stage() -> None:
    m = _mapper()
    deal = m.deal(
        {
            "id": "9",
            "properties": {"closedate": "2026-04-01T06:59:00Z", "dealstage": "x", "pipeline": "y"},
        },
        [],
        [],
    )
    assert deal.close_date == date(2026, 3, 31)  # 23:59 on 31 March in Los Angeles
    assert (deal.stage, deal.is_closed, deal.is_won, deal.list_amount) == ("x", False, False, None)


def test_owner_without_team_and_region_mapping() -> None:
    m = _mapper(teams={"region_separator": "", "regions": {"Sydney": "APAC"}})
    lone = m.owner({"id": "1", "firstName": "Ana", "lastName": None, "teams": [], "archived": True})
    mapped = m.owner({"id": "2", "teams": [{"name": "Sydney", "primary": True}]})
    other = m.owner({"id": "3", "teams": [{"name": "EMEA - SMB", "primary": True}]})
    assert (lone.name, lone.team, lone.region, lone.is_active) == ("Ana", None, None, False)
    assert (mapped.team, mapped.region) == ("Sydney", "APAC")
    assert (other.team, other.region) == ("EMEA - SMB", None)  # no separator configured


def test_merged_ids() -> None:
    assert merged_ids({"hs_merged_object_ids": "1;22; 333"}) == ["1", "22", "333"]
    assert merged_ids({"hs_merged_object_ids": None}) == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"properties": {"segment": "bad name!"}}, "sources.hs.properties.segment"),
        ({"base_url": "api.hubapi.com"}, "sources.hs.base_url"),
        ({"timezone": "Mars/Olympus"}, "sources.hs.timezone"),
        ({"access_token": "pat-na1-literal"}, "sources.hs.access_token"),
        ({"rate_limits": {"search_per_second": 0}}, "sources.hs.rate_limits.search_per_second"),
        ({"batch_size": 10}, "sources.hs.batch_size"),
        ({"host": "http://x"}, "sources.hs.host: unknown key"),
    ],
)
def test_bad_settings_name_the_key(table: dict[str, object], message: str) -> None:
    from pathlib import Path

    from connectors.registry import settings_models

    raw = {"sources": {"hs": {"kind": "hubspot", "access_token": {"env": "X"}, **table}}}
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        settings_from_dict(raw, base_dir=Path("."), source_models=settings_models())
