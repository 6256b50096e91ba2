"""CLI: ``exponents``, ``universality`` and ``plan --shape``; one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app
from scalinglaws.theory.schedules import dynamic_time, schedule_from_name

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, match: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], result.output


@pytest.fixture(scope="module")
def curves_file(tmp_path_factory):
    """Cosine-schedule curves of 3 widths, ``L = 1.8 + 300/m + 2 tau^(-1/3)``, with a little noise."""
    sched = schedule_from_name("cosine:warmup=0.01,floor=0.1")
    tau = dynamic_time(sched, 3000, eta_max=1e-3)
    step = np.arange(0, 3001, 10)
    rng = np.random.default_rng(0)
    frames = []
    for m in (512, 1024, 2048):
        loss = (1.8 + 300 / m + 2 * np.where(step > 0, tau[step], np.inf) ** (-1 / 3)) * np.exp(
            0.001 * rng.standard_normal(step.size)
        )
        frames.append(pd.DataFrame({"model": f"w{m}", "step": step, "width": m, "eval_loss": loss}))
    path = tmp_path_factory.mktemp("curves") / "curves.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ufit")
    u, c = folder / "universality.json", folder / "chinchilla.json"
    assert run("universality", "chinchilla", "--bootstrap", 30, "--out", u).exit_code == 0
    assert run("fit", "chinchilla", "--bootstrap", 0, "--out", c).exit_code == 0
    return u, c


def test_exponents_on_dynamic_time(curves_file) -> None:
    args = (
        "exponents",
        curves_file,
        "--column",
        "run=model",
        "--column",
        "loss=eval_loss",
        "--bootstrap",
        20,
    )
    result = run(*args, "--schedule", "cosine:warmup=0.01,floor=0.1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["axis"] == "tau" and len(doc["time"]) == 3
    assert all(abs(e["value"] - 1 / 3) < 0.02 for e in doc["time"])
    on_steps = json.loads(run(*args, "--json").stdout)
    assert all(e["value"] > 0.45 for e in on_steps["time"])  # on steps, the cosine decay bends the curves
    text = run(*args, "--schedule", "cosine:warmup=0.01,floor=0.1", "--at", 1000, "--axis", "step").stdout
    assert "time exponent per run, on tau" in text and "width exponent across 3 runs" in text


def test_exponents_on_bundled_final_losses() -> None:
    result = run("exponents", "chinchilla", "--bootstrap", 0, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["time"] == [] and {e["quantity"] for e in doc["across"]} == {"width", "depth", "time"}


def test_exponents_bad_input(curves_file, tmp_path) -> None:
    cols = ("--column", "run=model", "--column", "loss=eval_loss")
    one_line_error(
        run("exponents", curves_file, *cols, "--schedule", "array:values=1/1/1"),
        "the array schedule has 3 values but the run takes 3000 steps",
    )
    one_line_error(
        run("exponents", curves_file, *cols, "--schedule", "constant", "--total-steps", 1000),
        "has checkpoints up to step 3000 but the schedule's run length is 1000 steps",
    )
    one_line_error(
        run("exponents", curves_file, *cols, "--axis", "epoch"), "axis must be one of step, tokens, tau"
    )
    bad = pd.read_csv(curves_file)
    bad.loc[5, "width"] = 0
    bad.to_csv(tmp_path / "bad.csv", index=False)
    one_line_error(
        run("exponents", tmp_path / "bad.csv", *cols), "column 'width' needs finite positive values"
    )
    one_line_error(run("exponents", tmp_path / "missing.csv"), "no such file")


def test_universality_command_compares_with_chinchilla() -> None:
    result = run("universality", "chinchilla", "--compute", "1e21", "--bootstrap", 20, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (row,) = doc["plans"]
    assert row["universality"]["width"]["value"] > 0 and row["chinchilla"]["params"]["value"] > 0
    assert doc["relations"]["loss_exponent"]["value"] == pytest.approx(1 / 6)
    text = run("universality", "chinchilla", "--compute", "1e21", "--bootstrap", 0).stdout
    assert "optimal shape: m/l" in text and "chinchilla" in text
    one_line_error(run("universality", "chinchilla", "--exponents", "1,1,9"), "outside the allowed range")


def test_plan_shape(fits) -> None:
    u, c = fits
    result = run("plan", u, "--compute", "5.76e23", "--shape")
    assert result.exit_code == 0, result.output
    for word in ("width", "depth", "params", "tokens", "loss", "m/l within 5%"):
        assert word in result.stdout
    doc = json.loads(run("plan", u, "--compute", "5.76e23", "--shape", "--json").stdout)
    plan = doc["plan"]
    assert plan["width"]["lo"] <= plan["width"]["value"] <= plan["width"]["hi"]
    assert plan["params"]["value"] * plan["tokens"]["value"] * 6 == pytest.approx(5.76e23)
    snapped = json.loads(
        run(
            "plan", u, "--compute", "5.76e23", "--shape", "--width-multiple", 128, "--head-dim", 128, "--json"
        ).stdout
    )["plan"]
    assert snapped["snapped"] and snapped["width"]["value"] % 128 == 0 and snapped["heads"] > 0


def test_plan_shape_errors(fits) -> None:
    u, c = fits
    one_line_error(run("plan", c, "--compute", "1e22", "--shape"), "needs a fit of the 'universality' law")
    one_line_error(run("plan", u, "--compute", "1e22"), "add --shape")
    one_line_error(run("plan", u, "--compute", "1e22", "--heads", 16), "--heads snap a shape: add --shape")
    one_line_error(run("plan", u, "--target-loss", "2.0", "--shape"), "--shape plans a compute budget")
    one_line_error(run("plan", u, "--compute", "-5", "--shape"), "compute must be a positive number")


def test_new_commands_import_nothing_heavy() -> None:
    code = (
        "import sys, scalinglaws.cli as c\n"
        "for args in (['exponents', '--help'], ['universality', '--help'], ['plan', '--help']):\n"
        "    try:\n        c.app(args)\n    except SystemExit:\n        pass\n"
        "print('HEAVY:' + ','.join(m for m in ('torch', 'dask', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"
    assert "--shape" in out.stdout and "--width-multiple" in out.stdout and "--schedule" in out.stdout
