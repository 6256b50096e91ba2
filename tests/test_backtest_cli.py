"""``scalinglaws backtest``: bundled data end to end, --json and --out, one-line errors with exit code 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["backtest", *args])


def test_chinchilla_compute_split_json(tmp_path) -> None:
    out = tmp_path / "bt"
    result = run("chinchilla", "--split", "compute", "--methods", "last-value,loglog-line,power,repetition",
                 "--bootstrap", "20", "--executor", "serial", "--json", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format"] == "scalinglaws.backtest/1"
    board = {row["method"]: row for row in doc["leaderboard"]}
    assert board["power"]["status"] == "ok" and board["power"]["unit"] == "loss"
    assert board["power"]["cov50"] is not None and board["last-value"]["cov50"] is None  # NaN -> null
    assert board["repetition"]["status"] == "skipped"
    assert {d["fold"] for d in doc["folds"]} == {"flops<=8.4e+19", "flops<=2.8e+20", "flops<=9.9e+20"}
    assert sorted(p.name for p in out.iterdir()) == ["leaderboard.json", "leaderboard.md", "results.csv"]
    assert doc["by_distance"] and doc["by_distance"][0]["distance"] == "1-2x"


def test_pythia_defaults_to_the_time_split_of_the_measured_protocol() -> None:
    result = run("pythia", "--methods", "last-value,line3", "--where", "run=pythia-70m,pythia-160m",
                 "--executor", "serial", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [d["fold"] for d in doc["folds"]] == ["f=0.2"]
    notes = doc["datasets"][0]["notes"]
    assert "kept num_fewshot = 0" in notes and "metric: acc_norm where the task has it, else acc" in notes
    groups = {(r["method"], r["group"]) for r in doc["leaderboard"]}
    assert ("last-value", "mmlu") in groups and ("line3", "other") in groups


def test_pythia_default_runs_are_the_held_out_sizes() -> None:
    default = run("pythia", "--methods", "last-value", "--executor", "serial", "--json")
    assert default.exit_code == 0, default.output
    board = [r for r in json.loads(default.stdout)["leaderboard"] if r["group"] == "other"][0]
    assert board["n_problems"] == 4 * 8  # 70m, 1.4b, 2.8b, 6.9b x the 8 non-MMLU tasks
    assert round(board["mae"], 2) == 3.56  # measured.md, last value at f = 0.2


def test_neural_and_logistic_methods_from_the_cli(tmp_path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "bt"
    result = run("pythia", "--split", "time", "--context-fraction", "0.2,0.4",
                 "--methods", "neural,logistic-loss,last-value", "--where", "run=pythia-70m,pythia-1.4b",
                 "--where", "task=arc_easy,piqa", "--executor", "processes", "--workers", "2",
                 "--json", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["context_fractions"] == [0.2, 0.4]
    for f, bt in zip(("0.2", "0.4"), doc["backtests"], strict=True):
        assert [d["fold"] for d in bt["folds"]] == [f"f={f}"]
        board = {r["method"]: r for r in bt["leaderboard"] if r["group"] == "all"}
        assert all(board[m]["status"] == "ok" for m in ("neural", "logistic-loss", "last-value")), board
        assert board["neural"]["n_problems"] == 4 and board["neural"]["mae"] < board["last-value"]["mae"]
        assert 0 <= board["neural"]["cov80"] <= 1 and board["neural"]["floor_jitter"] > 0
        assert (out / f"f={f}" / "leaderboard.json").is_file()


def test_neural_declines_runs_it_was_trained_on() -> None:
    pytest.importorskip("torch")
    result = run("pythia", "--methods", "neural", "--where", "run=pythia-160m", "--where", "task=piqa",
                 "--executor", "serial")
    assert result.exit_code == 0, result.output
    assert "neural: failed" in result.output and "trained on pythia-160m" in result.output


def test_a_runs_file_is_recognised_from_its_columns(tmp_path) -> None:
    from scalinglaws import datasets

    path = tmp_path / "runs.csv"
    datasets.load("chinchilla").table.to_csv(path, index=False)
    result = run(str(path), "--split", "size", "--methods", "last-value,power", "--bootstrap", "0",
                 "--executor", "serial", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["datasets"][0]["name"] == "runs.csv" and doc["datasets"][0]["kind"] == "runs"
    assert [f["fold"] for f in doc["folds"]] == ["top-3 sizes"]


def test_markdown_leaderboard_by_default() -> None:
    result = run("chinchilla", "--methods", "last-value", "--cuts", "1e20", "--executor", "serial")
    assert result.exit_code == 0, result.output
    assert "## chinchilla: compute split (1 fold(s): flops<=1e+20)" in result.stdout
    assert "| last-value | all |" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chinchilla", "--split", "time"], "time split (f=0.2) leaves an empty train set"),
        (["chinchilla", "--split", "family"], "family split needs at least two families"),
        (["chinchilla", "--cuts", "1e30"], "leaves an empty test set"),
        (["pythia", "--context-fraction", "1.5"], "context fraction must lie in (0, 1), got 1.5"),
        (["pythia", "--split", "time", "--context-fraction", "0"], "must lie in (0, 1), got 0"),
        (["chinchilla", "--methods", "last-value,nope"], "unknown method 'nope'; available:"),
        (["pythia", "--context-fraction", "0.1,x"], "--context-fraction '0.1,x' must be numbers in (0, 1)"),
        (["pythia", "--context-fraction", "0.2,1.5"], "context fraction must lie in (0, 1), got 1.5"),
        (["chinchilla", "--split", "weekday"], "unknown split 'weekday'"),
        (["chinchilla", "--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(args, message) -> None:
    result = run(*args, "--executor", "serial") if "--scheduler" not in args else run(*args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
