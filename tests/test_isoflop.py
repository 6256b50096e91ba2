"""IsoFLOP analysis: hand-made parabolas, simulated sweeps, sweep diagnostics, Approach 3 beside, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app
from scalinglaws.laws import get_law
from scalinglaws.plan import isoflop_analysis
from scalinglaws.plan.isoflop import group_budgets

LAW = get_law("chinchilla")
THETA = np.array([1.69, 406.4, 410.7, 0.34, 0.28])
TRUE_EXPONENT = 0.28 / (0.34 + 0.28)
BUDGETS = np.geomspace(1e18, 1e22, 5)


def sweeps(offsets, *, width: float = 1.0, k: int = 9, sigma: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Runs on Chinchilla's law: ``k`` sizes per budget, ``width`` decades either side of N* x 10^offset."""
    rng = np.random.default_rng(seed)
    frames = []
    for c, off in zip(BUDGETS, offsets, strict=True):
        n_opt = float(LAW.compute_optimum(np.array(c), THETA)[0])
        n = n_opt * 10 ** (off + np.linspace(-width, width, k))
        d = c / (6 * n)
        y = LAW.predict({"params": n, "tokens": d}, THETA) * np.exp(sigma * rng.normal(size=k))
        frames.append(pd.DataFrame({"params": n, "tokens": d, "flops": 6 * n * d, "budget": c, "loss": y}))
    return pd.concat(frames, ignore_index=True)


def parabola_runs(vertices: dict[float, float], curvature: float = 0.3) -> pd.DataFrame:
    """Hand-made sweeps: loss = 2 + curvature (u - u*)^2 with u = log10 N, five sizes per budget."""
    rows = []
    for budget, u_star in vertices.items():
        for u in u_star + np.array([-0.8, -0.3, 0.0, 0.4, 0.9]):
            rows.append({"params": 10**u, "budget": budget, "loss": 2.0 + curvature * (u - u_star) ** 2})
    frame = pd.DataFrame(rows)
    return frame.assign(tokens=frame["budget"] / (6 * frame["params"]))


def test_hand_made_parabolas_give_their_vertices_and_line() -> None:
    vertices = {1e18: 8.0, 1e19: 8.4, 1e20: 9.0}  # log10 N* by hand
    result = isoflop_analysis(parabola_runs(vertices), bootstrap=0, law="")
    np.testing.assert_allclose([np.log10(s.params.value) for s in result.sweeps], [8.0, 8.4, 9.0], atol=1e-9)
    np.testing.assert_allclose([s.loss for s in result.sweeps], 2.0, atol=1e-9)
    np.testing.assert_allclose(result.sweeps[0].coef, [0.3, -4.8, 2.0 + 0.3 * 64], rtol=1e-9)
    # least-squares line through (18, 8.0), (19, 8.4), (20, 9.0): slope 0.5, intercept 8.4667 - 0.5 * 19
    assert result.exponent.value == pytest.approx(0.5, abs=1e-9)
    assert np.log10(result.coefficient) == pytest.approx(8.4 + 2 / 30 - 0.5 * 19, abs=1e-9)
    assert result.approach3 is None and result.exponent.lo is None
    positions = [s.position for s in result.sweeps]
    np.testing.assert_allclose(positions, 0.8 / 1.7)


def test_budgets_grouped_from_flops_match_the_budget_column() -> None:
    runs = sweeps([0.0] * 5)
    runs["flops"] *= np.exp(np.random.default_rng(0).uniform(-0.03, 0.03, len(runs)))
    with_column = isoflop_analysis(runs, bootstrap=0, law="")
    grouped = isoflop_analysis(runs.drop(columns="budget"), bootstrap=0, law="")
    assert len(grouped.sweeps) == 5
    assert [s.n_runs for s in grouped.sweeps] == [9] * 5
    assert grouped.exponent.value == pytest.approx(with_column.exponent.value, abs=0.01)
    assert group_budgets(np.array([1e18, 1.05e18, 2e18]), rtol=0.1).tolist() == [0, 0, 1]


