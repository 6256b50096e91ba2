"""Reproduce the numbers and figures of docs/theory/effective-frontier.md (Effective-Frontier model).

Usage: ``python scripts/theory_figures.py [--skip-timing]`` (about 1.5 min on 2 cores). Prints the
tables: single-bottleneck exponents recovered from simulations, simulated compute-optimal exponents, the
smooth-variant constant x*, the Kaplan -> Chinchilla crossover of the hard model and of the simulator,
the calibration of the ``frontier`` law's sharpness, alpha recovered by fitting the law to simulated
runs, the law against Chinchilla's on the bundled Chinchilla runs (fits and extrapolation), and the
simulator's timing. Writes the figures to docs/theory/figures/ (PNG, matplotlib Agg).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import optimize, special
from scipy.optimize import curve_fit

from scalinglaws import datasets
from scalinglaws.fit import fit
from scalinglaws.plan import compute_optimal as plan_compute_optimal
from scalinglaws.theory.diagnose import diagnose
from scalinglaws.theory.frontier import frontiers, loss_exponents, normaliser
from scalinglaws.theory.frontier_allocation import optimal_allocation
from scalinglaws.theory.frontier_sim import grid, simulate
from scalinglaws.theory.frontier_smooth import expected_loss

K = 10**6
ALPHAS = (1.2, 1.5, 2.0)
FIGURES = Path(__file__).resolve().parent.parent / "docs" / "theory" / "figures"
#: Simulated Kaplan -> Chinchilla crossover (section 6): alpha, efficiency exponent g, tokens per step B.
CROSS_ALPHA, CROSS_G, CROSS_B = 1.2, 0.8, 1e3


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
        num = optimal_allocation(a, 1e24, method="expected").params / optimal_allocation(a, 1e24).params
        print(f"{a} | {x:.4f} | {x ** (-1 / (a + 1)):.4f}, {num[()]:.4f}")


def hard_optimum(c: float, a: float = CROSS_ALPHA, g: float = CROSS_G, b: float = CROSS_B) -> float:
    """log N* maximising the hard frontier k* on the iso-compute line C = 6 N D, one pass D = b T."""

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


def crossover(a: float = 1.37, g: float = 0.95, b: float = 1e4) -> None:
    print(f"hard model, alpha={a}, g={g}, one pass D = {b:g} T; N_x = B^(1/g) = {b ** (1 / g):.3g}")
    print("C | N* | local slope d log N*/d log C | active frontiers at N*")
    c = np.logspace(6, 18, 7)
    u = np.array([hard_optimum(x, a, g, b) for x in c])
    for i in range(c.size - 1):
        n = np.exp(u[i])
        f = frontiers(a, n, c[i] / (6 * n), c[i] / (6 * n * b), efficiency_exponent=g)
        tight = [k for k in ("capacity", "coverage", "optimisation") if getattr(f, k) <= 1.0001 * f.star]
        print(f"{c[i]:.0e} | {n:.3g} | {(u[i + 1] - u[i]) / np.log(c[i + 1] / c[i]):.3f} | {tight}")
    print(f"Kaplan-type 1/(alpha+1-g) = {1 / (a + 1 - g):.3f}; ", end="")
    print(f"Chinchilla-type 1/(alpha+1) = {1 / (a + 1):.3f}")


def crossover_simulated(
    a: float = CROSS_ALPHA, g: float = CROSS_G, b: float = CROSS_B
) -> dict[str, np.ndarray]:
    """Simulated iso-compute scans across the Kaplan -> Chinchilla crossover (one pass, D = b T)."""
    n_patterns = 2 * 10**6
    c = np.logspace(6, 13, 15)
    scan = np.geomspace(0.01, 100, 41)
    n_sim, active = np.empty(c.size), []
    for j, cj in enumerate(c):
        n = np.exp(hard_optimum(cj, a, g, b)) * scan
        d = cj / (6 * n)
        runs = simulate(a, n, d, d / b, efficiency_exponent=g, n_patterns=n_patterns, seed=1)
        loss = runs.delta_loss.to_numpy()
        n_sim[j] = np.exp(argmin_log(np.log(n), loss))
        active.append(runs.bottleneck.iloc[int(np.argmin(loss))])
    print(
        f"simulated, alpha={a}, g={g}, B={b:g}, K={n_patterns:g}: 41 sizes per budget, N_hard x [0.01, 100]"
    )
    print("C | N*_sim | N*_hard | local slope (sim) | active at the simulated optimum")
    n_hard = np.exp([hard_optimum(x, a, g, b) for x in c])
    for j in range(c.size):
        slope = np.log(n_sim[j + 1] / n_sim[j]) / np.log(c[j + 1] / c[j]) if j + 1 < c.size else np.nan
        print(f"{c[j]:.1e} | {n_sim[j]:.3g} | {n_hard[j]:.3g} | {slope:.3f} | {active[j]}")
    low, high = c <= 1e9, c >= 1e11
    fit_low = np.polyfit(np.log(c[low]), np.log(n_sim[low]), 1)[0]
    fit_high = np.polyfit(np.log(c[high]), np.log(n_sim[high]), 1)[0]
    print(f"slope of N*_sim: C <= 1e9 {fit_low:.3f} (predicted {1 / (a + 1 - g):.3f}); "
          f"C >= 1e11 {fit_high:.3f} (predicted {1 / (a + 1):.3f})")  # fmt: skip
    return {"c": c, "n_sim": n_sim, "slopes": np.array([fit_low, fit_high])}


def _soft_law(theta: np.ndarray, s: float | None, a: float, ln: float, ld: np.ndarray) -> np.ndarray:
    """log of ``A softmin(N, G D^(1/a))^-(a-1)`` (``s`` None: hard minimum); ``ld = log(D) / a``."""
    log_amp, log_g = theta[:2]
    if s is None:
        log_k = np.minimum(ln, log_g + ld)
    else:
        q = s * a
        log_k = -np.logaddexp(-q * ln, -q * (log_g + ld)) / q
    return log_amp - (a - 1) * log_k


def sharpness_calibration() -> None:
    """Best data-space sharpness s of the soft-min law against the model's exact expected loss."""
    print("alpha | best s | max |log error|: s best, s = 1.7, hard max, additive (p = 1)")
    for a in (1.1, 1.2, 1.34, 1.5, 2.0, 3.0):
        z, n = special.zeta(a), 1e5
        d = z * np.geomspace(n / 1e3, n * 1e3, 61) ** a  # coverage frontier from N/1000 to 1000 N
        target = np.log(expected_loss(a, n, d))
        args = (a, np.log(n), np.log(d) / a)
        x0 = np.array([-np.log((a - 1) * z), -np.log(z) / a])
        fits = [
            optimize.least_squares(
                lambda t, args=args, y=target: _soft_law(t[:2], t[2], *args) - y, [*x0, s0]
            )
            for s0 in (0.5, 1, 2, 4)
        ]
        best = min(fits, key=lambda r: r.cost)
        errors = []
        for s in (1.7, None, (a - 1) / a):
            r = optimize.least_squares(
                lambda t, s=s, args=args, y=target: _soft_law(t, s, *args) - y, best.x[:2]
            )
            errors.append(np.abs(r.fun).max())
        worst = ", ".join(f"{e:.4f}" for e in errors)
        print(f"{a} | {best.x[2]:.3f} | {np.abs(best.fun).max():.4f}, {worst}")


