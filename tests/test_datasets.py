"""Bundled datasets: registry, exact contents, provenance and licence texts."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import resources

import numpy as np
import pytest

from scalinglaws import datasets
from scalinglaws.data import Evals, Runs
from scalinglaws.errors import DataValidationError

#: Total parameters per Pythia size (2 V d + L (12 d^2 + 13 d) + 2 d, V the padded vocabulary).
PYTHIA_PARAMS = {
    "70m": 70_426_624,
    "160m": 162_322_944,
    "410m": 405_334_016,
    "1b": 1_011_781_632,
    "1.4b": 1_414_647_808,
    "2.8b": 2_775_208_960,
    "6.9b": 6_857_302_016,
    "12b": 11_846_072_320,
}


@pytest.fixture(scope="module")
def pythia() -> Evals:
    ev = datasets.load("pythia")
    assert isinstance(ev, Evals)
    return ev


@pytest.fixture(scope="module")
def chinchilla() -> Runs:
    runs = datasets.load("chinchilla")
    assert isinstance(runs, Runs)
    return runs


def test_registry() -> None:
    infos = datasets.list()
    assert [(i.name, i.kind) for i in infos] == [("chinchilla", "runs"), ("pythia", "evals")]
    for i in infos:
        assert i.description and i.citation and i.licence
        assert (resources.files("scalinglaws.datasets") / "files" / i.file).is_file()
        assert i.to_dict()["name"] == i.name
    assert datasets.info("pythia").licence == "Apache-2.0"


def test_unknown_name_lists_known_ones() -> None:
    message = "unknown dataset 'gpt5'; bundled: chinchilla, pythia"
    with pytest.raises(DataValidationError, match=re.escape(message)):
        datasets.load("gpt5")
    with pytest.raises(DataValidationError, match="unknown dataset"):
        datasets.licence_text("gpt5")


def test_chinchilla(chinchilla: Runs) -> None:
    t, ex = chinchilla.table, chinchilla.excluded
    assert len(t) == 240 and len(ex) == 5 and datasets.info("chinchilla").rows == 245
    assert chinchilla.source == "bundled:chinchilla" and chinchilla.convention == "6ND"
    assert list(t.columns) == ["run", "family", "params", "tokens", "flops", "loss", "width", "depth"]
    assert t["run"].iloc[0] == "chinchilla-005" and set(t["family"]) == {"chinchilla"}
    np.testing.assert_allclose(t["tokens"] * 6 * t["params"], t["flops"], rtol=1e-15, atol=0)
    assert (t["width"] > 0).all() and (t["depth"] > 0).all() and t["depth"].dtype == np.int64
    # the 5 excluded rows are the 5 highest losses, with the reason written out
    assert set(ex["source_row"]) == {1, 2, 3, 4, 5}
    assert ex["loss"].min() > t["loss"].max()
    assert set(ex["reason"]) == {
        "outlier: one of the 5 highest losses, dropped by Besiroglu et al. 2024"
    }
    assert ex["loss"].round(4).tolist() == [5.0056, 4.6652, 3.7656, 3.7939, 3.447]
    assert t["params"].min() == pytest.approx(5.733e7, rel=1e-3)
    assert t["flops"].max() == pytest.approx(1.2956e22, rel=1e-4)


def test_chinchilla_hash_is_stable(chinchilla: Runs) -> None:
    """Fit artifacts store this hash; it changes only if the bundled data change."""
    assert chinchilla.data_hash() == datasets.load("chinchilla").data_hash()
    assert chinchilla.data_hash() == (
        "7ff6d26ee38bc1c74f1689824fac41056458064c11c868bc9313204554af79d5"
    )


def test_pythia(pythia: Evals) -> None:
    t = pythia.table
    assert len(t) == 114_496 == datasets.info("pythia").rows and pythia.excluded.empty
    assert list(t.columns) == [
        "run", "family", "params", "step", "tokens", "task", "metric", "value", "stderr",
        "num_fewshot", "size", "deduped", "variant", "width", "depth",
    ]  # fmt: skip
    assert len(pythia.runs()) == 21 and len(pythia.tasks()) == 87
    assert sorted(t["num_fewshot"].unique()) == [0, 5]
    params = t.groupby("size")["params"].agg(["min", "max"])
    for size, count in PYTHIA_PARAMS.items():
        assert params.loc[size, "min"] == params.loc[size, "max"] == count
    families = t.groupby("run")["family"].first()
    assert families["pythia-70m"] == "pythia" and families["pythia-1b-bf16"] == "pythia"
    assert families["pythia-70m-deduped"] == "pythia-deduped"
    assert families["pythia-1.4b-1MtokBS"] == "pythia-small-batch"


def test_pythia_tokens_per_step(pythia: Evals) -> None:
    t = pythia.table
    per_step = (t["tokens"] / t["step"].where(t["step"] > 0)).groupby(t["run"]).agg(["min", "max"])
    assert (per_step["min"] == per_step["max"]).all()
    assert per_step.loc["pythia-12b", "min"] == 2_097_152
    assert per_step.loc["pythia-70m-0.25MtokBS", "min"] == 262_144
    assert per_step.loc["pythia-410m-0.5MtokBS", "min"] == 524_288
    assert per_step.loc["pythia-1.4b-1MtokBS", "min"] == 1_048_576
    final = t.groupby("run")["tokens"].max()
    assert np.allclose(final, 3.0e11, rtol=1e-3)  # every run ends at ~300B tokens


def test_pythia_known_values(pythia: Evals) -> None:
    t = pythia.table
    row = t[(t["run"] == "pythia-70m") & (t["step"] == 143000) & (t["task"] == "lambada_openai")
            & (t["metric"] == "ppl") & (t["num_fewshot"] == 0)]  # fmt: skip
    assert row[["value", "stderr"]].values.tolist() == [[142.42891015470678, 6.043810708201551]]


def test_licence_texts() -> None:
    chin = datasets.licence_text("chinchilla")
    assert "92258837425e1b5f2851d624287f0120583a3d0e" in chin and "Besiroglu" in chin
    assert "07360e3decddf64d0e6b6322f5f82b79d0dd4596" in chin and "Hoffmann" in chin
    assert "neither origin repository states a licence" in " ".join(chin.split())
    pyth = datasets.licence_text("pythia")
    assert "a19eecb807ec2c79a39ebf18108816e6ffffc1d5" in pyth
    assert "Apache License" in pyth and "Version 2.0, January 2004" in pyth
    assert "Changes" in pyth


def test_files_are_small_csv_gz() -> None:
    files = resources.files("scalinglaws.datasets") / "files"
    sizes = {i.file: len((files / i.file).read_bytes()) for i in datasets.list()}
    assert all(name.endswith(".csv.gz") for name in sizes)
    assert sum(sizes.values()) < 1_500_000


def test_loads_without_pyarrow(chinchilla: Runs) -> None:
    """The core package reads the bundled files with pandas alone; the hash does not depend on it."""
    code = (
        "import sys; sys.modules['pyarrow'] = None\n"
        "from scalinglaws import datasets\n"
        "print(len(datasets.load('pythia')), datasets.load('chinchilla').data_hash())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["114496", chinchilla.data_hash()]
