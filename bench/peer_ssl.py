"""Side by side with simple-scaling-laws 0.2.0 (the peer), on the same inputs, in one run.

The peer needs Python >= 3.12 on paper; it runs on 3.11. This script installs it into its own venv
(``/tmp/ssl-venv``, not a dependency of scalinglaws) and calls it in subprocesses: this very file, run by the
peer venv's interpreter with ``--peer-worker TASK.json``. The numpy-only code at the top (laws, sweep layout,
simulator, noise) is shared by both sides, so both packages see identical data.

Parts (``--parts``, default all):

* ``fit``: the bundled Chinchilla points (tokens = C/(6N), 5 highest losses dropped): fit time and the
  Huber(1e-3) log objective of each package's parameters; fit + 1,000 bootstrap draws (ours: cluster bootstrap
  over model sizes). Minimum over repeats, peer and ours alternated.
* ``coverage``: 4x4 and 5x5 N x D grids, 2 runs per configuration, each the mean of 4 evaluations, run noise
  0.01 and evaluation noise 0.02 (added to the loss, as in the peer's README; truth E=1, A=2, alpha=0.3,
  B=1.5, beta=0.25 on sizes normalised by the grid's geometric centre). Nominal 80% and 95% intervals of the
  law's value (``kind="mean"``) inside the grid and 10x and 100x beyond it (both N and D), over
  ``--simulations`` experiments (``--coverage-seed`` draws other experiments). Ours: configurations as
  bootstrap clusters; the arms and their estimators are listed in ``COVERAGE_ARMS``.
* ``real``: compute splits of the bundled Chinchilla runs through the backtest harness
  (:mod:`scalinglaws.backtest`): coverage of nominal 50% and 80% new-run intervals of held-out runs.
* ``design``: the peer's experiment: a pilot of two cheap budgets (1e15, 1e16; 6 sizes +-1.2 decades around 20
  tokens/param, 2 replicates at the centre), then the cost of an isoFLOP grid at 1e17 and 1e18 (7 runs each)
  spent either on that grid or on three rounds of suggested runs at those budgets, each round refitted;
  scored on log10 N* at 1e20 (100x past the largest budget). Noise 0.02 added to the loss. Truths: Chinchilla
  (the fitted law), and Skaling and Kaplan-with-floor laws that the fitted Chinchilla law cannot represent
  (``--truths`` picks some). Our arms' estimators are listed in ``ARMS`` and ``GRID_ARMS``; ``PAIRED`` lists
  the arms compared simulation by simulation (they share the simulated noise of every configuration both
  ran).

Estimators. The peer: least squares on the loss (linear residuals), wild cluster bootstrap over
configurations (Webb weights, leverage-corrected residuals). Ours: ``huber`` is Huber(1e-3) on log loss (our
default, for outlier-prone real data: noise relative to the loss); ``l2`` least squares on log loss;
``linear`` least squares on the loss itself (``fit(..., residuals="linear", loss="l2")``: the efficient fit
for the simulators here, which add Gaussian noise of a fixed size to the loss); ``cluster`` or ``wild`` the
bootstrap (``bootstrap_method``).

Usage: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/peer_ssl.py [--quick]
[--parts fit,coverage,real,design] [--simulations 100] [--coverage-seed 1] [--design-simulations 60]
[--truths chinchilla,skaling,kaplan-floor] [--out results/bench/peer_ssl.json]``. ``--quick`` runs few
simulations (a smoke test, minutes); the full run takes about 25 minutes on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
PEER_VENV = Path(os.environ.get("SSL_VENV", "/tmp/ssl-venv"))
PEER_PIP = ["simple-scaling-laws==0.2.0", "numpy<2.5", "scipy<1.18", "polars", "pyyaml"]

# ----- shared (numpy only): both interpreters run this ---------------------------------------------------


def law_value(name: str, p: dict, N: np.ndarray, D: np.ndarray) -> np.ndarray:
    """The true loss of the laws used as truths (raw units)."""
    N, D = np.asarray(N, float), np.asarray(D, float)
    if name == "chinchilla":
        return p["E"] + p["A"] * N ** -p["alpha"] + p["B"] * D ** -p["beta"]
    if name == "skaling":
        return p["E"] + p["A"] * (N ** -p["alpha"] + p["R"] * D ** -p["beta"]) ** p["k"]
    if name == "kaplan-floor":
        return p["E"] + p["A"] * (N ** -p["rho"] + p["R"] / D) ** p["alpha_D"]
    raise ValueError(name)


#: Design-part truths: the fitted law, and two it cannot represent (similar loss where the runs are).
TRUTHS = {
    "chinchilla": ("chinchilla", {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}),
    "skaling": ("skaling", {"E": 1.8172, "A": 640.0, "alpha": 0.58, "R": 11.0, "beta": 0.61, "k": 0.6}),
    "kaplan-floor": ("kaplan-floor", {"E": 1.8172, "A": 570.0, "rho": 0.95, "R": 50.0, "alpha_D": 0.35}),
}
DESIGN_NOISE = 0.02
PILOT_BUDGETS = (1e15, 1e16)
GROW_BUDGETS = (1e17, 1e18)
TARGET = 1e20
ROUNDS = 3


def sweep(budgets, k: int, half_width: float, ratio: float, reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs of iso-FLOP sweeps (C = 6ND) centred on ``ratio`` tokens/param, ``reps`` runs at the centre."""
    N, D = [], []
    for c in budgets:
        centre = np.sqrt(c / (6.0 * ratio))
        offsets = np.linspace(-half_width, half_width, k)
        near = int(np.argmin(np.abs(offsets)))
        for i, o in enumerate(offsets):
            n = centre * 10.0**o
            for _ in range(reps if i == near else 1):
                N.append(n)
                D.append(c / (6.0 * n))
    return np.array(N), np.array(D)