def law_on_simulations() -> None:
    """Fit the frontier law to simulated runs (E = 0.1): alpha, A, G against the pattern model's constants,
    then the three combinations side by side (alpha, objective, bootstrap refits that converged)."""
    print("alpha | fitted alpha | A fit / theory | G fit / theory | active runs (capacity, coverage)")
    tables = {}
    for a in ALPHAS:
        axes = grid(params=np.geomspace(1e2, 1e5, 7), tokens=np.geomspace(1e3, 1e9, 13))
        runs = tables[a] = simulate(a, **axes, n_patterns=K, irreducible=0.1)
        p = fit(runs, "frontier").params
        z = normaliser(a, K)
        amp = 1 / ((a - 1) * z)  # capacity tail k^(1-alpha) / ((alpha-1) Z)
        g_th = (special.gamma(1 - 1 / a) * (a - 1) / a * z ** (1 - 1 / a)) ** (-1 / (a - 1))  # soft coverage
        counts = runs.bottleneck.value_counts()
        print(
            f"{a} | {p['alpha']:.4f} | {p['A']:.4f} / {amp:.4f} | {p['G']:.4f} / {g_th:.4f} | "
            f"{counts.get('capacity', 0)}, {counts.get('coverage', 0)}"
        )
    print("alpha | combination | fitted alpha [95% bootstrap] | objective | bootstrap refits converged")
    for a, runs in tables.items():
        for name, opts in (
            ("s = 1.7", {}),
            ("hard max", {"form": "max"}),
            ("s = 0.25", {"sharpness": "0.25"}),
        ):
            res = fit(runs, "frontier", law_options=opts, bootstrap=200, seed=0)
            lo, hi = res.intervals()["alpha"]
            print(
                f"{a} | {name} | {res.params['alpha']:.4f} [{lo:.4f}, {hi:.4f}] | "
                f"{res.objective['value']:.3g} | {res.draws_converged.mean():.1%}"
            )


