"""Sweep layout: every run spends its budget, centres (ratio, sizes, fit), cost laws, design files, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws.cost import cost_law
from scalinglaws.design import Design, DesignError, iso_cost_sweep
from scalinglaws.fit import fit
from scalinglaws.laws import get_law
from scalinglaws.plan import compute_optimal


def test_every_run_spends_its_budget_and_the_centre_has_the_ratio() -> None:
    design = iso_cost_sweep(
        [1e18, 3e18, 1e19], sizes_per_budget=5, half_width=1.2, centre=20.0, centre_replicates=2
    )
    table = design.table
    assert np.allclose(6 * table["params"] * table["tokens"], table["budget"])
    assert np.allclose(table["cost"], table["budget"])
    middle = table.groupby("budget").nth(2)
    assert np.allclose(middle["tokens"] / middle["params"], 20.0)
    assert middle["runs"].tolist() == [2, 2, 2]
    assert design.n_runs == 18
    assert design.total_cost == pytest.approx(float((table["runs"] * table["budget"]).sum()))
    spans = table.groupby("budget")["params"].agg(lambda n: np.log10(n.max() / n.min()))
    assert np.allclose(spans, 2.4)
    assert len(design.runs()) == 18


def test_centred_on_a_fit_uses_its_compute_optimal_size() -> None:
    N = np.repeat(np.geomspace(5e7, 5e9, 6), 4)
    D = np.tile(np.geomspace(1e9, 1e11, 4), 6)
    y = get_law("chinchilla").predict({"params": N, "tokens": D}, np.array([1.7, 400.0, 1500.0, 0.34, 0.3]))
    result = fit({"params": N, "tokens": D, "loss": y})
    design = iso_cost_sweep([1e20, 1e21], sizes_per_budget=3, centre=result)
    centres = design.table.groupby("budget").nth(1)["params"].to_numpy()
    assert centres == pytest.approx([compute_optimal(result, c).params.value for c in (1e20, 1e21)])


def test_a_cost_law_defines_the_iso_cost_curves() -> None:
    cost = cost_law("per-example", k=6.0, a=1.0, c=2e9)
    design = iso_cost_sweep([1e19], sizes_per_budget=4, centre=[1e8], cost=cost)
    assert np.allclose(cost.cost(design.table["params"], design.table["tokens"]), 1e19)
    assert "per-example" in design.cost_label


def test_widths_interpolate_between_the_smallest_and_largest_budget() -> None:
    design = iso_cost_sweep([1e18, 1e20], sizes_per_budget=3, half_width=(1.0, 0.5))
    spans = design.table.groupby("budget")["params"].agg(lambda n: np.log10(n.max() / n.min()))
    assert spans.tolist() == pytest.approx([2.0, 1.0])


def test_design_files_round_trip(tmp_path) -> None:
    design = iso_cost_sweep([1e18, 1e19], sizes_per_budget=3, centre_replicates=2)
    path = tmp_path / "design.csv"
    design.table.to_csv(path, index=False)
    again = Design.read(path)
    assert again.n_runs == design.n_runs
    assert again.total_cost == pytest.approx(design.total_cost)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budgets": []}, "budgets must be positive"),
        ({"budgets": [1e18, -1]}, "budgets must be positive"),
        ({"budgets": [1e18], "centre": -3.0}, "must be positive"),
        ({"budgets": [1e18, 1e19], "centre": [1e8]}, "one positive centre size per budget"),
        ({"budgets": [1e18], "sizes_per_budget": 0}, "at least 1"),
    ],
)
def test_bad_requests_are_one_line_errors(kwargs, message) -> None:
    budgets = kwargs.pop("budgets")
    with pytest.raises(DesignError, match=message) as info:
        iso_cost_sweep(budgets, **kwargs)
    assert "\n" not in str(info.value)


def test_a_design_table_needs_sizes_and_tokens() -> None:
    with pytest.raises(DesignError, match=r"needs column\(s\) \['tokens'\]"):
        Design.from_frame(pd.DataFrame({"params": [1e8]}))
    with pytest.raises(DesignError, match="rows 2 need positive numbers"):
        Design.from_frame(pd.DataFrame({"params": [1e8, -1.0], "tokens": [1e9, 1e9]}))