def run_noise(tag: int, sim: int, N: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Common random numbers: a run's noise is fixed by (truth, simulation, configuration, replicate), so
    every arm that runs the same configuration sees the same outcome."""
    out = np.empty(len(N))
    seen: dict[tuple[int, int], int] = {}
    for i, (n, d) in enumerate(zip(N, D, strict=True)):
        key = (int(round(np.log(n) * 1e4)), int(round(np.log(d) * 1e4)))
        rep = seen.get(key, 0)
        seen[key] = rep + 1
        out[i] = np.random.default_rng([tag, sim, key[0] & 0xFFFFFFFF, key[1] & 0xFFFFFFFF, rep]).normal()
    return out * DESIGN_NOISE


def observe(truth: str, tag: int, sim: int, N: np.ndarray, D: np.ndarray) -> np.ndarray:
    name, p = TRUTHS[truth]
    return law_value(name, p, N, D) + run_noise(tag, sim, N, D)


def take_by_cost(N, D, cost, budget: float) -> list[int]:
    """Suggested runs in order, each kept while the round's budget allows."""
    chosen, spent = [], 0.0
    for i, c in enumerate(cost):
        if spent + c <= budget * (1 + 1e-9):
            chosen.append(i)
            spent += c
    return chosen


# coverage part: the peer README's set-up
COV_TRUTH = {"E": 1.0, "A": 2.0, "alpha": 0.3, "B": 1.5, "beta": 0.25}
COV_RUN_SD, COV_EVAL_SD, COV_EVALS, COV_RUNS = 0.01, 0.02, 4, 2


def cov_grid(k: int) -> dict:
    Ns, Ds = np.logspace(6, 9, k), np.logspace(3, 6, k)
    refN, refD = np.sqrt(1e6 * 1e9), np.sqrt(1e3 * 1e6)
    NN, DD = (a.ravel() for a in np.meshgrid(Ns, Ds, indexing="ij"))
    points = {"N": np.array([refN * 1.3, 1e10, 1e11]), "D": np.array([refD * 1.3, 1e7, 1e8])}
    return {"N": NN, "D": DD, "refN": refN, "refD": refD, "points": points}


def cov_value(g: dict, N, D) -> np.ndarray:
    t = COV_TRUTH
    return (
        t["E"]
        + t["A"] * (np.asarray(N) / g["refN"]) ** -t["alpha"]
        + t["B"] * (np.asarray(D) / g["refD"]) ** -t["beta"]
    )


def cov_simulate(k: int, sims: int, seed: int = 1) -> dict:
    """(sims, configs, runs, evals) evaluation losses."""
    g = cov_grid(k)
    mu = cov_value(g, g["N"], g["D"])
    rng = np.random.default_rng([seed, k])
    run = rng.normal(0, COV_RUN_SD, (sims, mu.size, COV_RUNS, 1))
    ev = rng.normal(0, COV_EVAL_SD, (sims, mu.size, COV_RUNS, COV_EVALS))
    return {"y": mu[None, :, None, None] + run + ev, "grid": g}


def huber_log_objective(pred: np.ndarray, y: np.ndarray, delta: float = 1e-3) -> float:
    r = np.log(pred) - np.log(y)
    a = np.abs(r)
    return float(np.sum(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))))


# ----- the peer's side -------------------------------------------------------------------------------------


def _peer_frame(N, D, y, run_ids=None, test_ids=None):
    import polars as pl

    cols = {
        "training_run_id": run_ids if run_ids is not None else [f"r{i}" for i in range(len(N))],
        "model_size__n_params": np.asarray(N, float),
        "dataset_size__n_tokens": np.asarray(D, float),
        "test_loss__loss": np.asarray(y, float),
    }
    if test_ids is not None:
        cols["test_set_id"] = test_ids
    return pl.DataFrame(cols)