CHINCHILLA_LAWS = {
    "chinchilla": ("chinchilla", {}),
    "frontier (s = 1.7, default)": ("frontier", {}),
    "frontier (hard max)": ("frontier", {"form": "max"}),
    "frontier (s = 0.25)": ("frontier", {"sharpness": "0.25"}),
}


def implied_alpha(name: str, params: dict[str, float]) -> str:
    if name == "chinchilla":
        return f"{1 + params['alpha']:.3f} (from alpha_N), {1 / (1 - params['beta']):.3f} (from beta)"
    return f"{params['alpha']:.3f}"


def chinchilla_comparison() -> dict[str, object]:
    """The frontier law against Chinchilla's on the bundled Chinchilla runs: fits and extrapolation."""
    runs = datasets.load("chinchilla")
    results = {}
    print("law | objective (Huber 1e-3) | parameters | implied Zipf alpha [95% interval] | N*, D* at 5.76e23")
    for name, (law, opts) in CHINCHILLA_LAWS.items():
        res = fit(runs, law, law_options=opts, bootstrap=200, seed=0)
        results[name] = res
        params = ", ".join(f"{k} {v:.4g}" for k, v in res.params.items())
        ints = res.intervals()
        key = "alpha"
        band = f"[{ints[key][0]:.3f}, {ints[key][1]:.3f}]"
        plan = plan_compute_optimal(res, 5.76e23)
        print(
            f"{name} | {res.objective['value']:.6f} | {params} | {implied_alpha(law, res.params)} "
            f"{band if law == 'frontier' else ''} | {plan.params}, {plan.tokens}"
        )
        for d in res.diagnostics:
            if d.severity != "info":
                print(f"    {d.severity}: {d.code}")
    df = runs.table
    log_f = np.log10(df["flops"].to_numpy())
    splits = {
        "train flops < median (120 / 120)": log_f < np.median(log_f),
        "train the 3 lowest decades of flops (222 / 18)": log_f < log_f.min() + 3,
    }
    print("split | law | mean |rel. error| on held-out runs | max | mean signed")
    for split, mask in splits.items():
        train, test = df[mask], df[~mask]
        for name, (law, opts) in CHINCHILLA_LAWS.items():
            res = fit(train, law, law_options=opts)
            pred = res.predict(params=test["params"].to_numpy(), tokens=test["tokens"].to_numpy())
            rel = pred / test["loss"].to_numpy() - 1
            errors = f"{np.abs(rel).mean():.4f} | {np.abs(rel).max():.4f} | {rel.mean():+.4f}"
            print(f"{split} | {name} | {errors}")
    return {"runs": runs, "results": results}


