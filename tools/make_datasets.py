"""Build the bundled datasets in src/scalinglaws/datasets/files/ from ../shared/data.

Usage: ``.venv/bin/python tools/make_datasets.py [--shared PATH]``

Writes ``chinchilla.csv.gz``, ``pythia.csv.gz`` and their ``*.PROVENANCE.txt`` files (with the SHA-256 of
every input file). Output is byte-reproducible: gzip with mtime 0, rows in a fixed order, floats written
as the shortest text that reads back to the same double (checked after writing). ``LICENSE-Apache-2.0.txt``
beside them is the verbatim Apache License 2.0 text and is not generated.

This is the only place that reads ../shared; the package and its tests use the files it writes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "scalinglaws" / "datasets" / "files"

EPOCH_COMMIT = "92258837425e1b5f2851d624287f0120583a3d0e"
SHAPES_COMMIT = "07360e3decddf64d0e6b6322f5f82b79d0dd4596"
PYTHIA_COMMIT = "a19eecb807ec2c79a39ebf18108816e6ffffc1d5"
OUTLIER_REASON = "outlier: one of the 5 highest losses, dropped by Besiroglu et al. 2024"

#: Pythia architecture (n_layers, d_model, padded vocabulary): layers and width from the Pythia README;
#: vocabulary sizes from the Hugging Face model configs (50304, padded further to 50432 for 6.9b and
#: 50688 for 12b for model parallelism; with 50304 the 12b count would be 3,932,160 short).
PYTHIA_SHAPES = {
    "70m": (6, 512, 50304),
    "160m": (12, 768, 50304),
    "410m": (24, 1024, 50304),
    "1b": (16, 2048, 50304),
    "1.4b": (24, 2048, 50304),
    "2.8b": (32, 2560, 50304),
    "6.9b": (32, 4096, 50432),
    "12b": (36, 5120, 50688),
}
STANDARD_TOKENS_PER_STEP = 2_097_152  # 1024 sequences x 2048 tokens
MEBI = 2**20  # the "M" of the batch-size ablations: 2M tokens = 2 x 2**20 = 2,097,152


def pythia_params(depth: int, width: int, vocab: int) -> int:
    """Total parameters of a Pythia model: untied input/output embeddings, blocks, final layer norm.

    >>> pythia_params(*PYTHIA_SHAPES["70m"])
    70426624
    """
    return 2 * vocab * width + depth * (12 * width**2 + 13 * width) + 2 * width


def sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, recorded in the provenance texts."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_csv_gz(frame: pd.DataFrame, path: Path) -> None:
    """Gzip-compressed CSV, byte-reproducible (mtime 0, no file name in the header)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    path.write_bytes(buffer.getvalue())
    text = {c: str for c in frame.columns if pd.api.types.is_string_dtype(frame[c])}
    back = pd.read_csv(path, dtype=text, keep_default_na=False)  # no NaN in what we write
    pd.testing.assert_frame_equal(back, frame, check_dtype=False, check_exact=True)


def build_chinchilla(shared: Path) -> str:
    """Write chinchilla.csv.gz and its provenance; return the data file name."""
    epoch_path = shared / "epoch-chinchilla" / "data" / "svg_extracted_data.csv"
    shapes_path = shared / "epoch-chinchilla" / "data" / "chinchilla_with_shapes.csv"
    epoch, shapes = pd.read_csv(epoch_path), pd.read_csv(shapes_path)
    assert len(epoch) == len(shapes) == 245
    pairs = (("Model Size", "model_size"), ("Training FLOP", "FLOP"), ("loss", "loss"))
    for a, b in pairs:  # same points, same order: equal to within one unit in the last place
        assert np.allclose(epoch[a], shapes[b], rtol=5e-16, atol=0), (a, b)
    params, compute = epoch["Model Size"], epoch["Training FLOP"]
    tokens = compute / (6.0 * params)
    assert np.allclose(tokens, shapes["num_tokens"], rtol=1e-15, atol=0)
    frame = pd.DataFrame(
        {
            "run": [f"chinchilla-{i:03d}" for i in range(len(epoch))],
            "family": "chinchilla",
            "params": params,
            "tokens": tokens,
            "flops": compute,
            "loss": epoch["loss"],
            "width": shapes["d_model"].astype(int),
            "depth": shapes["n_layers"].astype(int),
            "exclude": "",
        }
    )
    worst = frame["loss"].nlargest(5).index
    assert frame["loss"].drop(worst).max() < frame["loss"][worst].min()  # no tie at the cut
    frame.loc[worst, "exclude"] = OUTLIER_REASON
    write_csv_gz(frame, OUT / "chinchilla.csv.gz")
    (OUT / "chinchilla.PROVENANCE.txt").write_text(
        f"""\
Bundled dataset 'chinchilla' (scalinglaws/datasets/files/chinchilla.csv.gz)
==========================================================================

What: 245 (params, training FLOPs, final training loss) points of the Chinchilla runs, digitised from
Fig. 4 of Hoffmann et al. 2022, with the model shape (d_model -> width, n_layers -> depth).

Sources
- params, FLOPs, loss: Epoch AI, github.com/epoch-research/analyzing-chinchilla,
  data/svg_extracted_data.csv, commit {EPOCH_COMMIT}
  (sha256 {sha256(epoch_path)}).
  Besiroglu, Erdil, Barnett, You 2024, "Chinchilla Scaling: A replication attempt", arXiv 2404.10102.
- width, depth: github.com/liuyz0/DepthScaling, Scaling/get_fitting_data_chinchilla.csv,
  commit {SHAPES_COMMIT} (sha256 {sha256(shapes_path)}), the same 245 points in the same order
  matched to the Chinchilla paper's model table. Its params/FLOPs/loss agree with Epoch's to within
  one unit in the last place; Epoch's values are used.
- Underlying data: Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models",
  arXiv 2203.15556, Fig. 4.

Changes: rows named chinchilla-000 ... chinchilla-244 in source order; family 'chinchilla';
tokens = FLOPs / (6 params) (FLOP convention 6ND); the 5 highest-loss rows carry
exclude = "{OUTLIER_REASON}", so scalinglaws.datasets.load('chinchilla') returns 240 included and
5 excluded rows.

Licence: neither origin repository states a licence. The values are numbers digitised from a
published figure and a published model table; they are bundled here with attribution to
Hoffmann et al. 2022, Besiroglu et al. 2024 (Epoch AI) and Liu et al. (DepthScaling). If you
redistribute them, keep this attribution. No other rights are claimed or granted.
""",
        encoding="utf-8",
    )
    return "chinchilla.csv.gz"


