"""`scalinglaws simulate frontier` and `scalinglaws diagnose`: files the data layer reads, fits through the
CLI, --json, and one-line errors (exit code 2) on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app
from scalinglaws.data import load_data
from scalinglaws.data.schema import RUNS_CORE
from scalinglaws.fit import fit

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Default grid at alpha 1.5, its frontier fit (with bootstrap) written by the CLI."""
    folder = tmp_path_factory.mktemp("frontier-cli")
    runs, fit_file = folder / "runs.csv", folder / "fit.json"
    result = run("simulate", "frontier", "--alpha", "1.5", "--out", runs, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    result = run("fit", runs, "--law", "frontier", "--bootstrap", "40", "--out", fit_file, "--json")
    assert result.exit_code == 0, result.output
    return {"runs": runs, "fit": fit_file, "simulate": doc, "fit_doc": json.loads(result.stdout)}


def test_simulate_writes_a_runs_table_the_data_layer_accepts(simulated) -> None:
    doc = simulated["simulate"]
    assert doc["runs"] == 91 and doc["grid"] == {"params": [100.0, 1e5, 7], "tokens": [1e3, 1e9, 13]}
    assert set(doc["bottlenecks"]) == {"capacity", "coverage"} and sum(doc["bottlenecks"].values()) == 91
    frame = pd.read_csv(simulated["runs"])
    assert list(frame.columns[:6]) == list(RUNS_CORE) and "step" not in frame
    runs = load_data(str(simulated["runs"]))
    assert len(runs.table) == 91 and runs.excluded.empty
    assert np.allclose(runs.table["flops"], 6 * runs.table["params"] * runs.table["tokens"])


def test_cli_fit_of_the_simulated_runs_recovers_alpha(simulated) -> None:
    doc = simulated["fit_doc"]
    assert doc["law"]["name"] == "frontier"
    assert doc["params"]["alpha"] == pytest.approx(1.5, abs=0.01)
    lo, hi = doc["intervals"]["alpha"]
    assert lo <= doc["params"]["alpha"] <= hi


def test_simulate_is_deterministic_and_writes_stdout_without_out(simulated) -> None:
    result = run("simulate", "frontier", "--alpha", "1.5")
    assert result.exit_code == 0, result.output
    assert result.stdout == simulated["runs"].read_text()
    other = run("simulate", "frontier", "--alpha", "1.5", "--seed", "1")
    assert other.exit_code == 0 and other.stdout != result.stdout


def test_simulate_with_steps_writes_integer_steps(tmp_path) -> None:
    out = tmp_path / "steps.csv"
    result = run(
        "simulate", "frontier", "--alpha", "1.5", "--params", "1e2,1e3,1e4", "--tokens", "1e4:1e8:5",
        "--steps", "10.4:1e6:4", "--lr", "10", "--patterns", "100000", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 60 simulated runs" in result.stdout and "optimisation" in result.stdout
    runs = load_data(str(out))
    assert runs.table["step"].tolist()[:4] == [10, 476, 21828, 1000000]
    assert {"bottleneck", "k_optimisation", "delta_loss"} <= set(runs.table.columns)
    result = fit(runs, "frontier", law_options={"steps": "true"})
    assert result.law.inputs == ("params", "tokens", "step") and result.converged


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--alpha", "1"], ["--alpha", "> 1"]),
        (["--alpha", "0.5"], ["--alpha"]),
        (["--alpha", "nan"], ["--alpha"]),
        (["--alpha", "1.5", "--params", "0:1e3:3"], ["--params", "> 0"]),
        (["--alpha", "1.5", "--tokens", "-1e6"], ["--tokens", "> 0"]),
        (["--alpha", "1.5", "--tokens", "1e3,abc"], ["--tokens", "not a number"]),
        (["--alpha", "1.5", "--params", "1:10"], ["--params", "START:STOP:COUNT"]),
        (["--alpha", "1.5", "--params", "1:10:0"], ["--params", "COUNT"]),
        (["--alpha", "1.5", "--params", "1:10:2.5"], ["--params", "whole number"]),
        (["--alpha", "1.5", "--steps", "0.2"], ["--steps", "at least 1"]),
        (["--alpha", "1.5", "--lr", "0"], ["--lr"]),
        (["--alpha", "1.5", "--patterns", "0"], ["--patterns"]),
        (["--alpha", "1.5", "--seed", "-1"], ["--seed"]),
        (["--alpha", "1.5", "--json"], ["--out"]),
        (
            ["--alpha", "1.5", "--params", "1:1e9:100000", "--tokens", "1:1e9:100000"],
            ["GiB", "10,000,000,000"],
        ),
        (["--alpha", "1.5", "--patterns", "100000000"], ["GiB", "--patterns"]),
    ],
)
def test_simulate_bad_input_is_a_one_line_error(args: list[str], needles: list[str]) -> None:
    one_line_error(run("simulate", "frontier", *args), *needles)


