"""The Effective-Frontier law (Zou et al. 2026, arXiv 2602.02593): ``L = E + A k*^-(alpha - 1)``.

The pattern model (:mod:`scalinglaws.theory.frontier`) makes the reducible loss the Zipf tail mass beyond
an *effective frontier* ``k*``, ``dL ~ k*^(1 - alpha)``. Each resource sets a frontier, measured here in
parameter units (the number of patterns a model of ``N`` parameters stores is proportional to ``N``):

* capacity      ``k_N = N``                 (loss ``A N^-(alpha-1)``);
* coverage      ``k_D = G D^(1/alpha)``     (loss ``B D^-((alpha-1)/alpha)``, ``B = A G^-(alpha-1)``);
* optimisation  ``k_T = H T^(1/alpha)``     (with ``steps=True``; ``T`` = the ``step`` column).

Max-Bottleneck: ``k* = min_i k_i``, so ``dL = max`` of the single-bottleneck losses. Both exponents are
tied to one Zipf exponent ``alpha``; the law has 4 free parameters (``E, A, alpha, G``) against
Chinchilla's 5. Two combinations:

* ``form="smooth"`` (default): ``k*`` is the soft minimum
  ``log k* = -(1/q) log sum_i exp(-q log k_i)`` with ``q = sharpness * alpha``. The sharpness is in
  data units (``dL^(sharpness/b)`` with ``b = (alpha-1)/alpha`` adds the terms' powers), and its
  default 1.7 is calibrated on the pattern model's exact expected loss (hard capacity cut, Poisson
  coverage), which it matches within 0.6-4 % for ``alpha`` in [1.1, 3] (the hard max: 4-18 %); see
  ``docs/theory/effective-frontier.md`` section 7. It is differentiable everywhere.
* ``form="max"``: the hard minimum. It is kinked where two frontiers cross: the Jacobian jumps, the
  column of ``G`` vanishes on capacity-bound runs and the compute-optimal point sits on the kink. The
  engine copes on the data tried, but the hard max describes the model's own loss worse; use it to
  compare.

``E`` and ``A`` enter linearly (variable projection); ``alpha``, ``G`` (and ``H``) are searched on a grid.
Under ``C = 6 N D`` the compute-optimal run has a closed form (balanced frontiers, shifted by the
smoothing): ``N* = (G^alpha alpha^(1/sharpness) C / 6)^(1/(alpha + 1))``, ``N* ~ C^(1/(alpha + 1))``.

Example:
    >>> import numpy as np
    >>> law = Frontier()
    >>> law.param_names
    ('E', 'A', 'alpha', 'G')
    >>> theta = np.array([1.7, 400.0, 1.35, 30.0])
    >>> X = {"params": np.array([1e8, 1e10]), "tokens": np.array([1e12, 1e9])}
    >>> law.predict(X, theta).round(4).tolist()
    [2.334, 2.2646]
    >>> law.bottlenecks(X, theta)["active"].tolist()
    ['capacity', 'coverage']
    >>> N, D = law.compute_optimum(np.array(1e21), theta)
    >>> f"{float(N):.3g} params, {float(D):.3g} tokens"
    '3.06e+09 params, 5.44e+10 tokens'
"""

from __future__ import annotations

import numpy as np

from scalinglaws.errors import LawError
from scalinglaws.laws.base import Inputs, Law, Param, columns_of

__all__ = ["DEFAULT_SHARPNESS", "Frontier"]

#: Data-space sharpness of the soft minimum, calibrated on the pattern model's expected loss.
DEFAULT_SHARPNESS = 1.7

ALPHA_GRID = tuple(np.round(np.r_[np.arange(1.02, 2.0, 0.02), np.arange(2.0, 4.01, 0.1)], 4))
ALPHA_GRID_COARSE = tuple(np.round(np.r_[np.arange(1.02, 2.0, 0.04), np.arange(2.0, 4.01, 0.2)], 4))
#: Frontier scales G, H: balance at N = G D^(1/alpha) spans decades across data sets and alpha.
SCALE_GRID = tuple(float(v) for v in 10.0 ** np.arange(-14.0, 14.01, 0.5))
SCALE_GRID_COARSE = tuple(float(v) for v in 10.0 ** np.arange(-14.0, 14.01, 1.0))

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise LawError(f"law 'frontier': option {name} must be true or false, got {value!r}")


