"""Open the demo's report in headless Chromium: no console error, no request leaving the file, every figure
drawn, the fitted parameters in the summary, the Pythia forecast with its fans; a full-page screenshot is
saved as a test artifact.

Needs Playwright's Python package and Debian's Chromium (``make browser-deps`` installs both; Playwright's
own browser download is never used). Skips, with the reason, only where they are not installed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app
from scalinglaws.fit import FitResult
from scalinglaws.report.blocks import Num

CHROMIUM = Path(os.environ.get("SCALINGLAWS_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(
    os.environ.get("SCALINGLAWS_TEST_ARTIFACTS", Path(__file__).parents[1] / "results" / "test-artifacts")
)

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright's Python package is not installed (run `make browser-deps`)"
)
if not CHROMIUM.exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} and could not be installed here (`make "
                "browser-deps` installs the Debian package with apt-get when run as root)",
                allow_module_level=True)
pytest.importorskip("matplotlib", reason="the report's figures need matplotlib (the plot extra)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The demo's report (fit, plan, forecast, backtest) and its fit."""
    out = tmp_path_factory.mktemp("browser") / "demo"
    res = CliRunner().invoke(app, ["demo", "--out", str(out), "--bootstrap", "100"])
    assert res.exit_code == 0, res.output
    return out / "report.html", FitResult.load(out / "fit.json")


@pytest.fixture(scope="module")
def rendered(report):
    """What the browser saw: console errors, requests, figure boxes, the summary and forecast texts."""
    html_path, _ = report
    seen: dict = {"console_errors": [], "outside": [], "failed": []}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: seen["console_errors"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen["console_errors"].append(str(e)))
            page.on("requestfailed", lambda r: seen["failed"].append(r.url))

            def gate(route) -> None:
                url = route.request.url
                if url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    seen["outside"].append(url)
                    route.abort()

            page.route("**/*", gate)
            page.goto(html_path.as_uri(), wait_until="load")

            seen["figures"] = [f.bounding_box() for f in page.query_selector_all("figure.fig svg")]
            seen["forecast_figures"] = [f.bounding_box() for f in
                                        page.query_selector_all("#forecast figure.fig svg")]
            seen["summary"] = page.inner_text("#summary")
            seen["forecast"] = page.inner_text("#forecast") if page.query_selector("#forecast") else ""
            seen["overflow"] = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            seen["shot"] = ARTIFACTS / "report-screenshot.png"
            page.screenshot(path=str(seen["shot"]), full_page=True)
            shutil.copy(html_path, ARTIFACTS / "report.html")
        finally:
            browser.close()
    return seen


def test_report_renders_cleanly_offline(report, rendered, capsys) -> None:
    html_path, result = report
    with capsys.disabled():
        print(f"\nreport screenshot: {rendered['shot']}")

    assert rendered["console_errors"] == []
    assert rendered["outside"] == [] and rendered["failed"] == []
    boxes = rendered["figures"]
    assert len(boxes) == html_path.read_text().count('<figure class="fig"') >= 5  # fit 4, backtest 1
    assert all(b is not None and b["width"] > 100 and b["height"] > 100 for b in boxes), boxes
    summary = rendered["summary"]
    for name, value in result.params.items():
        assert Num(value).text() in summary, f"{name} = {value} not shown in the summary"
    for title in ("FITTED LAW", "COMPUTE-OPTIMAL PLAN", "KEY PREDICTIONS", "DIAGNOSTICS AND WARNINGS",
                  "BACKTEST: CHINCHILLA"):
        assert title in summary.upper()
    assert rendered["overflow"] <= 0, "the page scrolls sideways"
    assert rendered["shot"].stat().st_size > 50_000


def test_report_shows_the_pythia_forecast_and_its_fans(rendered) -> None:
    pytest.importorskip("torch", reason="the demo's forecast needs torch (pip install 'scalinglaws[torch]')")
    assert "FORECAST: PYTHIA-1.4B" in rendered["summary"].upper()
    for task in ("ARC-Easy", "ARC-Challenge", "LAMBADA", "LogiQA", "PIQA", "SciQ", "WinoGrande", "WSC"):
        assert task in rendered["forecast"] and task.upper() in rendered["summary"].upper()
    (fans,) = rendered["forecast_figures"]
    assert fans is not None and fans["width"] > 300 and fans["height"] > 200, fans
