"""Cross-fitted calibration: each training size forecast by a model trained without it, factors written
into the manifest; the held-out sizes are never forecast. Tiny untrained models stand in for the recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalinglaws.errors import ArtifactError
from scalinglaws.forecast.data import HELD_OUT_SIZES

torch = pytest.importorskip("torch")

from scalinglaws.cli import app  # noqa: E402
from scalinglaws.forecast import crossfit  # noqa: E402
from scalinglaws.forecast.ensemble import ForecasterEnsemble, load_forecaster  # noqa: E402
from scalinglaws.forecast.neural import Forecaster, ForecasterConfig  # noqa: E402

CFG = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32)


def _tiny(path: Path) -> Path:
    return ForecasterEnsemble([Forecaster.new(CFG, seed=s) for s in range(2)]).save(path)


def test_calibrate_forecasts_each_training_size_with_the_model_without_it(tmp_path, monkeypatch) -> None:
    trained = []

    def fake_train(size: str, workdir: str, seeds) -> str:
        trained.append(size)
        return str(_tiny(Path(workdir) / f"without-{size}"))

    monkeypatch.setattr(crossfit, "_train_without", fake_train)
    manifest = _tiny(tmp_path / "ens")
    cal = crossfit.calibrate(manifest, tmp_path / "cv", seeds=[0, 1], fractions=[0.4])
    assert sorted(trained) == crossfit.training_sizes() and not set(trained) & set(HELD_OUT_SIZES)
    assert [p for p, _ in cal.groups] == ["hendrycksTest-*", "*"]
    assert all(set(f) == {0.5, 0.8} and all(v > 0 for v in f.values()) for _, f in cal.groups)
    back = load_forecaster(manifest)
    assert isinstance(back, ForecasterEnsemble) and back.calibration == cal
    assert "160m" in json.loads(manifest.read_text())["calibration"]["note"]


def test_results_from_the_standard_run_of_the_left_out_size(tmp_path) -> None:
    res = crossfit.cross_fitted_results({"160m": _tiny(tmp_path / "m")}, fractions=[0.4])
    assert set(res["run"]) == {"pythia-160m"} and set(res["fraction"]) == {0.4}
    assert {"q10", "q25", "pred", "q75", "q90", "truth", "task"} <= set(res.columns)


def test_calibrate_needs_an_ensemble_manifest(tmp_path) -> None:
    single = Forecaster.new(CFG).save(tmp_path / "one")
    with pytest.raises(ArtifactError, match="one.json: not an ensemble manifest"):
        crossfit.calibrate(single, tmp_path / "cv")
    with pytest.raises(ArtifactError, match="gone.json: not a readable forecaster manifest"):
        crossfit.calibrate(tmp_path / "gone.json", tmp_path / "cv")
    from typer.testing import CliRunner

    out = CliRunner().invoke(app, ["forecast-calibrate", str(tmp_path / "one.json"), "--fractions", "0.2,2"])
    assert out.exit_code == 2 and "--fractions '0.2,2'" in out.output
