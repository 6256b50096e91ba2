"""Weights & Biases history exports: single-run and panel CSVs, blank cells, bad input."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from scalinglaws.data import read_wandb_history
from scalinglaws.errors import DataValidationError

DATA = Path(__file__).parent / "data" / "wandb"
HISTORY = DATA / "history.csv"
PANEL = DATA / "panel.csv"


def raises(message: str) -> AbstractContextManager[pytest.ExceptionInfo[DataValidationError]]:
    return pytest.raises(DataValidationError, match=re.escape(message))


def test_single_run_history() -> None:
    runs = read_wandb_history(HISTORY, params=1.2e8, tokens_per_step=524_288, loss_column="train/loss")
    t = runs.table
    assert t["run"].unique().tolist() == ["history"]
    assert t["step"].tolist() == [50, 100, 200, 250, 300]
    assert t["loss"].tolist() == [6.41, 5.12, 4.55, 4.31, 4.12]
    assert t["tokens"].tolist() == [s * 524_288 for s in (50, 100, 200, 250, 300)]
    assert t["flops"].tolist() == [6 * 1.2e8 * x for x in t["tokens"]]
    # step 0 is kept aside with a reason; the blank loss at step 150 is dropped and said so
    assert runs.excluded[["step", "reason", "source_row"]].values.tolist() == [
        [0, "no tokens seen yet (tokens = 0)", 1]
    ]
    assert "run 'history': dropped 1 rows with a blank 'train/loss'" in runs.notes


def test_eval_loss_has_blanks_at_other_steps() -> None:
    runs = read_wandb_history(
        HISTORY, params=1.2e8, tokens_per_step=524_288, loss_column="eval/loss", run="r1",
        family="sweep",
    )  # fmt: skip
    assert runs.table[["run", "family"]].drop_duplicates().values.tolist() == [["r1", "sweep"]]
    assert runs.table["step"].tolist() == [100, 200, 300]
    assert "run 'r1': dropped 3 rows with a blank 'eval/loss'" in runs.notes


def test_ambiguous_loss_column() -> None:
    with raises(f"{HISTORY}: cannot pick the loss column, pass loss_column=...; candidates: "
                "train/loss, eval/loss"):  # fmt: skip
        read_wandb_history(HISTORY, params=1e8, tokens_per_step=1)
    with raises(f"{HISTORY}: loss column 'val/loss' not found; metrics present: _runtime"):
        read_wandb_history(HISTORY, params=1e8, tokens_per_step=1, loss_column="val/loss")


def test_panel_export() -> None:
    runs = read_wandb_history(
        PANEL, params={"small-120m": 1.2e8, "big-350m": 3.5e8}, tokens_per_step=1_048_576
    )
    t = runs.table
    assert t[["run", "step", "loss"]].values.tolist() == [
        ["small-120m", 100, 5.21], ["small-120m", 200, 4.6], ["small-120m", 300, 4.33],
        ["big-350m", 100, 4.93], ["big-350m", 300, 4.02], ["big-350m", 400, 3.88],
    ]  # fmt: skip
    assert t.groupby("run", sort=False)["params"].first().tolist() == [1.2e8, 3.5e8]
    assert "ignored 4 __MIN/__MAX band columns of the panel export" in runs.notes
    assert "run 'big-350m': dropped 1 rows with a blank 'train/loss'" in runs.notes
    one = read_wandb_history(PANEL, params=3.5e8, tokens_per_step=1_048_576, run="big-350m")
    assert one.table["run"].unique().tolist() == ["big-350m"]


def test_panel_errors() -> None:
    with raises(f"{PANEL}: no params given for run 'big-350m'; pass params={{run name: value}} "
                "(given for: 'small-120m')"):  # fmt: skip
        read_wandb_history(PANEL, params={"small-120m": 1.2e8}, tokens_per_step=1)
    with raises(f"{PANEL}: no run 'medium'; runs: small-120m, big-350m"):
        read_wandb_history(PANEL, params=1e8, tokens_per_step=1, run="medium")


def test_tokens_column(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("_step,train/loss,train/tokens\n1,5.0,1000\n2,4.0,\n3,3.5,3000\n")
    runs = read_wandb_history(path, params=1e6)  # the tokens column is found by name
    assert runs.table[["step", "tokens"]].values.tolist() == [[1, 1000], [3, 3000]]
    assert "run 'h': dropped 1 rows with a blank 'train/loss' or 'train/tokens'" in runs.notes
    with raises(f"{path}: tokens column 'tok' not found"):
        read_wandb_history(path, params=1e6, tokens_per_step="tok")


def test_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("")
    with raises(f"{path}: empty file"):
        read_wandb_history(path, params=1e8, tokens_per_step=1)
    path.write_text("_runtime,loss\n1,3.0\n")
    with raises(f"{path}: no step column; expected one of _step, Step"):
        read_wandb_history(path, params=1e8, tokens_per_step=1)
    path.write_text("_step,loss\n1,3.0\n2,2.9\n")
    with raises(f"{path}: cannot compute tokens: pass tokens_per_step"):
        read_wandb_history(path, params=1e8)
    path.write_text("_step,loss\n1,3.0\n2,oops\n")
    with raises(f"{path}: column 'loss': non-numeric values in row 2 (value 'oops')"):
        read_wandb_history(path, params=1e8, tokens_per_step=1)
    path.write_text("_step,loss\n1,3.0\n2,2.9\n")
    with raises(f"{path}: column 'params': non-positive values in rows 1, 2 (values -1, -1)"):
        read_wandb_history(path, params=-1, tokens_per_step=1)
    path.write_text("_step,loss\n1,3.0\n1,2.9\n")
    with raises(f"{path}: columns 'run', 'step': duplicate keys in rows 1, 2"):
        read_wandb_history(path, params=1e8, tokens_per_step=1)


def test_logged_nan_is_divergence_not_blank(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("Step,a - loss,b - loss\n1,3.0,3.0\n2,2.9,NaN\n3,,2.8\n")
    runs = read_wandb_history(path, params=1e8, tokens_per_step=1)
    assert runs.table["run"].unique().tolist() == ["a"]
    assert set(runs.excluded["reason"]) == {"diverged: non-finite loss in row 2 (value nan)"}
    with raises(f"{path}: all runs excluded"):
        read_wandb_history(path, params=1e8, tokens_per_step=1, run="b")
