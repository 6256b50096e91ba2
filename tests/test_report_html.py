"""The HTML report: written, self-contained, every number also in report.json; the CLI command and the demo;
bad input gives one-line errors."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalinglaws import datasets
from scalinglaws.cli import app
from scalinglaws.errors import ArtifactError, ScalingLawsError
from scalinglaws.fit import fit
from scalinglaws.plan import compute_optimal
from scalinglaws.report import Prediction, Report, Section, register_section_builder, write_report
from scalinglaws.report.blocks import Card, Num, Text

runner = CliRunner()


@pytest.fixture(scope="module")
def runs():
    return datasets.load("chinchilla")


@pytest.fixture(scope="module")
def result(runs):
    return fit(runs, "chinchilla", bootstrap=100, seed=0)


@pytest.fixture(scope="module")
def written(result, runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    paths = write_report(out, result, data=runs, plans=[compute_optimal(result, 5.76e23)],
                         predictions=[Prediction(7e10, 1.4e12, "Chinchilla 70B")], title="Test report")
    return paths


@pytest.fixture(scope="module")
def fit_file(result, tmp_path_factory):
    return result.save(tmp_path_factory.mktemp("fit") / "fit.json")


class _Page(HTMLParser):
    """Collects attributes, visible text outside <svg>, and the values of number spans."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.values: list[str] = []
        self.text: list[str] = []
        self.svg_depth = 0
        self.num_depth = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            self.attrs.append((tag, k, v or ""))
        d = dict(attrs)
        if tag == "svg":
            self.svg_depth += 1
        if tag == "span" and "num" in (d.get("class") or "").split():
            self.num_depth += 1
            if "data-value" in d:
                self.values.append(d["data-value"])
        elif self.num_depth and tag == "span":
            self.num_depth += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg_depth -= 1
        if tag == "span" and self.num_depth:
            self.num_depth -= 1

    def handle_data(self, data):
        if not self.svg_depth and not self.num_depth and self.tags[-1:] != ["style"]:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _json_leaves(doc, numbers: list, strings: list) -> None:
    if isinstance(doc, dict):
        for k, v in doc.items():
            strings.append(str(k))
            _json_leaves(v, numbers, strings)
    elif isinstance(doc, list):
        for v in doc:
            _json_leaves(v, numbers, strings)
    elif isinstance(doc, bool) or doc is None:
        return
    elif isinstance(doc, int | float):
        numbers.append(float(doc))
    elif isinstance(doc, str):
        strings.append(doc)


def test_report_and_json_are_written(written) -> None:
    html_path, json_path = written
    assert html_path.is_file() and json_path == html_path.with_name("report.json")
    doc = json.loads(json_path.read_text())
    assert doc["format"] == "scalinglaws.report/1"
    kinds = [s["kind"] for s in doc["sections"]]
    assert kinds == ["fit", "plan"]
    fit_numbers = doc["sections"][0]["numbers"]
    assert fit_numbers["law"]["params"]["E"] == pytest.approx(1.82, abs=0.05)
    assert set(fit_numbers["law"]["intervals"]) == {"E", "A", "B", "alpha", "beta"}
    assert len(fit_numbers["exclusions"]) == 5
    plan = doc["sections"][1]["numbers"]["plans"][0]
    assert plan["compute"] == 5.76e23
    assert plan["params"]["lo"] < plan["params"]["value"] < plan["params"]["hi"]
    assert plan["beyond"] > 10
    point = doc["sections"][1]["numbers"]["predictions"][0]
    assert point["label"] == "Chinchilla 70B" and point["lo"] < point["loss"] < point["hi"]


def test_report_is_self_contained(written) -> None:
    html_path, _ = written
    text = html_path.read_text(encoding="utf-8")
    page = _parse(html_path)
    refs = [(t, k, v) for t, k, v in page.attrs if k in ("src", "href", "xlink:href", "srcset", "action")]
    assert refs, "expected internal links"
    assert all(v.startswith(("#", "data:")) for _, _, v in refs), refs
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*https?://", text, re.I)
    assert not re.search(r"url\(\s*['\"]?https?:", text, re.I) and "@import" not in text
    assert not {"script", "link", "iframe", "img", "object", "embed"} & set(page.tags)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    ids = [v for _, k, v in page.attrs if k == "id"]
    assert len(ids) == len(set(ids)), "duplicate element ids"
    figures = [v for t, k, v in page.attrs if t == "figure" and k == "data-figure"]
    assert len(figures) == 4 and text.count("<svg") == 4


def test_every_number_shown_is_in_the_json(written) -> None:
    html_path, json_path = written
    page = _parse(html_path)
    numbers: list[float] = []
    strings: list[str] = []
    doc = json.loads(json_path.read_text())
    _json_leaves(doc, numbers, strings)
    assert len(page.values) > 50
    for raw in page.values:
        value = float(raw)
        assert any(value == n or (math.isnan(value) and math.isnan(n)) for n in numbers), raw
    visible = " ".join(page.text)
    for token in set(re.findall(r"\d[\d.,]*\d|\d", visible)):
        assert any(token in s for s in strings), f"{token!r} is shown but not in {json_path.name}"


