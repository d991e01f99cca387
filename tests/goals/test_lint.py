"""Each SMART lint rule against the data: specific, measurable, achievable, relevant,
time-bound, rollups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.goals.goal_fixtures import evaluate_deals, goal, one, won
from tracker.goals.lint import classify, mapping_hint

AS_OF = date(2026, 8, 15)
STARTS = (date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1))


def _emea(
    external_id: str, close: date, amount: float, owner: str = "Ann", **fields: object
) -> dict[str, object]:
    return won(
        external_id, close, amount, owner_external_id=owner, owner_name=owner, team="EMEA", **fields
    )


def history() -> list[dict[str, object]]:
    """EMEA revenue of 100, 200, 300 and 400 in 2025-Q3 .. 2026-Q2 (Ann and Bo half each)."""
    deals = []
    for number, start in enumerate(STARTS, start=1):
        deals.append(_emea(f"a{start}", start + timedelta(days=5), 50.0 * number, "Ann"))
        deals.append(_emea(f"b{start}", start + timedelta(days=6), 50.0 * number, "Bo"))
    return deals


def _lint(configs: list[object], **kwargs: object) -> dict[str, list[tuple[str, str, str]]]:
    results = evaluate_deals(history(), configs, AS_OF, **kwargs)  # type: ignore[arg-type]
    return {r.goal.id: [(i.level, i.rule, i.message) for i in r.lint] for r in results}


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        (250, "too_safe"),
        (300, "realistic"),
        (325, "realistic"),
        (450, "stretch"),
        (480, "stretch"),
        (500, "moonshot"),
    ],
)
def test_achievable_places_the_target_in_the_history(target: float, kind: str) -> None:
    # baseline: the average of the four quarters, 250; 75th percentile 325; best 400,
    # moonshot beyond 400 × 1.2 = 480
    config = goal(
        id="rev", metric="revenue", scope={"team": "EMEA"}, baseline="average:4", target=target
    )
    result = one(evaluate_deals(history(), [config], AS_OF))
    assert result.baseline == 250.0
    assert result.achievable == {"target": kind}


def test_achievable_warnings_name_the_level_and_the_history() -> None:
    configs = [
        goal(id="safe", metric="revenue", scope={"team": "EMEA"}, target=400, stretch=450),
        goal(
            id="moon",
            metric="revenue",
            scope={"team": "EMEA"},
            baseline=100,
            target=450,
            stretch=900,
        ),
    ]
    found = _lint(configs)
    assert found["safe"] == [
        ("warning", "achievable", "target 400 is no better than the baseline (400): too safe")
    ]
    assert found["moon"] == [
        (
            "warning",
            "achievable",
            "stretch 900 is beyond the best of 4 past periods (400) by more than 20%: a moonshot",
        )
    ]


def test_lower_is_better_levels_are_placed_the_other_way() -> None:
    history_days = [50.0, 40.0, 30.0, 20.0]  # oldest first: cycles got shorter
    assert classify(25.0, 20.0, history_days, "lower", 0.2) == "too_safe"
    assert (
        classify(18.0, 20.0, history_days, "lower", 0.2) == "stretch"
    )  # beyond p25 = 27.5, best 20
    assert classify(15.0, 20.0, history_days, "lower", 0.2) == "moonshot"  # below 20 × 0.8
    assert classify(28.0, 45.0, history_days, "lower", 0.2) == "realistic"


def test_too_little_history_is_not_judged() -> None:
    config = goal(id="rev", metric="revenue", scope={"team": "EMEA"}, target=10_000)
    result = one(evaluate_deals(history()[:6], [config], AS_OF))  # three quarters on record
    assert result.achievable == {"target": "not_judged", "stretch": "not_judged"}
    assert result.lint == ()


def test_specific_a_scope_value_the_data_does_not_have() -> None:
    config = goal(id="rev", metric="revenue", scope={"team": "EMAE"}, target=500)
    assert _lint([config])["rev"] == [
        (
            "error",
            "specific",
            "unknown team 'EMAE': did you mean 'EMEA'? values: EMEA (not in the data)",
        )
    ]


def test_measurable_names_the_missing_field_and_the_key_that_maps_it() -> None:
    config = goal(id="margin", metric="gross_margin_pct", scope={"team": "EMEA"}, target=0.4)
    kinds = {"export": "csv", "sf": "salesforce", "hs": "hubspot"}
    assert _lint([config], source_kinds=kinds)["margin"] == [
        (
            "error",
            "measurable",
            "no deal over 2025-07-01..2026-06-30 carries the cost gross_margin_pct needs; map it with "
            "[sources.export.columns] cost_amount or [sources.hs.properties] line_item_cost or "
            "[sources.sf.fields] line_item_cost",
        )
    ]


def test_measurable_partial_coverage_is_an_error_with_the_share() -> None:
    deals = history()
    for deal in deals[:3]:
        deal["cost_amount"] = 10.0  # 3 of the 8 won deals carry a cost
    config = goal(id="margin", metric="gross_margin_pct", scope={"team": "EMEA"}, target=0.4)
    results = evaluate_deals(deals, [config], AS_OF)
    assert [(i.level, i.rule, i.message) for i in one(results).lint] == [
        (
            "error",
            "measurable",
            "only 38% of the deals over 2025-07-01..2026-06-30 carry the cost gross_margin_pct needs "
            "(at least 80% must)",
        )
    ]


def test_relevant_and_time_bound_are_reported_once_for_a_split_goal() -> None:
    configs = [
        goal(
            id="owners",
            metric="revenue",
            every="quarter",
            for_each="owner",
            target=10_000,
            why=None,
        ),
        goal(id="past", metric="revenue", period="2026-Q1", target=10_000),
    ]
    results = evaluate_deals(history(), configs, AS_OF, everything=True)
    found = {
        (r.goal.id, i.subject, i.level, i.rule, i.message)
        for r in results
        for i in r.lint
        if i.rule != "achievable"
    }
    assert found == {
        (
            "owners/Ann",
            "owners",
            "error",
            "relevant",
            'no why: say why this goal matters (why = "...")',
        ),
        (
            "owners/Bo",
            "owners",
            "error",
            "relevant",
            'no why: say why this goal matters (why = "...")',
        ),
        ("past", "past", "warning", "time_bound", "2026-Q1 ended on 2026-03-31 (for reviews only)"),
    }


def test_rollup_owner_targets_that_do_not_cover_the_team_target() -> None:
    configs = [
        goal(id="team", metric="revenue", scope={"team": "EMEA"}, target=1000, stretch=1200),
        goal(
            id="owners",
            metric="revenue",
            scope={"team": "EMEA"},
            for_each="owner",
            target=300,
            stretch=400,
        ),
        goal(id="cycle-team", metric="sales_cycle_days", scope={"team": "EMEA"}, target=30),
        goal(
            id="cycle-owners",
            metric="sales_cycle_days",
            scope={"team": "EMEA"},
            for_each="owner",
            target=40,
        ),
    ]
    found = _lint(configs)
    rollups = {k: [m for m in v if m[1] == "rollup"] for k, v in found.items()}
    assert rollups["team"] == [
        (
            "warning",
            "rollup",
            "owner targets sum to 600, 400 short of this goal's 1,000 (not covered)",
        )
    ]
    # rates do not add up over owners: no rollup for the cycle
    assert rollups["cycle-team"] == [] and rollups["owners/Ann"] == []
    covered = [configs[0], configs[1].model_copy(update={"target": 500, "stretch": 600})]
    assert [m for m in _lint(covered)["team"] if m[1] == "rollup"] == []


def test_mapping_hint_names_the_key_of_each_source_that_can_map_the_field() -> None:
    kinds = {"sf": "salesforce", "export": "csv", "hs": "hubspot", "other": "pipedrive"}
    assert mapping_hint("cost", kinds) == (
        "map it with [sources.export.columns] cost_amount"
        " or [sources.hs.properties] line_item_cost"
        " or [sources.sf.fields] line_item_cost"
    )
    assert mapping_hint("list", kinds) == "map it with [sources.export.columns] list_amount"
    assert mapping_hint("list", {"sf": "salesforce"}) == "the source does not provide it"
    assert mapping_hint("cost", {"x": "pipedrive"}) == "the source does not provide it"
