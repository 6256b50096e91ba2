"""Fit speed on the bundled Chinchilla points: the conventional multi-start fit against ours, in one process.

(a) conventional: L-BFGS-B (scipy, finite-difference gradients) from each of the 4,500 points of the Hoffmann
    et al. initialisation grid on the Epoch parametrisation L = exp(LSE(a - alpha log N, b - beta log D, e)),
    Huber(delta = 1e-3) on log loss, summed (Besiroglu et al. 2024);
(b) ours: ``scalinglaws.fit.fit`` (variable projection + grid + vectorised refinement);
then ours with 1,000 cluster-bootstrap resamples.

Usage: ``.venv/bin/python bench/fit_speed.py [--starts K]`` (K < 4500 times a random subset of the grid and
scales the time up, for a quick look; the recorded numbers use all 4,500).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

from scalinglaws import datasets
from scalinglaws.fit import fit


def conventional(N: np.ndarray, D: np.ndarray, y: np.ndarray, starts: np.ndarray) -> tuple[float, np.ndarray]:
    logN, logD, logy = np.log(N), np.log(D), np.log(y)

    def objective(x: np.ndarray) -> float:
        a, b, e, alpha, beta = x
        pred = logsumexp([a - alpha * logN, b - beta * logD, np.full_like(logN, e)], axis=0)
        return float(np.sum(huber(1e-3, pred - logy)))

    best_f, best_x = np.inf, None
    for x0 in starts:
        res = minimize(objective, x0, method="L-BFGS-B")
        if res.fun < best_f:
            best_f, best_x = res.fun, res.x
    a, b, e, alpha, beta = best_x
    return best_f, np.array([np.exp(e), np.exp(a), np.exp(b), alpha, beta])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=4500)
    args = parser.parse_args()

    runs = datasets.load("chinchilla")  # 5 highest losses flagged and excluded, as Besiroglu et al.
    table = runs.table
    N, D, y = (table[c].to_numpy(float) for c in ("params", "tokens", "loss"))
    grid = np.array(
        list(
            itertools.product(
                np.arange(0, 25.1, 5), np.arange(0, 25.1, 5), np.arange(-1, 1.1, 0.5),
                np.arange(0, 2.1, 0.5), np.arange(0, 2.1, 0.5),
            )
        )
    )  # (a, b, e, alpha, beta): 6 x 6 x 5 x 5 x 5 = 4,500 starts
    if args.starts < len(grid):
        grid = grid[np.random.default_rng(0).choice(len(grid), args.starts, replace=False)]

    t0 = time.perf_counter()
    f_conv, theta_conv = conventional(N, D, y, grid)
    t_conv = (time.perf_counter() - t0) * 4500 / len(grid)

    fit(runs)  # warm-up (imports, caches)
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        ours = fit(runs)
    t_ours = (time.perf_counter() - t0) / reps

    t0 = time.perf_counter()
    boot = fit(runs, bootstrap=1000, seed=0)
    t_boot = time.perf_counter() - t0

    names = ("E", "A", "B", "alpha", "beta")
    print(f"points: {len(y)} (excluded {len(runs.excluded)})")
    scaled = "" if len(grid) == 4500 else f" (measured on {len(grid)} starts, scaled to 4,500)"
    print(f"(a) conventional, L-BFGS-B from 4,500 starts: {t_conv:9.3f} s{scaled}, objective {f_conv:.10f}")
    print("    " + ", ".join(f"{n}={v:.6g}" for n, v in zip(names, theta_conv, strict=True)))
    f_ours = ours.objective["value"]
    print(f"(b) scalinglaws fit:                          {t_ours:9.4f} s, objective {f_ours:.10f}")
    print("    " + ", ".join(f"{n}={v:.6g}" for n, v in ours.params.items()))
    print(f"speed-up (a)/(b): {t_conv / t_ours:,.0f}x; objective difference (b)-(a): "
          f"{ours.objective['value'] - f_conv:+.3e}")
    ok = np.mean(boot.draws_converged)
    print(f"fit + 1,000 cluster-bootstrap resamples: {t_boot:.3f} s ({ok:.1%} of refits converged)")


if __name__ == "__main__":
    main()
