"""Learning-rate schedules and dynamic time (scalinglaws.theory.schedules)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.theory.schedules import (
    ArraySchedule,
    Constant,
    Cosine,
    LinearWarmup,
    Schedule,
    ScheduleError,
    StepDecay,
    WarmupStableDecay,
    dynamic_time,
    schedule_from_name,
    tau_at,
)

R2 = math.sqrt(2.0) / 4.0  # (1 + cos(pi/4)) / 2 = 0.5 + R2

# (schedule, T, hand-computed multipliers, hand-computed sum)
HAND = [
    (Constant(), 3, [1.0, 1.0, 1.0], 3.0),
    (LinearWarmup(4), 6, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0], 4.5),
    (LinearWarmup(0.5), 4, [0.5, 1.0, 1.0, 1.0], 3.5),
    (LinearWarmup(8), 2, [0.125, 0.25], 0.375),  # a warmup longer than the run is allowed
    (Cosine(), 4, [0.5 + R2, 0.5, 0.5 - R2, 0.0], 1.5),
    (Cosine(warmup=2, floor=0.1), 4, [0.5, 1.0, 0.55, 0.1], 2.15),
    # W = 2; decay multipliers 0.2 + 0.4 (1 + cos(pi k / 6)), k = 1..6, and sum_k cos = -1
    (Cosine(warmup=0.25, floor=0.2), 8, None, 1.5 + 6 * 0.6 - 0.4),
    (WarmupStableDecay(warmup=1, decay=2), 5, [1.0, 1.0, 1.0, 0.5, 0.0], 3.5),
    (WarmupStableDecay(decay=0.5, floor=0.2), 4, [1.0, 1.0, 0.6, 0.2], 2.8),
    # W = 2, K = 4: 0.5, 1, 1, 1, then 0.2 + 0.4 (1 + cos(pi k / 4)), k = 1..4, sum_k cos = -1
    (WarmupStableDecay(warmup=2, decay=0.5, floor=0.2, shape="cosine"), 8, None, 3.5 + 2.0),
    (StepDecay(gamma=0.5, every=2), 5, [1.0, 1.0, 0.5, 0.5, 0.25], 3.25),
    (StepDecay(gamma=0.1, milestones=(2, 3)), 5, [1.0, 1.0, 0.1, 0.01, 0.01], 2.12),
    (ArraySchedule([0.2, 0.4, 0.6, 0.8]), 3, [0.2, 0.4, 0.6], 1.2),
]

ALL = [case[0] for case in HAND]


@pytest.mark.parametrize(("schedule", "total", "expected", "total_sum"), HAND)
def test_hand_computed(schedule: Schedule, total: int, expected, total_sum: float) -> None:
    m = schedule.multipliers(total)
    assert m.shape == (total,)
    if expected is not None:
        np.testing.assert_allclose(m, expected, rtol=0, atol=1e-12)
    tau = dynamic_time(schedule, total, eta_max=2.0)
    assert tau.shape == (total + 1,)
    assert tau[0] == 0.0
    assert tau[-1] == pytest.approx(2.0 * total_sum, abs=1e-12)
    np.testing.assert_allclose(np.diff(tau), 2.0 * m, rtol=0, atol=1e-12)


def test_cosine_fraction_warmup_values() -> None:
    m = Cosine(warmup=0.25, floor=0.2).multipliers(8)
    k = np.arange(1, 7)
    np.testing.assert_allclose(m[:2], [0.5, 1.0], atol=1e-12)
    np.testing.assert_allclose(m[2:], 0.2 + 0.4 * (1 + np.cos(np.pi * k / 6)), atol=1e-12)


def test_decays_end_exactly_on_floor() -> None:
    for sched in (Cosine(floor=0.1), WarmupStableDecay(floor=0.1, shape="cosine")):
        assert sched.multipliers(1000)[-1] == 0.1
    assert WarmupStableDecay(floor=0.1).multipliers(1000)[-1] == pytest.approx(0.1, abs=1e-15)


def test_fraction_rounds_to_nearest_step() -> None:
    assert np.count_nonzero(LinearWarmup(0.25).multipliers(10) < 1) == 1  # 2.5 -> 2 (ties to even)
    assert np.count_nonzero(LinearWarmup(0.3).multipliers(10) < 1) == 2  # 3 steps, last one at 1


@pytest.mark.parametrize("schedule", ALL + [Cosine(warmup=0.01, floor=0.1)])
def test_tau_is_monotone(schedule: Schedule) -> None:
    total = 3 if isinstance(schedule, ArraySchedule) else 1000
    tau = dynamic_time(schedule, total, eta_max=1e-3)
    assert np.all(np.diff(tau) >= 0)
    m = schedule.multipliers(total)
    assert np.all(m >= 0)
    if not isinstance(schedule, ArraySchedule):
        assert np.all(m <= 1)


@pytest.mark.parametrize("schedule", ALL)
def test_array_schedule_matches_named(schedule: Schedule) -> None:
    total = 3 if isinstance(schedule, ArraySchedule) else 50
    as_array = ArraySchedule(schedule.multipliers(total))
    np.testing.assert_array_equal(as_array.multipliers(total), schedule.multipliers(total))
    np.testing.assert_array_equal(
        dynamic_time(as_array, total, 3e-4), dynamic_time(schedule, total, 3e-4)
    )


@pytest.mark.parametrize(("schedule", "total"), [case[:2] for case in HAND])
def test_spec_round_trip(schedule: Schedule, total: int) -> None:
    parsed = schedule_from_name(schedule.spec)
    assert parsed == schedule
    np.testing.assert_array_equal(parsed.multipliers(total), schedule.multipliers(total))


def test_parser_examples() -> None:
    assert schedule_from_name("constant") == Constant()
    assert schedule_from_name(" Cosine : warmup = 100 , floor = 0.1 ") == Cosine(100, 0.1)
    assert schedule_from_name("cosine:warmup=0.01") == Cosine(warmup=0.01)
    assert schedule_from_name("warmup:warmup=2000") == LinearWarmup(2000)
    assert schedule_from_name("wsd:decay=100,shape=COSINE") == WarmupStableDecay(
        decay=100, shape="cosine"
    )
    assert schedule_from_name("step:milestones=10/20") == StepDecay(milestones=(10, 20))
    assert schedule_from_name("array:values=1/0.5") == ArraySchedule([1.0, 0.5])
    # an int is a step count, a decimal a fraction of the run
    assert isinstance(schedule_from_name("warmup:warmup=1").warmup, int)
    assert isinstance(schedule_from_name("warmup:warmup=1.0").warmup, float)


def test_tau_at_matches_dynamic_time() -> None:
    sched = Cosine(warmup=10, floor=0.1)
    tau = dynamic_time(sched, 100, 3e-4)
    steps = np.array([[0, 1], [50, 100]])
    np.testing.assert_array_equal(tau_at(sched, steps, 3e-4, total_steps=100), tau[steps])
    value = tau_at(sched, 37, 3e-4, total_steps=100)
    assert isinstance(value, float) and value == tau[37]
    # schedules that do not depend on the run length need no total_steps
    assert tau_at(StepDecay(gamma=0.5, every=1), [0, 3], 1.0).tolist() == [0.0, 1.75]
    assert tau_at(Constant(), 0, 1.0) == 0.0


def test_errors_are_value_errors() -> None:
    assert issubclass(ScheduleError, ValueError)
    assert issubclass(ScheduleError, ScalingLawsError)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ArraySchedule([1.0, 0.5]).multipliers(3), "2 values but the run takes 3"),
        (lambda: ArraySchedule([1.0, -0.5]), "non-negative"),
        (lambda: ArraySchedule([1.0, float("nan")]), "finite"),
        (lambda: ArraySchedule([]), "non-empty"),
        (lambda: ArraySchedule(["a"]), "numbers"),
        (lambda: dynamic_time(Constant(), 10, 0.0), "eta_max"),
        (lambda: dynamic_time(Constant(), 10, -1e-3), "eta_max"),
        (lambda: dynamic_time(Constant(), 10, float("inf")), "eta_max"),
        (lambda: dynamic_time(Constant(), 0, 1e-3), "at least 1 step"),
        (lambda: dynamic_time(Constant(), -5, 1e-3), "at least 1 step"),
        (lambda: dynamic_time(Constant(), 2.5, 1e-3), "integer"),
        (lambda: Constant().multipliers(0), "at least 1 step"),
        (lambda: schedule_from_name("linear"), "unknown schedule 'linear'"),
        (lambda: schedule_from_name(""), "non-empty"),
        (lambda: schedule_from_name("cosine:warmpu=10"), "unknown key 'warmpu'"),
        (lambda: schedule_from_name("cosine:warmup"), "KEY=VALUE"),
        (lambda: schedule_from_name("cosine:floor=low"), "not a number"),
        (lambda: schedule_from_name("cosine:floor=0.1,floor=0.2"), "twice"),
        (lambda: schedule_from_name("warmup"), "missing"),
        (lambda: schedule_from_name("step:every=1.5"), "integer"),
        (lambda: LinearWarmup(1.5), "fraction of the run"),
        (lambda: LinearWarmup(-1), "non-negative"),
        (lambda: LinearWarmup(True), "int"),
        (lambda: Cosine(floor=1.5), "floor"),
        (lambda: Cosine(warmup=20).multipliers(10), "longer than the run"),
        (lambda: WarmupStableDecay(warmup=6, decay=5).multipliers(10), "exceed the run"),
        (lambda: WarmupStableDecay(shape="exp"), "shape"),
        (lambda: StepDecay(), "exactly one"),
        (lambda: StepDecay(every=2, milestones=(3,)), "exactly one"),
        (lambda: StepDecay(gamma=0.0, every=2), "gamma"),
        (lambda: StepDecay(gamma=2.0, every=2), "gamma"),
        (lambda: StepDecay(every=0), "every"),
        (lambda: StepDecay(milestones=(5, 5)), "strictly increasing"),
        (lambda: StepDecay(milestones=(0, 5)), "strictly increasing"),
        (lambda: tau_at(Cosine(), 5, 1.0), "pass total_steps"),
        (lambda: tau_at(Constant(), -1, 1.0), ">= 0"),
        (lambda: tau_at(Constant(), 11, 1.0, total_steps=10), "exceed the run length"),
        (lambda: tau_at(Constant(), 1.5, 1.0), "whole numbers"),
        (lambda: tau_at(Constant(), [], 1.0), "no steps"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(ScheduleError, match=match):
        call()
