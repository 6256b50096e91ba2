"""Validation of runs and evals tables: defaults, computed columns, exclusions and error messages."""

from __future__ import annotations

import math
import re
from contextlib import AbstractContextManager

import numpy as np
import pandas as pd
import pytest

from scalinglaws.compute import nonembedding_params
from scalinglaws.data.validate import format_rows, validate_evals, validate_runs
from scalinglaws.errors import DataValidationError

SRC = "runs.csv"


def curve(run: str, losses: list[float], params: float = 1e8) -> pd.DataFrame:
    steps = np.arange(1, len(losses) + 1) * 100
    return pd.DataFrame(
        {"run": run, "step": steps, "params": params, "tokens": steps * 1e6, "loss": losses}
    )


def raises(message: str) -> AbstractContextManager[pytest.ExceptionInfo[DataValidationError]]:
    return pytest.raises(DataValidationError, match=re.escape(message))


# ------------------------------------------------------------------------------------------ runs


def test_minimal_runs_get_names_family_and_flops() -> None:
    runs = validate_runs(
        pd.DataFrame({"params": [1e8, 4e8], "tokens": [2e9, 8e9], "loss": [3.1, 2.9]}), SRC
    )
    assert runs.table["run"].tolist() == ["row-1", "row-2"]
    assert runs.table["family"].tolist() == ["default", "default"]
    assert runs.table["flops"].tolist() == [6 * 1e8 * 2e9, 6 * 4e8 * 8e9]
    assert list(runs.table.columns) == ["run", "family", "params", "tokens", "flops", "loss"]
    assert isinstance(runs.table.index, pd.RangeIndex)
    assert runs.source == SRC and runs.convention == "6ND"
    assert any("'run'" in n for n in runs.notes)
    assert any("'family'" in n for n in runs.notes)
    assert any("'flops' computed" in n for n in runs.notes)
    assert runs.excluded.empty and list(runs.excluded.columns)[-2:] == ["reason", "source_row"]


def test_tokens_from_flops_with_another_convention() -> None:
    df = pd.DataFrame({"params": [1e8], "flops": [1e18], "loss": [3.0], "width": [512], "depth": [6]})
    runs = validate_runs(df, SRC, convention="6ND-nonembedding")
    expected = 1e18 / (6 * nonembedding_params(512, 6))
    assert runs.table["tokens"][0] == pytest.approx(expected, rel=1e-15)
    assert runs.convention == "6ND-nonembedding"
    assert runs.table["width"].dtype == np.int64


def test_partial_tokens_filled_from_flops() -> None:
    df = pd.DataFrame({"params": [1e8, 1e8], "tokens": [1e9, np.nan], "flops": [6e17, 1.2e18],
                       "loss": [3.0, 2.9]})  # fmt: skip
    runs = validate_runs(df, SRC)
    assert runs.table["tokens"].tolist() == [1e9, 2e9]
    assert any("'tokens' computed" in n and "row 2" in n for n in runs.notes)


def test_extra_columns_kept_after_canonical_ones() -> None:
    df = pd.DataFrame({"note": ["x"], "loss": [3.0], "tokens": [1e9], "params": [1e8], "seed": [0]})
    assert list(validate_runs(df).table.columns) == [
        "run", "family", "params", "tokens", "flops", "loss", "seed", "note",
    ]  # fmt: skip


def test_empty_table() -> None:
    with raises("runs.csv: empty table: no data rows (columns: params, loss)"):
        validate_runs(pd.DataFrame({"params": [], "loss": []}), SRC)


def test_missing_columns_listed_with_present_ones() -> None:
    with raises(
        "runs.csv: missing required column(s) 'loss', 'tokens' or 'flops'; "
        "columns present: run, params"
    ):
        validate_runs(pd.DataFrame({"run": ["a"], "params": [1e8]}), SRC)


def test_strings_in_numeric_column() -> None:
    df = pd.DataFrame({"params": ["1e8", "big", "2e8", "n/a"], "tokens": 1e9, "loss": 3.0})
    with raises("runs.csv: column 'params': non-numeric values in row 2 (value 'big')"):
        validate_runs(df, SRC)


def test_non_positive_params() -> None:
    df = pd.DataFrame({"params": [1e8, 2e8, -1, 3e8, 4e8, 5e8, 0], "tokens": 1e9,
                       "loss": 3.0})  # fmt: skip
    with raises("runs.csv: column 'params': non-positive values in rows 3, 7 (values -1, 0)"):
        validate_runs(df, SRC)


