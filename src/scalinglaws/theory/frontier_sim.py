"""Monte-Carlo learner on Zipf-distributed patterns: simulated runs in the canonical runs schema.

Each run ``(N, D, T, lr)`` sees ``D`` tokens drawn from ``K = n_patterns`` patterns with
``p_k ∝ k**-alpha``. Pattern ``k`` occurs ``c_k ~ Poisson(D p_k)`` times, independently (Poisson
sampling of the corpus size: the token total is Poisson with mean ``D`` rather than exactly ``D``;
tokens are never drawn one by one). The learner then

* **optimises**: SGD with a mean-reduced loss over batches of ``D / T`` tokens and learning rate
  ``lr`` moves pattern ``k`` by ``lr / (D / T)`` per occurrence, so after ``T`` steps its progress
  is ``lr T N**g c_k / D`` (``g = efficiency_exponent``, 0 by default); it needs ``threshold``;
* **covers**: a pattern must be seen at least ``min_count`` times;
* **stores** at most ``floor(N / params_per_pattern)`` patterns, the ones with the highest observed
  counts (ties broken at random).

Both thresholds read the same count, so pattern ``k`` is *eligible* iff
``c_k >= c_min = max(min_count, ceil(threshold D / (lr T N**g)))``, and the learned set is the top
``floor(N / params_per_pattern)`` eligible patterns by count. The reducible loss ``dL`` is the exact
mass of the unlearned patterns. ``params`` is therefore the pattern capacity ``N``, not a parameter
count of a real network, and ``flops = 6 params tokens`` follows the usual convention only formally.

Speed: counts are drawn only where the outcome is uncertain. Patterns that are eligible and inside
the capacity with probability ``>= 1 - delta``, or outside it/ineligible with probability
``>= 1 - delta``, are settled without a draw (``delta = 1e-12 / K`` per pattern, by Poisson tail
bounds; the head is verified after the draw and drawn when the check fails), and rare patterns (mean
count below 1/4) are sampled as a Poisson number of tokens placed by inverse CDF (Poisson splitting:
the same joint law). The simulated learned set thus has the model's law up to a total-variation
error below ``1e-12`` per run.

Example:
    >>> runs = simulate(1.5, **grid(params=[1e2, 1e4], tokens=[1e6]), n_patterns=10**5)
    >>> runs[["params", "bottleneck", "k_star"]].round(1).values.tolist()
    [[100.0, 'capacity', 100.0], [10000.0, 'coverage', 5280.5]]
    >>> bool((runs.delta_loss > 0).all()), float(runs.loss.min()) > 1.0
    (True, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from scalinglaws.theory.frontier import (
    TheoryError,
    _alpha,
    _positive_int,
    frontiers,
    pattern_probabilities,
)

__all__ = ["SimulationTooLargeError", "grid", "simulate", "simulation_bytes"]

#: Total-variation budget per run for the outcomes settled without drawing.
_FAILURE = 1e-12
#: Mean count below which patterns are sampled sparsely (tokens placed, not per-pattern draws).
_SPARSE_MEAN = 0.25
#: Counts below this are histogrammed when selecting the top ``N`` (fast with many ties).
_HIST = 4096


class SimulationTooLargeError(TheoryError):
    """The simulation would need more memory than allowed."""


def simulation_bytes(n_runs: int, n_patterns: int) -> int:
    """Estimated peak bytes of :func:`simulate`: pattern tables, one run's arrays, the table.

    Example:
        >>> round(simulation_bytes(1000, 10**6) / 2**20)
        69
    """
    return 24 * (n_patterns + 1) + 48 * (n_patterns + 1) + 256 * n_runs


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.1f} MiB"


def grid(
    params: ArrayLike,
    tokens: ArrayLike,
    steps: ArrayLike | None = None,
    lr: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """Cartesian product of run settings, flattened with ``params`` varying slowest.

    Use as ``simulate(alpha, **grid(...))``; ``steps`` and ``lr`` appear only when given.

    Example:
        >>> g = grid(params=[1, 2], tokens=[10, 20, 30])
        >>> g["params"].tolist(), g["tokens"].tolist()
        ([1.0, 1.0, 1.0, 2.0, 2.0, 2.0], [10.0, 20.0, 30.0, 10.0, 20.0, 30.0])
    """
    axes = {"params": params, "tokens": tokens, "steps": steps, "lr": lr}
    given = {
        k: np.atleast_1d(np.asarray(v, dtype=float)).ravel()
        for k, v in axes.items()
        if v is not None
    }
    mesh = np.meshgrid(*given.values(), indexing="ij")
    return {k: m.ravel() for k, m in zip(given, mesh, strict=True)}


def simulate(
    alpha: float,
    params: ArrayLike,
    tokens: ArrayLike,
    steps: ArrayLike | None = None,
    lr: ArrayLike = 1.0,
    *,
    n_patterns: int = 10**6,
    seed: int = 0,
    irreducible: float = 1.0,
    params_per_pattern: float = 1.0,
    min_count: int = 1,
    threshold: float = 1.0,
    efficiency_exponent: float = 0.0,
    family: str = "frontier-sim",
    max_bytes: int = 2**30,
) -> pd.DataFrame:
    """Simulate one run per broadcast element of ``(params, tokens, steps, lr)`` (see module doc).

    Returns the canonical runs table ``run, family, params, tokens, flops, loss`` (``loss =
    irreducible + delta_loss``, ``flops = 6 params tokens``) plus ``step`` (``T``; NaN when
    ``steps`` is None, i.e. trained to convergence), ``lr`` and ``bottleneck, k_capacity,
    k_coverage, k_optimisation, k_star`` (analytic frontiers,
    :func:`scalinglaws.theory.frontier.frontiers`), ``delta_loss`` and ``n_learned``. Run ``i``
    draws from ``SeedSequence(seed, spawn_key=(i,))``: the table depends only on the arguments,
    never on how the runs are processed.

    Example:
        >>> a = simulate(2.0, [10, 100], 1e5, n_patterns=1000, seed=3)
        >>> a.equals(simulate(2.0, [10, 100], 1e5, n_patterns=1000, seed=3))
        True
        >>> a[["run", "bottleneck", "n_learned"]].values.tolist()
        [['frontier-sim-000000', 'capacity', 10], ['frontier-sim-000001', 'capacity', 100]]
    """
    a = _alpha(alpha)
    k = _positive_int("n_patterns", n_patterns)
    m = _positive_int("min_count", min_count)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TheoryError(f"seed must be a non-negative integer, got {seed!r}")
    if not np.isfinite(irreducible):
        raise TheoryError(f"irreducible must be finite, got {irreducible!r}")
    f = frontiers(
        a,
        params,
        tokens,
        steps,
        lr,
        params_per_pattern=params_per_pattern,
        min_count=m,
        threshold=threshold,
        efficiency_exponent=efficiency_exponent,
        n_patterns=k,
    )
    shape = f.star.shape
    n, d = (np.broadcast_to(np.asarray(x, dtype=float), shape).ravel() for x in (params, tokens))
    rate = np.broadcast_to(np.asarray(lr, dtype=float), shape).ravel()
    need = simulation_bytes(n.size, k)
    if need > max_bytes:
        raise SimulationTooLargeError(
            f"simulating {n.size} runs over {k} patterns needs about {_size(need)}, above "
            f"max_bytes={_size(max_bytes)}; lower n_patterns or split the grid"
        )
    if steps is None:
        t = np.full(n.size, np.nan)
        c_min = np.full(n.size, float(m))
    else:
        t = np.broadcast_to(np.asarray(steps, dtype=float), shape).ravel()
        speed = rate * t * n ** float(efficiency_exponent)
        c_min = np.maximum(m, np.ceil(float(threshold) * d / speed * (1.0 - 1e-12)))
    cap = np.minimum(np.floor(n / float(params_per_pattern)), k).astype(np.int64)
    delta, learned = _simulate_runs(pattern_probabilities(a, k), d, cap, c_min, seed)
    return pd.DataFrame(
        {
            "run": [f"{family}-{i:06d}" for i in range(n.size)],
            "family": family,
            "params": n,
            "tokens": d,
            "flops": 6.0 * n * d,
            "loss": irreducible + delta,
            "step": t,
            "lr": rate,
            "bottleneck": f.active.ravel(),
            "k_capacity": f.capacity.ravel(),
            "k_coverage": f.coverage.ravel(),
            "k_optimisation": f.optimisation.ravel(),
            "k_star": f.star.ravel(),
            "delta_loss": delta,
            "n_learned": learned,
        }
    )


class _Patterns:
    """Pattern tables of one ``(alpha, K)``: frequencies ``p`` and survival masses ``surv``."""

    def __init__(self, p: np.ndarray) -> None:
        self.p, self.k = p, p.size
        self.surv = np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])  # surv[j] = mass of j+1..K
        self._neg_p = -p
        self.delta = _FAILURE / p.size  # per-pattern failure probability
        self.log_inv = np.log(1.0 / self.delta)

    def at_least(self, x: ArrayLike) -> np.ndarray:
        """Number of patterns with ``p_k >= x``."""
        return np.searchsorted(self._neg_p, -np.asarray(x), side="right")

    def above(self, x: ArrayLike) -> np.ndarray:
        """Number of patterns with ``p_k > x``."""
        return self.at_least(np.nextafter(x, np.inf))

    def low_count(self, lam: ArrayLike) -> np.ndarray:
        """A count ``Poisson(lam)`` reaches with probability ``>= 1 - delta`` (Chernoff)."""
        lam = np.asarray(lam, dtype=float)
        return np.floor(np.maximum(lam - np.sqrt(2.0 * lam * self.log_inv), 0.0))

    def draw(
        self, rng: np.random.Generator, d: float, lo: int, hi: int, seen_only: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Counts of patterns ``lo..hi-1`` (0-based): Poisson per pattern while the mean count is at
        least ``_SPARSE_MEAN``, then a Poisson number of tokens placed by inverse CDF (only seen
        patterns returned). ``seen_only`` replaces the per-pattern counts by "seen at least once"
        (0/1).

        Returns pattern indices, counts, a mask of the sparse entries and the sparse zone's mass.
        """
        mid = min(max(int(self.at_least(_SPARSE_MEAN / d)), lo), hi)
        lam = d * self.p[lo:mid]
        if seen_only:
            dense = (rng.random(lam.size) >= np.exp(-lam)).astype(np.int64)
        else:
            dense = rng.poisson(lam)
        width = self.surv[mid] - self.surv[hi]
        n_tokens = rng.poisson(d * width) if hi > mid else 0
        idx, cnt = np.arange(lo, mid), dense
        if n_tokens:
            gaps = np.cumsum(rng.standard_exponential(n_tokens + 1))
            u = self.surv[hi] + width * (gaps[:-1] / gaps[-1])  # sorted uniform mass coordinates
            index = self.k - np.searchsorted(
                self.surv[::-1], u, side="right"
            )  # surv[j+1] <= u < surv[j]
            sparse_idx, sparse_cnt = np.unique(np.clip(index, mid, hi - 1), return_counts=True)
            idx, cnt = np.concatenate([idx, sparse_idx]), np.concatenate([cnt, sparse_cnt])
        return idx, cnt, np.arange(idx.size) >= mid - lo, width


