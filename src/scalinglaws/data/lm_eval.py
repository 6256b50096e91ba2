"""Reader for lm-evaluation-harness results JSON (one file per checkpoint) into an ``Evals`` table.

Both layouts are understood:

* v0.3 (e.g. the Pythia evals): ``{"results": {task: {"acc": .., "acc_stderr": ..}},
  "config": {"model_args": "pretrained=..,revision=step143000", "num_fewshot": 0}}``;
* v0.4+: ``{"results": {task: {"alias": .., "acc,none": .., "acc_stderr,none": ..}},
  "n-shot": {task: k}, "config": {"model_args": str | dict, "model_num_parameters": ..}}``.

Each numeric metric becomes one row with its ``_stderr`` partner as ``stderr`` (NaN when absent or
``"N/A"``); aliases and other non-numeric entries are skipped. A v0.4 filter other than ``none`` stays in the
metric name (``exact_match,strict-match``). The step comes from ``revision=step<k>`` in ``model_args``, else
a ``step<k>`` in the ``pretrained`` path, else ``step<k>`` in the file name. The run name comes from the
``pretrained`` path, else ``model_name``, else the file name (checkpoint folders such as ``step1000`` or
``checkpoint-1000`` at the end of a path are skipped).

Example:
    >>> import json, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.json"
    >>> _ = path.write_text(json.dumps({"results": {"piqa": {"alias": "piqa", "acc,none": 0.6,
    ...     "acc_stderr,none": 0.01}}, "n-shot": {"piqa": 0},
    ...     "config": {"model_args": "pretrained=org/my-model,revision=step2000"}}))
    >>> ev = read_lm_eval(path, tokens_per_step=1024)
    >>> ev.table[["run", "step", "tokens", "task", "metric", "value", "stderr"]].to_dict("records")
    [{'run': 'my-model', 'step': 2000, 'tokens': 2048000.0, 'task': 'piqa', 'metric': 'acc', \
'value': 0.6, 'stderr': 0.01}]
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from scalinglaws.data.tables import Evals
from scalinglaws.data.validate import validate_evals
from scalinglaws.errors import DataValidationError

__all__ = ["read_lm_eval"]

_STEP = re.compile(r"step[-_]?(\d+)", re.IGNORECASE)
_CHECKPOINT_DIR = re.compile(r"^(global_)?step[-_]?\d+$|^checkpoint[-_]\d+$|^iter[-_]?\d+$", re.I)

PathLike = str | Path
PerRun = float | Mapping[str, float] | None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _model_args(config: Mapping[str, object]) -> dict[str, str]:
    args = config.get("model_args")
    if isinstance(args, Mapping):
        return {str(k): str(v) for k, v in args.items()}
    if isinstance(args, str):
        pairs = (part.partition("=") for part in args.split(",") if "=" in part)
        return {k.strip(): v.strip() for k, _, v in pairs}
    return {}


def _step(args: Mapping[str, str], path: Path) -> int:
    for text in (args.get("revision", ""), args.get("pretrained", ""), path.name):
        match = _STEP.search(text)
        if match:
            return int(match.group(1))
    raise DataValidationError(
        f"{path}: cannot find the training step: no 'revision=step<k>' in model_args and no "
        "'step<k>' in the file name"
    )


def _name_from_path(text: str) -> str | None:
    parts = [p for p in re.split(r"[/\\]", text) if p and not _CHECKPOINT_DIR.match(p)]
    return parts[-1] if parts else None


def _run_name(args: Mapping[str, str], doc: Mapping[str, object], path: Path) -> str:
    for text in (args.get("pretrained"), doc.get("model_name")):
        name = _name_from_path(text) if isinstance(text, str) else None
        if name:
            return name
    return re.sub(r"[-_]?step[-_]?\d+", "", path.stem, flags=re.I) or path.stem


def _per_run(value: PerRun, run: str, what: str, path: Path) -> float:
    if value is None:
        return math.nan
    if isinstance(value, Mapping):
        if run not in value:
            known = ", ".join(map(repr, value))
            raise DataValidationError(f"{path}: no {what} given for run {run!r} (given for {known})")
        return float(value[run])
    return float(value)


def _load(path: Path) -> dict[str, object]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataValidationError(
            f"{path}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{path}: cannot read ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise DataValidationError(
            f"{path}: no 'results' object: not an lm-evaluation-harness results file"
        )
    if not doc["results"]:
        raise DataValidationError(f"{path}: 'results' is empty")
    return doc


def _rows(path: Path, run: str | None, params: PerRun, tokens_per_step: PerRun) -> list[dict]:
    doc = _load(path)
    config = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    args = _model_args(config)
    step = _step(args, path)
    name = run or _run_name(args, doc, path)
    n_shot = doc.get("n-shot") if isinstance(doc.get("n-shot"), dict) else {}
    size = _per_run(params, name, "params", path)
    if math.isnan(size) and _is_number(config.get("model_num_parameters")):
        size = float(config["model_num_parameters"])
    tokens = step * _per_run(tokens_per_step, name, "tokens_per_step", path)
    rows = []
    for task, metrics in doc["results"].items():
        if not isinstance(metrics, dict):
            continue
        shots = n_shot.get(task, config.get("num_fewshot"))
        for key, value in metrics.items():
            metric, comma, filt = key.partition(",")
            if metric.endswith("_stderr") or not _is_number(value):
                continue
            stderr = metrics.get(f"{metric}_stderr{comma}{filt}")
            rows.append(
                {
                    "run": name,
                    "params": size,
                    "step": step,
                    "tokens": tokens,
                    "task": task,
                    "metric": metric if filt in ("", "none") else key,
                    "value": float(value),
                    "stderr": float(stderr) if _is_number(stderr) else math.nan,
                    "num_fewshot": float(shots) if _is_number(shots) else math.nan,
                    "_file": str(path),
                }
            )
    return rows


def _files(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(item.rglob("*.json"))
            if not found:
                raise DataValidationError(f"{item}: no *.json files in this directory")
            files += found
        elif item.is_file():
            files.append(item)
        else:
            raise DataValidationError(f"{item}: no such file or directory")
    if not files:
        raise DataValidationError("read_lm_eval: no paths given")
    return files


def read_lm_eval(
    paths: PathLike | Sequence[PathLike],
    run: str | None = None,
    family: str | None = None,
    params: PerRun = None,
    tokens_per_step: PerRun = None,
) -> Evals:
    """Read lm-evaluation-harness results files (v0.3 or v0.4+) into a validated ``Evals`` table.

    Args:
        paths: a results file, a directory (searched recursively for ``*.json``), or a list of them.
        run: the run name for every file (default: from ``model_args``/``model_name``/file name).
        family: the family for every row (default ``'default'``).
        params: parameter count, one for all runs or a mapping run -> count (default: the file's
            ``model_num_parameters`` where given, else NaN).
        tokens_per_step: tokens per optimizer step, one number or a mapping run -> number; ``tokens`` is
            ``step * tokens_per_step`` (NaN when not given).

    Example:
        >>> import json, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> for step, acc in [(1000, 0.55), (2000, 0.6)]:
        ...     doc = {"results": {"sciq": {"acc": acc, "acc_stderr": 0.02}},
        ...            "config": {"model_args": f"pretrained=org/m,revision=step{step}",
        ...                       "num_fewshot": 0}}
        ...     _ = (folder / f"m_step{step}.json").write_text(json.dumps(doc))
        >>> read_lm_eval(folder, params=7e7).table[["step", "value", "num_fewshot"]].values.tolist()
        [[1000.0, 0.55, 0.0], [2000.0, 0.6, 0.0]]
    """
    files = _files(paths)
    rows: list[dict] = []
    for path in files:
        rows += _rows(path, run, params, tokens_per_step)
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    source = str(items[0]) + (f" (and {len(items) - 1} more)" if len(items) > 1 else "")
    if not rows:
        raise DataValidationError(f"{source}: no numeric metrics in any results file")
    frame = pd.DataFrame(rows)
    key = ["run", "step", "task", "metric", "num_fewshot"]
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        first = frame[dup].groupby(key, dropna=False, sort=False)["_file"].agg(list).iloc[0]
        row = frame[dup].iloc[0]
        raise DataValidationError(
            f"{first[1]}: task {row['task']!r} metric {row['metric']!r} at step {row['step']} "
            f"(run {row['run']!r}, num_fewshot {row['num_fewshot']:g}) was already read from "
            f"{first[0]}"
        )
    if family is not None:
        frame.insert(1, "family", family)
    evals = validate_evals(frame.drop(columns="_file"), source)
    note = f"read {len(files)} lm-evaluation-harness results files"
    return dataclasses.replace(evals, notes=(note, *evals.notes))
