"""Cluster bootstrap: resample whole model sizes, refit every resample at once.

Points that share a model size are not independent evidence about the law (they share the model's
idiosyncrasies), so the bootstrap draws sizes with replacement and keeps all points of a drawn size. A
resample is a weight per point (how many times its cluster was drawn), so all resamples are refitted as one
vectorised problem (:func:`scalinglaws.fit.engine.refine_batch`), warm-started at the point estimate.

Example:
    >>> import numpy as np
    >>> cluster_ids(np.array([1e8, 1.00001e8, 2e8, 4e8, 4e8])).tolist()
    [0, 0, 1, 2, 2]
    >>> w = cluster_weights(np.array([0, 0, 1, 2]), 3, seed=0)
    >>> w.shape, bool(np.all(w[:, 0] == w[:, 1]))
    ((3, 4), True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["cluster_ids", "cluster_weights"]


def cluster_ids(values: np.ndarray, rtol: float = 1e-3) -> np.ndarray:
    """Group values that agree within ``rtol`` (relative): digitised or rounded sizes of one model.

    Sorted values start a new cluster wherever the relative gap to the previous value exceeds ``rtol``.
    """
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    gaps = np.diff(sorted_vals) > rtol * np.abs(sorted_vals[1:])
    ids_sorted = np.concatenate([[0], np.cumsum(gaps)])
    ids = np.empty_like(ids_sorted)
    ids[order] = ids_sorted
    return ids.astype(int)


def cluster_weights(ids: np.ndarray, n_draws: int, *, seed: int = 0) -> np.ndarray:
    """``(n_draws, n)`` resampling weights: each draw picks as many clusters as exist, with replacement."""
    ids = np.asarray(ids)
    n_clusters = int(ids.max()) + 1
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_draws)
    return counts[:, ids].astype(float)
