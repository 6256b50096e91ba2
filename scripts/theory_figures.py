"""Reproduce the numbers quoted in docs/theory/effective-frontier.md (Effective-Frontier model).

Usage: ``python scripts/theory_figures.py [--skip-timing]``. Prints five tables: single-bottleneck
exponents recovered from simulations, simulated compute-optimal exponents, the smooth-variant
constant x*, the Kaplan -> Chinchilla crossover of the hard model, and the simulator's timing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import optimize, special
from scipy.optimize import curve_fit

from scalinglaws.theory.frontier import frontiers, loss_exponents, normaliser
from scalinglaws.theory.frontier_allocation import optimal_allocation
from scalinglaws.theory.frontier_sim import grid, simulate

K = 10**6
ALPHAS = (1.2, 1.5, 2.0)


def fit_exponent(x: np.ndarray, y: np.ndarray) -> float:
    """Exponent b of ``y = A x^-b + c`` fitted on relative residuals."""
    b0 = -np.polyfit(np.log(x), np.log(y), 1)[0]
    popt, _ = curve_fit(
        lambda x, a, b, c: a * x**-b + c,
        x,
        y,
        p0=(y[0] * x[0] ** b0, b0, 0.0),
        sigma=y,
        maxfev=20000,
    )
    return float(popt[1])


def argmin_log(log_n: np.ndarray, loss: np.ndarray) -> float:
    """Vertex of a parabola through the 7 points around the smallest loss (log-log)."""
    i = int(np.argmin(loss))
    lo, hi = max(i - 3, 0), min(i + 4, loss.size)
    c2, c1, _ = np.polyfit(log_n[lo:hi], np.log(loss[lo:hi]), 2)
    return -c1 / (2 * c2)


def single_exponents() -> None:
    print("alpha | capacity fit / theory | coverage fit / theory | optimisation fit / theory")
    k = np.geomspace(100, 1e5, 13)
    for a in ALPHAS:
        z, ex = normaliser(a, K), loss_exponents(a)
        cap = fit_exponent(k, simulate(a, k, 1e15, n_patterns=K).delta_loss.to_numpy())
        d = z * k**a
        cov_runs = simulate(a, K, np.repeat(d, 4), n_patterns=K).delta_loss.to_numpy()
        cov = fit_exponent(d, cov_runs.reshape(-1, 4).mean(axis=1))
        opt = fit_exponent(d, simulate(a, K, 1e15, steps=d, n_patterns=K).delta_loss.to_numpy())
        print(
            f"{a} | {cap:.4f} / {ex['capacity']:.4f} | {cov:.4f} / {ex['coverage']:.4f} | "
            f"{opt:.4f} / {ex['optimisation']:.4f}"
        )


def compute_optimal() -> None:
    print("alpha, partner, g | simulated N* exponent | predicted | N*_sim / N*_hard (median)")
    cases = [(a, "coverage", 0.0) for a in ALPHAS] + [(a, "optimisation", 0.5) for a in ALPHAS]
    for a, partner, g in cases + [(1.2, "optimisation", 0.8)]:
        kw = dict(partner=partner, batch_tokens=1e5, efficiency_exponent=g, n_patterns=K)
        if partner == "coverage":
            c = 6 * normaliser(a, K) * np.geomspace(300, 3e4, 7) ** (a + 1)
        else:
            c = (np.geomspace(100, 1e4, 6) / optimal_allocation(a, 1.0, **kw).params) ** (a + 1 - g)
        plan = optimal_allocation(a, c, **kw)
        n = plan.params[:, None] * np.geomspace(0.1, 10, 25)
        d = c[:, None] / (6 * n)
        steps = None if partner == "coverage" else (d / 1e5).ravel()
        runs = simulate(a, n.ravel(), d.ravel(), steps, efficiency_exponent=g, n_patterns=K, seed=2)
        loss = runs.delta_loss.to_numpy().reshape(n.shape)
        best = np.array([argmin_log(np.log(n[i]), loss[i]) for i in range(c.size)])
        slope = np.polyfit(np.log(c), best, 1)[0]
        print(
            f"{a}, {partner}, {g} | {slope:.4f} | {plan.params_exponent:.4f} | "
            f"{np.median(np.exp(best) / plan.params):.2f}"
        )


def smooth_constant() -> None:
    print("alpha | x* = D p_N at the expected-loss optimum | N*_expected / N*_hard (pred, numeric)")
    for a in (1.2, 1.34, 1.5, 2.0):
        s = 2 - 1 / a
        x = optimize.brentq(
            lambda x, a=a, s=s: (
                1 - np.exp(-x) - x ** (1 / a - 1) / a * special.gamma(s) * special.gammaincc(s, x)
            ),
            1e-3,
            50,
        )
        num = (
            optimal_allocation(a, 1e24, method="expected").params
            / optimal_allocation(a, 1e24).params
        )
        print(f"{a} | {x:.4f} | {x ** (-1 / (a + 1)):.4f}, {num[()]:.4f}")


def crossover(a: float = 1.37, g: float = 0.95, b: float = 1e4) -> None:
    print(f"hard model, alpha={a}, g={g}, one pass D = {b:g} T; N_x = B^(1/g) = {b ** (1 / g):.3g}")
    print("C | N* | local slope d log N*/d log C | active frontiers at N*")

    def best(c: float) -> float:
        def neg_star(u: float) -> float:
            n = np.exp(u)
            return -float(frontiers(a, n, c / (6 * n), c / (6 * n * b), efficiency_exponent=g).star)

        u = np.linspace(0, 60, 3001)
        i = int(np.argmin([neg_star(x) for x in u]))
        return optimize.minimize_scalar(
            neg_star,
            bounds=(u[max(i - 2, 0)], u[min(i + 2, u.size - 1)]),
            method="bounded",
            options={"xatol": 1e-10},
        ).x

    c = np.logspace(6, 18, 7)
    u = np.array([best(x) for x in c])
    for i in range(c.size - 1):
        n = np.exp(u[i])
        f = frontiers(a, n, c[i] / (6 * n), c[i] / (6 * n * b), efficiency_exponent=g)
        tight = [
            k for k in ("capacity", "coverage", "optimisation") if getattr(f, k) <= 1.0001 * f.star
        ]
        print(f"{c[i]:.0e} | {n:.3g} | {(u[i + 1] - u[i]) / np.log(c[i + 1] / c[i]):.3f} | {tight}")
    print(f"Kaplan-type 1/(alpha+1-g) = {1 / (a + 1 - g):.3f}; ", end="")
    print(f"Chinchilla-type 1/(alpha+1) = {1 / (a + 1):.3f}")


def timing() -> None:
    print("grid (1000 runs, K = 1e6) | alpha | wall s | CPU s")
    grids = {
        "N x D x T, 10 x 10 x 10": grid(
            params=np.logspace(2, 6, 10), tokens=np.logspace(4, 12, 10), steps=np.logspace(2, 8, 10)
        ),
        "N x D, 10 x 100, T = inf": grid(
            params=np.logspace(2, 6, 10), tokens=np.logspace(4, 12, 100)
        ),
    }
    for name, g in grids.items():
        for a in ALPHAS:
            wall, cpu = time.perf_counter(), time.process_time()
            simulate(a, **g, n_patterns=K)
            print(
                f"{name} | {a} | {time.perf_counter() - wall:.2f} | {time.process_time() - cpu:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-timing", action="store_true", help="skip the 6 timed 1000-run grids"
    )
    args = parser.parse_args()
    for table in (single_exponents, compute_optimal, smooth_constant, crossover):
        table()
        print()
    if not args.skip_timing:
        timing()


if __name__ == "__main__":
    main()