def peer_worker(task_path: str) -> None:
    warnings.simplefilter("ignore")
    from simple_scaling_laws import cost_model, fit, suggest_runs

    task = json.loads(Path(task_path).read_text())
    out: dict = {}
    target = "test_loss__loss"
    if task["part"] == "fit":
        z = np.load(task["data"])
        frame = _peer_frame(z["N"], z["D"], z["y"])
        fit(frame, law="separable-power", n_draws=1, seed=0)  # warm-up
        t_fit, t_boot = [], []
        for _ in range(task["repeats"]):
            t = time.perf_counter()
            m = fit(frame, law="separable-power", n_draws=1, seed=0)
            t_fit.append(time.perf_counter() - t)
        for _ in range(task["boot_repeats"]):
            t = time.perf_counter()
            fit(frame, law="separable-power", n_draws=1000, seed=0)
            t_boot.append(time.perf_counter() - t)
        raw = m.law.raw_scale_params(m.fits[target].params, m._reference)
        pred = raw["E"] + raw["A"] * z["N"] ** -raw["alpha"] + raw["B"] * z["D"] ** -raw["beta"]
        out = {
            "fit_s": min(t_fit),
            "boot_s": min(t_boot),
            "params": raw,
            "objective": huber_log_objective(pred, z["y"]),
        }
    elif task["part"] == "coverage":
        out = {}
        for k in task["grids"]:
            sim = cov_simulate(k, task["simulations"], task["seed"])
            g, y = sim["grid"], sim["y"]
            n_cfg = g["N"].size
            qs = []
            t0 = time.perf_counter()
            for s in range(task["simulations"]):
                run_ids = np.repeat([f"c{c}_r{r}" for c in range(n_cfg) for r in range(COV_RUNS)], COV_EVALS)
                test_ids = np.tile([f"b{e}" for e in range(COV_EVALS)], n_cfg * COV_RUNS)
                N = np.repeat(g["N"], COV_RUNS * COV_EVALS)
                D = np.repeat(g["D"], COV_RUNS * COV_EVALS)
                frame = _peer_frame(N, D, y[s].ravel(), run_ids, test_ids)
                m = fit(frame, law="separable-power", n_draws=task["draws"], seed=s)
                pr = m.predict(
                    {"model_size__n_params": g["points"]["N"], "dataset_size__n_tokens": g["points"]["D"]},
                    quantiles=[0.025, 0.1, 0.9, 0.975],
                )
                qs.append([pr[f"{target}__{q}"].to_list() for q in ("q025", "q100", "q900", "q975")])
            out[str(k)] = {"quantiles": qs, "seconds": time.perf_counter() - t0}
    elif task["part"] == "real":
        train, test = task["train"], task["test"]
        m = fit(
            _peer_frame(train["params"], train["tokens"], train["loss"]),
            law="separable-power",
            n_draws=task["draws"],
            seed=task["seed"] % (2**31),
        )
        pr = m.predict(
            {"model_size__n_params": test["params"], "dataset_size__n_tokens": test["tokens"]},
            kind="new-run",
            quantiles=[0.1, 0.25, 0.5, 0.75, 0.9],
        )
        out = {
            q: pr[f"{target}__{c}"].to_list()
            for q, c in (
                ("0.1", "q100"),
                ("0.25", "q250"),
                ("0.5", "median"),
                ("0.75", "q750"),
                ("0.9", "q900"),
            )
        }
    elif task["part"] == "design":
        cost = cost_model("power", k=6.0, a=1.0, b=1.0)
        results = {}
        for truth in task["truths"]:
            tag = list(TRUTHS).index(truth)
            rows = []
            for s in range(task["simulations"]):
                N0, D0 = sweep(PILOT_BUDGETS, 6, 1.2, 20.0, 2)
                row = {}
                # arm 1: the isoFLOP grid
                Ng, Dg = sweep(GROW_BUDGETS, 6, 1.2, 20.0, 2)
                grid_cost = float(np.sum(6 * Ng * Dg))
                N1, D1 = np.r_[N0, Ng], np.r_[D0, Dg]
                row["grid"] = _peer_nstar(fit, cost, N1, D1, observe(truth, tag, s, N1, D1), s)
                # arm 2: three rounds of the peer's suggestions
                N, D = N0.copy(), D0.copy()
                for r in range(ROUNDS):
                    m = fit(
                        _peer_frame(N, D, observe(truth, tag, s, N, D)),
                        law="separable-power",
                        n_draws=200,
                        seed=s,
                    )
                    try:
                        plan = suggest_runs(m, [TARGET], cost, n=40, candidate_budgets=list(GROW_BUDGETS))
                    except Exception as exc:  # the peer declines: no runs this round
                        row.setdefault("notes", []).append(f"round {r}: {type(exc).__name__}: {exc}")
                        continue
                    pn, pd_ = (
                        plan["model_size__n_params"].to_numpy(),
                        plan["dataset_size__n_tokens"].to_numpy(),
                    )
                    keep = take_by_cost(pn, pd_, 6 * pn * pd_, grid_cost / ROUNDS)
                    N, D = np.r_[N, pn[keep]], np.r_[D, pd_[keep]]
                row["suggest"] = _peer_nstar(fit, cost, N, D, observe(truth, tag, s, N, D), s)
                row["suggest"]["cost"] = float(np.sum(6 * N * D) - np.sum(6 * N0 * D0))
                row["suggest"]["runs"] = [N.tolist(), D.tolist()]
                row["grid"]["cost"] = grid_cost
                rows.append(row)
            results[truth] = rows
        out = results
    elif task["part"] == "estimate":  # the peer's estimate of N* on given runs (designs made by ours)
        out = {}
        for key, (truth, s, N, D) in task["designs"].items():
            N, D = np.array(N), np.array(D)
            tag = list(TRUTHS).index(truth)
            out[key] = _peer_nstar(
                fit, cost_model("power", k=6.0, a=1.0, b=1.0), N, D, observe(truth, tag, s, N, D), s
            )
    Path(task["out"]).write_text(json.dumps(out))


def _peer_nstar(fit, cost, N, D, y, seed: int) -> dict:
    try:
        m = fit(_peer_frame(N, D, y), law="separable-power", n_draws=200, seed=seed)
        fr = m.optimal_allocation([TARGET], cost)
        col = "model_size__n_params"
        return {
            k: float(np.log10(fr[f"{col}__{q}"][0]))
            for k, q in (("est", "median"), ("lo", "q025"), ("hi", "q975"))
        }
    except Exception as exc:
        return {"est": float("nan"), "lo": float("nan"), "hi": float("nan"), "error": str(exc)}


# ----- our side -----------------------------------------------------------------------------------------


def ensure_peer() -> Path:
    """The peer's interpreter, installing it into its own venv the first time."""
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-c", "import simple_scaling_laws, polars"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(
        f"installing the peer: python -m venv {PEER_VENV} && pip install --only-binary=:all: "
        f"--ignore-requires-python {' '.join(PEER_PIP)}",
        flush=True,
    )
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run(
        [
            str(PEER_VENV / "bin" / "pip"),
            "install",
            "-q",
            "--only-binary=:all:",
            "--ignore-requires-python",
            *PEER_PIP,
        ],
        check=True,
    )
    return python


def peer_call(python: Path, task: dict, workdir: Path, background: bool = False):
    path = workdir / f"task-{task['part']}-{time.monotonic_ns()}.json"
    task = {**task, "out": str(path.with_suffix(".out.json"))}
    path.write_text(json.dumps(task))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [str(python), str(HERE), "--peer-worker", str(path)]
    if background:
        return subprocess.Popen(cmd, env=env), Path(task["out"])
    subprocess.run(cmd, env=env, check=True)
    return json.loads(Path(task["out"]).read_text())


