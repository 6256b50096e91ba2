"""``scalinglaws design``, ``suggest`` and ``compare`` on bundled data: text, --json, one-line errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("design-cli")
    paths = {}
    for law, bootstrap in (("chinchilla", "200"), ("skaling", "200")):
        paths[law] = folder / f"{law}.json"
        result = run("fit", "chinchilla", "--law", law, "--bootstrap", bootstrap, "--out", str(paths[law]))
        assert result.exit_code == 0, result.output
    paths["no-draws"] = folder / "no-draws.json"
    assert run("fit", "chinchilla", "--bootstrap", "0", "--out", str(paths["no-draws"])).exit_code == 0
    return paths


def test_design_lays_out_and_scores(fits, tmp_path) -> None:
    out = tmp_path / "design.csv"
    result = run(
        "design",
        "--budgets",
        "1e20,3e20,1e21",
        "--sizes-per-budget",
        "5",
        "--law",
        str(fits["chinchilla"]),
        "--target-compute",
        "1e24",
        "--simulations",
        "4",
        "--bootstrap",
        "20",
        "--out",
        str(out),
        "--json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["design"]["n_runs"] == 15 and out.exists()
    assert [r["quantity"] for r in doc["score"]["scores"]] == ["N*", "D*", "L*"]
    scored = run(
        "design",
        "--design",
        str(out),
        "--law",
        str(fits["chinchilla"]),
        "--target-compute",
        "1e24",
        "--simulations",
        "3",
        "--bootstrap",
        "0",
    )
    assert scored.exit_code == 0, scored.output
    assert "N*" in scored.stdout and "15 runs" in scored.stdout
    laid = run("design", "--budgets", "1e18,1e19", "--centre", "20")
    assert laid.exit_code == 0 and "budget 1e+18" in laid.stdout


def test_suggest_with_laws_and_checkpoints(fits) -> None:
    result = run(
        "suggest",
        str(fits["chinchilla"]),
        "--target-compute",
        "1e24",
        "-n",
        "3",
        "--laws",
        "chinchilla,skaling",
        "--checkpoints",
        "--json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["runs"]) == 3 and doc["settings"]["checkpoints"]
    assert {r["law"] for r in doc["laws"]} == {"chinchilla", "skaling"}
    text = run("suggest", str(fits["chinchilla"]), "--target-compute", "1e24", "-n", "2")
    assert text.exit_code == 0 and "suggested run" in text.stdout


def test_compare_two_fits(fits) -> None:
    result = run("compare", str(fits["chinchilla"]), str(fits["skaling"]), "--compute", "1e24", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["paired"] and doc["reference"] == "chinchilla"
    text = run("compare", str(fits["chinchilla"]), str(fits["skaling"]), "--compute", "1e24")
    assert "skaling beats chinchilla with probability" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("suggest", "{no-draws}", "--target-compute", "1e24"), "bootstrap draws"),
        (("suggest", "{chinchilla}"), "needs target budgets"),
        (("compare", "{chinchilla}"), "at least two"),
        (("design",), "give --budgets"),
        (("design", "--budgets", "1e18,x"), "not a number"),
        (("design", "--budgets", "1e18", "--target-compute", "1e22"), "add --law"),
    ],
)
def test_bad_input_is_a_one_line_error(fits, args, message) -> None:
    args = [a.format(**{k: str(v) for k, v in fits.items()}) for a in args]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
