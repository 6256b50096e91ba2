"""The backtest runner: identical results whatever the executor, skipped and failed methods reported."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from scalinglaws import datasets
from scalinglaws.backtest import (
    BacktestError,
    BacktestResult,
    ComputeSplit,
    LawMethod,
    Method,
    TimeSplit,
    backtest,
    get_method,
    select_data,
)


@pytest.fixture(scope="module")
def data():
    chinchilla = datasets.load("chinchilla")
    where = {"run": ["pythia-70m", "pythia-410m"], "task": ["arc_easy", "piqa", "hendrycksTest-anatomy"]}
    pythia = select_data(datasets.load("pythia"), where=where)
    return {"chinchilla": chinchilla, "pythia": pythia}


METHODS = ["last-value", "loglog-line", "line3", "sigmoid-tokens", "repetition"]


def run(data, **kw):
    methods = [get_method(m) for m in METHODS] + [LawMethod("chinchilla", bootstrap=30),
                                                    LawMethod("power", bootstrap=30)]
    return backtest(data, None, methods, seed=7, **kw)


@pytest.fixture(scope="module")
def serial(data):
    return run(data, workers=1)


def test_results_are_identical_on_one_worker_two_processes_and_a_dask_cluster(data, serial) -> None:
    pooled = run(data, executor="processes", workers=2)
    pd.testing.assert_frame_equal(serial.results, pooled.results, check_exact=True)
    pd.testing.assert_frame_equal(serial.leaderboard, pooled.leaderboard, check_exact=True)
    # the runner starts a LocalCluster on 127.0.0.1 (worker processes, no dashboard) and closes it
    clustered = run(data, executor="dask", workers=2)
    pd.testing.assert_frame_equal(serial.results, clustered.results, check_exact=True)
    assert serial.to_dict() == clustered.to_dict()


def test_every_method_is_reported_per_dataset(serial) -> None:
    board = serial.leaderboard
    chin = board[board["dataset"] == "chinchilla"].set_index("method")
    assert chin.loc[["last-value", "loglog-line", "chinchilla", "power"], "status"].eq("ok").all()
    assert chin.loc["repetition", "note"] == "needs column(s) unique_tokens, absent from the table"
    assert chin.loc["line3", "status"] == "skipped"
    assert (chin.loc["chinchilla", "cov80"] > 0) and np.isfinite(chin.loc["chinchilla", "width50"])
    py = board[(board["dataset"] == "pythia") & (board["group"] == "all")].set_index("method")
    assert py.loc[["last-value", "line3", "sigmoid-tokens"], "status"].eq("ok").all()
    assert py.loc["chinchilla", "note"] == "a loss law: an evals table holds scores"
    assert set(board[board["dataset"] == "pythia"]["group"]) == {"all", "mmlu", "other"}
    assert py.loc["last-value", "unit"] == "pp" and np.isfinite(py.loc["last-value", "floor_jitter"])


def test_results_table_is_tidy_and_sorted(serial) -> None:
    res = serial.results
    ok = res[res["status"] == "ok"]
    assert {"dataset", "split", "fold", "method", "problem", "truth", "pred", "q10", "q90", "distance",
            "floor_stderr", "floor_jitter"} <= set(res.columns)
    chin = ok[(ok["dataset"] == "chinchilla") & (ok["method"] == "power")]
    assert (chin["distance"] > 1).all() and chin["q10"].notna().all()
    assert serial.folds["fold"].tolist() == ["flops<=8.4e+19", "flops<=2.8e+20", "flops<=9.9e+20", "f=0.2"]


def test_pythia_time_split_reproduces_the_measured_last_value(tmp_path) -> None:
    """measured.md section 2: last value 2.49 / 3.56 / 2.63 pp on the held-out sizes at f = 0.2; the
    cross-run ranking accuracy as bench/forecast_pythia.py first reported it (0.865 other, 0.628 MMLU)."""
    sizes = ["pythia-70m", "pythia-1.4b", "pythia-2.8b", "pythia-6.9b"]
    pythia = select_data(datasets.load("pythia"), where={"run": sizes})
    res = backtest(pythia, TimeSplit(0.2), ["last-value", "line3"], executor="serial")
    board = res.leaderboard.set_index(["method", "group"])
    assert board.loc[("last-value", "mmlu"), "mae"] == pytest.approx(2.49, abs=0.005)
    assert board.loc[("last-value", "other"), "mae"] == pytest.approx(3.56, abs=0.005)
    assert board.loc[("last-value", "all"), "mae"] == pytest.approx(2.63, abs=0.01)
    assert board.loc[("line3", "all"), "mae"] == pytest.approx(3.47, abs=0.005)
    assert board.loc[("last-value", "all"), "floor_stderr"] == pytest.approx(2.52, abs=0.005)
    assert board.loc[("last-value", "all"), "floor_jitter"] == pytest.approx(1.20, abs=0.005)
    assert board.loc[("last-value", "other"), "rank_runs"] == pytest.approx(0.865, abs=0.0005)
    assert board.loc[("last-value", "mmlu"), "rank_runs"] == pytest.approx(0.628, abs=0.0005)
    assert 0.5 < board.loc[("line3", "all"), "rank_runs"] < 1.0
    # the column survives the JSON leaderboard and its markdown
    res.save(tmp_path)
    back = BacktestResult.load(tmp_path).leaderboard.set_index(["method", "group"])
    assert back["rank_runs"].tolist() == pytest.approx(board.loc[back.index, "rank_runs"].tolist())
    assert "rank_runs" in res.to_markdown()


class Boom(Method):
    name = "boom"
    description = "always fails"

    def fit(self, train, setting, seed=0):
        raise RuntimeError("no luck\nat all")


def test_a_failing_method_is_a_result_not_a_crash(data) -> None:
    res = backtest(data["chinchilla"], ComputeSplit(cuts=(1e20,)), [Boom(), "last-value"], executor="serial")
    row = res.leaderboard.set_index("method").loc["boom"]
    assert (row["status"], row["note"]) == ("failed", "flops<=1e+20: RuntimeError: no luck at all")
    assert "Boom" not in res.to_markdown() and "- boom: failed" in res.to_markdown()


def test_bad_method_lists_and_workers_are_one_line_errors(data) -> None:
    with pytest.raises(BacktestError, match="unknown method 'nope'"):
        backtest(data["chinchilla"], methods=["nope"], executor="serial")
    with pytest.raises(BacktestError, match="distinct"):
        backtest(data["chinchilla"], methods=["power", LawMethod("power")], executor="serial")
    with pytest.raises(BacktestError, match="workers must be >= 1"):
        backtest(data["chinchilla"], ComputeSplit(cuts=(1e20,)), ["last-value"], executor="processes",
                 workers=0)


def test_importing_the_backtest_does_not_import_dask_torch_or_matplotlib() -> None:
    code = (
        "import sys, scalinglaws.backtest, scalinglaws.commands.backtest\n"
        "print(','.join(m for m in ('dask', 'distributed', 'torch', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_pool_workers_run_single_threaded_blas() -> None:
    from scalinglaws.backtest.executors import run_tasks

    assert run_tasks(["OPENBLAS_NUM_THREADS"] * 2, os.getenv, executor="processes", workers=2) == ["1", "1"]