def collect(proc_and_out) -> dict:
    proc, out = proc_and_out
    if proc.wait() != 0:
        raise RuntimeError(f"peer worker failed (exit {proc.returncode})")
    return json.loads(out.read_text())


def part_fit(python: Path, workdir: Path, repeats: int) -> dict:
    from scalinglaws import datasets
    from scalinglaws.fit import fit

    table = datasets.load("chinchilla").table
    N, D, y = (table[c].to_numpy(float) for c in ("params", "tokens", "loss"))
    np.savez(workdir / "chin.npz", N=N, D=D, y=y)
    data = {"params": N, "tokens": D, "loss": y}
    fit(data, "chinchilla")
    ours_fit, ours_boot, peer = [], [], []
    for _ in range(2):  # alternate the packages, keep the best of each
        peer.append(
            peer_call(
                python,
                {"part": "fit", "data": str(workdir / "chin.npz"), "repeats": repeats, "boot_repeats": 3},
                workdir,
            )
        )
        for _ in range(repeats):
            t = time.perf_counter()
            r = fit(data, "chinchilla")
            ours_fit.append(time.perf_counter() - t)
        for _ in range(3):
            t = time.perf_counter()
            rb = fit(data, "chinchilla", bootstrap=1000, seed=0)
            ours_boot.append(time.perf_counter() - t)
    return {
        "peer_fit_s": min(p["fit_s"] for p in peer),
        "peer_boot_s": min(p["boot_s"] for p in peer),
        "peer_objective": peer[0]["objective"],
        "peer_params": peer[0]["params"],
        "ours_fit_s": min(ours_fit),
        "ours_boot_s": min(ours_boot),
        "ours_objective": r.objective["value"],
        "ours_params": r.params,
        "ours_boot_converged": float(np.mean(rb.draws_converged)),
        "ours_clusters": rb.settings["n_clusters"],
        "optimum": 0.00101827,
    }


#: Coverage arms: name -> (what it is, fit options, calibrated_interval or plain percentiles).
COVERAGE_ARMS: dict[str, tuple[str, dict, bool]] = {
    "plain": ("Huber(1e-3) on log loss, cluster bootstrap, plain percentiles", {}, False),
    "calibrated": ("Huber(1e-3) on log loss, cluster bootstrap, calibrated", {}, True),
    "calibrated-l2": ("least squares on log loss, cluster bootstrap, calibrated", {"loss": "l2"}, True),
    "linear": (
        "least squares on the loss (linear residuals), cluster bootstrap, calibrated",
        {"loss": "l2", "residuals": "linear"},
        True,
    ),
    "linear-wild": (
        "least squares on the loss (linear residuals), wild bootstrap, calibrated",
        {"loss": "l2", "residuals": "linear", "bootstrap_method": "wild"},
        True,
    ),
}


def _cov_ours(k: int, sims: int, draws: int, seed: int) -> dict:
    from scalinglaws.design import calibrated_interval
    from scalinglaws.fit import fit

    sim = cov_simulate(k, sims, seed)
    g, y = sim["grid"], sim["y"]
    n_cfg = g["N"].size
    N, D = np.repeat(g["N"], COV_RUNS), np.repeat(g["D"], COV_RUNS)
    cfg = np.repeat(np.arange(n_cfg), COV_RUNS)
    pts = {"params": g["points"]["N"], "tokens": g["points"]["D"]}
    out: dict = {name: [] for name in COVERAGE_ARMS}
    t0 = time.perf_counter()
    for s in range(sims):
        runs = y[s].mean(axis=2).ravel()  # each run: the mean of its evaluations
        data = {"params": N, "tokens": D, "loss": runs, "config": cfg}
        fits: dict = {}
        for name, (_, options, calibrated) in COVERAGE_ARMS.items():
            key = json.dumps(options, sort_keys=True)
            if key not in fits:
                fits[key] = fit(data, "chinchilla", bootstrap=draws, seed=s, cluster_by="config", **options)
            r = fits[key]
            ivs = [
                calibrated_interval(r, pts, level=lv) if calibrated else r.predict_interval(pts, level=lv)
                for lv in (0.95, 0.8)
            ]
            (lo95, hi95), (lo80, hi80) = ivs  # q025, q10, q90, q975 like the peer's
            out[name].append([lo95.tolist(), lo80.tolist(), hi80.tolist(), hi95.tolist()])
    out["seconds"] = time.perf_counter() - t0
    return out


def _cov_score(q: np.ndarray, truth: np.ndarray) -> dict:
    """q: (sims, 4, points) as q025, q10, q90, q975."""
    q = np.asarray(q, float)
    res = {}
    for lv, (a, b) in {"80": (1, 2), "95": (0, 3)}.items():
        lo, hi = q[:, a, :], q[:, b, :]
        res[f"cov{lv}"] = ((lo <= truth) & (truth <= hi)).mean(axis=0).tolist()
        res[f"width{lv}"] = np.median(np.log(hi / lo), axis=0).tolist()
    return res


def _width_ratio(q: np.ndarray, q_peer: np.ndarray, boots: int = 2000) -> dict:
    """Median width over the peer's median width per level and point, with a 95% interval from resampling
    the experiments (both packages' intervals of one experiment kept together)."""
    q, q_peer = np.asarray(q, float), np.asarray(q_peer, float)
    idx = np.random.default_rng(0).integers(0, len(q), size=(boots, len(q)))
    res = {}
    for lv, (a, b) in {"80": (1, 2), "95": (0, 3)}.items():
        w, wp = np.log(q[:, b] / q[:, a]), np.log(q_peer[:, b] / q_peer[:, a])
        ratios = np.median(w[idx], axis=1) / np.median(wp[idx], axis=1)
        res[f"ratio{lv}"] = (np.median(w, axis=0) / np.median(wp, axis=0)).tolist()
        res[f"ratio{lv}_lo"], res[f"ratio{lv}_hi"] = np.percentile(ratios, [2.5, 97.5], axis=0).tolist()
    return res