class Frontier(Law):
    """Effective-Frontier law: ``E + A * softmin(N, G D^(1/alpha)[, H T^(1/alpha)])^-(alpha - 1)``.

    Args:
        form: ``"smooth"`` (soft minimum of the frontiers, the default) or ``"max"`` (hard Max-Bottleneck).
        sharpness: data-space sharpness ``s`` of the soft minimum (``q = s alpha``); ignored by ``"max"``.
        steps: add the optimisation frontier ``H T^(1/alpha)`` read from the ``step`` input.
    """

    name = "frontier"
    description = (
        "E + A min(N, G D^(1/alpha))^-(alpha-1), Effective-Frontier Max-Bottleneck (Zou et al. 2026)"
    )
    note = (
        "Chinchilla with both exponents tied to one Zipf exponent alpha (capacity alpha-1, coverage "
        "(alpha-1)/alpha); one parameter fewer. steps=true adds the optimisation frontier."
    )

    def __init__(
        self, form: str = "smooth", sharpness: float | str = DEFAULT_SHARPNESS, steps: bool | str = False
    ) -> None:
        if form not in ("smooth", "max"):
            raise LawError(f"law 'frontier': form must be 'smooth' or 'max', got {form!r}")
        try:
            s = float(sharpness)
        except (TypeError, ValueError):
            raise LawError(f"law 'frontier': sharpness must be a number, got {sharpness!r}") from None
        if not (np.isfinite(s) and s > 0):
            raise LawError(f"law 'frontier': sharpness must be finite and > 0, got {sharpness!r}")
        self.form = form
        self.sharpness = s
        self.steps = _flag("steps", steps)
        # three nonlinear parameters with steps: coarser grids keep the initial search near 30,000 points
        scale_grid = SCALE_GRID_COARSE if self.steps else SCALE_GRID
        alpha_grid = ALPHA_GRID_COARSE if self.steps else ALPHA_GRID
        params = [
            Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
            Param("A", 0.0, np.inf, linear=True, log_scale=True, description="capacity amplitude"),
            Param("alpha", 1.001, 6.0, grid=alpha_grid, description="Zipf exponent of the patterns"),
            Param("G", 1e-30, 1e30, log_scale=True, grid=scale_grid,
                  description="coverage frontier k_D = G D^(1/alpha), in parameter units"),
        ]  # fmt: skip
        if self.steps:
            params.append(
                Param("H", 1e-30, 1e30, log_scale=True, grid=scale_grid,
                      description="optimisation frontier k_T = H T^(1/alpha), in parameter units")
            )  # fmt: skip
        self.params = tuple(params)
        self.inputs = ("params", "tokens", "step") if self.steps else ("params", "tokens")
        self.bottleneck_names = ("capacity", "coverage", "optimisation")[: 3 if self.steps else 2]

    @property
    def options(self) -> dict[str, str]:
        return {"form": self.form, "sharpness": repr(self.sharpness), "steps": str(self.steps).lower()}

    # ----- the frontiers ------------------------------------------------------------------------------
    def log_frontiers(self, X: Inputs, theta: np.ndarray) -> list[np.ndarray]:
        """``log k_i`` of each bottleneck (capacity, coverage[, optimisation]): ``(n,)`` or ``(B, n)``."""
        cols = columns_of(theta)
        alpha, g = cols[2], cols[3]
        log_n = np.log(X["params"])
        log_d = np.log(g) + np.log(X["tokens"]) / alpha
        out = [np.broadcast_to(log_n, np.broadcast(log_n, alpha).shape), log_d]
        if self.steps:
            out.append(np.log(cols[4]) + np.log(X["step"]) / alpha)
        return out

    def _soft_min(
        self, logs: list[np.ndarray], alpha: np.ndarray, *, derivatives: bool = True
    ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """``(log k*, [w_i = d log k* / d log k_i], d log k* / d q)``; elementwise, no stacking (fast)."""
        logs = np.broadcast_arrays(*logs)
        low = logs[0]
        for item in logs[1:]:
            low = np.minimum(low, item)
        if self.form == "max":
            if not derivatives:
                return low, [], np.zeros(())
            taken = np.zeros(low.shape, dtype=bool)
            weights = []
            for item in logs:  # one-hot on the first smallest frontier
                hit = (item == low) & ~taken
                taken |= hit
                weights.append(hit.astype(float))
            return low, weights, np.zeros_like(low)
        q = self.sharpness * np.asarray(alpha)
        z = [np.exp(-q * (item - low)) for item in logs]  # in (0, 1]; the smallest frontier gives 1
        total = z[0]
        for item in z[1:]:
            total = total + item
        log_k = low - np.log(total) / q
        if not derivatives:
            return log_k, [], np.zeros(())
        weights = [item / total for item in z]
        mean = weights[0] * logs[0]
        for w, item in zip(weights[1:], logs[1:], strict=True):
            mean = mean + w * item
        return log_k, weights, (mean - log_k) / q

    def bottlenecks(self, X: Inputs, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Per-run frontiers, single-bottleneck losses and the active bottleneck.

        Returns ``log_k_<name>``, ``loss_<name>`` (``A k_i^-(alpha-1)``, that bottleneck alone),
        ``log_k_star``, ``weight_<name>`` (``d log k* / d log k_i``) and ``active`` (the smallest frontier,
        i.e. the largest single-bottleneck loss).
        """
        cols = columns_of(theta)
        a_amp, alpha = cols[1], cols[2]
        logs = self.log_frontiers(X, theta)
        log_k, w, _ = self._soft_min(logs, alpha)
        out: dict[str, np.ndarray] = {"log_k_star": log_k}
        for i, name in enumerate(self.bottleneck_names):
            out[f"log_k_{name}"] = np.broadcast_to(logs[i], log_k.shape).astype(float)
            out[f"loss_{name}"] = a_amp * np.exp(-(alpha - 1.0) * out[f"log_k_{name}"])
            out[f"weight_{name}"] = w[i]
        stack = np.stack(np.broadcast_arrays(*logs), axis=-1)
        out["active"] = np.asarray(self.bottleneck_names, dtype=object)[stack.argmin(axis=-1)]
        return out

    # ----- the Law contract ---------------------------------------------------------------------------
    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        cols = columns_of(theta)
        e, a_amp, alpha = cols[0], cols[1], cols[2]
        log_k, _, _ = self._soft_min(self.log_frontiers(X, theta), alpha, derivatives=False)
        return e + a_amp * np.exp(-(alpha - 1.0) * log_k)

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        cols = columns_of(theta)
        a_amp, alpha = cols[1], cols[2]
        log_k, w, d_q = self._soft_min(self.log_frontiers(X, theta), alpha)
        f = np.exp(-(alpha - 1.0) * log_k)
        reducible = a_amp * f
        inv_a2 = 1.0 / (alpha * alpha)
        d_log_k_d_alpha = -w[1] * np.log(X["tokens"]) * inv_a2 + d_q * self.sharpness
        if self.steps:
            d_log_k_d_alpha = d_log_k_d_alpha - w[2] * np.log(X["step"]) * inv_a2
        columns = [
            np.ones_like(f),
            f,
            reducible * (-log_k - (alpha - 1.0) * d_log_k_d_alpha),
            -(alpha - 1.0) * reducible * w[1] / cols[3],
        ]
        if self.steps:
            columns.append(-(alpha - 1.0) * reducible * w[2] / cols[4])
        return np.stack(columns, axis=-1)

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        alpha = theta[:, 2, None]
        log_k, _, _ = self._soft_min(self.log_frontiers(X, theta), alpha, derivatives=False)
        f = np.exp(-(alpha - 1.0) * log_k)
        return np.stack([np.ones_like(f), f], axis=-1)

    def log_coverage_scale(self, theta: np.ndarray, batch_tokens: float | None = None) -> np.ndarray:
        """``log`` of the scale of the frontier that grows with ``D^(1/alpha)`` under a fixed budget.

        Without steps this is ``log G``. With steps and one pass at ``batch_tokens`` per step
        (``T = D / batch_tokens``), coverage and optimisation both grow as ``D^(1/alpha)`` and combine
        into one frontier with scale ``softmin(G, H batch_tokens^(-1/alpha))``.
        """
        cols = columns_of(theta)
        alpha, log_g = cols[2], np.log(cols[3])
        if not self.steps:
            return np.asarray(log_g, dtype=float)
        if batch_tokens is None:
            raise LawError("law 'frontier' with steps needs batch_tokens (T = D / batch_tokens) to plan")
        log_h = np.log(cols[4]) - np.log(batch_tokens) / alpha
        log_k, _, _ = self._soft_min([log_g, log_h], alpha, derivatives=False)
        return log_k

    def balanced_params(
        self, compute: np.ndarray, theta: np.ndarray, batch_tokens: float | None = None
    ) -> np.ndarray:
        """Compute-optimal ``N*`` under ``C = 6 N D`` (closed form; see the module docstring).

        The loss falls as ``softmin(k_N, k_D)`` grows; on the iso-compute line ``k_N = N`` rises and
        ``k_D ~ (C / 6N)^(1/alpha)`` falls, and the soft minimum peaks where ``k_D = k_N alpha^(-1/q)``
        (``q = sharpness alpha``; exactly balanced, ``k_D = k_N``, for the hard max).
        """
        alpha = columns_of(theta)[2]
        shift = 0.0 if self.form == "max" else np.log(alpha) / self.sharpness
        log_c6 = np.log(np.asarray(compute, dtype=float) / 6.0)
        log_n = (alpha * self.log_coverage_scale(theta, batch_tokens) + log_c6 + shift) / (alpha + 1.0)
        return np.exp(log_n)

    def compute_optimum(self, compute: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Closed-form ``(N*, D*)`` under C = 6ND; None with steps (plan with ``frontier_optimal``)."""
        if self.steps:
            return None
        n_opt = self.balanced_params(compute, theta)
        return n_opt, np.asarray(compute, dtype=float) / (6.0 * n_opt)
