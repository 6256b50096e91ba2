"""Shared pieces of the mechanism toys: the result type, errors, Adam, the exponent measurement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from scalinglaws.errors import ScalingLawsError

#: Column order of every toy table: the canonical runs schema first, then the toy's extras.
RUN_COLUMNS = ("run", "family", "params", "tokens", "flops", "loss")


class ToyError(ScalingLawsError, ValueError):
    """A toy was given an invalid setting (non-positive width or depth, too few sizes, ...)."""


@dataclass(frozen=True, eq=False)
class ToyResult:
    """What a mechanism toy returns.

    Attributes:
        table: runs in the canonical schema (``run, family, params, tokens, flops, loss`` plus the
            toy's ``width``/``depth``/``step``/``tau``/``seed`` columns); ``flops`` is ``6 * params *
            tokens`` with ``tokens`` the number of training samples seen.
        exponent: measured decay exponent ``a`` of ``loss ~ x**-a`` (a log-log slope; the loss floor
            of every toy is 0).
        interval: 95% confidence interval of ``exponent`` from the least-squares slope's standard
            error (t distribution). It ignores the correlation between checkpoints of one run and
            the seed-to-seed spread, so it is narrower than a re-run's scatter.
        claimed: the exponent the paper claims for this mechanism.
        variable: the table column the exponent refers to.
    """

    table: pd.DataFrame
    exponent: float
    interval: tuple[float, float]
    claimed: float
    variable: str


def check_positive_int(name: str, value: object) -> int:
    """``value`` as an int, or :class:`ToyError` unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ToyError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_positive(name: str, value: object) -> float:
    """``value`` as a float, or :class:`ToyError` unless it is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ToyError(f"{name} must be a positive number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ToyError(f"{name} must be positive and finite, got {value!r}")
    return float(value)


def check_sizes(name: str, sizes: Sequence[int]) -> list[int]:
    """At least three distinct positive integer sizes, sorted."""
    out = [check_positive_int(name, s) for s in sizes]
    if len(set(out)) < 3:
        raise ToyError(f"{name} needs at least 3 distinct values to measure an exponent, got {out}")
    if len(set(out)) != len(out):
        raise ToyError(f"{name} has repeated values: {out}")
    return sorted(out)


def loglog_exponent(x: np.ndarray, loss: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Exponent ``a`` of ``loss ~ x**-a`` by least squares on logs, with a 95% t interval."""
    fit = stats.linregress(np.log(x), np.log(loss))
    half = stats.t.ppf(0.975, len(x) - 2) * fit.stderr
    return float(-fit.slope), (float(-fit.slope - half), float(-fit.slope + half))


def runs_table(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame in canonical column order, ``flops = 6 * params * tokens``."""
    table = pd.DataFrame(rows)
    table["flops"] = 6.0 * table["params"].astype(float) * table["tokens"].astype(float)
    extras = [c for c in table.columns if c not in RUN_COLUMNS]
    return table[list(RUN_COLUMNS) + extras]


class Adam:
    """Adam (Kingma & Ba) over a list of numpy arrays, updated in place.

    ``step(grads, lrs)`` applies one update with a per-parameter learning rate.
    """

    def __init__(
        self, params: list[np.ndarray], betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.params = params
        self.betas = betas
        self.eps = eps
        self.t = 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray], lrs: list[float]) -> None:
        """One bias-corrected Adam update of every parameter."""
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for p, g, m, v, lr in zip(self.params, grads, self.m, self.v, lrs, strict=True):
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            p -= (lr / c1) * m / (np.sqrt(v / c2) + self.eps)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax."""
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def kl_rows(log_p: np.ndarray, log_q: np.ndarray) -> float:
    """Mean over rows of ``KL(p || q)`` from log-probabilities."""
    return float((np.exp(log_p) * (log_p - log_q)).sum(axis=1).mean())


def rms_normalize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RMSNorm without gain: ``(x / rms(x), rms(x))`` row-wise."""
    r = np.sqrt((x * x).mean(axis=1, keepdims=True))
    return x / r, r
