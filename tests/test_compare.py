"""Paired comparison: a system against itself, paired vs independent draws, probabilities, and errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scalinglaws.compare import CompareError, compare
from scalinglaws.fit import fit
from scalinglaws.laws import get_law

N = np.repeat(np.geomspace(5e7, 5e9, 8), 4)
D = np.tile([2e9, 6e9, 2e10, 6e10], 8)
SHARED = 0.01 * np.random.default_rng(0).normal(size=N.size)  # what systems run at the same sizes share


def system(alpha: float, seed: int) -> dict[str, np.ndarray]:
    y = get_law("chinchilla").predict({"params": N, "tokens": D}, np.array([1.7, 400.0, 1500.0, alpha, 0.3]))
    own = 0.002 * np.random.default_rng(seed).normal(size=N.size)
    return {"params": N, "tokens": D, "loss": y * np.exp(SHARED + own)}


@pytest.fixture(scope="module")
def systems():
    a, b = system(0.34, 1), system(0.36, 2)
    return {"A": a, "B": b}, {"A": fit(a, bootstrap=300), "B": fit(b, bootstrap=300, seed=7)}


def test_a_system_compared_with_itself_differs_by_zero(systems) -> None:
    data, fits = systems
    for kw in ({"data": {"A": data["A"], "B": data["A"]}}, {}):  # refitted together, or draws as given
        cmp = compare({"A": fits["A"], "B": fits["A"]}, compute=[1e22, 1e24], **kw)
        assert cmp.paired
        b = cmp.table[cmp.table["system"] == "B"]
        assert np.allclose(b[["diff", "diff_median", "diff_lo", "diff_hi"]].to_numpy(), 0.0)
        a = cmp.table[cmp.table["system"] == "A"]
        assert np.all(a["hi"].to_numpy() - a["lo"].to_numpy() > 0)  # the levels themselves are uncertain


def test_pairing_narrows_the_difference(systems) -> None:
    data, fits = systems
    paired = compare(fits, compute=1e24, data=data)
    independent = compare(fits, compute=1e24)  # different seeds: treated as independent
    assert paired.paired and not independent.paired
    width = {
        c.paired: float((c.table["diff_hi"] - c.table["diff_lo"]).iloc[1]) for c in (paired, independent)
    }
    assert width[True] < 0.8 * width[False]
    row = paired.table.iloc[1]
    assert row["system"] == "B" and row["diff"] < 0 and row["p_better"] > 0.8
    assert paired.probability("B") == row["p_better"]
    assert "B beats A with probability" in paired.summary()


def test_compute_optimal_size_and_configurations(systems) -> None:
    data, fits = systems
    n_star = compare(fits, compute=1e24, quantity="params", data=data)
    assert n_star.table["value"].iloc[0] > 1e9 and "exceeds" in n_star.summary()
    at = compare(fits, at={"params": [7e10], "tokens": [1.4e12]}, data=data)
    assert at.table["point"].iloc[0] == "params=7e+10, tokens=1.4e+12"
    assert at.table["p_best"].sum() == pytest.approx(1.0)


def test_fits_with_different_targets_or_flop_conventions_are_a_one_line_error(systems) -> None:
    _, fits = systems
    other_target = dataclasses.replace(fits["B"], settings={**fits["B"].settings, "target": "eval_loss"})
    with pytest.raises(CompareError, match="different targets") as info:
        compare({"A": fits["A"], "B": other_target}, compute=1e24)
    assert "\n" not in str(info.value)
    other_flops = dataclasses.replace(fits["B"], data={**fits["B"].data, "convention": "6ND-attention"})
    with pytest.raises(CompareError, match="count FLOPs differently") as info:
        compare({"A": fits["A"], "B": other_flops}, compute=1e24)
    assert "\n" not in str(info.value)


def test_other_bad_requests(systems) -> None:
    data, fits = systems
    with pytest.raises(CompareError, match="at least two"):
        compare({"A": fits["A"]}, compute=1e24)
    with pytest.raises(CompareError, match="either compute"):
        compare(fits)
    with pytest.raises(CompareError, match="not the data its fit used"):
        compare(fits, compute=1e24, data={"A": data["B"], "B": data["B"]})
    no_draws = fit(data["A"], bootstrap=0)
    with pytest.raises(CompareError, match="no bootstrap draws"):
        compare({"A": no_draws, "B": fits["B"]}, compute=1e24)
