"""Mechanism toys behind the universality-class exponents of Liu & Gore (arXiv 2606.25008).

The paper argues that the exponents of ``L = c_m/m + c_l/l + c_tau/tau**(1/3) + L_0`` are fixed by
three generic mechanisms. Each toy here re-derives one exponent from a small model trained from
scratch in numpy (analytic gradients, no torch), seeded and deterministic, and returns a
:class:`ToyResult`: a table in the project's runs schema plus the measured exponent with a 95%
interval and the claimed value.

==========================  ================  =======  ==========================  ============
toy                         scaling variable  claimed  measured (defaults, seed 0)  default time
==========================  ================  =======  ==========================  ============
:func:`superposition_toy`   width ``m``       1        0.94 [0.44, 1.43]            20-50 s
:func:`peaked_time_toy`     dynamic time tau  1/3      0.352 [0.349, 0.355] (SGD)   ~4 s
:func:`residual_depth_toy`  depth ``l``       1        0.62 [0.57, 0.67]            ~9 s
==========================  ================  =======  ==========================  ============

The intervals are least-squares 95% intervals of one run; seed-to-seed scatter is larger.
Reproduction notes (details in each module's docstring):

* **width**: reproduced on average. Single seeds scatter (0.94, 1.26, 1.00 for seeds 0-2; the
  seed-averaged curve gives 1.05).
* **time**: reproduced with plain SGD (0.34-0.36 over seeds and schedules). With Adam, the
  authors' code setting, this implementation measures 0.55-0.6 instead.
* **depth**: not reproduced. The loss is a clean power of depth, but with exponent 0.6-0.7
  (seeds 0-2: 0.62, 0.71, 0.71), not 1, at every CPU scale tried.

All toys share the settings of papers.md section 2.4, scaled down; the scale and each choice papers.md
leaves open are listed in the toy's module.

Example:
    >>> res = peaked_time_toy(steps=60, fit_from=5, checkpoints=8, eval_samples=64)
    >>> list(res.table.columns[:6])
    ['run', 'family', 'params', 'tokens', 'flops', 'loss']
"""

from __future__ import annotations

from scalinglaws.theory.universality._common import ToyError, ToyResult
from scalinglaws.theory.universality.depth import residual_depth_toy
from scalinglaws.theory.universality.peaked import peaked_time_toy
from scalinglaws.theory.universality.superposition import superposition_toy

__all__ = [
    "ToyError",
    "ToyResult",
    "peaked_time_toy",
    "residual_depth_toy",
    "superposition_toy",
]
