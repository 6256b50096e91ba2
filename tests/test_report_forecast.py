"""Forecast and backtest sections of the report: numbers on the page and in report.json, figures, the JSON
round trips behind `scalinglaws report --forecast/--backtest`, and one-line errors on bad files."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scalinglaws.backtest import BacktestResult, ComputeSplit, backtest, get_method
from scalinglaws.backtest.report import load_result
from scalinglaws.cli import app
from scalinglaws.errors import ArtifactError
from scalinglaws.forecast.api import TaskForecast
from scalinglaws.forecast.data import HELD_OUT_SIZES
from scalinglaws.forecast.result import ForecastSet, load_forecasts
from scalinglaws.report import Report

runner = CliRunner()
LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)


def _task(task: str, start: float, slope: float, truth_shift: float) -> TaskForecast:
    ctx = np.array([1e9, 2e9, 4e9, 8e9, 1.6e10])
    future = np.array([3e10, 4.5e10, 6e10, 8e10])
    med = start + slope * np.log(future / 1e9)
    spread = np.array([-0.04, -0.02, 0.0, 0.02, 0.04])
    return TaskForecast(("pythia-1.4b", task, "acc", "0"), ctx, start + slope * np.log(ctx / 1e9), future,
                        med[:, None] + spread[None, :], LEVELS, med + truth_shift)


@pytest.fixture(scope="module")
def fset() -> ForecastSet:
    forecasts = (_task("piqa", 0.55, 0.02, 0.01), _task("arc_easy", 0.40, 0.03, -0.05))
    model = {"name": "test model", "trained_on": "nothing", "held_out_sizes": list(HELD_OUT_SIZES)}
    return ForecastSet(forecasts, source="bundled:pythia", context_fraction=0.2, model=model)


@pytest.fixture(scope="module")
def backtested() -> BacktestResult:
    from scalinglaws import datasets

    methods = [get_method("chinchilla", bootstrap=20), get_method("last-value")]
    return backtest(datasets.load("chinchilla"), ComputeSplit(), methods, executor="serial", seed=0)


def _numbers(doc) -> list[float]:
    out: list[float] = []

    def walk(v) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out.append(float(v))

    walk(doc)
    return out


def _check_page(html_path: Path, json_path: Path) -> tuple[str, dict]:
    """Every number on the page is in report.json; nothing points outside the page."""
    text = html_path.read_text(encoding="utf-8")
    doc = json.loads(json_path.read_text())
    known = _numbers(doc)
    values = re.findall(r'data-value="([^"]+)"', text)
    assert values
    for raw in values:
        v = float(raw)
        assert any(v == n or (math.isnan(v) and math.isnan(n)) for n in known), raw
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*https?://", text, re.I)
    assert "<script" not in text and "<img" not in text
    return text, doc


def test_forecast_section_shows_every_number_and_the_fans(fset, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    html_path, json_path = Report(title="t").add(fset).write(tmp_path / "report.html")
    text, doc = _check_page(html_path, json_path)
    (section,) = doc["sections"]
    assert section["kind"] == "forecast"
    assert section["title"] == "Forecast: pythia-1.4b from 20% of its training"
    numbers = section["numbers"]
    piqa = next(t for t in numbers["tasks"] if t["task"] == "piqa")
    final = piqa["final"]
    assert final["lo80"] < final["median"] < final["hi80"]
    assert final["truth"] == pytest.approx(final["median"] + 0.01)
    assert piqa["future"]["mae"] == pytest.approx(1.0)  # 0.01 off everywhere, in accuracy points
    assert piqa["future"]["coverage80"] == 1.0 and piqa["future"]["last_value_mae"] > 1
    arc = next(t for t in numbers["tasks"] if t["task"] == "arc_easy")
    assert arc["future"]["covered80"] == 0 and arc["name"] == "ARC-Easy"
    assert numbers["overall"]["coverage80"] == 0.5 and numbers["overall"]["with_truth"] == 8
    for t in numbers["tasks"]:
        for key in ("median", "lo80", "hi80", "truth"):
            assert f'data-value="{t["final"][key]!r}"' in text
    assert 'data-figure="forecast-fan-1"' in text and text.count("<svg") == 1
    summary = text.split('id="summary"')[1].split('class="part"')[0]
    assert "Forecast: pythia-1.4b from 20% of training" in summary and "PIQA" in summary
    assert f'data-value="{final["median"]!r}"' in summary
    assert "out of sample" in text and "too narrow" in text  # held-out size; 50% coverage
    assert text.count("<details") == 2


def test_forecast_set_json_round_trip_and_bad_files(fset, tmp_path) -> None:
    path = fset.save(tmp_path / "forecast.json")
    back = load_forecasts(path)
    assert back.runs == ["pythia-1.4b"] and back.context_fraction == 0.2 and back.held_out("pythia-1.4b")
    for a, b in zip(fset.forecasts, back.forecasts, strict=True):
        assert a.key == b.key and a.levels == b.levels
        np.testing.assert_allclose(a.quantiles, b.quantiles)
        np.testing.assert_allclose(a.truth, b.truth)
    legacy = {"forecasts": [f.to_dict() for f in fset.forecasts], "plot": None}  # older forecast --json
    (tmp_path / "old.json").write_text(json.dumps(legacy))
    assert len(load_forecasts(tmp_path / "old.json").forecasts) == 2
    cases = [(None, "no such forecast file"), ("", "the forecast file is empty"),
             ("{", "not a readable JSON forecast file"), ('{"format": "x"}', "not a forecast file"),
             ('{"forecasts": []}', "holds no forecasts"), ('{"forecasts": [{"run": "a"}]}', "malformed")]
    for i, (content, message) in enumerate(cases):
        bad = tmp_path / f"bad{i}.json"
        if content is not None:
            bad.write_text(content)
        with pytest.raises(ArtifactError, match=message) as err:
            load_forecasts(bad)
        assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_backtest_section_leaderboard_figure_and_summary(backtested, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    html_path, json_path = Report(title="t").add(backtested).write(tmp_path / "report.html")
    text, doc = _check_page(html_path, json_path)
    (section,) = doc["sections"]
    numbers = section["numbers"]
    best = numbers["best"][0]
    assert best["method"] == "chinchilla" and best["mae"] < best["last_value_mae"]
    assert best["mae"] == pytest.approx(backtested.leaderboard["mae"].iloc[0])
    assert f'data-value="{best["mae"]!r}"' in text.split('id="summary"')[1].split('class="part"')[0]
    assert "Best method" in text and "80% intervals held" in text
    assert text.count("<svg") == 1 and 'data-figure="backtest-error-chinchilla-compute"' in text
    assert {r["method"] for r in numbers["leaderboard"]} == {"chinchilla", "last-value"}


def test_backtest_round_trip_from_folder_and_json(backtested, tmp_path) -> None:
    backtested.save(tmp_path / "bt")
    for source in (tmp_path / "bt", tmp_path / "bt" / "leaderboard.json"):
        back = BacktestResult.load(source)
        assert back.leaderboard["mae"].tolist() == pytest.approx(backtested.leaderboard["mae"].tolist())
        assert len(back.results) == len(backtested.results)
    alone = tmp_path / "alone.json"  # the JSON of `backtest --json`: no per-target results beside it
    alone.write_text(json.dumps(backtested.to_dict() | {"artifacts": []}))
    back = load_result(alone)
    assert back.results.empty
    (section,) = Report().add(back, figures=False).sections
    assert section.numbers["best"][0]["method"] == "chinchilla"
    empty = '{"format": "scalinglaws.backtest/1", "leaderboard": []}'
    for content, message in ((None, "no such file"), ("", "empty"), ("[1]", "not a scalinglaws.backtest/1"),
                             (empty, "leaderboard is empty")):
        bad = tmp_path / "bad.json"
        bad.unlink(missing_ok=True)
        if content is not None:
            bad.write_text(content)
        with pytest.raises(ArtifactError, match=message):
            load_result(bad)
    with pytest.raises(ArtifactError, match="no leaderboard.json in this folder"):
        load_result(tmp_path)


def test_cli_report_adds_forecasts_and_backtests(fset, backtested, tmp_path) -> None:
    fset.save(tmp_path / "forecast.json")
    backtested.save(tmp_path / "bt")
    out = tmp_path / "site" / "report.html"
    res = runner.invoke(app, ["report", "--forecast", str(tmp_path / "forecast.json"), "--backtest",
                              str(tmp_path / "bt"), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["sections"] == ["forecast", "backtest"]
    doc = json.loads(out.with_name("report.json").read_text())
    assert "neural forecast of pythia-1.4b" in doc["subtitle"] and "backtest on chinchilla" in doc["subtitle"]


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--forecast", None, "no such forecast file"),
        ("--forecast", "", "the forecast file is empty"),
        ("--forecast", '{"leaderboard": []}', "not a forecast file"),
        ("--backtest", None, "no such file"),
        ("--backtest", "{", "not a readable JSON leaderboard"),
        ("--backtest", '{"forecasts": []}', "not a scalinglaws.backtest/1 leaderboard"),
    ],
)
def test_cli_report_bad_forecast_and_backtest_files(tmp_path, option, content, message) -> None:
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    res = runner.invoke(app, ["report", option, str(path), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    assert message in res.stderr and str(path) in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()


def test_cli_report_needs_something_to_report(tmp_path) -> None:
    res = runner.invoke(app, ["report", "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2 and "nothing to report" in res.stderr


def test_shipped_forecaster_on_a_held_out_pythia_run_round_trips_through_the_cli(tmp_path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    res = runner.invoke(app, ["forecast", "pythia", "--run", "pythia-1.4b", "--context-fraction", "0.2",
                              "--task", "piqa", "--task", "sciq", "--no-plot", "--json"])
    assert res.exit_code == 0, res.output
    (tmp_path / "forecast.json").write_text(res.stdout)
    out = tmp_path / "report.html"
    res = runner.invoke(app, ["report", "--forecast", str(tmp_path / "forecast.json"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text, doc = _check_page(out, out.with_name("report.json"))
    numbers = doc["sections"][0]["numbers"]
    assert numbers["context_fraction"] == 0.2 and [t["task"] for t in numbers["tasks"]] == ["piqa", "sciq"]
    assert all(t["future"]["with_truth"] == t["future"]["checkpoints"] > 5 for t in numbers["tasks"])
    assert numbers["model"]["name"] == "the shipped Pythia forecaster"
    assert "out of sample" in text and 'data-figure="forecast-fan-1"' in text


def test_importing_the_report_does_not_import_torch() -> None:
    code = ("import sys, scalinglaws.report, scalinglaws.report.forecast_section, "
            "scalinglaws.report.backtest_section, scalinglaws.forecast.result; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("demo") / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out), "--bootstrap", "20"])
    assert res.exit_code == 0, res.output
    assert "forecast of pythia-1.4b (a size the forecaster never saw)" in res.stdout
    assert "backtest on chinchilla (compute split): best of 4 methods" in res.stdout
    return out


def test_demo_report_shows_the_fit_the_pythia_forecast_and_the_backtest(demo_dir) -> None:
    text, doc = _check_page(demo_dir / "report.html", demo_dir / "report.json")
    assert [s["kind"] for s in doc["sections"]] == ["fit", "plan", "forecast", "backtest"]
    forecast = doc["sections"][2]["numbers"]
    assert forecast["context_fraction"] == 0.2 and forecast["runs"][0]["run"] == "pythia-1.4b"
    names = [t["name"] for t in forecast["tasks"]]
    assert sorted(names) == sorted(["ARC-Easy", "ARC-Challenge", "LAMBADA", "LogiQA", "PIQA", "SciQ",
                                    "WinoGrande", "WSC"])
    assert all(t["final"]["truth"] is not None and t["future"]["with_truth"] > 0 for t in forecast["tasks"])
    assert 'data-figure="forecast-fan-1"' in text
    assert 'data-figure="backtest-error-chinchilla-compute"' in text
    assert {"universality", "chinchilla", "power", "last-value"} == {
        r["method"] for r in doc["sections"][3]["numbers"]["leaderboard"]}
    saved = load_forecasts(demo_dir / "forecast.json")  # forecast.json feeds `scalinglaws report --forecast`
    assert saved.runs == ["pythia-1.4b"] and len(saved.forecasts) == 8
    assert BacktestResult.load(demo_dir / "backtest").leaderboard["method"].nunique() == 4


def test_demo_without_torch_finishes_and_says_why_the_forecast_is_missing(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails, as where it is not installed
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out), "--bootstrap", "20"])
    assert res.exit_code == 0, res.output
    assert "forecast: skipped" in res.stdout and "pip install 'scalinglaws[torch]'" in res.stdout
    assert not (out / "forecast.json").exists()
    doc = json.loads((out / "report.json").read_text())
    skipped = next(s for s in doc["sections"] if s["kind"] == "forecast")
    assert skipped["numbers"]["skipped"] is True and "scalinglaws[torch]" in skipped["numbers"]["reason"]
    assert "Forecast: skipped" in (out / "report.html").read_text()
