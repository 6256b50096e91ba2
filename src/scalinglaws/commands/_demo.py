"""The forecast and the backtest of ``scalinglaws demo``: the shipped forecaster on a Pythia run whose size
it never saw, and a compute-split backtest of a few laws and a baseline on the bundled Chinchilla runs.

Example:
    >>> DEMO_RUN, len(DEMO_TASKS), DEMO_CONTEXT
    ('pythia-1.4b', 8, 0.2)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["DEMO_CONTEXT", "DEMO_METHODS", "DEMO_RUN", "DEMO_TASKS", "demo_backtest", "demo_forecast",
           "describe_forecast"]

#: The standard zero-shot run forecast: 1.4b is one of the sizes kept out of the forecaster's training.
DEMO_RUN = "pythia-1.4b"
#: The eight non-MMLU tasks of the bundled Pythia evals.
DEMO_TASKS = ("arc_easy", "arc_challenge", "lambada_openai", "logiqa", "piqa", "sciq", "winogrande", "wsc")
#: Observed part of the run's training tokens.
DEMO_CONTEXT = 0.2
#: Backtest methods: Chinchilla's law, the universality law at its fixed exponents, and two baselines.
DEMO_METHODS = ("chinchilla", "universality", "power", "last-value")


def demo_forecast() -> tuple[Any, str | None]:
    """The forecast of :data:`DEMO_RUN` from :data:`DEMO_CONTEXT` of its training, as a
    :class:`~scalinglaws.forecast.result.ForecastSet`; ``(None, reason)`` where torch is not installed."""
    try:
        importlib.import_module("torch")
    except ImportError as exc:
        return None, (f"The forecast was skipped: the neural forecaster needs torch, which is not installed "
                      f"({exc}). Install it with pip install 'scalinglaws[torch]'.")
    from scalinglaws import datasets
    from scalinglaws.backtest import select_data
    from scalinglaws.forecast.result import forecast_set

    pythia = datasets.load("pythia")
    evals = select_data(pythia, where={"run": [DEMO_RUN]}, num_fewshot=0)
    losses = pythia.table[pythia.table["run"] == DEMO_RUN]  # LAMBADA perplexity: the context losses
    note = (f"{DEMO_RUN} is the standard (non-deduplicated) zero-shot run; scores are acc_norm where a task "
            "has it, else acc.")
    return forecast_set(evals, runs=[DEMO_RUN], tasks=list(DEMO_TASKS), context_fraction=DEMO_CONTEXT,
                        loss_frame=losses, notes=[note]), None


def describe_forecast(fset: Any, echo: Callable[[str], Any]) -> None:
    """Print the forecast at each task's final checkpoint and the errors over the future checkpoints."""
    from scalinglaws.report.forecast_section import forecast_numbers

    nums = forecast_numbers(fset)
    tasks, overall, pct = nums["tasks"], nums["overall"], nums["pct"]
    k = 100.0 if pct else 1.0
    sign = "%" if pct else ""
    final = tasks[0]["final"]["tokens"]
    seen = "a size the forecaster never saw" if fset.held_out(fset.runs[0]) else "a size seen in training"
    echo(f"forecast of {', '.join(fset.runs)} ({seen}) from {fset.context_fraction:.0%} of its training "
         f"tokens; at the final checkpoint ({final:.3g} tokens), median [80% interval] vs truth:")
    for t in tasks:
        fin = t["final"]
        band = f"[{k * fin['lo80']:.1f}, {k * fin['hi80']:.1f}]{sign}" if fin["lo80"] is not None else ""
        truth = f"  truth {k * fin['truth']:.1f}{sign}" if fin["truth"] is not None else ""
        echo(f"  {t['name']:<14} {k * fin['median']:5.1f}{sign} {band:<16}{truth}")
    if overall["mae"] is not None and overall["coverage80"] is not None:
        unit = nums["unit"]
        echo(f"  over {overall['with_truth']} future checkpoints: MAE {overall['mae']:.2f} {unit} "
             f"(last value carried forward: {overall['last_value_mae']:.2f} {unit}); 80% intervals held "
             f"{overall['coverage80']:.0%}")


def demo_backtest(bootstrap: int = 200) -> Any:
    """A compute-split backtest of :data:`DEMO_METHODS` on the bundled Chinchilla runs (a second or two)."""
    from scalinglaws import datasets
    from scalinglaws.backtest import ComputeSplit, LawMethod, backtest, get_method

    methods = [get_method(m) for m in DEMO_METHODS]
    methods = [get_method(m.name, bootstrap=bootstrap) if isinstance(m, LawMethod) else m for m in methods]
    return backtest(datasets.load("chinchilla"), ComputeSplit(), methods, executor="serial", seed=0)