def tokens_per_step(variant: str) -> int:
    """Tokens per optimizer step of a Pythia run variant ('standard', 'bf16', '0.5MtokBS', ...)."""
    match = re.fullmatch(r"([\d.]+)MtokBS", variant)
    return round(float(match.group(1)) * MEBI) if match else STANDARD_TOKENS_PER_STEP


def family(deduped: bool, variant: str) -> str:
    """The family a Pythia run belongs to: one family per training recipe and data set."""
    if variant.endswith("MtokBS"):
        return "pythia-small-batch"
    return "pythia-deduped" if deduped else "pythia"


def build_pythia(shared: Path) -> str:
    """Write pythia.csv.gz and its provenance; return the data file name."""
    source = shared / "pythia-evals" / "pythia_v1_evals_long.csv.gz"
    raw = pd.read_csv(source)
    assert len(raw) == 114_496
    assert pythia_params(*PYTHIA_SHAPES["70m"]) == 70_426_624
    assert pythia_params(*PYTHIA_SHAPES["12b"]) == 11_846_072_320
    shape = raw["size"].map(PYTHIA_SHAPES)
    depth, width, vocab = shape.str[0], shape.str[1], shape.str[2]
    frame = pd.DataFrame(
        {
            "run": raw["model"],
            "family": [family(d, v) for d, v in zip(raw["deduped"], raw["variant"], strict=True)],
            "params": [pythia_params(*s) for s in zip(depth, width, vocab, strict=True)],
            "step": raw["step"],
            "tokens": raw["step"] * raw["variant"].map(tokens_per_step),
            "task": raw["task"],
            "metric": raw["metric"],
            "value": raw["value"],
            "stderr": raw["stderr"],
            "num_fewshot": raw["num_fewshot"],
            "size": raw["size"],
            "deduped": raw["deduped"],
            "variant": raw["variant"],
            "width": width,
            "depth": depth,
        }
    )
    # task-major order compresses best (a task's scores repeat across checkpoints and runs)
    frame = frame.sort_values(["task", "metric", "num_fewshot", "run", "step"], kind="mergesort")
    write_csv_gz(frame.reset_index(drop=True), OUT / "pythia.csv.gz")
    (OUT / "pythia.PROVENANCE.txt").write_text(
        f"""\
Bundled dataset 'pythia' (scalinglaws/datasets/files/pythia.csv.gz)
===================================================================

What: lm-evaluation-harness (v0.3) results of the Pythia suite over training, one row per
(run, step, num_fewshot, task, metric): 8 sizes (70m ... 12b) x {{standard, deduped}} (of the
non-deduplicated 1b only the bf16 run, pythia-1b-bf16, has evals), and the batch-size ablations
pythia-70m-0.25MtokBS, pythia-{{160m,410m,1b}}-0.5MtokBS, pythia-1.4b-1MtokBS; zero-shot and
five-shot; 87 tasks.

Source: EleutherAI, github.com/EleutherAI/pythia, folder evals/pythia-v1/, commit
{PYTHIA_COMMIT}, flattened (every JSON except the baseline/intervention case study) into
pythia_v1_evals_long.csv.gz (sha256 {sha256(source)}).
Biderman et al. 2023, "Pythia: A Suite for Analyzing Large Language Models Across Training and
Scaling", arXiv 2304.01373.

Changes (as required by section 4(b) of the Apache License): column model renamed run; columns
model_args and source_file dropped; added family (pythia | pythia-deduped | pythia-small-batch
for the *MtokBS ablations), params (2*V*d + L*(12 d^2 + 13 d) + 2 d: untied embeddings, blocks,
final layer norm; padded vocabulary V = 50304, but 50432 for 6.9b and 50688 for 12b as in the
Hugging Face configs: 70,426,624 for 70m ... 11,846,072,320 for 12b), width (d_model) and depth
(n_layers) from the Pythia README, and tokens = step x tokens per step (2,097,152 = 1024 x 2048 for the
standard, deduped and bf16 runs; x * 2**20 for an xMtokBS ablation); rows reordered. Values and
standard errors are unchanged (written as the shortest decimal that reads back to the same double).

Licence: Apache License 2.0 (the licence of the EleutherAI/pythia repository); full text below.
Copyright the EleutherAI contributors.
""",
        encoding="utf-8",
    )
    return "pythia.csv.gz"


def main() -> None:
    """Build every bundled dataset and print its size and SHA-256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for name in (build_chinchilla(args.shared), build_pythia(args.shared)):
        path = OUT / name
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:,} bytes  sha256 {sha256(path)}")


if __name__ == "__main__":
    main()
