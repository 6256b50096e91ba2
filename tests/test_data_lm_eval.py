"""lm-evaluation-harness results JSON: real Pythia v0.3 files, hand-written v0.4 files, bad input."""

from __future__ import annotations

import json
import math
import re
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from scalinglaws import datasets
from scalinglaws.data import read_lm_eval
from scalinglaws.errors import DataValidationError

DATA = Path(__file__).parent / "data"
PYTHIA = DATA / "lm_eval" / "pythia-70m"
V04 = DATA / "lm_eval_v04" / "results_2024-05-01T10-00-00.json"


def raises(message: str) -> AbstractContextManager[pytest.ExceptionInfo[DataValidationError]]:
    return pytest.raises(DataValidationError, match=re.escape(message))


def test_pythia_v03_file() -> None:
    ev = read_lm_eval(PYTHIA / "zero-shot" / "70m_step143000.json")
    t = ev.table
    assert set(t["run"]) == {"pythia-v1.1-70m"} and set(t["step"]) == {143000}
    assert set(t["num_fewshot"]) == {0} and t["tokens"].isna().all() and t["params"].isna().all()
    lambada = t[t["task"] == "lambada_openai"].set_index("metric")
    assert lambada.loc["ppl", "value"] == 142.42891015470678
    assert lambada.loc["ppl", "stderr"] == 6.043810708201551
    assert lambada.loc["acc", "value"] == 0.18455268775470599
    assert "acc_stderr" not in set(t["metric"])
    assert t["task"].nunique() == 87


def test_pythia_matches_bundled_table() -> None:
    """The reader gives exactly the numbers of the bundled 'pythia' dataset for the same checkpoints."""
    ev = read_lm_eval(PYTHIA, run="pythia-70m", params=70_426_624, tokens_per_step=2_097_152)
    assert ev.notes[0] == "read 3 lm-evaluation-harness results files"
    bundled = datasets.load("pythia").table
    bundled = bundled[(bundled["run"] == "pythia-70m") & bundled["step"].isin([1000, 143000])]
    key = ["run", "step", "task", "metric", "num_fewshot"]
    cols = key + ["params", "tokens", "value", "stderr"]
    mine = ev.table[cols].sort_values(key).reset_index(drop=True)
    theirs = bundled[cols].sort_values(key).reset_index(drop=True)
    assert len(mine) == len(theirs) == 472
    assert mine.equals(theirs.astype(mine.dtypes.to_dict()))


def test_zero_and_five_shot_are_not_duplicates() -> None:
    ev = read_lm_eval([PYTHIA / "zero-shot" / "70m_step143000.json", PYTHIA / "five-shot"])
    assert sorted(ev.table["num_fewshot"].unique()) == [0, 5]
    assert ev.source.endswith("(and 1 more)")


def test_v04_file() -> None:
    ev = read_lm_eval(V04, family="pythia", tokens_per_step={"pythia-160m": 2_097_152})
    t = ev.table.set_index(["task", "metric"])
    assert set(ev.table["run"]) == {"pythia-160m"} and set(ev.table["family"]) == {"pythia"}
    assert set(ev.table["step"]) == {3000} and set(ev.table["tokens"]) == {3000 * 2_097_152}
    assert set(ev.table["params"]) == {162322944}  # model_num_parameters
    assert t.loc[("arc_easy", "acc_norm"), "stderr"] == 0.010020646555538689
    assert t.loc[("gsm8k", "exact_match,strict-match"), "value"] == 0.0075815011372251705
    assert t.loc[("gsm8k", "exact_match,flexible-extract"), "num_fewshot"] == 5
    assert math.isnan(t.loc[("lambada_openai", "acc"), "stderr"])  # "N/A"
    assert ("lambada_openai", "note") not in t.index and len(ev) == 6


def test_v04_dict_model_args_local_checkpoint() -> None:
    ev = read_lm_eval(DATA / "lm_eval_v04_local")
    assert ev.table[["run", "step", "task", "value"]].values.tolist() == [
        ["my-run", 4000, "piqa", 0.599]
    ]


def test_per_run_mapping_must_cover_runs() -> None:
    with raises(f"{V04}: no params given for run 'pythia-160m' (given for 'other')"):
        read_lm_eval(V04, params={"other": 1e9})


def write(tmp_path: Path, doc: object, name: str = "m_step10.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def test_bad_input(tmp_path: Path) -> None:
    path = write(tmp_path, "{not json")
    with raises(f"{path}: not valid JSON (Expecting property name enclosed in double quotes, line 1"):
        read_lm_eval(path)
    path = write(tmp_path, {"config": {}})
    with raises(f"{path}: no 'results' object: not an lm-evaluation-harness results file"):
        read_lm_eval(path)
    path = write(tmp_path, {"results": {}})
    with raises(f"{path}: 'results' is empty"):
        read_lm_eval(path)
    path = write(tmp_path, {"results": {"piqa": {"acc": 0.5}}}, name="final.json")
    with raises(f"{path}: cannot find the training step: no 'revision=step<k>' in model_args"):
        read_lm_eval(path)
    path = write(tmp_path, {"results": {"piqa": {"alias": "piqa", "acc": "N/A"}}})
    with raises(f"{path}: no numeric metrics in any results file"):
        read_lm_eval(path)
    with raises(f"{tmp_path / 'nope'}: no such file or directory"):
        read_lm_eval(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with raises(f"{tmp_path / 'empty'}: no *.json files in this directory"):
        read_lm_eval(tmp_path / "empty")


def test_same_checkpoint_in_two_files(tmp_path: Path) -> None:
    doc = {"results": {"piqa": {"acc": 0.5}}, "config": {"model_args": "pretrained=m,revision=step5"}}
    first, second = write(tmp_path, doc, "a.json"), write(tmp_path, doc, "b.json")
    with raises(f"{second}: task 'piqa' metric 'acc' at step 5 (run 'm', num_fewshot nan) "
                f"was already read from {first}"):  # fmt: skip
        read_lm_eval(tmp_path)


def test_all_nan_scores(tmp_path: Path) -> None:
    path = write(tmp_path, '{"results": {"piqa": {"acc": NaN, "acc_stderr": NaN}}}')
    with raises(f"{path}: all rows excluded: 1 row: non-finite value (nan)"):
        read_lm_eval(path)


def test_negative_stderr_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, {"results": {"piqa": {"acc": 0.5, "acc_stderr": -1}}})
    with raises(f"{path}: column 'stderr': negative values in row 1 (value -1)"):
        read_lm_eval(path)
