"""Measured time, width and depth exponents on public loss curves, against the universality class (1/3, 1, 1).

Reads, from ``../shared/data`` (never shipped or tested; no licence for most):

* ``supercollapse`` (Qiu et al. 2025): whole test-loss curves of muP models at 8 widths, 1-7 seeds, several
  LR schedules; the authors' dynamic time ``tau`` is a column. Depth is fixed per task.
* ``multipowerlaw`` (Luo et al. 2025): training loss vs step of 3 sizes under 9 schedules; ``tau`` is the
  logged LR integrated over steps (linear warmup from 0 assumed before the first logged step).
* ``misfitting`` (Li et al. 2025): C4 eval loss at every epoch-checkpoint of 11 open_lm models; width and
  depth solved exactly from the non-embedding counts, ``N = l (12 m^2 + 2 m) + m``.
* the bundled Chinchilla points with shapes (Liu & Gore's own width/depth fit).

Time exponents: ``L = L0 + c t^-a`` per run (:func:`scalinglaws.exponents.time_exponent`: the first 5% of
the run left out, block-bootstrap 95% intervals). Width/depth: the universality law with free exponents on
final losses (:func:`scalinglaws.exponents.across_runs`), and for constant-LR runs on the losses at a common
step (where the time term is shared). Prints markdown tables; writes ``results/exponents_real.json``.

Usage: ``.venv/bin/python bench/exponents_real.py [--bootstrap 200]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglaws import datasets
from scalinglaws.exponents import Exponent, across_runs, curve_exponents, dynamic_time_of, fit_universality
from scalinglaws.fit import fit

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OUT = Path(__file__).resolve().parents[1] / "results" / "exponents_real.json"
SUPERCOLLAPSE = ("c5m", "chess", "chess_const", "mlp", "mlp_const", "c5m_schedules", "mlp_schedules")
ROWS: list[dict] = []


def time_row(dataset: str, axis: str, exps: list[Exponent], note: str = "") -> None:
    v = np.array([e.value for e in exps])
    held = sum(bool(e.consistent) for e in exps)
    ROWS.append(
        {
            "dataset": dataset, "quantity": "time", "axis": axis, "n": len(exps),
            "value": float(np.median(v)),
            "lo": float(np.quantile(v, 0.25)), "hi": float(np.quantile(v, 0.75)),
            "claimed": 1 / 3, "held": f"{held}/{len(exps)}", "note": note,
            "runs": [e.to_dict() for e in exps],
        }
    )  # fmt: skip


def size_rows(dataset: str, exps: list[Exponent], note: str) -> None:
    for e in exps:
        ROWS.append(
            {
                "dataset": dataset, "quantity": e.quantity, "axis": e.axis, "n": e.n_points, "value": e.value,
                "lo": e.lo, "hi": e.hi, "claimed": e.claimed, "held": "yes" if e.consistent else "no",
                "note": note + "".join(f"; **{w.split(' is at ')[0]} at a bound**" for w in e.warnings
                                       if " is at its " in w),
            }
        )  # fmt: skip


def supercollapse(bootstrap: int) -> None:
    for name in SUPERCOLLAPSE:
        runs = pd.read_csv(DATA / "supercollapse" / f"{name}_runs.csv")
        curves = pd.read_csv(DATA / "supercollapse" / f"{name}_curves.csv.gz")
        keep = ["run_id", "D"] + (["schedule"] if "schedule" in runs.columns else [])
        frame = curves.merge(runs[keep], on="run_id", suffixes=("", "_run"))
        frame = frame.rename(columns={"run_id": "run", "test_loss": "loss", "D": "width"})
        sched = f" ({', '.join(sorted(runs['schedule'].astype(str).unique()))})" if "schedule" in runs else ""
        for axis in ("tau", "step"):
            exps = curve_exponents(frame, axis=axis, bootstrap=bootstrap, seed=0)
            time_row(f"supercollapse/{name}", axis, exps, f"{len(exps)} runs{sched}")
        if name.endswith("_schedules"):
            continue
        widths = frame.groupby("run")["width"].first()
        if widths.nunique() >= 3:
            exps = across_runs(frame, axis="step", time=frame["step"].to_numpy(float), bootstrap=bootstrap)
            size_rows(f"supercollapse/{name}", exps, "final losses vs width (horizons grow with width)")
            if name.endswith("_const"):
                at = float(frame.groupby("run")["step"].max().min()) / 2
                exps = across_runs(frame, axis="step", time=frame["step"].to_numpy(float), at=at,
                                   bootstrap=bootstrap)  # fmt: skip
                size_rows(
                    f"supercollapse/{name}", exps, f"losses at step {at:.0f} (constant LR: time term shared)"
                )


def multipowerlaw(bootstrap: int) -> None:
    frames = []
    for folder in sorted((DATA / "multipowerlaw" / "loss_curve_repo").glob("csv_*")):
        for path in sorted(folder.glob("*.csv")):
            df = pd.read_csv(path)
            frames.append(df.assign(run=f"{folder.name[4:]}M/{path.stem}"))
    frame = pd.concat(frames, ignore_index=True)
    frame["tau"] = dynamic_time_of(frame)
    for axis in ("tau", "step"):
        exps = curve_exponents(frame, axis=axis, bootstrap=bootstrap, seed=0)
        time_row("multipowerlaw", axis, exps, f"{len(exps)} curves, 3 sizes x 9 schedules")
        for size in ("25M", "100M", "400M"):
            sub = [e for e in exps if e.run.startswith(size + "/")]
            time_row(f"multipowerlaw {size}", axis, sub, "")


def misfitting_shapes(n_no_emb: pd.Series) -> pd.DataFrame:
    out = {}
    for model, n in n_no_emb.items():
        hits = [
            (m, ell)
            for m in range(64, 8193, 64)
            for ell in range(1, 129)
            if ell * (12 * m * m + 2 * m) + m == n
        ]
        out[model] = hits[0] if hits else (np.nan, np.nan)
    return pd.DataFrame.from_dict(out, orient="index", columns=["width", "depth"])


def misfitting(bootstrap: int) -> None:
    d = pd.read_csv(DATA / "misfitting" / "data" / "scaling_results.csv")
    shapes = misfitting_shapes(d.groupby("model")["N_no_emb"].first())
    key = ["model", "sweep", "peak_lr", "total_steps", "total_epochs"]
    d["run"] = d[key].astype(str).agg("|".join, axis=1)
    d = d.join(shapes, on="model").rename(columns={"D": "tokens"})
    exps = curve_exponents(d, axis="tokens", bootstrap=bootstrap, seed=0)
    time_row("misfitting", "tokens", exps, f"{len(exps)} runs with 8+ checkpoints")
    last = d.loc[d.groupby("run")["tokens"].idxmax()]
    best = last.loc[last.groupby(["model", "tokens"])["loss"].idxmin()]  # best peak LR per size and budget
    exps = across_runs(best, axis="tokens", bootstrap=bootstrap, seed=0)
    size_rows("misfitting", exps, f"final losses (best LR) of {len(best)} (size, tokens) pairs; 11 shapes")
    # width and depth grow together here (m/l 64-90): the shape-optimal form L0 + c_N N^-a + c_D D^-b with
    # N = 12 m^2 l tests the class's a = b = 1/3 instead
    best = best.assign(params=12.0 * best["width"] ** 2 * best["depth"])
    r = fit(best, "chinchilla", bootstrap=bootstrap, seed=0)
    ints = r.intervals()
    flags = "".join(f"; **{d.message.split(' is at ')[0]} at a bound**" for d in r.diagnostics
                    if d.code == "bound_hit")  # fmt: skip
    for q, name in (("N = 12 m^2 l", "alpha"), ("tokens", "beta")):
        lo, hi = ints[name]
        ROWS.append(
            {
                "dataset": "misfitting (chinchilla law)", "quantity": q, "axis": q, "n": len(best),
                "value": r.params[name], "lo": lo, "hi": hi, "claimed": 1 / 3,
                "held": "yes" if lo <= 1 / 3 <= hi else "no",
                "note": "shape-optimal form, claimed alpha_N = a_D = 1/3" + flags,
            }
        )  # fmt: skip


def chinchilla(bootstrap: int) -> None:
    runs = datasets.load("chinchilla")
    for protocol in ("ours", "liu-gore"):
        r = fit_universality(runs, protocol=protocol, bootstrap=bootstrap, seed=0)
        ints = r.intervals()
        note = (
            "Huber, 240 points"
            if protocol == "ours"
            else "least squares, 40 highest losses dropped (205 points)"
        )
        for q, name in (("width", "a_m"), ("depth", "a_l"), ("tokens", "a_D")):
            claimed = 1 / 3 if q == "tokens" else 1.0
            lo, hi = ints[name]
            ROWS.append(
                {
                    "dataset": f"chinchilla ({protocol})", "quantity": q, "axis": q, "n": r.data["n_points"],
                    "value": r.params[name], "lo": lo, "hi": hi, "claimed": claimed,
                    "held": "yes" if lo <= claimed <= hi else "no", "note": note,
                }
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=200)
    args = parser.parse_args()
    start = time.perf_counter()
    for part in (supercollapse, multipowerlaw, misfitting, chinchilla):
        t0 = time.perf_counter()
        part(args.bootstrap)
        print(f"# {part.__name__}: {time.perf_counter() - t0:.0f} s")
    print("\n| data | exponent | axis | n | measured | interval | claimed | interval holds claim | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in ROWS:
        if r["n"] == 0:
            continue
        kind = "IQR over runs" if "runs" in r else "95% CI"
        band = "-" if r["lo"] is None else f"[{r['lo']:.3f}, {r['hi']:.3f}] ({kind})"
        print(
            f"| {r['dataset']} | {r['quantity']} | {r['axis']} | {r['n']} | {r['value']:.3f} | {band} | "
            f"{r['claimed']:.3g} | {r['held']} | {r['note']} |"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"bootstrap": args.bootstrap, "rows": ROWS}, indent=1, default=float) + "\n")
    print(f"\n{OUT} written; {time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