def test_summary_shows_the_law_plan_predictions_diagnostics_and_exclusions(written, result) -> None:
    html_path, _ = written
    page = _parse(html_path)
    visible = " ".join(page.text)
    summary = html_path.read_text().split('id="summary"')[1].split('class="part"')[0]
    for title in ("At a glance", "Fitted law", "Compute-optimal plan", "Key predictions",
                  "Diagnostics and warnings", "Exclusions"):
        assert title in summary
    for name, value in result.params.items():
        assert f'data-value="{value!r}"' in summary, name
    assert "chinchilla-000" in summary and "Besiroglu" in visible
    assert "extrapolates" in visible and "Chinchilla 70B" in summary


def test_extension_point_adds_sections_for_new_result_types(tmp_path) -> None:
    class Backtest:
        mae = 0.0123

    def build(obj, **_):
        return Section("backtest", "Backtest", [Text("MAE ", Num(obj.mae))], numbers={"mae": obj.mae},
                       summary=[Card("Backtest", [Text(Num(obj.mae))])], kind="backtest")

    register_section_builder(Backtest, build)
    html_path, json_path = Report(title="x").add(Backtest()).write(tmp_path / "r.html")
    assert json_path.name == "r.json"
    assert json.loads(json_path.read_text())["sections"][0]["numbers"] == {"mae": 0.0123}
    assert 'data-value="0.0123"' in html_path.read_text()
    with pytest.raises(ScalingLawsError, match="no section for object"):
        Report().add(object())


def test_report_without_runs_or_draws_still_explains_itself(tmp_path, runs) -> None:
    bare = fit(runs, "chinchilla")
    html_path, json_path = write_report(tmp_path / "report.html", bare, figures=False)
    notes = [n["message"] for n in json.loads(json_path.read_text())["sections"][0]["numbers"]["notes"]]
    assert any("no bootstrap draws" in n for n in notes)
    assert any("runs were not given" in n for n in notes)
    assert any("No budget was given" in n for n in notes)


def test_empty_report_and_unwritable_paths_raise_artifact_errors(tmp_path, result) -> None:
    with pytest.raises(ScalingLawsError, match="empty"):
        Report().write(tmp_path / "r.html")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(ArtifactError, match="not a directory"):
        write_report(blocker / "report.html", result, figures=False)
    with pytest.raises(ArtifactError, match="is a directory"):
        write_report(tmp_path, result, figures=False)


# ----- command line ------------------------------------------------------------------------------------
def test_cli_report_writes_page_and_json(fit_file, tmp_path) -> None:
    out = tmp_path / "site" / "report.html"
    res = runner.invoke(app, ["report", str(fit_file), "--out", str(out), "--compute", "1e23",
                              "--compute", "1e24", "--predict", "7e10,1.4e12,70B", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["report"] == str(out) and doc["sections"] == ["fit-1", "plan-1"]
    numbers = json.loads(Path(doc["json"]).read_text())["sections"]
    assert [p["compute"] for p in numbers[1]["numbers"]["plans"]] == [1e23, 1e24]
    assert numbers[0]["numbers"]["data"]["runs_match_fit"] is True  # reloaded from bundled:chinchilla


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such fit file"),
        ("", "the fit file is empty"),
        ("{", "not a readable JSON fit artifact"),
        ("{}", "not a scalinglaws.fit/1 artifact"),
    ],
)
def test_cli_report_bad_fit_files_are_one_line_errors(tmp_path, content, message) -> None:
    path = tmp_path / "fit.json"
    if content is not None:
        path.write_text(content)
    res = runner.invoke(app, ["report", str(path), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    assert message in res.stderr and str(path) in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()


def test_cli_report_unwritable_output_is_a_one_line_error(fit_file, tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    res = runner.invoke(app, ["report", str(fit_file), "--out", str(blocker / "report.html")])
    assert res.exit_code == 2
    assert "cannot write the report" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_cli_report_bad_prediction_is_a_one_line_error(fit_file, tmp_path) -> None:
    res = runner.invoke(app, ["report", str(fit_file), "--out", str(tmp_path / "r.html"),
                              "--predict", "7e10"])
    assert res.exit_code == 2 and "PARAMS,TOKENS" in res.stderr


def test_demo_writes_the_report_and_ends_with_its_path(tmp_path) -> None:
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--bootstrap", "50"])
    assert res.exit_code == 0, res.output
    last = res.stdout.strip().splitlines()[-1]
    assert last == f"report: {tmp_path / 'demo' / 'report.html'}"
    names = {p.name for p in (tmp_path / "demo").iterdir()}
    assert {"report.html", "report.json", "fit.json", "plan.json"} <= names
