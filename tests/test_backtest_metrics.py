"""Backtest metrics against hand-computed values, and the leaderboard that aggregates them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scalinglaws.backtest.metrics import (
    absolute_error,
    coverage,
    distance_bin,
    jitter_sd,
    mean_width,
    problem_mean,
    problem_median,
    ranking_accuracy,
    relative_error,
    replicate_sd,
    stderr_floor,
)
from scalinglaws.backtest.report import by_distance, leaderboard


def test_absolute_and_relative_error() -> None:
    pred, truth = np.array([2.1, 1.5, 4.0]), np.array([2.0, 2.0, 5.0])
    assert absolute_error(pred, truth) == pytest.approx([0.1, 0.5, 1.0])
    assert relative_error(pred, truth) == pytest.approx([0.05, 0.25, 0.2])


def test_problem_mean_weighs_problems_not_targets() -> None:
    errors = np.array([1.0, 2.0, 3.0, 10.0])  # problem a: 1, 2, 3 (mean 2); problem b: 10
    assert problem_mean(errors, ["a", "a", "a", "b"]) == pytest.approx(6.0)
    assert problem_median(errors, ["a", "a", "a", "b"]) == pytest.approx(6.0)
    assert problem_median(np.array([1.0, 2.0, 9.0]), ["a", "b", "c"]) == 2.0


def test_ranking_accuracy_counts_pairs_within_groups() -> None:
    # group g: truth order 1 < 2 < 3; predicted 1 < 3 > 2: pairs (1,2) ok, (1,3) ok, (2,3) wrong -> 2/3
    # group h: truth 5 = 5 (tie, not counted), predicted anything
    pred = np.array([0.1, 0.3, 0.2, 9.0, 1.0])
    truth = np.array([1.0, 2.0, 3.0, 5.0, 5.0])
    assert ranking_accuracy(pred, truth, ["g", "g", "g", "h", "h"]) == pytest.approx(2 / 3)
    # a tie in the prediction counts one half: pairs (1,2) half, (1,3) ok, (2,3) ok -> 2.5/3
    assert ranking_accuracy(np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(2.5 / 3)
    # without groups, pairs across all rows: reversed order is all wrong
    assert ranking_accuracy(np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0])) == 0.0
    assert math.isnan(ranking_accuracy(np.array([1.0, 2.0]), np.array([1.0, 1.0])))


def test_interval_coverage_and_width() -> None:
    lo, hi = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0, 3.5])
    truth = np.array([0.5, 2.5, 2.0, 4.0])  # inside, above, on the edge (inside), above
    assert coverage(lo, hi, truth) == 0.5
    assert mean_width(lo, hi) == pytest.approx((1 + 1 + 2 + 0.5) / 4)


def test_stderr_floor_is_the_half_normal_mean() -> None:
    assert stderr_floor(np.array([0.02]))[0] == pytest.approx(0.02 * math.sqrt(2 / math.pi))
    rng = np.random.default_rng(0)  # the mean |error| of a perfect forecast of a noisy target
    floor = stderr_floor(np.array([0.02]))[0]
    assert np.mean(np.abs(rng.normal(0, 0.02, 200_000))) == pytest.approx(floor, rel=0.01)


def test_jitter_sd_by_hand_on_uneven_checkpoints() -> None:
    t = np.exp([0.0, 1.0, 3.0, 4.0])
    y = np.array([0.50, 0.60, 0.62, 0.70])
    # checkpoint 2: w = 1/3, interpolation 0.5 * 2/3 + 0.62 / 3 = 0.54, r = 0.06, factor 1 + 1/9 + 4/9
    # checkpoint 3: w = 2/3, interpolation 0.6 / 3 + 0.7 * 2/3 = 0.666..., r = -0.0466..., same factor
    r2, r3 = 0.06, 0.62 - (0.6 / 3 + 0.7 * 2 / 3)
    expected = math.sqrt((r2**2 + r3**2) / 2 / (1 + 1 / 9 + 4 / 9))
    assert jitter_sd(t, y) == pytest.approx(expected)
    assert math.isnan(jitter_sd(t[:2], y[:2]))


def test_replicate_sd_is_the_spread_between_seeds() -> None:
    df = pd.DataFrame({"params": [1, 1, 1, 2, 2], "seed": [0, 1, 2, 0, 0], "loss": [3.0, 3.1, 3.2, 2.0, 2.2]})
    sd = replicate_sd(df, "loss", ["params"])
    assert sd[:3] == pytest.approx([0.1] * 3)
    assert np.isnan(sd[3:]).all()  # same seed twice: not a replicate
    assert np.isnan(replicate_sd(df.drop(columns="seed"), "loss", ["params"])).all()


def test_distance_bins_are_factors_of_two() -> None:
    assert distance_bin(np.array([0.9, 1.0, 1.01, 2.0, 2.5, 8.0, 9.0, np.nan])) == [
        "<=1x", "<=1x", "1-2x", "1-2x", "2-4x", "4-8x", "8-16x", "n/a"
    ]


def _results(**cols) -> pd.DataFrame:
    n = len(cols["truth"])
    base = {"dataset": "d", "kind": "evals", "split": "time", "fold": "f=0.2", "method": "m", "status": "ok",
            "note": "", "mode": "trajectory", "distance": np.full(n, 1.5)}
    for q in ("q10", "q25", "q75", "q90", "floor_stderr", "floor_seeds", "floor_jitter"):
        base[q] = np.full(n, np.nan)
    return pd.DataFrame(base | cols)


def test_leaderboard_scores_evals_in_points_per_problem_and_group() -> None:
    results = _results(
        problem=["r/mmlu_a", "r/mmlu_a", "r/piqa", "r/piqa"],
        group=["mmlu", "mmlu", "other", "other"],
        truth=[0.30, 0.32, 0.60, 0.70],
        pred=[0.31, 0.31, 0.62, 0.66],  # |errors| 1, 1 pp (mmlu) and 2, 4 pp (piqa)
        q25=[0.29, 0.30, 0.50, 0.50], q75=[0.35, 0.33, 0.65, 0.65],  # covers 3 of 4
        q10=[0.2, 0.2, 0.5, 0.5], q90=[0.4, 0.4, 0.8, 0.8],  # covers all
        floor_stderr=[0.01, 0.01, 0.02, 0.04],
        floor_jitter=[0.005, 0.005, 0.01, 0.01],
    )
    board = leaderboard(results).set_index("group")
    assert list(board.index) == ["all", "mmlu", "other"]
    assert board.loc["all", "mae"] == pytest.approx((1.0 + 3.0) / 2)  # mean of the problems' means
    assert board.loc["mmlu", "mae"] == pytest.approx(1.0)
    assert board.loc["other", "mae"] == pytest.approx(3.0)
    assert board.loc["all", "unit"] == "pp"
    assert board.loc["all", "cov50"] == 0.75 and board.loc["all", "cov80"] == 1.0
    assert board.loc["all", "width50"] == pytest.approx(100 * np.mean([0.06, 0.03, 0.15, 0.15]))
    assert board.loc["all", "floor_stderr"] == pytest.approx((1.0 + 3.0) / 2)
    assert board.loc["other", "floor_jitter"] == pytest.approx(1.0)
    # checkpoints ranked within a problem: mmlu pair tied in the prediction (1/2), piqa pair right (1)
    assert board.loc["all", "rank_acc"] == pytest.approx(0.75)
    assert np.isnan(board.loc["all", "rel_err"]) and np.isnan(board.loc["all", "floor_seeds"])


def _three_runs(time: list[float] | None = None) -> pd.DataFrame:
    """Runs a, b, c on piqa at checkpoints 100 and 200, run a alone on an mmlu task."""
    runs = ["a", "b", "c", "a", "b", "c", "a", "a"]
    tasks = ["piqa"] * 6 + ["mmlu_x"] * 2
    return _results(
        run=runs, task=tasks, problem=[f"{r}/{t}/acc" for r, t in zip(runs, tasks, strict=True)],
        group=["other"] * 6 + ["mmlu"] * 2,
        time=time or [100.0, 100.0, 100.0, 200.0, 200.0, 200.0, 100.0, 200.0],
        # at 100: truth a < b < c, predicted a < c < b: (a,b), (a,c) right, (b,c) wrong -> 2/3
        # at 200: truth a = b < c (the tie is skipped), predicted b < a < c: (a,c), (b,c) right -> 2/2
        truth=[0.50, 0.60, 0.70, 0.60, 0.60, 0.80, 0.30, 0.31],
        pred=[0.50, 0.62, 0.61, 0.70, 0.50, 0.90, 0.30, 0.30],
    )


def test_leaderboard_ranks_runs_at_each_task_and_checkpoint() -> None:
    board = leaderboard(_three_runs()).set_index("group")
    assert board.loc["other", "rank_runs"] == pytest.approx(4 / 5)
    assert board.loc["all", "rank_runs"] == pytest.approx(4 / 5)  # the mmlu task adds no pair
    assert np.isnan(board.loc["mmlu", "rank_runs"])  # a single run: nothing to rank
    # checkpoints are paired by equal time: run c on another grid pairs with nobody, a-b at 100 is right
    shifted = leaderboard(_three_runs([100.0, 100.0, 150.0, 200.0, 200.0, 250.0, 100.0, 200.0]))
    assert shifted.set_index("group").loc["other", "rank_runs"] == 1.0
    # one run only, and results without run/time columns (nothing to align): NaN
    alone = _three_runs()
    alone = alone[alone["run"] == "a"]
    assert np.isnan(leaderboard(alone).set_index("group").loc["all", "rank_runs"])
    assert np.isnan(leaderboard(_three_runs().drop(columns=["run", "time"]))["rank_runs"]).all()


def test_rank_runs_pairs_within_a_fold_only() -> None:
    # the same targets in two folds, predicted exactly in the second: 4/5 and 5/5 (pairing the folds'
    # rows with each other would give 0.95)
    two = pd.concat([_three_runs().assign(fold="f=0.2"),
                     _three_runs().assign(fold="f=0.4", pred=lambda d: d["truth"])], ignore_index=True)
    assert leaderboard(two).set_index("group").loc["other", "rank_runs"] == pytest.approx(9 / 10)


def test_leaderboard_scores_runs_in_loss_and_lists_skipped_methods() -> None:
    ran = _results(kind="runs", split="compute", mode="cross", problem=["a", "b"], group=None,
                   truth=[2.0, 2.5], pred=[2.2, 2.4], distance=[1.5, 3.0])
    skipped = ran.iloc[:1].assign(method="line3", status="skipped", note="needs a time split", truth=np.nan,
                                  pred=np.nan)
    board = leaderboard(pd.concat([ran, skipped], ignore_index=True))
    row = board[board["method"] == "m"].iloc[0]
    assert (row["unit"], row["mae"], row["rel_err"], row["rank_acc"]) == ("loss", pytest.approx(0.15),
                                                                      pytest.approx(7.0), 1.0)
    last = board.iloc[-1]
    assert (last["method"], last["status"], last["note"]) == ("line3", "skipped", "needs a time split")
    dist = by_distance(ran)
    assert dist["distance"].tolist() == ["1-2x", "2-4x"]
    assert dist["mae"].tolist() == pytest.approx([0.2, 0.1])
