"""IsoFLOP Approach 2 against the Approach-3 frontier of a fitted law, on five published sweep collections.

Reads ``../shared/data/isoflops/isoflops.csv`` (no licence: used here only, never shipped or tested) and, per
study (``experiment``), runs :func:`scalinglaws.plan.isoflop_analysis`: a parabola per budget, the N* line,
and Chinchilla's law fitted to the same runs. Prints per study the two N* exponents with 95% bootstrap
intervals, their difference, how many budgets entered the line, and the sweep warnings we raise. A second
table repeats it without the rows that Open-Athena's quality checks flag (``isoflops_flagged.csv``), to see
how much the exponents move when off-centre and near-duplicate points are removed.

Usage: ``.venv/bin/python bench/isoflop_real.py [--bootstrap 200] [--law chinchilla]``
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from scalinglaws.plan import isoflop_analysis

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "isoflops"


def table(frame: pd.DataFrame, title: str, bootstrap: int, law: str) -> None:
    print(f"\n{title}")
    print(f"| study | runs | budgets used | approach 2 a | approach 3 a ({law}) | 2 - 3 | warnings | time |")
    print("|---|---|---|---|---|---|---|---|")
    for study, runs in frame.groupby("experiment", sort=True):
        start = time.perf_counter()
        result = isoflop_analysis(runs, law=law, bootstrap=bootstrap, seed=0)
        seconds = time.perf_counter() - start
        used = sum(s.used for s in result.sweeps)
        a3 = result.approach3.exponent if result.approach3 else "-"
        codes = Counter(d.code for d in result.all_diagnostics if d.severity != "info")
        flags = ", ".join(f"{c} x{n}" for c, n in sorted(codes.items()) if not c.startswith("approaches"))
        verdict = "**disagree**" if codes.get("approaches_disagree") else ""
        print(
            f"| {study} | {len(runs)} | {used}/{len(result.sweeps)} | {result.exponent} | {a3} | "
            f"{result.difference} {verdict} | {flags or '-'} | {seconds:.2f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--law", default="chinchilla")
    args = parser.parse_args()
    runs = pd.read_csv(DATA / "isoflops.csv")
    table(runs, "All rows", args.bootstrap, args.law)
    flagged = pd.read_csv(DATA / "isoflops_flagged.csv")
    table(flagged[~flagged["outlier"]], "Without Open-Athena's flagged rows", args.bootstrap, args.law)


if __name__ == "__main__":
    main()
