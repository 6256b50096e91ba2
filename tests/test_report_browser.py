"""Open the report in headless Chromium: no console error, no request leaving the file, every figure drawn,
the fitted parameters in the summary; a full-page screenshot is saved as a test artifact.

Needs Playwright's Python package and Debian's Chromium (``make browser-deps`` installs both; Playwright's
own browser download is never used). Skips, with the reason, only where they are not installed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scalinglaws import datasets
from scalinglaws.fit import fit
from scalinglaws.plan import compute_optimal
from scalinglaws.report import Prediction, write_report
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
    runs = datasets.load("chinchilla")
    result = fit(runs, "chinchilla", bootstrap=100, seed=0)
    html_path, _ = write_report(
        tmp_path_factory.mktemp("browser") / "report.html", result, data=runs,
        plans=[compute_optimal(result, 5.76e23)], predictions=[Prediction(7e10, 1.4e12, "Chinchilla 70B")],
        title="Browser test report",
    )
    return html_path, result


def test_report_renders_cleanly_offline(report, capsys) -> None:
    html_path, result = report
    console_errors: list[str] = []
    outside: list[str] = []
    failed: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            page.on("requestfailed", lambda r: failed.append(r.url))

            def gate(route) -> None:
                url = route.request.url
                if url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            page.route("**/*", gate)
            page.goto(html_path.as_uri(), wait_until="load")

            figures = page.query_selector_all("figure.fig svg")
            boxes = [f.bounding_box() for f in figures]
            summary = page.inner_text("#summary")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "report-screenshot.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copy(html_path, ARTIFACTS / "report.html")
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nreport screenshot: {shot}")

    assert console_errors == []
    assert outside == [] and failed == []
    assert len(figures) == 4
    assert all(b is not None and b["width"] > 100 and b["height"] > 100 for b in boxes), boxes
    for name, value in result.params.items():
        assert Num(value).text() in summary, f"{name} = {value} not shown in the summary"
    for title in ("FITTED LAW", "COMPUTE-OPTIMAL PLAN", "KEY PREDICTIONS", "DIAGNOSTICS AND WARNINGS"):
        assert title in summary.upper()
    assert overflow <= 0, "the page scrolls sideways"
    assert shot.stat().st_size > 50_000
