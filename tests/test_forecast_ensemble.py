"""Forecaster ensembles: averaged quantiles, save/load through a manifest, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglaws.errors import ArtifactError
from scalinglaws.forecast.data import Problem
from scalinglaws.forecast.errors import ForecastError

torch = pytest.importorskip("torch")

from scalinglaws.forecast.ensemble import ForecasterEnsemble, load_forecaster  # noqa: E402
from scalinglaws.forecast.neural import Forecaster, ForecasterConfig  # noqa: E402

CFG = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32)


def _problems() -> list[Problem]:
    t = np.geomspace(1e9, 3e11, 12)
    y = np.linspace(0.3, 0.6, 12)
    return [
        Problem(("r", "piqa", "acc"), t[:5], y[:5], t[5:]),
        Problem(("r", "arc", "acc"), t[:3], y[:3], t[3:]),
    ]


def test_an_ensemble_averages_its_members_quantiles_and_they_stay_ordered() -> None:
    members = [Forecaster.new(CFG, seed=s) for s in range(3)]
    ens = ForecasterEnsemble(members)
    got = ens.predict(_problems())
    each = [m.predict(_problems()) for m in members]
    for j in range(2):
        np.testing.assert_allclose(got[j], np.mean([e[j] for e in each], axis=0), atol=1e-7)
        assert np.all(np.diff(got[j], axis=1) >= -1e-9)
    assert ens.n_parameters() == 3 * members[0].n_parameters()


def test_save_and_load_round_trip_through_the_manifest(tmp_path) -> None:
    ens = ForecasterEnsemble([Forecaster.new(CFG, seed=s) for s in range(2)])
    manifest = ens.save(tmp_path / "ens.pt")
    assert (
        manifest.name == "ens.json"
        and (tmp_path / "ens-0.pt").is_file()
        and (tmp_path / "ens-1.json").is_file()
    )
    back = load_forecaster(tmp_path / "ens")
    assert isinstance(back, ForecasterEnsemble) and len(back.members) == 2
    for a, b in zip(back.predict(_problems()), ens.predict(_problems()), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)
    single = Forecaster.new(CFG, seed=0)
    assert isinstance(load_forecaster(single.save(tmp_path / "one")), Forecaster)


def test_bad_ensembles_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ForecastError, match="at least one"):
        ForecasterEnsemble([])
    other = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32, loss_context=True)
    with pytest.raises(ForecastError, match="share"):
        ForecasterEnsemble([Forecaster.new(CFG), Forecaster.new(other)])
    (tmp_path / "bad.json").write_text(
        json.dumps({"format": "scalinglaws.forecast-ensemble/1", "members": []})
    )
    with pytest.raises(ArtifactError, match="bad.json.*members"):
        load_forecaster(tmp_path / "bad")
    (tmp_path / "gone.json").write_text(
        json.dumps({"format": "scalinglaws.forecast-ensemble/1", "members": ["x"]})
    )
    with pytest.raises(ArtifactError, match="x.json: no such forecaster file"):
        load_forecaster(tmp_path / "gone")
    with pytest.raises(ArtifactError, match="nothing.json: no such forecaster file"):
        load_forecaster(tmp_path / "nothing")