def figures(cross: dict[str, np.ndarray], chin: dict[str, object]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    FIGURES.mkdir(parents=True, exist_ok=True)
    # 1. Kaplan -> Chinchilla crossover of N*(C): hard model (line) and simulated learner (points)
    c_line = np.logspace(6, 13, 57)
    n_line = np.exp([hard_optimum(x) for x in c_line])
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    ax.loglog(c_line, n_line, color="0.3", lw=1.5, label="hard Max-Bottleneck optimum")
    ax.loglog(cross["c"], cross["n_sim"], "o", color="C3", ms=5, label="simulated learner (41-size scans)")
    n_x = CROSS_B ** (1 / CROSS_G)
    ax.axhline(n_x, color="0.6", ls=":", lw=1)
    ax.text(1.5e6, n_x * 1.3, "N_x: coverage overtakes optimisation", fontsize=8, color="0.4")
    for c0, slope, text, color in (
        (1e6, 1 / (CROSS_ALPHA + 1 - CROSS_G), "capacity + optimisation: slope 1/(a+1-g) = {:.3f}", "C0"),
        (1e11, 1 / (CROSS_ALPHA + 1), "capacity + coverage: slope 1/(a+1) = {:.3f}", "C2"),
    ):
        cc = np.array([c0, c0 * 100])
        n0 = 0.4 * np.exp(hard_optimum(c0))
        ax.loglog(cc, n0 * (cc / c0) ** slope, "--", color=color, lw=1, label=text.format(slope))
    ax.set_xlabel("compute C = 6 N D")
    ax.set_ylabel("compute-optimal capacity N*")
    ax.set_title(
        f"N*(C): slope {cross['slopes'][0]:.2f} (Kaplan 0.73), then {cross['slopes'][1]:.2f} "
        f"(Chinchilla 0.46); alpha {CROSS_ALPHA}, g {CROSS_G}, B {CROSS_B:g}",
        fontsize=8,
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(FIGURES / "kaplan_chinchilla_crossover.png", dpi=100)
    plt.close(fig)

    # 2. Chinchilla runs: active bottleneck under the frontier fit, and N*(C) of both laws
    runs, results = chin["runs"], chin["results"]
    frontier_fit, chin_fit = results["frontier (s = 1.7, default)"], results["chinchilla"]
    table = diagnose(frontier_fit, runs)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    for name, color in (("capacity", "C0"), ("coverage", "C1")):
        sel = table["active"] == name
        ax1.loglog(table.loc[sel, "tokens"], table.loc[sel, "params"], "o", ms=3, color=color,
                   label=f"{name}-bound ({int(sel.sum())})")  # fmt: skip
    p = frontier_fit.params
    d = np.geomspace(table["tokens"].min(), table["tokens"].max(), 50)
    ax1.loglog(d, p["G"] * d ** (1 / p["alpha"]), "k-", lw=1, label="balance N = G D^(1/alpha)")
    ax1.set_xlabel("tokens D")
    ax1.set_ylabel("parameters N")
    ax1.set_title("Chinchilla runs under the frontier fit", fontsize=9)
    ax1.legend(fontsize=7)
    budgets = np.logspace(18, 25, 29)
    curves = (
        ("Chinchilla law", chin_fit, "C2"),
        ("frontier law (s = 1.7)", frontier_fit, "C3"),
        ("frontier law (s = 0.25)", results["frontier (s = 0.25)"], "C4"),
    )
    for name, res, color in curves:
        plans = [plan_compute_optimal(res, float(cc)) for cc in budgets]
        ax2.loglog(budgets, [pl.params.value for pl in plans], color=color, label=name)
        ax2.fill_between(budgets, [pl.params.lo for pl in plans], [pl.params.hi for pl in plans],
                         color=color, alpha=0.2, lw=0)  # fmt: skip
    ax2.loglog([5.76e23], [7e10], "k*", ms=8, label="Chinchilla 70B (5.76e23)")
    ax2.set_xlabel("compute C = 6 N D")
    ax2.set_ylabel("compute-optimal N*")
    ax2.set_title("N*(C), 95% bootstrap bands", fontsize=9)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "chinchilla_frontier_fit.png", dpi=100)
    plt.close(fig)
    for f in sorted(FIGURES.glob("*.png")):
        print(f"wrote {f.relative_to(FIGURES.parent.parent.parent)} ({f.stat().st_size / 1024:.0f} KB)")


def timing() -> None:
    print("grid (1000 runs, K = 1e6) | alpha | wall s | CPU s")
    grids = {
        "N x D x T, 10 x 10 x 10": grid(
            params=np.logspace(2, 6, 10), tokens=np.logspace(4, 12, 10), steps=np.logspace(2, 8, 10)
        ),
        "N x D, 10 x 100, T = inf": grid(params=np.logspace(2, 6, 10), tokens=np.logspace(4, 12, 100)),
    }
    for name, g in grids.items():
        for a in ALPHAS:
            wall, cpu = time.perf_counter(), time.process_time()
            simulate(a, **g, n_patterns=K)
            print(f"{name} | {a} | {time.perf_counter() - wall:.2f} | {time.process_time() - cpu:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-timing", action="store_true", help="skip the 6 timed 1000-run grids")
    args = parser.parse_args()
    tables = (single_exponents, compute_optimal, smooth_constant, crossover)
    tables += (sharpness_calibration, law_on_simulations)
    for table in tables:
        table()
        print()
    cross = crossover_simulated()
    print()
    chin = chinchilla_comparison()
    print()
    figures(cross, chin)
    print()
    if not args.skip_timing:
        timing()


if __name__ == "__main__":
    main()
