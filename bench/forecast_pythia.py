"""Forecasting Pythia downstream accuracy: the neural forecaster against its baselines (the NeuNeu set-up).

Protocol (``shared/reference/measured.md`` section 2): the standard zero-shot runs of the held-out sizes
70m, 1.4b, 2.8b, 6.9b, acc_norm where a task has it else acc (65 tasks); the backtest harness's time split
(context = checkpoints with 0 < tokens <= f x final tokens, targets = every later checkpoint); per-problem
MAE in accuracy points averaged over problems, per group (MMLU / other / all). No run of a held-out size
is in the forecaster's training data (see ``scalinglaws.forecast.data``).

Methods: ``neural`` (the shipped ensemble of three seeds; its context tokens carry the run's LAMBADA loss at
the observed checkpoints only, looked up in the bundled data, and its queries read cross-run reference
features, see ``scalinglaws.forecast.reference``), optionally ``--ablation NAME=WEIGHTS`` for other trained
models (e.g. ``scalinglaws forecast-train --no-reference-features --seeds 0``, the session-1 recipe),
``logistic-loss`` (oracle: the paper's logistic law in log LAMBADA loss, fitted on the training-size runs,
given the true future loss), ``logistic-loss-forecast`` (the same law at the loss forecast from the
context: no oracle), ``logistic-loss-others`` (the same law
fitted on every other standard run, held-out sizes included: ``measured.md``'s recipe), ``sigmoid-tokens``,
``line3`` and ``last-value``. Among the harness's scores it prints ``rank_runs``: the pairwise ranking
accuracy of the held-out runs at each (task, target checkpoint), "which model is better".

The same leaderboards come from the command line::

    scalinglaws backtest pythia --split time --context-fraction 0.1,0.2,0.4 \
        --methods neural,logistic-loss,logistic-loss-forecast,logistic-loss-others,sigmoid-tokens,line3,\
last-value

Usage:
    .venv/bin/python bench/forecast_pythia.py [--fractions 0.1,0.2,0.4] [--ablation neural-nosyn=PATH]
        [--markdown out.md]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from scalinglaws import datasets
from scalinglaws.backtest import TimeSplit, backtest, get_method, select_data
from scalinglaws.forecast.baselines import NeuralMethod
from scalinglaws.forecast.data import HELD_OUT_SIZES

RUNS = [f"pythia-{s}" for s in HELD_OUT_SIZES]
#: The issue's baselines (the oracle logistic law, a per-task sigmoid in log tokens, last value), then
#: every other non-neural method.
ISSUE_BASELINES = ("logistic-loss", "sigmoid-tokens", "last-value")
SHOW = ["mae", "mae_median", "rank_acc", "rank_runs", "cov50", "cov80", "floor_stderr", "floor_jitter"]


def _ratios(group: pd.DataFrame) -> str:
    """The neural MAE over the best baseline's: of the issue's three, and of every non-neural method."""
    mae = dict(zip(group["method"], group["mae"], strict=True))
    if "neural" not in mae:
        return ""
    issue = {m: v for m, v in mae.items() if m in ISSUE_BASELINES}
    other = {m: v for m, v in mae.items() if not m.startswith("neural")}
    parts = []
    for label, pool in (("the issue's baselines", issue), ("every baseline", other)):
        if pool:
            best = min(pool, key=pool.get)
            parts.append(
                f"{mae['neural'] / pool[best]:.2f}x the best of {label} ({best} {pool[best]:.3f})"
            )
    return "\nneural MAE: " + "; ".join(parts) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fractions", default="0.1,0.2,0.4")
    ap.add_argument("--ablation", action="append", default=[], help="NAME=WEIGHTS (a saved forecaster)")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--markdown", help="also write the tables here")
    args = ap.parse_args()

    evals = select_data(datasets.load("pythia"), where={"run": RUNS})
    methods = [NeuralMethod()]
    for spec in args.ablation:
        name, _, path = spec.partition("=")
        methods.append(NeuralMethod(weights=path, name=name))
    if not args.no_baselines:
        names = [
            "logistic-loss",
            "logistic-loss-forecast",
            "logistic-loss-others",
            "sigmoid-tokens",
            "line3",
            "last-value",
        ]
        methods += [get_method(name) for name in names]
    lines = []
    for f in (float(v) for v in args.fractions.split(",")):
        t0 = time.perf_counter()
        res = backtest(evals, TimeSplit(f), methods, executor="serial")
        board = res.leaderboard
        start = len(lines)
        lines.append(f"\n### f = {f:g} ({time.perf_counter() - t0:.0f} s)\n")
        for group in ("other", "mmlu", "all"):
            g = board[board["group"] == group]
            lines.append(
                f"\n{group}: {int(g['n_problems'].max())} problems, {int(g['n_targets'].max())} targets\n"
            )
            lines.append("| method | " + " | ".join(SHOW) + " |")
            lines.append("|---" * (len(SHOW) + 1) + "|")
            for _, r in g.iterrows():
                cells = [
                    f"{r[c]:.3f}" if c in ("rank_acc", "rank_runs", "cov50", "cov80") else f"{r[c]:.2f}"
                    for c in SHOW
                ]
                lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
            lines.append(_ratios(g))
        print("\n".join(lines[start:]), flush=True)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
