"""Bundled datasets: real public scaling data shipped with the package, with provenance and licence.

========== ===== ====== ==================================================================================
name       kind  rows   what
========== ===== ====== ==================================================================================
chinchilla runs  245    Chinchilla final losses (Hoffmann et al. 2022, digitised by Epoch AI) with shapes
pythia     evals 114496 Pythia lm-eval-harness scores over training (EleutherAI), zero- and five-shot
========== ===== ====== ==================================================================================

The files live in ``scalinglaws/datasets/files/`` as gzip-compressed CSV (readable without pyarrow) and
are built by ``tools/make_datasets.py``; :func:`licence_text` gives the provenance and licence of each.

Example:
    >>> from scalinglaws import datasets
    >>> [d.name for d in datasets.list()]
    ['chinchilla', 'pythia']
    >>> datasets.load("chinchilla")
    Runs(source='bundled:chinchilla', rows=240, runs=240, excluded=5, convention='6ND')
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
from importlib import resources

import pandas as pd

from scalinglaws.data.readers import read_table
from scalinglaws.data.tables import Evals, Runs
from scalinglaws.data.validate import validate_evals, validate_runs
from scalinglaws.errors import DataValidationError

__all__ = ["DatasetInfo", "info", "licence_text", "list", "load", "names"]


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a bundled dataset is and where it comes from.

    Attributes:
        name: the key for :func:`load`.
        kind: ``'runs'`` or ``'evals'``.
        description: one line.
        rows: data rows in the bundled file (included plus excluded).
        licence: the licence in a few words.
        citation: the work(s) to cite.
        file: file name under ``scalinglaws/datasets/files/``.
        licence_files: the provenance/licence texts joined by :func:`licence_text`.
        convention: FLOP convention of a runs dataset (``None`` for evals).
    """

    name: str
    kind: str
    description: str
    rows: int
    licence: str
    citation: str
    file: str
    licence_files: tuple[str, ...]
    convention: str | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the fields.

        Example:
            >>> info("chinchilla").to_dict()["licence_files"]
            ['chinchilla.PROVENANCE.txt']
        """
        out = dataclasses.asdict(self)
        out["licence_files"] = builtins.list(self.licence_files)
        return out


_DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in (
        DatasetInfo(
            name="chinchilla",
            kind="runs",
            description=(
                "Chinchilla final training losses of 245 runs (params, tokens, FLOPs, width, depth), "
                "digitised from Hoffmann et al. 2022 Fig. 4; the 5 highest losses are flagged as "
                "outliers, as in Besiroglu et al. 2024"
            ),
            rows=245,
            licence="none stated upstream; numbers digitised from a published figure, "
            "bundled with attribution",
            citation=(
                "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models, "
                "arXiv 2203.15556; Besiroglu et al. 2024, Chinchilla Scaling: A replication "
                "attempt, arXiv 2404.10102"
            ),
            file="chinchilla.csv.gz",
            licence_files=("chinchilla.PROVENANCE.txt",),
            convention="6ND",
        ),
        DatasetInfo(
            name="pythia",
            kind="evals",
            description=(
                "lm-evaluation-harness scores of the Pythia suite over training: 8 sizes x "
                "{standard, deduped}, the 1b bf16 run and 5 batch-size ablations; 87 tasks, "
                "zero- and five-shot"
            ),
            rows=114496,
            licence="Apache-2.0",
            citation=(
                "Biderman et al. 2023, Pythia: A Suite for Analyzing Large Language Models Across "
                "Training and Scaling, arXiv 2304.01373"
            ),
            file="pythia.csv.gz",
            licence_files=("pythia.PROVENANCE.txt", "LICENSE-Apache-2.0.txt"),
        ),
    )
}


def names() -> builtins.list[str]:
    """The bundled dataset names.

    Example:
        >>> names()
        ['chinchilla', 'pythia']
    """
    return sorted(_DATASETS)


def list() -> builtins.list[DatasetInfo]:
    """Every bundled dataset, by name.

    Example:
        >>> [(d.name, d.kind, d.rows) for d in list()]
        [('chinchilla', 'runs', 245), ('pythia', 'evals', 114496)]
    """
    return [_DATASETS[n] for n in names()]


def info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of one dataset; an unknown name raises, listing the known ones.

    Example:
        >>> info("pythia").licence
        'Apache-2.0'
        >>> info("gpt5")
        Traceback (most recent call last):
        ...
        scalinglaws.errors.DataValidationError: unknown dataset 'gpt5'; bundled: chinchilla, pythia
    """
    try:
        return _DATASETS[name]
    except KeyError:
        raise DataValidationError(
            f"unknown dataset {name!r}; bundled: {', '.join(names())}"
        ) from None


def _text(file: str) -> str:
    return (resources.files(__name__) / "files" / file).read_text(encoding="utf-8")


@functools.cache
def _raw(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files(__name__) / "files" / info(name).file) as path:
        return read_table(path)


def load(name: str) -> Runs | Evals:
    """Load a bundled dataset as a validated ``Runs`` or ``Evals`` table.

    Example:
        >>> ev = load("pythia")
        >>> len(ev), ev.table["num_fewshot"].unique().tolist()
        (114496, [0, 5])
    """
    found = info(name)
    frame = _raw(name).copy()
    source = f"bundled:{name}"
    if found.kind == "runs":
        return validate_runs(frame, source, convention=found.convention or "6ND")
    return validate_evals(frame, source)


def licence_text(name: str) -> str:
    """Provenance and licence of a bundled dataset (to keep with any copy of its data).

    Example:
        >>> "Apache License" in licence_text("pythia")
        True
    """
    return "\n\n".join(_text(f) for f in info(name).licence_files)