def test_missing_params_and_tokens() -> None:
    with raises("runs.csv: column 'params': missing values in row 2"):
        validate_runs(pd.DataFrame({"params": [1e8, None], "tokens": 1e9, "loss": 3.0}), SRC)
    df = pd.DataFrame({"params": 1e8, "tokens": [1e9, None], "flops": [6e17, None], "loss": 3.0})
    with raises("runs.csv: column 'tokens': missing values in row 2"):
        validate_runs(df, SRC)


def test_many_rows_are_capped_at_ten() -> None:
    df = pd.DataFrame({"params": -np.arange(1, 13, dtype=float), "tokens": 1e9, "loss": 3.0})
    with raises("rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 (and 2 more) (values -1, -2"):
        validate_runs(df, SRC)


def test_bad_step() -> None:
    df = curve("a", [3.0, 2.9, 2.8]).assign(step=[0, 1.5, -2])
    with raises("runs.csv: column 'step': negative values in row 3 (value -2)"):
        validate_runs(df, SRC)
    with raises("runs.csv: column 'step': non-integer values in row 2 (value 1.5)"):
        validate_runs(df.iloc[:2], SRC)


def test_fully_duplicated_rows() -> None:
    df = pd.concat([curve("a", [3.0, 2.9]), curve("a", [3.0])], ignore_index=True)
    with raises("runs.csv: all columns: fully duplicated row 3 (copies of row 1)"):
        validate_runs(df, SRC)


def test_duplicate_keys() -> None:
    df = curve("a", [3.0, 2.9]).assign(step=[100, 100])
    with raises("runs.csv: columns 'run', 'step': duplicate keys in rows 1, 2 (values ('a', 100)"):
        validate_runs(df, SRC)
    df = pd.DataFrame({"run": ["a", "b", "a"], "params": 1e8, "tokens": 1e9, "loss": [3, 2, 1]})
    with raises(
        "runs.csv: columns 'run', 'tokens': duplicate keys in rows 1, 3 "
        "(values ('a', 1000000000), ('a', 1000000000))"
    ):
        validate_runs(df, SRC)


def test_nan_loss_excludes_whole_run_with_reason() -> None:
    df = pd.concat([curve("a", [3.0, 2.9, 2.8]), curve("b", [3.1, np.nan, 2.9])], ignore_index=True)
    runs = validate_runs(df, SRC)
    assert runs.table["run"].unique().tolist() == ["a"]
    assert runs.excluded["run"].tolist() == ["b", "b", "b"]
    assert runs.excluded["source_row"].tolist() == [4, 5, 6]
    assert set(runs.excluded["reason"]) == {"diverged: non-finite loss in row 5 (value nan)"}
    assert any("excluded 3 rows of 1 diverged runs" in n for n in runs.notes)
    with raises("runs.csv: column 'loss': run 'b' diverged: non-finite loss in row 5 (value nan)"):
        validate_runs(df, SRC, on_diverged="error")


def test_exploding_and_huge_losses() -> None:
    df = pd.concat(
        [curve("ok", [4.0, 3.0, 3.5]), curve("up", [4.0, 3.0, 4.6]), curve("big", [3.0, 2e6])],
        ignore_index=True,
    )
    runs = validate_runs(df, SRC)
    assert runs.table["run"].unique().tolist() == ["ok"]
    reasons = runs.excluded.groupby("run")["reason"].first()
    assert reasons["up"] == (
        "diverged: last loss 4.6 (row 6) exceeds 1.5 x the run's minimum loss 3"
    )
    assert reasons["big"] == "diverged: loss above 1e+06 in row 8 (value 2000000)"
    assert len(validate_runs(df.iloc[:6], SRC, explode_factor=None)) == 6


def test_all_runs_excluded() -> None:
    df = curve("a", [np.nan, np.nan])
    with raises("runs.csv: all runs excluded: 2 rows: diverged: non-finite loss in rows 1, 2"):
        validate_runs(df, SRC)


