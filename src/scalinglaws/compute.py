"""Training-compute conventions and units.

Every dataset and every fit records the FLOP convention it was built with, because "compute" means different
things in different papers (pain point 3 in the peer survey). Inside the code compute is always in FLOPs;
PF-days and GPU-hours exist only as converters at the edges.

Conventions (training FLOPs for ``tokens`` tokens through a model of ``params`` parameters):

* ``6ND``: ``6 * N * D`` (Kaplan et al. 2020, Hoffmann et al. 2022), with ``N`` the total parameter count.
* ``6ND-nonembedding``: ``6 * N_ne * D`` with ``N_ne`` the non-embedding parameters: given directly, or
  derived as ``12 * depth * width**2 + 13 * depth * width`` (transformer blocks with biases and layer norms).
* ``6ND-attention``: ``(6 * N + 6 * depth * seq_len * width) * D``: Kaplan's count with the attention-score
  FLOPs, which 6ND misses and which matter for small models with long contexts.

Example:
    >>> flops(1e9, 20e9)
    1.2e+20
    >>> round(flops(1e9, 20e9, "6ND-attention", width=2048, depth=24, seq_len=2048) / 1.2e20, 3)
    1.101
    >>> tokens_from_flops(1.2e20, 1e9)
    20000000000.0
    >>> round(to_pf_days(1.2e20), 4)
    1.3889
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from scalinglaws.errors import ScalingLawsError

__all__ = [
    "CONVENTIONS",
    "DEFAULT_CONVENTION",
    "FlopConvention",
    "flops",
    "from_gpu_hours",
    "from_pf_days",
    "nonembedding_params",
    "to_gpu_hours",
    "to_pf_days",
    "tokens_from_flops",
]

#: FLOPs in one PF-day (1e15 FLOP/s for 24 hours).
PF_DAY = 1e15 * 86400.0

#: The convention used when none is named.
DEFAULT_CONVENTION = "6ND"


class ComputeError(ScalingLawsError, ValueError):
    """A FLOP convention is unknown, or lacks the model-shape inputs it needs."""


@dataclass(frozen=True, slots=True)
class FlopConvention:
    """A named way of counting training FLOPs.

    Attributes:
        name: registry key, stored on datasets and fits.
        description: one line for ``--help`` and reports.
        needs: model-shape inputs the convention requires beyond params and tokens.
        per_token: FLOPs per training token as a function of params and shape keywords.
    """

    name: str
    description: str
    needs: tuple[str, ...]
    per_token: Callable[..., np.ndarray]


def nonembedding_params(width: ArrayLike, depth: ArrayLike) -> np.ndarray:
    """Non-embedding parameters of a standard transformer: ``12 l m^2 + 13 l m``.

    Example:
        >>> int(nonembedding_params(512, 6))  # Pythia-70m: 18,915,328 minus the final layer norm (1,024)
        18914304
    """
    m = np.asarray(width, dtype=float)
    layers = np.asarray(depth, dtype=float)
    return 12.0 * layers * m**2 + 13.0 * layers * m


def _six_n(params: np.ndarray, **_: np.ndarray) -> np.ndarray:
    return 6.0 * params


def _six_n_nonembedding(
    params: np.ndarray,
    *,
    params_nonembedding: np.ndarray | None = None,
    width: np.ndarray | None = None,
    depth: np.ndarray | None = None,
    **_: np.ndarray,
) -> np.ndarray:
    if params_nonembedding is not None:
        return 6.0 * params_nonembedding
    if width is None or depth is None:
        raise ComputeError(
            "convention '6ND-nonembedding' needs params_nonembedding, or width and depth"
        )
    return 6.0 * nonembedding_params(width, depth)


def _six_n_attention(
    params: np.ndarray,
    *,
    width: np.ndarray | None = None,
    depth: np.ndarray | None = None,
    seq_len: np.ndarray | None = None,
    **_: np.ndarray,
) -> np.ndarray:
    if width is None or depth is None or seq_len is None:
        raise ComputeError("convention '6ND-attention' needs width, depth and seq_len")
    return 6.0 * params + 6.0 * depth * seq_len * width


CONVENTIONS: dict[str, FlopConvention] = {
    c.name: c
    for c in (
        FlopConvention("6ND", "6 x params x tokens (Kaplan 2020, Hoffmann 2022)", (), _six_n),
        FlopConvention(
            "6ND-nonembedding",
            "6 x non-embedding params x tokens",
            ("params_nonembedding | width+depth",),
            _six_n_nonembedding,
        ),
        FlopConvention(
            "6ND-attention",
            "(6 x params + 6 x depth x seq_len x width) x tokens (Kaplan 2020 with attention)",
            ("width", "depth", "seq_len"),
            _six_n_attention,
        ),
    )
}


def get_convention(name: str) -> FlopConvention:
    """Look up a convention by name, with a clear error listing the known ones."""
    try:
        return CONVENTIONS[name]
    except KeyError:
        known = ", ".join(CONVENTIONS)
        raise ComputeError(f"unknown FLOP convention {name!r}; known: {known}") from None


def _shape_kwargs(**shape: ArrayLike | None) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=float) for k, v in shape.items() if v is not None}


def flops(
    params: ArrayLike,
    tokens: ArrayLike,
    convention: str = DEFAULT_CONVENTION,
    **shape: ArrayLike | None,
) -> np.ndarray | float:
    """Training FLOPs of ``tokens`` tokens through a model of ``params`` parameters.

    Args:
        params: total parameter count(s).
        tokens: training tokens.
        convention: a key of :data:`CONVENTIONS`.
        **shape: ``width``, ``depth``, ``seq_len`` or ``params_nonembedding`` where the convention needs them.
    """
    per_token = get_convention(convention).per_token(
        np.asarray(params, dtype=float), **_shape_kwargs(**shape)
    )
    out = per_token * np.asarray(tokens, dtype=float)
    return float(out) if np.ndim(out) == 0 else out


def tokens_from_flops(
    compute: ArrayLike,
    params: ArrayLike,
    convention: str = DEFAULT_CONVENTION,
    **shape: ArrayLike | None,
) -> np.ndarray | float:
    """The inverse of :func:`flops`: tokens that ``compute`` FLOPs buy at ``params`` parameters."""
    per_token = get_convention(convention).per_token(
        np.asarray(params, dtype=float), **_shape_kwargs(**shape)
    )
    out = np.asarray(compute, dtype=float) / per_token
    return float(out) if np.ndim(out) == 0 else out


def to_pf_days(compute: ArrayLike) -> np.ndarray | float:
    """FLOPs to PF-days."""
    out = np.asarray(compute, dtype=float) / PF_DAY
    return float(out) if np.ndim(out) == 0 else out


def from_pf_days(pf_days: ArrayLike) -> np.ndarray | float:
    """PF-days to FLOPs."""
    out = np.asarray(pf_days, dtype=float) * PF_DAY
    return float(out) if np.ndim(out) == 0 else out


def to_gpu_hours(
    compute: ArrayLike, *, peak_flops: float, utilization: float = 0.4
) -> np.ndarray | float:
    """FLOPs to GPU-hours on GPUs of ``peak_flops`` FLOP/s running at model-FLOPs utilization ``utilization``.

    Example:
        >>> round(to_gpu_hours(5.76e23, peak_flops=989e12, utilization=0.4))  # H100 bf16 dense at 40% MFU
        404449
    """
    if peak_flops <= 0 or not 0 < utilization <= 1:
        raise ComputeError("peak_flops must be > 0 and utilization in (0, 1]")
    out = np.asarray(compute, dtype=float) / (peak_flops * utilization * 3600.0)
    return float(out) if np.ndim(out) == 0 else out


def from_gpu_hours(
    gpu_hours: ArrayLike, *, peak_flops: float, utilization: float = 0.4
) -> np.ndarray | float:
    """GPU-hours to FLOPs (the inverse of :func:`to_gpu_hours`)."""
    if peak_flops <= 0 or not 0 < utilization <= 1:
        raise ComputeError("peak_flops must be > 0 and utilization in (0, 1]")
    out = np.asarray(gpu_hours, dtype=float) * peak_flops * utilization * 3600.0
    return float(out) if np.ndim(out) == 0 else out