def part_coverage(python: Path, workdir: Path, sims: int, draws: int, seed: int, peer_job) -> dict:
    res = {}
    ours = {k: _cov_ours(k, sims, draws, seed) for k in (4, 5)}
    peer = collect(peer_job)
    for k in (4, 5):
        g = cov_grid(k)
        truth = cov_value(g, g["points"]["N"], g["points"]["D"])
        res[f"{k}x{k}"] = {
            "peer": _cov_score(peer[str(k)]["quantiles"], truth),
            "peer_seconds": peer[str(k)]["seconds"],
            "ours_seconds": ours[k]["seconds"],
            "simulations": sims,
        }
        for name in COVERAGE_ARMS:
            res[f"{k}x{k}"][f"ours-{name}"] = {
                **_cov_score(ours[k][name], truth),
                **_width_ratio(ours[k][name], peer[str(k)]["quantiles"]),
            }
    return res


def part_real(python: Path, workdir: Path, draws: int) -> dict:
    import pandas as pd

    from scalinglaws.backtest import ComputeSplit, Method, Prediction, backtest
    from scalinglaws.data import load_data
    from scalinglaws.design import calibrated_interval, measure_extrapolation_error
    from scalinglaws.design.calibrate import ExtrapolationError, scale_of
    from scalinglaws.fit import fit

    class Ours(Method):
        gives_quantiles = True

        def __init__(self, name: str, calibrated: bool, widen: bool) -> None:
            self.name, self.calibrated, self.widen = name, calibrated, widen
            self.description = f"scalinglaws chinchilla, {name}"

        def fit(self, train, setting, seed=0):
            self.result_ = fit(train, "chinchilla", bootstrap=draws, seed=seed % (2**31))
            self.err_ = None
            if self.widen:
                e = measure_extrapolation_error(train, "chinchilla", seed=seed % (2**31))
                X = {c: train[c].to_numpy(float) for c in ("params", "tokens")}
                self.err_ = ExtrapolationError(
                    e.per_decade, float(scale_of(X, self.result_.law).max()), e.n_points, e.folds
                )
            return self

        def predict(self, test, quantiles=()):
            X = {c: test[c].to_numpy(float) for c in ("params", "tokens")}
            mean = self.result_.predict(X)
            qs = {}
            for lo_q, hi_q in ((0.1, 0.9), (0.25, 0.75)):
                level = hi_q - lo_q
                if self.calibrated:
                    lo, hi = calibrated_interval(
                        self.result_, X, level=level, kind="new-run", extrapolation=self.err_
                    )
                else:
                    lo, hi = self.result_.predict_interval(X, level=level, kind="new-run")
                qs[lo_q], qs[hi_q] = lo, hi
            return Prediction(mean, {q: qs[q] for q in quantiles if q in qs})

    class Peer(Method):
        name, description, gives_quantiles = "peer-ssl", "simple-scaling-laws 0.2.0 separable-power", True

        def fit(self, train, setting, seed=0):
            self.train_, self.seed_ = train, seed
            return self

        def predict(self, test, quantiles=()):
            cols = ("params", "tokens", "loss")
            task = {
                "part": "real",
                "draws": draws,
                "seed": self.seed_,
                "train": {c: self.train_[c].astype(float).tolist() for c in cols},
                "test": {c: test[c].astype(float).tolist() for c in ("params", "tokens")},
            }
            out = peer_call(python, task, workdir)
            return Prediction(
                np.array(out["0.5"]), {q: np.array(out[str(q)]) for q in quantiles if str(q) in out}
            )

    methods = [
        Ours("ours-plain", False, False),
        Ours("ours-calibrated", True, False),
        Ours("ours-calibrated+extrapolation", True, True),
        Peer(),
    ]
    t0 = time.perf_counter()
    res = backtest(load_data("chinchilla"), ComputeSplit(), methods, executor="serial")
    board = res.leaderboard[["method", "n_targets", "mae", "cov50", "width50", "cov80", "width80"]]
    r = res.results[res.results["status"] == "ok"].copy()
    r["decades"] = np.log10(r["distance"])
    r["bin"] = pd.cut(r["decades"], [0, 0.5, 1.0, 3.0], include_lowest=True).astype(str)
    r["in80"] = (r["q10"] <= r["truth"]) & (r["truth"] <= r["q90"])
    by = r.groupby(["method", "bin"])["in80"].agg(["mean", "size"]).reset_index()
    return {
        "leaderboard": board.to_dict(orient="records"),
        "by_distance": by.to_dict(orient="records"),
        "folds": res.folds[["fold", "train_rows", "test_rows"]].to_dict(orient="records"),
        "seconds": time.perf_counter() - t0,
    }


#: Our estimators in the design part (fit options besides bootstrap=200, seed).
L2 = {"loss": "l2"}
HUBER: dict = {}
LINEAR = {"loss": "l2", "residuals": "linear"}
LINEAR_WILD = {**LINEAR, "bootstrap_method": "wild"}