def test_exclude_column() -> None:
    df = curve("a", [3.0, 2.9, 2.8]).assign(exclude=["", "bad eval", None])
    df.loc[1, "params"] = -5  # flagged rows are not range-checked
    runs = validate_runs(df, SRC)
    assert len(runs) == 2 and "exclude" not in runs.table.columns
    assert runs.excluded[["reason", "source_row"]].values.tolist() == [["bad eval", 2]]
    assert any("excluded 1 rows flagged in column 'exclude'" in n for n in runs.notes)
    with raises("runs.csv: all runs excluded: 1 row: skip"):
        validate_runs(curve("a", [3.0]).assign(exclude="skip"), SRC)


def test_source_rows_used_in_messages() -> None:
    df = pd.DataFrame({"params": [1e8, -1], "tokens": 1e9, "loss": 3.0})
    with raises("non-positive values in row 12 (value -1)"):
        validate_runs(df, SRC, source_rows=[11, 12])


def test_bad_options() -> None:
    df = curve("a", [3.0])
    with pytest.raises(ValueError, match="on_diverged"):
        validate_runs(df, on_diverged="ignore")
    with pytest.raises(Exception, match="unknown FLOP convention"):
        validate_runs(df, convention="7ND")


def test_format_rows() -> None:
    assert format_rows([4]) == "row 4"
    assert format_rows([1, 2], ["a", math.inf]) == "rows 1, 2 (values 'a', inf)"


# ----------------------------------------------------------------------------------------- evals


def evals_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run": "m",
            "step": [1000, 1000, 2000, 2000],
            "task": "piqa",
            "metric": "acc",
            "value": [0.55, 0.56, 0.6, 0.61],
            "stderr": 0.01,
            "num_fewshot": [0, 5, 0, 5],
        }
    )


def test_evals_defaults_and_keys() -> None:
    ev = validate_evals(evals_frame(), "evals.csv")
    assert list(ev.table.columns) == [
        "run", "family", "params", "step", "tokens", "task", "metric", "value", "stderr",
        "num_fewshot",
    ]  # fmt: skip
    assert ev.table["params"].isna().all() and ev.table["tokens"].isna().all()
    assert ev.table["num_fewshot"].dtype == np.int64
    assert ev.tasks() == ["piqa"] and ev.runs() == ["m"]
    assert "not given, set to NaN: params, tokens" in ev.notes


def test_evals_duplicate_key_without_fewshot() -> None:
    with raises(
        "evals.csv: columns 'run', 'step', 'task', 'metric': duplicate keys in rows 1, 2, 3, 4"
    ):
        validate_evals(evals_frame().drop(columns="num_fewshot"), "evals.csv")


def test_evals_errors() -> None:
    with raises("evals.csv: missing required column(s) 'task'; columns present: run, value"):
        validate_evals(pd.DataFrame({"run": ["m"], "value": [0.5]}), "evals.csv")
    with raises("evals.csv: column 'value': non-numeric values in row 3 (value 'x')"):
        validate_evals(evals_frame().assign(value=["0.1", "0.2", "x", "0.3"]), "evals.csv")
    with raises("evals.csv: column 'params': non-positive values in rows 1, 2, 3, 4 (values -7"):
        validate_evals(evals_frame().assign(params=-7e7), "evals.csv")
    with raises("evals.csv: column 'stderr': negative values in row 1 (value -0.1)"):
        validate_evals(evals_frame().assign(stderr=[-0.1, 0, 0, 0]), "evals.csv")
    with raises("evals.csv: column 'task': missing values in row 2"):
        validate_evals(evals_frame().assign(task=["a", None, "b", "c"]), "evals.csv")
    with raises("evals.csv: empty table"):
        validate_evals(evals_frame().iloc[:0], "evals.csv")


def test_evals_exclude_column() -> None:
    ev = validate_evals(evals_frame().assign(exclude=["", "", "contaminated", ""]), "evals.csv")
    assert len(ev) == 3 and ev.excluded["reason"].tolist() == ["contaminated"]
    assert "excluded 1 rows flagged in column 'exclude'" in ev.notes


def test_evals_non_finite_values_excluded() -> None:
    ev = validate_evals(evals_frame().assign(value=[0.5, np.nan, 0.6, 0.7]), "evals.csv")
    assert len(ev) == 3
    assert ev.excluded[["reason", "source_row"]].values.tolist() == [["non-finite value (nan)", 2]]
    with raises("evals.csv: all rows excluded: 4 rows: non-finite value (nan)"):
        validate_evals(evals_frame().assign(value=np.nan), "evals.csv")
