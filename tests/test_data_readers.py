"""File readers: every format on good input, and bad input naming the file, the column and the rows."""

from __future__ import annotations

import gzip
import json
import re
from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd
import pytest

from scalinglaws.data import Evals, Runs, load_data, read_evals, read_runs, read_table
from scalinglaws.data.readers import MissingDependencyError
from scalinglaws.errors import DataValidationError

RUNS = pd.DataFrame(
    {
        "run": ["001", "001", "b"],
        "step": [100, 200, 100],
        "params": [1e8, 1e8, 4e8],
        "tokens": [1e9, 2e9, 1e9],
        "loss": [3.5, 3.2, 3.0],
    }
)
EVALS = pd.DataFrame(
    {"run": "m", "step": [10, 10], "task": ["piqa", "sciq"], "metric": "acc", "value": [0.6, 0.7]}
)


def write(frame: pd.DataFrame, path: Path) -> Path:
    name = path.name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    elif name.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")):
        text = "".join(json.dumps(r) + "\n" for r in frame.to_dict("records"))
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "wt") as handle:
            handle.write(text)
    else:
        frame.to_csv(path, sep="\t" if ".tsv" in name else ",", index=False)
    return path


def raises(message: str) -> AbstractContextManager[pytest.ExceptionInfo[DataValidationError]]:
    return pytest.raises(DataValidationError, match=re.escape(message))


SUFFIXES = [
    "runs.csv", "runs.csv.gz", "runs.tsv", "runs.tsv.gz", "runs.jsonl", "runs.ndjson",
    "runs.jsonl.gz", "runs.parquet",
]  # fmt: skip


@pytest.mark.parametrize("name", SUFFIXES)
def test_read_runs_every_format(tmp_path: Path, name: str) -> None:
    runs = read_runs(write(RUNS, tmp_path / name))
    assert isinstance(runs, Runs) and runs.source == str(tmp_path / name)
    assert runs.table["run"].tolist() == ["001", "001", "b"]  # run names stay text
    assert runs.table["flops"].tolist() == [6e17, 1.2e18, 2.4e18]
    assert runs.table["step"].dtype == "int64"


@pytest.mark.parametrize("name", ["evals.csv", "evals.jsonl", "evals.parquet"])
def test_read_evals_every_format(tmp_path: Path, name: str) -> None:
    ev = read_evals(write(EVALS, tmp_path / name))
    assert isinstance(ev, Evals) and ev.table["value"].tolist() == [0.6, 0.7]


def test_same_hash_whatever_the_format(tmp_path: Path) -> None:
    hashes = {read_runs(write(RUNS, tmp_path / name)).data_hash() for name in SUFFIXES}
    assert len(hashes) == 1


def test_columns_mapping(tmp_path: Path) -> None:
    path = write(RUNS.rename(columns={"params": "N", "tokens": "D", "loss": "L"}), tmp_path / "x.csv")
    runs = read_runs(path, columns={"params": "N", "tokens": "D", "loss": "L"})
    assert runs.table["params"].tolist() == [1e8, 1e8, 4e8]
    with raises(f"{path}: columns mapping names 'NN', not in the file; columns present: run, step"):
        read_runs(path, columns={"params": "NN"})
    with raises(f"{path}: columns mapping renames onto existing column(s) 'run'"):
        read_runs(path, columns={"run": "L"})


def test_read_runs_passes_validation_options(tmp_path: Path) -> None:
    path = write(RUNS.assign(loss=[3.5, 9.0, 3.0]), tmp_path / "runs.csv")
    assert len(read_runs(path, explode_factor=None)) == 3
    with raises(f"{path}: column 'loss': run '001' diverged: last loss 9"):
        read_runs(path, on_diverged="error")


# ------------------------------------------------------------------------------------- bad input


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with raises(f"{tmp_path / 'nope.csv'}: no such file"):
        read_runs(tmp_path / "nope.csv")
    with raises(f"{tmp_path}: not a file"):
        read_table(tmp_path)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "runs.xlsx"
    path.write_text("x")
    with raises(f"{path}: unknown file type; supported suffixes: .csv, .csv.gz"):
        read_table(path)