#: Our estimates on the isoFLOP grid: name -> (fit options, averaged over the candidate laws).
GRID_ARMS = {
    "grid": (L2, False),
    "grid-huber": (HUBER, False),
    "grid-linear": (LINEAR, False),
    "grid-averaged": (L2, True),
}
#: Our suggesting arms: (name, with candidate laws, fit options of every refit and of the final estimate).
#: ``l2`` was the arm closest to the peer's objective before linear residuals existed; ``linear`` is the
#: peer's objective (least squares on the loss), the efficient fit for the simulated Gaussian noise.
ARMS = (
    ("suggest", False, L2),
    ("suggest-laws", True, L2),
    ("suggest-huber", False, HUBER),
    ("suggest-linear", False, LINEAR),
    ("suggest-linear-wild", False, LINEAR_WILD),
)
#: Our designs also estimated by the peer's fit, and the peer's design estimated by ours (fit options).
CROSSED = ("suggest", "suggest-laws", "suggest-linear")
PEER_DESIGN_OURS_FIT = {"ours-fit": L2, "ours-linear-fit": LINEAR}
#: Arms compared simulation by simulation (same truth, same simulated noise per configuration).
PAIRED = (
    ("ours-suggest-linear", "peer-suggest"),
    ("ours-suggest-linear-wild", "peer-suggest"),
    ("ours-suggest-linear", "ours-suggest"),
    ("ours-grid-linear", "peer-grid"),
    ("ours-suggest-linear|peer-fit", "peer-suggest"),
    ("peer-suggest|ours-linear-fit", "peer-suggest"),
)


def _our_nstar(fit, compute_optimal, N, D, y, seed: int, options: dict) -> dict:
    try:
        r = fit({"params": N, "tokens": D, "loss": y}, "chinchilla", bootstrap=200, seed=seed, **options)
        p = compute_optimal(r, TARGET).params
        return {"est": float(np.log10(p.value)), "lo": float(np.log10(p.lo)), "hi": float(np.log10(p.hi))}
    except Exception as exc:  # noqa: BLE001 - a failed refit is a result
        return {"est": float("nan"), "lo": float("nan"), "hi": float("nan"), "error": str(exc)}


def _law_averaged(N, D, y, seed: int, laws, options: dict, tolerance: float = 0.1) -> dict:
    """N* from the equal mixture of the laws within ``tolerance`` of the best objective."""
    from scalinglaws.design import candidate_laws
    from scalinglaws.fit import fit
    from scalinglaws.plan.compute_optimal import optimum

    data = {"params": N, "tokens": D, "loss": y}
    main = fit(data, "chinchilla", bootstrap=200, seed=seed, **options)
    admitted, table = candidate_laws(
        main, [x for x in laws if x != "chinchilla"], data=data, tolerance=tolerance
    )
    pooled = []
    for f in admitted:
        n, _, ok = optimum(f, TARGET, f.draws[f.draws_converged], None)
        pooled.append(np.log10(n[ok]))
    pooled = np.concatenate(pooled)
    lo, est, hi = np.percentile(pooled, [2.5, 50, 97.5])
    return {"est": float(est), "lo": float(lo), "hi": float(hi), "laws": [f.law.name for f in admitted]}


def part_design(python: Path, workdir: Path, sims: int, truths, peer_job) -> dict:
    from scalinglaws.design import suggest_runs
    from scalinglaws.design.score import true_optimum
    from scalinglaws.fit import fit
    from scalinglaws.laws import get_law
    from scalinglaws.plan import compute_optimal

    laws = ("chinchilla", "skaling", "kaplan-floor")
    ours: dict = {}
    t0 = time.perf_counter()
    for truth in truths:
        tag = list(TRUTHS).index(truth)
        rows = []
        for s in range(sims):
            N0, D0 = sweep(PILOT_BUDGETS, 6, 1.2, 20.0, 2)
            Ng, Dg = sweep(GROW_BUDGETS, 6, 1.2, 20.0, 2)
            grid_cost = float(np.sum(6 * Ng * Dg))
            N1, D1 = np.r_[N0, Ng], np.r_[D0, Dg]
            y1 = observe(truth, tag, s, N1, D1)
            row: dict = {}
            for name, (options, averaged) in GRID_ARMS.items():
                est = (
                    _law_averaged(N1, D1, y1, s, laws, options)
                    if averaged
                    else _our_nstar(fit, compute_optimal, N1, D1, y1, s, options)
                )
                row[name] = {**est, "cost": grid_cost}
            for arm, arm_laws, options in ARMS:
                arm_laws = laws if arm_laws else ()
                N, D = N0.copy(), D0.copy()
                for _ in range(ROUNDS):
                    y = observe(truth, tag, s, N, D)
                    data = {"params": N, "tokens": D, "loss": y}
                    r = fit(data, "chinchilla", bootstrap=200, seed=s, **options)
                    try:
                        plan = suggest_runs(
                            r,
                            [TARGET],
                            40,
                            candidate_budgets=list(GROW_BUDGETS),
                            laws=[x for x in arm_laws if x != "chinchilla"],
                            data=data if arm_laws else None,
                        )
                    except Exception as exc:  # noqa: BLE001
                        row.setdefault("notes", []).append(f"{arm}: {exc}")
                        continue
                    pn, pd_ = plan.runs["params"].to_numpy(), plan.runs["tokens"].to_numpy()
                    keep = take_by_cost(pn, pd_, plan.runs["cost"].to_numpy(), grid_cost / ROUNDS)
                    N, D = np.r_[N, pn[keep]], np.r_[D, pd_[keep]]
                y = observe(truth, tag, s, N, D)
                cost = float(np.sum(6 * N * D) - np.sum(6 * N0 * D0))
                row[arm] = {**_our_nstar(fit, compute_optimal, N, D, y, s, options), "cost": cost}
                row[arm]["runs"] = [N.tolist(), D.tolist()]
                if arm_laws:
                    row[f"{arm}-averaged"] = {**_law_averaged(N, D, y, s, laws, options), "cost": cost}
            rows.append(row)
        ours[truth] = rows
    seconds = time.perf_counter() - t0
    peer = collect(peer_job)
    # the designs crossed with the other package's estimator: the suggestions alone, one fit for both
    designs = {
        f"{truth}|{s}|{arm}": (truth, s, *ours[truth][s][arm]["runs"])
        for truth in truths
        for s in range(sims)
        for arm in CROSSED
    }
    crossed = peer_call(python, {"part": "estimate", "designs": designs}, workdir)
    for truth in truths:
        tag = list(TRUTHS).index(truth)
        for s, row in enumerate(ours[truth]):
            for arm in CROSSED:
                row[f"{arm}|peer-fit"] = crossed[f"{truth}|{s}|{arm}"]
            N, D = (np.array(a) for a in peer[truth][s]["suggest"]["runs"])
            for name, options in PEER_DESIGN_OURS_FIT.items():
                peer[truth][s][f"suggest|{name}"] = _our_nstar(
                    fit, compute_optimal, N, D, observe(truth, tag, s, N, D), s, options
                )
    summary, paired = {}, {}
    for truth in truths:
        name, p = TRUTHS[truth]
        law = get_law(name)
        theta = np.array([p[k] for k in law.param_names])
        true_log = float(np.log10(true_optimum(law, theta, TARGET)[0]))
        arms = {f"ours-{a}": [row[a] for row in ours[truth]] for a in ours[truth][0] if a != "notes"}
        peer_arms = ("grid", "suggest", *(f"suggest|{n}" for n in PEER_DESIGN_OURS_FIT))
        arms |= {f"peer-{a}": [row[a] for row in peer[truth]] for a in peer_arms}
        summary[truth] = {"true_log10_nstar": true_log}
        errors = {}
        for arm, vals in arms.items():
            est = np.array([v["est"] for v in vals])
            lo, hi = np.array([v["lo"] for v in vals]), np.array([v["hi"] for v in vals])
            ok = np.isfinite(est)
            err = est[ok] - true_log
            errors[arm] = est - true_log
            rmse = float(np.sqrt(np.mean(err**2)))
            mse_se = float(np.std(err**2, ddof=1) / np.sqrt(err.size)) if err.size > 1 else 0.0
            summary[truth][arm] = {
                "rmse": rmse,
                "rmse_se": mse_se / (2 * rmse) if rmse > 0 else 0.0,  # delta method
                "bias": float(np.mean(err)),
                "coverage95": float(np.mean((lo[ok] <= true_log) & (true_log <= hi[ok]))),
                "width95": float(np.median(hi[ok] - lo[ok])),
                "ok": int(ok.sum()),
                "cost": float(np.mean([v.get("cost", np.nan) for v in vals])),
            }
        paired[truth] = [_paired(errors[a], errors[b], a, b) for a, b in PAIRED if {a, b} <= set(errors)]
    return {"summary": summary, "paired": paired, "ours_seconds": seconds, "simulations": sims}


