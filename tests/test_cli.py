"""Command line: every command on bundled data, --json output, one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "fit.json"
    result = run("fit", "chinchilla", "--law", "chinchilla", "--bootstrap", "200", "--out", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_help_imports_no_heavy_dependency() -> None:
    code = (
        "import sys, scalinglaws.cli as c\n"
        "try:\n    c.app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'dask', 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY:' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_datasets_json_lists_the_bundled_data() -> None:
    result = run("datasets", "--json")
    assert result.exit_code == 0
    names = {d["name"] for d in json.loads(result.stdout)["datasets"]}
    assert {"chinchilla", "pythia"} <= names


def test_laws_json() -> None:
    doc = json.loads(run("laws", "--json").stdout)
    assert "chinchilla" in {law["name"] for law in doc["laws"]}


def test_fit_json_reproduces_the_published_fit(tmp_path) -> None:
    result = run("fit", "chinchilla", "--bootstrap", "0", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["objective"]["value"] == pytest.approx(0.00101827, abs=1e-7)
    assert doc["params"]["E"] == pytest.approx(1.8172, rel=0.01)
    assert doc["data"]["n_excluded"] == 5


def test_predict_and_plan(fit_file) -> None:
    doc = json.loads(run("predict", str(fit_file), "--params", "7e10", "--tokens", "1.4e12", "--json").stdout)
    assert doc["lo"] < doc["prediction"] < doc["hi"]
    assert doc["extrapolation"]["params"] > 1
    doc = json.loads(run("plan", str(fit_file), "--compute", "5.76e23", "--json").stdout)
    plan = doc["plan"]
    assert plan["params"]["lo"] < plan["params"]["value"] < plan["params"]["hi"]
    assert plan["params"]["value"] * plan["tokens"]["value"] * 6 == pytest.approx(5.76e23)
    text = run("plan", str(fit_file), "--compute", "5.76e23", "--target-loss", "2.0").stdout
    assert "compute-optimal run" in text and "target loss 2" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fit", "chinchilla", "--law", "nope"), "unknown law 'nope'"),
        (("fit", "no-such-file.csv"), "no-such-file.csv"),
        (("predict", "missing.json", "--params", "1e9", "--tokens", "1e10"), "no such fit file"),
        (("plan", "missing.json", "--compute", "1e22"), "no such fit file"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(args, message) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_bad_csv_names_file_column_and_rows(tmp_path) -> None:
    bad = tmp_path / "runs.csv"
    bad.write_text("params,tokens,loss\n1e8,1e9,3.1\n-5,1e9,3.0\n1e9,abc,2.9\n")
    result = run("fit", str(bad))
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "runs.csv" in line and ("'params'" in line or "'tokens'" in line) and "row" in line


def test_predict_needs_the_law_inputs(fit_file) -> None:
    result = run("predict", str(fit_file), "--params", "1e9")
    assert result.exit_code == 2 and "--tokens" in result.stderr


def test_demo_writes_results(tmp_path) -> None:
    result = run("demo", "--out", str(tmp_path / "demo"), "--bootstrap", "100")
    assert result.exit_code == 0, result.output
    assert {"fit.json", "plan.json", "fit.png"} <= {p.name for p in (tmp_path / "demo").iterdir()}
    assert "compute-optimal run for C = 5.76e+23" in result.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", ["runs.csv"]),
        ("params,loss\n1e8,3.1\n2e8,3.0\n", ["runs.csv", "tokens"]),
        ("run,params,tokens,loss\na,1e8,1e9,nan\nb,2e8,1e9,nan\n", ["runs.csv", "excluded"]),
        (
            "run,params,tokens,loss\na,1e8,1e9,3.1\na,1e8,1e9,3.1\nb,2e8,1e9,3.0\n",
            ["runs.csv", "duplicated row 2"],
        ),
        ("params,tokens,loss\n-1e8,1e9,3.1\n2e8,1e9,3.0\n", ["runs.csv", "'params'", "row"]),
    ],
    ids=["empty", "missing-column", "all-nan", "duplicate-rows", "negative-params"],
)
def test_fit_bad_files_give_one_line_errors(tmp_path, content, expected) -> None:
    bad = tmp_path / "runs.csv"
    bad.write_text(content)
    result = run("fit", str(bad), "--bootstrap", "0")
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in result.output
    for text in expected:
        assert text in line, line


def test_diverged_run_is_excluded_and_listed(tmp_path) -> None:
    path = tmp_path / "runs.csv"
    rows = ["run,params,tokens,loss,step", "a,1e8,1e9,4.0,1", "a,1e8,2e9,3.5,2", "a,1e8,3e9,nan,3"]
    rows += [f"{r},{n},{d},{loss},{s}" for r, n, d, loss, s in [
        ("b", 2e8, 1e9, 3.9, 1), ("b", 2e8, 3e9, 3.3, 2), ("c", 4e8, 3e9, 3.0, 2),
        ("d", 8e8, 3e9, 2.9, 2), ("e", 1.6e9, 3e9, 2.8, 2)]]
    path.write_text("\n".join(rows) + "\n")
    result = run("fit", str(path), "--law", "power", "--x", "params", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    assert "excluded 3 row(s) (a): diverged" in result.stdout
    doc = json.loads(run("fit", str(path), "--law", "power", "--x", "params", "--bootstrap", "0",
                         "--json").stdout)
    assert doc["data"]["n_excluded"] == 3 and doc["data"]["n_points"] == 4


def test_report_fits_runs_data_given_instead_of_a_fit(tmp_path) -> None:
    out = tmp_path / "r.html"
    result = run("report", "chinchilla", "--bootstrap", "50", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.exists() and (tmp_path / "r.json").exists()


def test_plan_shape_json_has_an_integer_shape(tmp_path) -> None:
    path = tmp_path / "uni.json"
    fitted = run("fit", "chinchilla", "--law", "universality", "--bootstrap", "50", "--out", str(path))
    assert fitted.exit_code == 0, fitted.output
    doc = json.loads(run("plan", str(path), "--compute", "1e24", "--shape", "--json").stdout)
    shape = doc["shape"]
    assert isinstance(shape["width"], int) and isinstance(shape["depth"], int)
    assert 30 <= shape["width"] / shape["depth"] <= 180


def test_fit_residuals_bootstrap_method_and_law_options(tmp_path) -> None:
    path = tmp_path / "linear.json"
    args = ["fit", "chinchilla", "--residuals", "linear", "--loss", "l2", "--bootstrap", "50",
            "--bootstrap-method", "wild", "--out", str(path), "--json"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["objective"]["residuals"] == "linear" and doc["settings"]["bootstrap_method"] == "wild"
    assert doc["settings"]["residual_scale"]["space"] == "linear"
    assert doc["params"]["E"] == pytest.approx(1.883, rel=0.01)  # least squares on the loss
    new_run = json.loads(run("predict", str(path), "--params", "7e10", "--tokens", "1.4e12", "--kind",
                             "new-run", "--json").stdout)
    assert new_run["noise"]["space"] == "linear" and new_run["lo"] < new_run["prediction"] < new_run["hi"]
    by_option = json.loads(run("fit", "chinchilla", "--law", "power", "--law-option", "x=params",
                               "--bootstrap", "0", "--json").stdout)
    by_x = json.loads(run("fit", "chinchilla", "--law", "power", "--x", "params", "--bootstrap", "0",
                          "--json").stdout)
    assert by_option["law"]["options"] == {"x": "params"} and by_option["params"] == by_x["params"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--residuals", "cubic"), "unknown residual space 'cubic'"),
        (("--bootstrap-method", "pairs"), "unknown bootstrap method 'pairs'"),
        (("--law-option", "x"), "--law-option 'x' must look like NAME=VALUE"),
        (("--law", "power", "--x", "params", "--law-option", "x=tokens"), "disagree"),
    ],
)
def test_fit_option_errors_are_one_line(args, message) -> None:
    result = run("fit", "chinchilla", "--bootstrap", "0", *args)
    assert result.exit_code == 2 and message in result.stderr, result.output
