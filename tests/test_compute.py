"""FLOP conventions and unit converters."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import compute


def test_conventions_agree_where_they_should() -> None:
    n, d = 1.4e9, 2.8e10
    assert compute.flops(n, d) == 6 * n * d
    ne = compute.flops(n, d, "6ND-nonembedding", width=2048, depth=24)
    assert ne == pytest.approx(6 * (12 * 24 * 2048**2 + 13 * 24 * 2048) * d)
    att = compute.flops(n, d, "6ND-attention", width=2048, depth=24, seq_len=2048)
    assert att == pytest.approx((6 * n + 6 * 24 * 2048 * 2048) * d)


@pytest.mark.parametrize("convention", ["6ND", "6ND-attention"])
def test_tokens_from_flops_inverts_flops(convention: str) -> None:
    shape = {"width": 1024, "depth": 16, "seq_len": 4096}
    n, d = np.array([1e8, 1e9]), np.array([2e9, 3e10])
    c = compute.flops(n, d, convention, **shape)
    np.testing.assert_allclose(compute.tokens_from_flops(c, n, convention, **shape), d, rtol=1e-12)


def test_unit_round_trips() -> None:
    c = 3.14e23
    assert compute.from_pf_days(compute.to_pf_days(c)) == pytest.approx(c)
    hours = compute.to_gpu_hours(c, peak_flops=1e15, utilization=0.5)
    assert hours == pytest.approx(c / (0.5e15 * 3600))
    assert compute.from_gpu_hours(hours, peak_flops=1e15, utilization=0.5) == pytest.approx(c)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: compute.flops(1e9, 1e10, "12ND"), "unknown FLOP convention '12ND'"),
        (lambda: compute.flops(1e9, 1e10, "6ND-attention", width=1024), "needs width, depth and seq_len"),
        (lambda: compute.flops(1e9, 1e10, "6ND-nonembedding"), "needs params_nonembedding"),
        (lambda: compute.to_gpu_hours(1e20, peak_flops=0), "peak_flops must be > 0"),
    ],
)
def test_errors_are_clear(call, message) -> None:
    with pytest.raises(compute.ComputeError, match=message):
        call()