@pytest.mark.parametrize("name", ["runs.csv", "runs.jsonl", "runs.csv.gz"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with raises(f"{path}: empty file"):
        read_runs(path)


def test_header_only_and_blank_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text("params,tokens,loss\n")
    with raises(f"{path}: no data rows (header only: params, tokens, loss)"):
        read_runs(path)
    path = tmp_path / "runs.jsonl"
    path.write_text("\n\n")
    with raises(f"{path}: no data rows"):
        read_runs(path)


def test_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    path.write_text('{"params": 1}\n{"params": \n')
    with raises(f"{path}: line 2: not valid JSON"):
        read_runs(path)
    path.write_text("[1, 2]\n")
    with raises(f"{path}: line 1: expected a JSON object"):
        read_runs(path)
    path = tmp_path / "runs.csv.gz"
    path.write_bytes(b"not gzip at all")
    with raises(f"{path}: cannot read"):
        read_runs(path)
    path = tmp_path / "runs.parquet"
    path.write_bytes(b"not parquet")
    with raises(f"{path}: cannot read"):
        read_runs(path)


@pytest.mark.parametrize("name", ["runs.csv", "runs.jsonl", "runs.parquet"])
def test_bad_runs_files(tmp_path: Path, name: str) -> None:
    path = write(RUNS.drop(columns="loss"), tmp_path / name)
    with raises(f"{path}: missing required column(s) 'loss'; columns present: run, step, params"):
        read_runs(path)
    path = write(RUNS.assign(params=["1e8", "1e8x", "4e8"]), tmp_path / name)
    with raises(f"{path}: column 'params': non-numeric values in row 2 (value '1e8x')"):
        read_runs(path)
    path = write(RUNS.assign(params=[1e8, 1e8, -4e8]), tmp_path / name)
    with raises(f"{path}: column 'params': non-positive values in row 3 (value -400000000)"):
        read_runs(path)
    path = write(RUNS.assign(loss=[float("nan")] * 3), tmp_path / name)
    with raises(f"{path}: all runs excluded: 2 rows: diverged: non-finite loss in rows 1, 2"):
        read_runs(path)
    path = write(pd.concat([RUNS, RUNS.iloc[[1]]]), tmp_path / name)
    with raises(f"{path}: all columns: fully duplicated row 4 (copies of row 2)"):
        read_runs(path)


@pytest.mark.parametrize("name", ["evals.csv", "evals.jsonl", "evals.parquet"])
def test_bad_evals_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with raises(f"{path}: empty file"):
        read_evals(path)
    path = write(EVALS.drop(columns="task"), path)
    with raises(f"{path}: missing required column(s) 'task'; columns present: run, step, metric"):
        read_evals(path)
    path = write(EVALS.assign(value=["0.6", "high"]), path)
    with raises(f"{path}: column 'value': non-numeric values in row 2 (value 'high')"):
        read_evals(path)
    path = write(EVALS.assign(params=[7e7, -7e7]), path)
    with raises(f"{path}: column 'params': non-positive values in row 2 (value -70000000)"):
        read_evals(path)
    path = write(EVALS.assign(value=float("nan")), path)
    with raises(f"{path}: all rows excluded: 2 rows: non-finite value (nan)"):
        read_evals(path)
    path = write(pd.concat([EVALS, EVALS.iloc[[0]]]), path)
    with raises(f"{path}: all columns: fully duplicated row 3 (copies of row 1)"):
        read_evals(path)
    path = write(EVALS.assign(task="piqa"), path)
    with raises(f"{path}: columns 'run', 'step', 'task', 'metric': duplicate keys in rows 1, 2"):
        read_evals(path)


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(RUNS, tmp_path / "runs.parquet")
    real = __import__("importlib.util").util.find_spec
    monkeypatch.setattr(
        "importlib.util.find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError, match="pip install 'scalinglaws\\[parquet\\]'"):
        read_runs(path)


# ------------------------------------------------------------------------------------- load_data


def test_load_data_detects_kind(tmp_path: Path) -> None:
    assert isinstance(load_data(write(RUNS, tmp_path / "r.csv")), Runs)
    assert isinstance(load_data(write(EVALS, tmp_path / "e.csv")), Evals)
    path = write(RUNS.rename(columns={"loss": "L"}), tmp_path / "l.csv")
    assert load_data(path, columns={"loss": "L"}, kind="runs").table["loss"].tolist() == [3.5, 3.2, 3.0]
    path = write(pd.DataFrame({"a": [1]}), tmp_path / "a.csv")
    with raises(f"{path}: cannot tell runs from evals: runs need params, loss and tokens or flops"):
        load_data(path)


def test_load_data_bundled() -> None:
    assert load_data("bundled:chinchilla").source == "bundled:chinchilla"
    assert isinstance(load_data("pythia", kind="evals"), Evals)
    with raises("bundled:pythia: holds evals, not runs"):
        load_data("pythia", kind="runs")
    with raises("bundled:chinchilla: its FLOPs follow '6ND', not '6ND-attention'"):
        load_data("chinchilla", convention="6ND-attention")
    with raises("gpt5: no such file or bundled dataset; bundled: chinchilla, pythia"):
        load_data("gpt5")
    with pytest.raises(ValueError, match="kind"):
        load_data("chinchilla", kind="loss")


def test_jsonl_with_nested_values(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    rows = [{"params": 1e8, "tokens": 1e9, "loss": 3.0, "config": {"lr": 1e-3}, "tags": ["a"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows * 2))
    with raises(f"{path}: all columns: fully duplicated row 2 (copies of row 1)"):
        read_runs(path)
    path.write_text(json.dumps(rows[0]) + "\n")
    runs = read_runs(path)
    assert runs.table["tags"].tolist() == [["a"]] and len(runs.data_hash()) == 64


def test_csv_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffrun,params,tokens,loss\na,1e8,1e9,3.0\n".encode())
    assert read_runs(path).table["run"].tolist() == ["a"]
