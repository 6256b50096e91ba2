"""Scoring a design by simulation: agrees with the analytic error of a one-exponent law; N*, D*, L* rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws.design import DesignError, iso_cost_sweep, score_design
from scalinglaws.laws import Param, law_from_function

E, A, ALPHA = 1.0, 5.0, 0.3


def one_exponent_law():
    """``L = E + A x^-alpha`` with E and A known: alpha is the only parameter."""
    return law_from_function(
        "one-exponent",
        lambda X, alpha: E + A * X["x"] ** -alpha,
        [Param("alpha", 0.01, 2.0, grid=tuple(np.round(np.linspace(0.05, 1.5, 30), 4)))],
        inputs=("x",),
    )


def slope(x: float) -> float:
    """d log L / d alpha at x."""
    term = A * x**-ALPHA
    return -term * np.log(x) / (E + term)


def test_score_matches_the_analytic_error_of_one_exponent() -> None:
    law = one_exponent_law()
    x1, x0, n, noise = 400.0, 1e6, 20, 0.01
    design = pd.DataFrame({"x": [x1], "runs": [n]})
    score = score_design(
        design, (law, [ALPHA]), at={"x": [x0]}, noise=noise, simulations=300, bootstrap=0, seed=1
    )
    row = score.table.iloc[0]
    loss0 = E + A * x0**-ALPHA
    # alpha from n runs at x1 has sd noise / (|g(x1)| sqrt(n)); the loss at x0 moves by L |g(x0)| per unit
    expected = loss0 * abs(slope(x0)) * noise / (abs(slope(x1)) * np.sqrt(n))
    assert row["quantity"] == "loss" and row["n_ok"] == 300
    assert row["rmse"] == pytest.approx(expected, rel=0.15)
    assert abs(row["bias"]) < 0.3 * expected


def test_compute_optimal_rows_and_a_better_design_scores_better() -> None:
    truth = ("chinchilla", {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366})
    narrow = iso_cost_sweep([1e18, 1e19], sizes_per_budget=4, half_width=0.3)
    wide = iso_cost_sweep([1e18, 1e19, 1e20], sizes_per_budget=6, half_width=1.2)
    kw = {"noise": 0.01, "target_compute": [1e23], "simulations": 12, "bootstrap": 30, "seed": 0}
    s_narrow, s_wide = score_design(narrow, truth, **kw), score_design(wide, truth, **kw)
    assert s_wide.table["quantity"].tolist() == ["N*", "D*", "L*"]
    assert s_wide.table.loc[0, "unit"] == "decades"
    assert s_wide.table.loc[0, "rmse"] < s_narrow.table.loc[0, "rmse"]
    assert 0.0 <= s_wide.table.loc[0, "coverage"] <= 1.0
    assert "N*" in s_wide.summary()
    assert s_wide.to_dict()["settings"]["n_runs"] == wide.n_runs


def test_scoring_needs_noise_and_something_to_score() -> None:
    truth = ("chinchilla", [1.8, 400.0, 2000.0, 0.34, 0.36])
    design = iso_cost_sweep([1e18], sizes_per_budget=3)
    with pytest.raises(DesignError, match="needs noise"):
        score_design(design, truth, target_compute=[1e22])
    with pytest.raises(DesignError, match="nothing to score"):
        score_design(design, truth, noise=0.01)
    with pytest.raises(DesignError, match="lacks parameter"):
        score_design(design, ("chinchilla", {"E": 1.0}), noise=0.01, target_compute=[1e22])
