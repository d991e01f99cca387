"""The variance / attainment / tier / status algebra: properties (hypothesis) and the
threshold edges."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tracker.goals.scoring import attainment, judge, tier, variance, variance_pct
from tracker.goals.thresholds import GoalThresholds

values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False).filter(
    lambda v: v == 0 or abs(v) >= 1e-6  # figures of a CRM, not subnormal floats
)
positive = st.floats(min_value=1e-3, max_value=1e9, allow_nan=False, allow_infinity=False)
directions = st.sampled_from(["higher", "lower"])
TIERS = ["none", "baseline", "target", "stretch"]


@given(values, values)
def test_variance_adds_back_to_the_actual_and_its_share_has_its_sign(
    actual: float, target: float
) -> None:
    assert target + variance(actual, target) == pytest.approx(actual, rel=1e-9, abs=1e-6)
    share = variance_pct(actual, target)
    if target == 0:
        assert share is None
    else:
        assert share is not None
        assert math.copysign(1, share) == math.copysign(1, actual - target) or actual == target
        assert share * abs(target) == pytest.approx(actual - target, rel=1e-9, abs=1e-6)


@given(positive, positive)
def test_attainment_is_one_or_more_exactly_when_the_target_is_reached(
    actual: float, target: float
) -> None:
    higher = attainment(actual, target, "higher")
    lower = attainment(actual, target, "lower")
    assert higher is not None and lower is not None
    assert (higher >= 1) == (actual >= target)
    assert (lower >= 1) == (actual <= target)
    # lower-is-better attainment is the higher-is-better one with the roles swapped
    assert lower == pytest.approx(attainment(target, actual, "higher"))


@given(values, st.floats(max_value=0, allow_nan=False), directions)
def test_attainment_is_null_for_a_target_that_is_not_positive(
    actual: float, target: float, direction: str
) -> None:
    assert attainment(actual, target, direction) is None


@given(values, values, values, values, directions)
def test_tier_mirrors_between_directions(
    actual: float, baseline: float, target: float, stretch: float, direction: str
) -> None:
    assert tier(actual, baseline, target, stretch, "lower") == tier(
        -actual, -baseline, -target, -stretch, "higher"
    )


@given(values, values, values, values, values)
def test_tier_never_drops_when_the_actual_improves(
    a: float, b: float, baseline: float, target: float, stretch: float
) -> None:
    assume(stretch > target)
    low, high = sorted((a, b))
    assert TIERS.index(tier(low, baseline, target, stretch, "higher")) <= TIERS.index(
        tier(high, baseline, target, stretch, "higher")
    )


@given(values, values, values, st.none() | values, directions)
def test_a_tier_of_target_or_stretch_means_the_target_is_reached(
    actual: float, baseline: float, target: float, stretch: float | None, direction: str
) -> None:
    # a valid goal's stretch is beyond its target
    assume(stretch is None or (stretch > target if direction == "higher" else stretch < target))
    found = tier(actual, baseline, target, stretch, direction)
    reached = actual >= target if direction == "higher" else actual <= target
    assert (found in ("target", "stretch")) == reached


@given(positive, positive, positive)
def test_a_finished_goal_is_achieved_exactly_when_attainment_reaches_one(
    actual: float, target: float, expected: float
) -> None:
    for direction in ("higher", "lower"):
        status = judge(
            state="over",
            cumulative=True,
            direction=direction,
            actual=actual,
            target=target,
            expected=expected,
            thresholds=GoalThresholds(),
        )
        ratio = attainment(actual, target, direction)
        assert ratio is not None
        assert (status == "achieved") == (ratio >= 1)
        assert status in ("achieved", "missed")


@pytest.mark.parametrize(
    ("actual", "expected", "status"),
    [
        (95.0, 100.0, "on_track"),  # exactly 0.95
        (94.9, 100.0, "at_risk"),
        (80.0, 100.0, "at_risk"),  # exactly 0.8
        (79.9, 100.0, "behind"),
        (0.0, 0.0, "on_track"),  # nothing expected yet
    ],
)
def test_pace_thresholds_at_their_edges(actual: float, expected: float, status: str) -> None:
    found = judge(
        state="ongoing",
        cumulative=True,
        direction="higher",
        actual=actual,
        target=1000.0,
        expected=expected,
        thresholds=GoalThresholds(),
    )
    assert found == status


def test_thresholds_are_configurable() -> None:
    strict = GoalThresholds(on_track=1.0, at_risk=0.9)
    kwargs = {"state": "ongoing", "cumulative": True, "direction": "higher", "target": 1000.0}
    assert judge(actual=95.0, expected=100.0, thresholds=strict, **kwargs) == "at_risk"  # type: ignore[arg-type]
    assert judge(actual=89.0, expected=100.0, thresholds=strict, **kwargs) == "behind"  # type: ignore[arg-type]