def test_diagnose_json_reports_the_active_bottleneck_per_run(simulated) -> None:
    result = run("diagnose", simulated["fit"], simulated["runs"], "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["law"] == "frontier" and len(doc["runs"]) == 91
    assert sum(doc["active"].values()) == 91 and set(doc["active"]) == {"capacity", "coverage"}
    row = doc["runs"][0]
    assert {"run", "active", "share_capacity", "share_coverage", "k_star", "slack", "agreement"} <= set(row)
    truth = pd.read_csv(simulated["runs"]).set_index("run")
    # far from the balance (the other frontier 3x away), the fitted law names the simulator's bottleneck
    far = [r for r in doc["runs"] if r["slack"] > 3]
    assert len(far) > 40 and all(truth.loc[r["run"], "bottleneck"] == r["active"] for r in far)


def test_plan_uses_the_closed_form(simulated) -> None:
    result = run("plan", simulated["fit"], "--compute", "1e15", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["plan"]
    assert plan["method"] == "closed-form" and plan["params"]["lo"] <= plan["params"]["value"]
    alpha = simulated["fit_doc"]["params"]["alpha"]
    ratio = json.loads(run("plan", simulated["fit"], "--compute", "1e17", "--json").stdout)["plan"]
    assert ratio["params"]["value"] / plan["params"]["value"] == pytest.approx(100 ** (1 / (alpha + 1)))


def test_diagnose_text(simulated) -> None:
    result = run("diagnose", simulated["fit"], simulated["runs"])
    assert result.exit_code == 0, result.output
    first, header = result.stdout.splitlines()[:2]
    assert first.startswith("91 runs under frontier") and "active: capacity" in first
    assert header.split() == ["run", "params", "tokens", "active", "share_capacity", "share_coverage",
                              "slack", "agreement"]  # fmt: skip


def test_diagnose_bad_input_is_a_one_line_error(simulated, tmp_path) -> None:
    one_line_error(run("diagnose", tmp_path / "missing.json", simulated["runs"]), "missing.json")
    one_line_error(run("diagnose", simulated["fit"], tmp_path / "missing.csv"), "missing.csv")
    chinchilla_fit = tmp_path / "chinchilla.json"
    assert run("fit", simulated["runs"], "--bootstrap", "0", "--out", chinchilla_fit).exit_code == 0
    one_line_error(run("diagnose", chinchilla_fit, simulated["runs"]), "frontier", "chinchilla")
    one_line_error(run("diagnose", simulated["fit"], "pythia"), "evals, not runs")


def test_help_lists_the_commands_without_heavy_imports() -> None:
    assert "diagnose" in run("--help").stdout and "simulate" in run("--help").stdout
    assert "frontier" in run("simulate", "--help").stdout
    code = (
        "import sys, scalinglaws.cli as c\n"
        "try:\n    c.app(['simulate', 'frontier', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'dask', 'matplotlib', 'scalinglaws.theory.frontier_sim')\n"
        "print('HEAVY:' + ','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"