def test_centred_simulated_sweeps_recover_the_exponent_with_both_approaches() -> None:
    result = isoflop_analysis(sweeps([0.0] * 5, sigma=0.005), bootstrap=200, seed=1)
    a2, a3 = result.exponent, result.approach3.exponent
    assert a2.lo < TRUE_EXPONENT < a2.hi
    assert a3.lo < TRUE_EXPONENT < a3.hi
    assert result.difference.lo < 0 < result.difference.hi
    codes = {d.code for d in result.all_diagnostics}
    assert "approaches_agree" in codes and "approaches_disagree" not in codes
    assert all(s.used and s.law_params is not None for s in result.sweeps)
    again = isoflop_analysis(sweeps([0.0] * 5, sigma=0.005), bootstrap=200, seed=1)
    assert again.exponent == a2  # seeded


def test_drifting_off_centre_sweeps_bias_approach_2_and_are_flagged() -> None:
    result = isoflop_analysis(sweeps(np.linspace(-1.2, 1.2, 5), width=1.5), bootstrap=0)
    assert result.approach3.exponent.value == pytest.approx(TRUE_EXPONENT, abs=1e-3)
    assert result.exponent.value - TRUE_EXPONENT > 0.05
    lopsided = [s.budget for s in result.sweeps if any(d.code == "lopsided_sweep" for d in s.diagnostics)]
    assert lopsided == [BUDGETS[0], BUDGETS[-1]]
    flagged = [d for d in result.diagnostics if d.code == "approaches_disagree"]
    assert flagged and flagged[0].severity == "warning"


def test_bad_sweeps_are_left_out_with_coded_warnings() -> None:
    runs = parabola_runs({1e18: 8.0, 1e19: 8.5, 1e20: 9.0, 1e21: 9.5})
    u = np.log10(runs["params"].to_numpy())
    at = {c: (runs["budget"] == c).to_numpy() for c in (1e18, 1e19, 1e20, 1e21)}
    two_sizes = runs[~at[1e18] | (u < 7.9)]  # sizes u* - 0.8 and u* - 0.3 only
    concave = runs.assign(loss=np.where(at[1e19], 4.0 - (runs["loss"] - 2.0), runs["loss"]))
    beyond = runs.assign(loss=np.where(at[1e20], 2.0 + 0.3 * (u - 10.5) ** 2, runs["loss"]))  # N* past it
    lopsided = runs[~at[1e21] | (u > 9.0)]  # one size left of the vertex, three right of it
    cases = {
        "too_few_sizes": (two_sizes, 1e18, False),
        "no_interior_minimum": (concave, 1e19, False),
        "minimum_not_bracketed": (beyond, 1e20, False),
        "lopsided_sweep": (lopsided, 1e21, True),
    }
    for code, (frame, budget, used) in cases.items():
        result = isoflop_analysis(frame, bootstrap=0, law="")
        sweep = next(s for s in result.sweeps if s.budget == budget)
        assert [d.code for d in sweep.diagnostics] == [code]
        assert all(d.severity == "warning" for d in sweep.diagnostics)
        assert sweep.used is used
        others = [s for s in result.sweeps if s.budget != budget]
        assert all(s.used and not s.diagnostics for s in others)


def test_too_few_budgets_is_an_error_finding() -> None:
    result = isoflop_analysis(parabola_runs({1e18: 8.0}), bootstrap=0, law="")
    assert result.exponent is None
    assert [d.severity for d in result.diagnostics if d.code == "too_few_budgets"] == ["error"]


def test_cli_isoflop_json_and_text(tmp_path) -> None:
    path = tmp_path / "sweeps.csv"
    sweeps([0.0] * 5, sigma=0.003).to_csv(path, index=False)
    runner = CliRunner()
    out = runner.invoke(app, ["isoflop", str(path), "--bootstrap", "50", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["approach2"]["exponent"]["value"] == pytest.approx(TRUE_EXPONENT, abs=0.02)
    assert doc["approach3"]["law"] == "chinchilla"
    assert len(doc["sweeps"]) == 5 and doc["level"] == 0.95
    text = runner.invoke(app, ["isoflop", str(path), "--bootstrap", "0", "--law", "none"])
    assert text.exit_code == 0 and "approach 2: N* ~ C^" in text.stdout
    bad = runner.invoke(app, ["isoflop", str(path), "--family", "nope"])
    assert bad.exit_code == 2 and "no family 'nope'" in bad.output
