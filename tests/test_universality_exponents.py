"""Exponent measurement: time exponents on step/tau axes (schedule collapse), width/depth across runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import datasets
from scalinglaws.exponents import (
    ExponentError,
    across_runs,
    curve_exponents,
    dynamic_time_of,
    fit_universality,
    measure_exponents,
    time_exponent,
)
from scalinglaws.theory.schedules import ScheduleError, dynamic_time, schedule_from_name

STEPS = 4000
SCHEDULES = (
    "constant",
    "cosine:warmup=0.01,floor=0.1",
    "wsd:warmup=40,decay=0.2",
    "step:gamma=0.5,every=1000",
)


def curves(width: float = 1024.0, noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Loss ``1.8 + 300/width + 2 tau^(-1/3)`` sampled every 20 steps under several schedules."""
    rng = np.random.default_rng(seed)
    rows = []
    for spec in SCHEDULES:
        tau = dynamic_time(schedule_from_name(spec), STEPS, eta_max=1e-3)
        step = np.arange(0, STEPS + 1, 20)
        loss = 1.8 + 300 / width + 2.0 * np.where(step > 0, tau[step], np.inf) ** (-1 / 3)
        loss = loss * np.exp(noise * rng.standard_normal(step.size))
        rows.append(pd.DataFrame({"run": f"{spec}-{width:g}", "schedule": spec, "step": step, "loss": loss,
                                  "width": width, "tau_true": tau[step]}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_time_exponent_recovers_the_power_with_an_interval() -> None:
    t = np.geomspace(10, 1e5, 300)
    y = (1.5 + 4.0 * t**-0.3) * np.exp(0.002 * np.random.default_rng(1).standard_normal(t.size))
    for interval in ("block", "profile"):
        e = time_exponent(t, y, start=0.0, interval=interval, bootstrap=100)
        assert e.value == pytest.approx(0.3, abs=0.02)
        assert e.lo < 0.3 < e.hi and e.n_points == 200  # binned into 200 log-spaced points


def test_schedules_collapse_on_dynamic_time() -> None:
    table = curves()
    groups = table.groupby("run", sort=False)
    tau = np.concatenate(
        [dynamic_time_of(g, schedule=g["schedule"].iloc[0], eta_max=1e-3) for _, g in groups]
    )
    np.testing.assert_allclose(tau, table["tau_true"], rtol=1e-12)
    table = table.assign(tau=tau)
    on_tau = [e.value for e in curve_exponents(table, axis="tau", interval="profile")]
    on_step = [e.value for e in curve_exponents(table, axis="step", interval="profile")]
    assert np.allclose(on_tau, 1 / 3, atol=1e-3)  # one exponent for every schedule
    assert np.ptp(on_step) > 0.1  # on steps, the decaying schedules bend the curves


def test_tau_from_an_lr_column_matches_the_schedule() -> None:
    sched = schedule_from_name("cosine:warmup=100,floor=0.1")
    step = np.arange(0, 2001)
    lr = np.concatenate([[0.0], 1e-3 * sched.multipliers(2000)])
    tau = dynamic_time_of(pd.DataFrame({"step": step, "lr": lr}))
    # trapezoids against the exact sums: within 2% once past the warmup's first steps
    np.testing.assert_allclose(tau[200:], dynamic_time(sched, 2000, 1e-3)[200:], rtol=0.02)


def test_schedule_shorter_than_the_run_is_a_one_line_error() -> None:
    df = pd.DataFrame({"run": "a", "step": np.arange(0, 50), "loss": 3.0 - 0.01 * np.arange(50)})
    with pytest.raises(
        ScheduleError, match="the array schedule has 3 values but the run takes 49 steps"
    ) as info:
        dynamic_time_of(df, schedule="array:values=1/1/1")
    assert "\n" not in str(info.value)
    with pytest.raises(ExponentError, match="checkpoints up to step 49 but the schedule's run length is 20"):
        dynamic_time_of(df, schedule="cosine", total_steps=20)
    with pytest.raises(ExponentError, match="a schedule sets the dynamic time"):
        curve_exponents(df, axis="step", schedule="constant")
    with pytest.raises(ExponentError, match="needs a 'tau' column, an 'lr' column, or a schedule"):
        curve_exponents(df, axis="tau")


def test_bad_curves() -> None:
    with pytest.raises(ExponentError, match="at least 8"):
        time_exponent([1, 2, 3, 4, 5], [5, 4, 3.5, 3.2, 3.0])
    with pytest.raises(ExponentError, match="losses must be positive"):
        time_exponent(np.arange(1, 20), -np.ones(19))
    with pytest.raises(ExponentError, match="differ in length"):
        time_exponent(np.arange(1, 20), np.ones(18))


def test_width_and_depth_across_runs() -> None:
    rng = np.random.default_rng(2)
    m = rng.choice([256.0, 512, 1024, 2048], 60)
    ell = rng.choice([4.0, 8, 16, 32], 60)
    d = 10 ** rng.uniform(8, 10, 60)
    y = (1.5 + 200 / m + 2 / ell + 300 / d ** (1 / 3)) * np.exp(0.002 * rng.standard_normal(60))
    df = pd.DataFrame({"run": np.arange(60), "width": m, "depth": ell, "tokens": d, "loss": y})
    out = {e.quantity: e for e in across_runs(df, bootstrap=60)}
    assert set(out) == {"width", "depth", "time"}
    for e in out.values():
        assert e.value == pytest.approx(e.claimed, abs=0.15 * e.claimed) and e.lo < e.claimed < e.hi
        assert e.consistent


def test_measure_exponents_reports_time_and_width() -> None:
    table = pd.concat([curves(w, noise=0.002, seed=i) for i, w in enumerate([256.0, 512, 1024, 2048])])
    table = table[table["schedule"] == "constant"]
    report = measure_exponents(table, axis="step", bootstrap=30)
    assert len(report.time) == 4
    summary = report.time_summary()
    assert summary["median"] == pytest.approx(1 / 3, abs=0.03)
    # constant LR: at a common step the time term is shared, so the width term alone differs
    report_at = measure_exponents(table, axis="step", at=2000.0, bootstrap=30)
    (width,) = report_at.across
    assert width.quantity == "width" and width.value == pytest.approx(1.0, abs=0.1)
    assert "time exponent per run" in report.summary()
    assert report.table().shape[0] == 4 + len(report.across)


def test_final_losses_only_give_size_exponents() -> None:
    report = measure_exponents(datasets.load("chinchilla"), bootstrap=0)
    assert report.time == () and "no time exponents" in report.notes[0]
    assert {e.quantity for e in report.across} == {"width", "depth", "time"}


def test_liu_gore_protocol_drops_the_highest_losses() -> None:
    runs = datasets.load("chinchilla")
    ours = fit_universality(runs)
    theirs = fit_universality(runs, protocol="liu-gore", drop_highest=40)
    assert ours.data["n_points"] == 240 and ours.data["n_excluded"] == 5 and ours.objective["kind"] == "huber"
    assert theirs.data["n_points"] == 205 and theirs.objective["kind"] == "l2"
    with pytest.raises(ExponentError, match="protocol must be"):
        fit_universality(runs, protocol="adam")
