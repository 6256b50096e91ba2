"""Backtest splits on small hand-made tables: exact train/test membership, and one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

from scalinglaws.backtest import (
    BacktestError,
    ComputeSplit,
    FamilySplit,
    SizeSplit,
    TaskSplit,
    TimeSplit,
)


def runs_table() -> pd.DataFrame:
    """Six runs: three sizes x two token counts, two families (flops = 6 N D)."""
    return pd.DataFrame({
        "run": ["a", "b", "c", "d", "e", "f"],
        "family": ["x", "x", "x", "y", "y", "y"],
        "params": [1e8, 1e8, 2e8, 2e8, 4e8, 4e8],
        "tokens": [1e9, 2e9, 1e9, 2e9, 1e9, 2e9],
        "loss": [3.5, 3.3, 3.2, 3.0, 2.9, 2.7],
    })


def evals_table() -> pd.DataFrame:
    """Two runs x two tasks; run m has checkpoints at steps 0..10 (10 tokens a step), run n at 0..5."""
    rows = []
    for run, last in (("m", 10), ("n", 5)):
        for task in ("hendrycksTest-anatomy", "piqa"):
            for step in range(last + 1):
                rows.append({"run": run, "task": task, "step": step, "tokens": 10.0 * step,
                             "metric": "acc", "value": 0.25 + 0.01 * step, "stderr": 0.01})
    return pd.DataFrame(rows)


def members(frame: pd.DataFrame, *cols: str) -> list:
    return [tuple(r) if len(cols) > 1 else r[0] for r in frame[list(cols)].itertuples(index=False)]


def test_compute_split_rolls_the_origin_over_the_cuts() -> None:
    # flops: 6e17, 1.2e18 (twice), 2.4e18 (twice), 4.8e18
    folds = list(ComputeSplit(cuts=(3e18, 1.3e18)).split(runs_table()))
    assert [f.name for f in folds] == ["flops<=1.3e+18", "flops<=3e+18"]
    assert members(folds[0].train, "run") == ["a", "b", "c"]
    assert members(folds[0].test, "run") == ["d", "e", "f"]
    assert members(folds[1].train, "run") == ["a", "b", "c", "d", "e"]
    assert members(folds[1].test, "run") == ["f"]
    assert not folds[0].trajectory


def test_compute_split_default_cuts_are_quantiles_of_compute() -> None:
    folds = list(ComputeSplit(quantiles=(0.5,)).split(runs_table()))
    # median of log10 flops of 6e17, 1.2e18, 1.2e18, 2.4e18, 2.4e18, 4.8e18 is log10(1.7e18)
    assert [f.name for f in folds] == ["flops<=1.7e+18"]
    assert members(folds[0].test, "run") == ["d", "e", "f"]


def test_size_split_holds_out_the_largest_sizes() -> None:
    one, two = SizeSplit(k=(1, 2)).split(runs_table())
    assert (members(one.train, "run"), members(one.test, "run")) == (["a", "b", "c", "d"], ["e", "f"])
    assert (members(two.train, "run"), members(two.test, "run")) == (["a", "b"], ["c", "d", "e", "f"])


def test_time_split_observes_a_fraction_of_each_run_and_drops_step_zero() -> None:
    fold = next(TimeSplit(0.4).split(evals_table()))
    assert fold.trajectory and fold.name == "f=0.4"
    train = members(fold.train, "run", "task", "step")
    test = members(fold.test, "run", "task", "step")
    # run m: final 100 tokens -> context steps 1..4; run n: final 50 tokens -> context steps 1..2
    for task in ("hendrycksTest-anatomy", "piqa"):
        assert [s for r, t, s in train if (r, t) == ("m", task)] == [1, 2, 3, 4]
        assert [s for r, t, s in test if (r, t) == ("m", task)] == [5, 6, 7, 8, 9, 10]
        assert [s for r, t, s in train if (r, t) == ("n", task)] == [1, 2]
        assert [s for r, t, s in test if (r, t) == ("n", task)] == [3, 4, 5]
    train, test = fold  # a fold unpacks as (train, test)
    assert len(train) + len(test) == len(evals_table()) - 4  # the four step-0 rows are in neither


def test_time_split_leaves_out_problems_without_context_and_says_so() -> None:
    table = evals_table()
    table = table[~((table["run"] == "n") & (table["task"] == "piqa") & (table["step"] <= 2))]
    fold = next(TimeSplit(0.4).split(table))
    assert ("n", "piqa") not in set(members(fold.test, "run", "task"))
    assert fold.notes == ("1 held-out problem(s) with no checkpoint in the context were left out",)


def test_family_split_leaves_each_family_out() -> None:
    x, y = FamilySplit().split(runs_table())
    assert (x.name, members(x.train, "run"), members(x.test, "run")) == ("family=x", list("def"), list("abc"))
    assert (y.name, members(y.train, "run"), members(y.test, "run")) == ("family=y", list("abc"), list("def"))


def test_family_split_with_context_keeps_the_held_out_runs_early_checkpoints() -> None:
    table = evals_table().assign(family=lambda d: d["run"])
    m, _ = FamilySplit(context_fraction=0.4).split(table)
    assert set(members(m.test, "run", "step")) == {("m", s) for s in range(5, 11)}
    assert set(members(m.train, "run", "step")) == {("m", s) for s in range(1, 5)} | {
        ("n", s) for s in range(6)
    }
    assert m.trajectory


def test_task_split_groups_mmlu_and_keeps_the_context() -> None:
    mmlu, piqa = TaskSplit(context_fraction=0.4).split(evals_table())
    assert (mmlu.name, piqa.name) == ("tasks=mmlu", "tasks=piqa")
    assert set(members(piqa.test, "run", "task", "step")) == {("m", "piqa", s) for s in range(5, 11)} | {
        ("n", "piqa", s) for s in range(3, 6)
    }
    held_context = {(r, s) for r, t, s in members(piqa.train, "run", "task", "step") if t == "piqa"}
    assert held_context == {("m", s) for s in range(1, 5)} | {("n", 1), ("n", 2)}
    assert len(piqa.train[piqa.train["task"] != "piqa"]) == 11 + 6  # the other task, whole


def test_task_split_custom_groups() -> None:
    groups = {"hendrycksTest-anatomy": "g", "piqa": "g"}
    with pytest.raises(BacktestError, match="at least two task groups"):
        list(TaskSplit(groups=groups).split(evals_table()))


@pytest.mark.parametrize(
    ("split", "data", "message"),
    [
        (ComputeSplit(cuts=(1e30,)), runs_table, "empty test set"),
        (ComputeSplit(cuts=(1e10,)), runs_table, "empty train set"),
        (SizeSplit(k=3), runs_table, "empty train set"),
        (TimeSplit(0.2), runs_table, "empty train set"),
        (FamilySplit(), lambda: runs_table().assign(family="x"), "at least two families"),
        (TaskSplit(), runs_table, "needs an evals table"),
    ],
)
def test_a_split_that_leaves_an_empty_set_raises_one_line(split, data, message) -> None:
    with pytest.raises(BacktestError, match=message) as info:
        list(split.split(data()))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
@pytest.mark.parametrize("split", [TimeSplit, FamilySplit, TaskSplit])
def test_context_fraction_outside_zero_one_raises(split, fraction) -> None:
    with pytest.raises(BacktestError, match=r"context fraction must lie in \(0, 1\)"):
        split(context_fraction=fraction)