def _paired(err_a: np.ndarray, err_b: np.ndarray, a: str, b: str, boots: int = 4000) -> dict:
    """RMSE of ``a`` over ``b``'s on the simulations both estimated, with a 95% interval from resampling
    the simulations (pairs kept together), and the mean difference of squared errors with its s.e."""
    ok = np.isfinite(err_a) & np.isfinite(err_b)
    sa, sb = err_a[ok] ** 2, err_b[ok] ** 2
    rng = np.random.default_rng(0)
    idx = rng.integers(0, sa.size, size=(boots, sa.size))
    ratios = np.sqrt(sa[idx].mean(axis=1) / sb[idx].mean(axis=1))
    diff = sa - sb
    return {
        "a": a,
        "b": b,
        "n": int(ok.sum()),
        "rmse_ratio": float(np.sqrt(sa.mean() / sb.mean())),
        "ratio_lo": float(np.percentile(ratios, 2.5)),
        "ratio_hi": float(np.percentile(ratios, 97.5)),
        "sq_diff": float(diff.mean()),
        "sq_diff_se": float(diff.std(ddof=1) / np.sqrt(diff.size)),
        "error_correlation": float(np.corrcoef(err_a[ok], err_b[ok])[0, 1]),
        "a_better": float(np.mean(sa < sb)),
    }


def report(results: dict) -> str:
    lines = []
    if "fit" in results:
        f = results["fit"]
        lines += [
            "fit (bundled Chinchilla, 240 points):",
            f"  peer separable-power fit      {f['peer_fit_s']:.4f} s  objective {f['peer_objective']:.8f}",
            f"  ours chinchilla fit           {f['ours_fit_s']:.4f} s  objective {f['ours_objective']:.8f}"
            f"  (optimum 0.00101827; ours - optimum = {f['ours_objective'] - 0.00101827:+.1e})",
            f"  ratio fit time peer/ours      {f['peer_fit_s'] / f['ours_fit_s']:.2f}x",
            f"  peer fit + 1000 draws         {f['peer_boot_s']:.3f} s",
            f"  ours fit + 1000 cluster boot  {f['ours_boot_s']:.3f} s  ({f['ours_clusters']} clusters, "
            f"{f['ours_boot_converged']:.1%} converged)",
            f"  ratio peer/ours               {f['peer_boot_s'] / f['ours_boot_s']:.2f}x",
        ]
    if "coverage" in results:
        lines.append(
            "coverage of the law's value (points: inside, 10x, 100x beyond), median width in log loss:"
        )
        for name, (what, _, _) in COVERAGE_ARMS.items():
            lines.append(f"  ours-{name}: {what}")
        for grid, res in results["coverage"].items():
            arms = ["peer", *(f"ours-{name}" for name in COVERAGE_ARMS)]
            for who in arms:
                r = res[who]
                lines.append(
                    f"  {grid} {who:<20} 80%: {_fmt(r['cov80'])} width {_fmt(r['width80'], 4)}   "
                    f"95%: {_fmt(r['cov95'])} width {_fmt(r['width95'], 4)}"
                )
            lines += _coverage_verdict(res, arms)
    if "real" in results:
        lines.append(
            "real compute splits of the bundled Chinchilla runs (backtest harness, new-run intervals):"
        )
        for row in results["real"]["leaderboard"]:
            lines.append(
                f"  {row['method']:<32} n={row['n_targets']} mae {row['mae']:.4f}  cov50 "
                f"{row['cov50']:.2f}  cov80 {row['cov80']:.2f}  width80 {row['width80']:.4f}"
            )
        for row in results["real"]["by_distance"]:
            lines.append(
                f"    {row['method']:<32} decades beyond {row['bin']:<12} cov80 {row['mean']:.2f} "
                f"(n={row['size']})"
            )
    if "design" in results:
        d = results["design"]
        lines.append(
            f"design: log10 N* at 1e20 over {d['simulations']} simulations (rmse, bias, 95% coverage, "
            "width, extra cost):"
        )
        for truth, res in d["summary"].items():
            lines.append(f"  truth {truth} (log10 N* = {res['true_log10_nstar']:.3f})")
            for arm, r in res.items():
                if arm == "true_log10_nstar":
                    continue
                lines.append(
                    f"    {arm:<32} rmse {r['rmse']:.4f} (se {r['rmse_se']:.4f})  bias {r['bias']:+.4f}  "
                    f"cov95 {r['coverage95']:.2f}  width {r['width95']:.3f}  cost {r['cost']:.3g}  "
                    f"(n={r['ok']})"
                )
            for c in d.get("paired", {}).get(truth, []):
                lines.append(
                    f"    paired: {c['a']} / {c['b']}: rmse ratio {c['rmse_ratio']:.3f} "
                    f"[{c['ratio_lo']:.3f}, {c['ratio_hi']:.3f}]; mean sq. error difference "
                    f"{c['sq_diff']:+.2e} (se {c['sq_diff_se']:.1e}); error correlation "
                    f"{c['error_correlation']:.2f}; first closer in {c['a_better']:.0%} (n={c['n']})"
                )
    return "\n".join(lines)


