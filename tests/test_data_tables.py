"""The Runs / Evals tables: final checkpoints, content hash, immutability."""

from __future__ import annotations

import dataclasses
import hashlib
import struct

import numpy as np
import pandas as pd
import pytest

from scalinglaws.data import Runs, validate_evals, validate_runs
from scalinglaws.data.tables import frame_hash

CURVES = pd.DataFrame(
    {
        "run": ["a", "a", "a", "b", "b"],
        "step": [300, 100, 200, 100, 200],
        "params": [1e8, 1e8, 1e8, 4e8, 4e8],
        "tokens": [3e9, 1e9, 2e9, 1e9, 2e9],
        "loss": [3.0, 3.4, 3.2, 3.1, 2.9],
        "lr": 1e-3,
    }
)


def test_final_keeps_last_step_of_each_run() -> None:
    runs = validate_runs(CURVES, "c.csv")
    final = runs.final()
    assert isinstance(final, Runs) and final.source == "c.csv"
    assert final.table[["run", "step", "loss"]].values.tolist() == [["a", 300, 3.0], ["b", 200, 2.9]]
    assert final.notes[-1] == "final(): kept the last checkpoint (largest step) of each of 2 runs"
    assert len(runs) == 5  # the original is unchanged


def test_final_without_step_uses_tokens() -> None:
    final = validate_runs(CURVES.drop(columns="step"), explode_factor=None).final()
    assert final.table["tokens"].tolist() == [3e9, 2e9]


def test_hash_ignores_order_dtypes_and_index() -> None:
    base = validate_runs(CURVES).data_hash()
    shuffled = CURVES.sample(frac=1.0, random_state=1).set_index(pd.Index([9, 8, 7, 6, 5]))
    assert validate_runs(shuffled).data_hash() == base
    assert validate_runs(CURVES.astype({"step": float})).data_hash() == base
    assert validate_runs(CURVES[["lr", "loss", "run", "step", "params", "tokens"]]).data_hash() == base
    changed = CURVES.assign(loss=CURVES["loss"] + np.r_[0, 0, 0, 0, 1e-12])
    assert validate_runs(changed).data_hash() != base
    assert validate_runs(CURVES.assign(run=["a", "a", "a", "c", "c"])).data_hash() != base


def test_hash_is_pinned() -> None:
    """The serialisation is part of saved artifacts: changing it must be deliberate."""
    frame = pd.DataFrame({"run": ["x"], "value": [0.5], "ok": [True], "n": [None]})
    assert frame_hash(frame) == frame_hash(frame.copy())
    assert frame_hash(pd.DataFrame({"a": [-0.0]})) == frame_hash(pd.DataFrame({"a": [0.0]}))
    # column name, then a kind tag and the little-endian float64 values
    spec = hashlib.sha256(b"a\x1e" + b"f" + struct.pack("<2d", 1.0, 2.0) + b"\x1d").hexdigest()
    assert frame_hash(pd.DataFrame({"a": [2, 1]})) == spec == (
        "afd2f92c7ad3a4a87d0ec80b038ba3a8664a6bb816280f7c4f1ba8e0be42f497"
    )


def test_tables_are_frozen_and_repr_is_short() -> None:
    runs = validate_runs(CURVES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        runs.source = "x"  # type: ignore[misc]
    assert repr(runs) == "Runs(source='<table>', rows=5, runs=2, excluded=0, convention='6ND')"
    frame = runs.to_frame()
    frame.loc[0, "loss"] = 99.0
    assert runs.table.loc[0, "loss"] == 3.0


def test_evals_helpers() -> None:
    ev = validate_evals(
        pd.DataFrame({"run": ["m2", "m1", "m2"], "step": [1, 1, 2], "task": ["sciq", "piqa", "sciq"],
                      "value": [0.5, 0.6, 0.7]})  # fmt: skip
    )
    assert ev.runs() == ["m2", "m1"] and ev.tasks() == ["piqa", "sciq"]
    assert len(ev) == 3 and len(ev.data_hash()) == 64
    assert ev.to_frame().equals(ev.table)
