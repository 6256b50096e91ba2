"""The fewer-runs claim: fixed exponents need fewer model sizes to extrapolate (Liu & Gore 2026).

On the bundled Chinchilla points (240 runs of 43 model shapes), fit each law on the runs of the ``k``
smallest model sizes only and predict the held-out larger ones:

* ``universality``: ``L0 + c_m/m + c_l/l + c_D/D^(1/3)``, exponents fixed at the class values (4 linear
  coefficients);
* ``chinchilla``: ``E + A/N^alpha + B/D^beta`` with free exponents (5 parameters);
* ``universality-free``: the universality law with its 3 exponents fitted too (7 parameters), for reference.

Test sets: (a) the 8 largest sizes (2.6e9-1.6e10 params), the same for every k, trained on the k smallest
of the other 35; (b) every size larger than the k used. Error: mean |prediction - loss| / loss over the
held-out runs.
A "model size" is a model shape (width, depth): the digitised parameter counts of one model differ in the last
digits, so sizes are the clusters of :func:`scalinglaws.fit.bootstrap.cluster_ids` (43, one per shape). The
project's ``backtest.SizeSplit`` holds out distinct ``params`` values (140 here), so the split is done here.

Usage: ``.venv/bin/python bench/fewer_runs.py [--plot docs/figures/fewer_runs.png]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglaws import datasets
from scalinglaws.fit import fit
from scalinglaws.fit.bootstrap import cluster_ids

ROOT = Path(__file__).resolve().parents[1]
LAWS = {
    "universality": ("universality", {}),
    "chinchilla": ("chinchilla", {}),
    "universality-free": ("universality", {"exponents": "free"}),
}
KS = (35, 30, 25, 20, 15, 12, 10, 8, 6, 5, 4)
TEST_SIZES = 8


def mre(result, frame: pd.DataFrame) -> float:
    X = {c: frame[c].to_numpy(float) for c in result.law.inputs}
    return float(np.mean(np.abs(result.predict(X) / frame["loss"].to_numpy(float) - 1.0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "figures" / "fewer_runs.png")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "fewer_runs.json")
    args = parser.parse_args()
    start = time.perf_counter()

    table = datasets.load("chinchilla").table.copy()
    table["size"] = cluster_ids(table["params"].to_numpy(float))  # 0 = smallest
    n_sizes = int(table["size"].max()) + 1
    pool = table[table["size"] < n_sizes - TEST_SIZES]
    fixed_test = table[table["size"] >= n_sizes - TEST_SIZES]
    rows = []
    for k in KS:
        train = pool[pool["size"] < k]
        larger = table[table["size"] >= k]
        row = {
            "k": k,
            "runs": len(train),
            "largest_trained": float(train["params"].max()),
            "widths": int(train["width"].nunique()),
            "depths": int(train["depth"].nunique()),
        }
        for name, (law, options) in LAWS.items():
            result = fit(train, law, law_options=options or None)
            row[f"{name}:top8"] = mre(result, fixed_test)
            row[f"{name}:larger"] = mre(result, larger)
            bounds = [d.message.split(" is at ")[0] for d in result.diagnostics if d.code == "bound_hit"]
            row[f"{name}:bounds"] = ", ".join(bounds)
        rows.append(row)
    frame = pd.DataFrame(rows)

    print(
        f"Chinchilla points, {n_sizes} model sizes; test (a): the {TEST_SIZES} largest sizes "
        f"({len(fixed_test)} runs, {fixed_test['params'].min():.2g}-{fixed_test['params'].max():.2g} "
        "params)\n"
    )
    print(
        "| k smallest sizes | runs | largest trained | widths x depths | universality (fixed) "
        "| chinchilla (free) | universality (free) | universality (fixed), all larger "
        "| chinchilla, all larger |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        flags = {n: " (" + r[f"{n}:bounds"] + " at bound)" if r[f"{n}:bounds"] else "" for n in LAWS}
        print(
            f"| {r['k']} | {r['runs']} | {r['largest_trained']:.2g} | {r['widths']} x {r['depths']} | "
            f"{100 * r['universality:top8']:.2f}%{flags['universality']} | "
            f"{100 * r['chinchilla:top8']:.2f}%{flags['chinchilla']} | "
            f"{100 * r['universality-free:top8']:.2f}%{flags['universality-free']} | "
            f"{100 * r['universality:larger']:.2f}% | {100 * r['chinchilla:larger']:.2f}% |"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed")
    else:
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
        for name, style in (("universality", "o-"), ("chinchilla", "s-"), ("universality-free", "^--")):
            ax.plot(frame["k"], 100 * frame[f"{name}:top8"], style, ms=4, label=name.replace("-", " "))
        ax.set_xlabel("model sizes fitted (the k smallest)")
        ax.set_ylabel(f"error on the {TEST_SIZES} largest sizes (%)")
        ax.set_yscale("log")
        ax.invert_xaxis()
        ax.grid(alpha=0.3, which="both")
        ax.legend(frameon=False, fontsize=8)
        ax.set_title("Chinchilla points: extrapolation from fewer sizes", fontsize=9)
        fig.tight_layout()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot, dpi=100)
        print(f"\nplot: {args.plot}")
    print(f"{args.json} written; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