def _simulate_runs(
    p: np.ndarray, d: np.ndarray, cap: np.ndarray, c_min: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Loss and number of learned patterns per run; bounds settled in bulk, then one loop over runs.

    Zones in rank order: head ``[0, h)`` surely learned (not drawn), drawn ``[h, t)``, and
    ``[t, K)`` surely unlearned (ineligible, or below at least ``cap`` higher counts). With binding
    capacity the drawn zone is cut at ``2 cap`` first and extended only as far as the observed cut
    count requires.
    """
    pat = _Patterns(p)
    k = pat.k
    h_elig = pat.at_least(special.gammainccinv(c_min, pat.delta) / d)
    t_elig = pat.above(special.gammaincinv(c_min, pat.delta) / d)
    limited = cap < t_elig  # otherwise fewer than cap patterns can ever be eligible
    floor_cap = pat.low_count(d * p[np.maximum(cap, 1) - 1])
    lam_out = special.gammaincinv(np.maximum(floor_cap, 1.0), pat.delta)
    t_cap = np.where(limited & (floor_cap >= 1), pat.above(lam_out / d), k)
    h = np.where(limited, np.minimum(h_elig, cap // 2), h_elig)
    t = np.where(cap == 0, 0, np.maximum(np.minimum(t_elig, t_cap), h))
    floor_head = pat.low_count(d * p[np.maximum(h, 1) - 1])
    delta = np.empty(d.size)
    learned = np.empty(d.size, dtype=np.int64)
    for i in range(d.size):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        delta[i], learned[i] = _one_run(
            rng,
            pat,
            d[i],
            int(cap[i]),
            c_min[i],
            int(h[i]),
            int(t[i]),
            floor_head[i],
            bool(limited[i]),
        )
    return delta, learned


def _one_run(
    rng: np.random.Generator,
    pat: _Patterns,
    d: float,
    cap: int,
    c_min: float,
    h: int,
    t: int,
    floor_head: float,
    limited: bool,
) -> tuple[float, int]:
    """Draw one run's uncertain counts; return ``(dL, number learned)`` (see ``_simulate_runs``)."""
    end = min(t, 2 * cap) if limited else t
    idx, cnt, sparse, width = pat.draw(rng, d, h, end, seen_only=not limited and c_min == 1)
    if end < t:  # far patterns matter only if they can reach the cut count seen so far
        cut = _kth_largest(cnt, cap - h) if cnt.size >= cap - h else 0
        cut = min(cut, floor_head) if h else cut
        far = (
            min(max(int(pat.above(special.gammaincinv(cut, pat.delta) / d)), end), t) if cut else t
        )
        if far > end:
            idx2, cnt2, sparse2, width2 = pat.draw(rng, d, end, far, seen_only=False)
            idx, cnt = np.concatenate([idx, idx2]), np.concatenate([cnt, cnt2])
            sparse, width, end = np.concatenate([sparse, sparse2]), width + width2, far
    if limited and h and h + np.count_nonzero(cnt >= floor_head) > cap:
        idx = np.concatenate([np.arange(h), idx])  # head check failed: draw the head too
        cnt = np.concatenate([rng.poisson(d * pat.p[:h]), cnt])
        sparse = np.concatenate([np.zeros(h, dtype=bool), sparse])
        h = 0
    keep = cnt >= c_min
    if limited and np.count_nonzero(keep) > cap - h:
        keep = _top_counts(rng, np.where(keep, cnt, 0), cap - h)
    unlearned = pat.surv[end] + pat.p[idx[~sparse & ~keep]].sum()
    unlearned += width - pat.p[idx[sparse & keep]].sum()
    return float(unlearned), h + int(np.count_nonzero(keep))


def _kth_largest(counts: np.ndarray, rank: int) -> int:
    """The ``rank``-th largest of non-negative integer ``counts`` (ties: histogram below _HIST)."""
    big = counts[counts >= _HIST]
    if big.size >= rank:
        return int(np.partition(big, big.size - rank)[big.size - rank])
    hist = np.bincount(counts[counts < _HIST])
    return hist.size - 1 - int(np.searchsorted(np.cumsum(hist[::-1]) + big.size, rank))


def _top_counts(rng: np.random.Generator, counts: np.ndarray, slots: int) -> np.ndarray:
    """Mask of the ``slots`` largest positive counts, ties at the cut broken uniformly at random."""
    cut = _kth_largest(counts, slots)
    keep = counts > cut
    ties = np.flatnonzero(counts == cut)
    keep[rng.choice(ties, size=slots - np.count_nonzero(keep), replace=False)] = True
    return keep