def _coverage_verdict(res: dict, arms: list[str]) -> list[str]:
    """Per arm: mean distance of its 6 coverages from nominal, and its widths over the peer's where both
    cover (coverage at least nominal minus two Monte Carlo standard errors)."""
    sims = res["simulations"]
    out = []
    for who in arms:
        dist, ratios = [], []
        for lv, nominal in (("80", 0.8), ("95", 0.95)):
            floor = nominal - 2.0 * np.sqrt(nominal * (1 - nominal) / sims)
            cov, peer_cov = np.array(res[who][f"cov{lv}"]), np.array(res["peer"][f"cov{lv}"])
            dist += list(np.abs(cov - nominal))
            if who == "peer":
                continue
            both = (cov >= floor) & (peer_cov >= floor)
            r = res[who]
            cells = zip(r[f"ratio{lv}"], r[f"ratio{lv}_lo"], r[f"ratio{lv}_hi"], both, strict=True)
            ratios += [(c, lo, hi) for c, lo, hi, ok in cells if ok]
        text = f"    {who:<20} mean |coverage - nominal| {np.mean(dist):.3f}"
        if ratios:
            r, lo, hi = max(ratios)
            text += f"; width / peer's where both cover: at most {r:.3f} [{lo:.3f}, {hi:.3f}]"
        out.append(text + f" ({len(ratios)} of 6 cells)" if who != "peer" else text)
    return out


def _fmt(values, digits: int = 2) -> str:
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few simulations: a smoke test")
    parser.add_argument("--parts", default="fit,coverage,real,design")
    parser.add_argument("--simulations", type=int, default=100, help="coverage experiments per grid")
    parser.add_argument("--coverage-seed", type=int, default=1, help="seed of the coverage experiments")
    parser.add_argument("--truths", default=",".join(TRUTHS), help="design-part truths, comma-separated")
    parser.add_argument("--design-simulations", type=int, default=60)
    parser.add_argument("--draws", type=int, default=400, help="bootstrap draws in the coverage part")
    parser.add_argument("--out", type=Path, default=Path("results/bench/peer_ssl.json"))
    args = parser.parse_args()
    if args.quick:
        args.simulations, args.design_simulations = 10, 4
    parts = set(args.parts.split(","))
    python = ensure_peer()
    workdir = Path(tempfile.mkdtemp(prefix="peer-ssl-"))
    results: dict = {"settings": vars(args) | {"out": str(args.out)}}
    t0 = time.perf_counter()
    if "fit" in parts:  # alone on the machine: timings
        results["fit"] = part_fit(python, workdir, repeats=7)
        print(report({"fit": results["fit"]}), flush=True)
    truths = [t for t in args.truths.split(",") if t]
    unknown = sorted(set(truths) - set(TRUTHS))
    if unknown:
        parser.error(f"unknown truths {unknown}; choose from {list(TRUTHS)}")
    jobs = {}
    if "design" in parts:
        jobs["design"] = peer_call(
            python,
            {"part": "design", "truths": truths, "simulations": args.design_simulations},
            workdir,
            background=True,
        )
    if "coverage" in parts:
        cov_job = {
            "part": "coverage",
            "grids": [4, 5],
            "simulations": args.simulations,
            "draws": args.draws,
            "seed": args.coverage_seed,
        }
        jobs["coverage"] = peer_call(python, cov_job, workdir, background=True)
        results["coverage"] = part_coverage(
            python, workdir, args.simulations, args.draws, args.coverage_seed, jobs["coverage"]
        )
        print(report({"coverage": results["coverage"]}), flush=True)
    if "real" in parts:
        results["real"] = part_real(python, workdir, args.draws)
        print(report({"real": results["real"]}), flush=True)
    if "design" in parts:
        results["design"] = part_design(python, workdir, args.design_simulations, truths, jobs["design"])
        print(report({"design": results["design"]}), flush=True)
    results["seconds"] = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=float))
    print(f"total {results['seconds']:.0f} s; results in {args.out}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--peer-worker":
        peer_worker(sys.argv[2])
    else:
        main()
