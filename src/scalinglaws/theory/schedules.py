"""Learning-rate schedules and dynamic time.

Liu & Gore (arXiv 2606.25008) measure training progress in *dynamic time*, the integral of the
learning rate over the updates taken, rather than in steps or tokens; the training term of their law
is ``c_tau / tau**(1/3)``. This module turns a learning-rate schedule into that clock.

Conventions
-----------
* A schedule gives one **multiplier** per update, relative to the peak rate ``eta_max``. Steps are
  0-based: step ``t`` is the ``(t+1)``-th update, and ``schedule.multipliers(T)`` has length ``T``.
  The named schedules stay in ``[0, 1]``; a user array may hold any non-negative values.
* **Dynamic time after k updates** is ``tau_k = eta_max * sum(m_t for t < k)``: the multipliers of
  the ``k`` updates already taken, *excluding* step ``k`` itself. So ``tau_0 = 0`` and ``tau_T`` is
  ``eta_max`` times the sum of all ``T`` multipliers. This is the authors' Pythia-notebook
  ``tau(t) = eta_max * sum_{s=1..t} sched(s)`` with 1-based updates ``s``, and it matches
  checkpoint labels that count completed updates (Pythia's ``step143000``).
* Warmups ramp linearly and reach the peak on their last step: ``m_t = (t+1)/W`` for ``t < W``.
  Decays reach their floor exactly on the last step of the run.
* Lengths (``warmup``, ``decay``) are given either as an ``int`` number of steps or as a ``float``
  in ``[0, 1]``: a fraction of the run, rounded to the nearest step (ties to even).

Spec grammar (for the CLI, :func:`schedule_from_name`)
------------------------------------------------------
``NAME[:KEY=VALUE[,KEY=VALUE...]]``; names and keys are case-insensitive and spaces are ignored.
A length written as an integer (``100``) is a step count, one written with a point or an exponent
(``0.05``) is a fraction of the run; a list is numbers joined by ``/``.

============  ========================================  =========================================
name          keys (default)                            example
============  ========================================  =========================================
``constant``  none                                      ``constant``
``warmup``    ``warmup`` (required)                     ``warmup:warmup=2000``
``cosine``    ``warmup`` (0), ``floor`` (0.0)           ``cosine:warmup=0.01,floor=0.1`` (Pythia)
``wsd``       ``warmup`` (0), ``decay`` (0.2),          ``wsd:warmup=100,decay=0.1,shape=cosine``
              ``floor`` (0.0), ``shape`` (linear)
``step``      ``gamma`` (0.1), ``every``/``milestones``  ``step:gamma=0.5,milestones=100/200``
``array``     ``values`` (required)                     ``array:values=1/0.5/0.25``
============  ========================================  =========================================

``shape`` is ``linear`` or ``cosine``; a step schedule takes exactly one of ``every`` and
``milestones``. Every schedule's :attr:`~Schedule.spec` is a canonical spec that parses back to an
equal schedule.

Example:
    >>> sched = schedule_from_name("cosine:warmup=2,floor=0.1")
    >>> sched.multipliers(4).round(3).tolist()
    [0.5, 1.0, 0.55, 0.1]
    >>> dynamic_time(sched, 4, eta_max=1e-3).round(6).tolist()
    [0.0, 0.0005, 0.0015, 0.00205, 0.00215]
    >>> tau_at(Constant(), 1000, eta_max=3e-4)
    0.3
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from scalinglaws.errors import ScalingLawsError

__all__ = [
    "ArraySchedule",
    "Constant",
    "Cosine",
    "LinearWarmup",
    "Schedule",
    "ScheduleError",
    "StepDecay",
    "WarmupStableDecay",
    "dynamic_time",
    "schedule_from_name",
    "tau_at",
]


class ScheduleError(ScalingLawsError, ValueError):
    """A schedule, run length, step or peak learning rate is invalid, or a spec cannot be parsed."""


def _check_run_length(total_steps: int) -> int:
    if isinstance(total_steps, bool) or not isinstance(total_steps, int | np.integer):
        raise ScheduleError(
            f"the run length must be an integer number of steps, got {total_steps!r}"
        )
    if total_steps <= 0:
        raise ScheduleError(f"the run length must be at least 1 step, got {total_steps}")
    return int(total_steps)


def _check_length(name: str, value: int | float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ScheduleError(
            f"{name} must be an int (steps) or a float in [0, 1] (fraction of the run)"
        )
    if isinstance(value, int | np.integer):
        if value < 0:
            raise ScheduleError(f"{name} must be a non-negative number of steps, got {value}")
    elif not 0.0 <= value <= 1.0:
        raise ScheduleError(
            f"{name}={value!r} is a float, i.e. a fraction of the run, and must lie in [0, 1]; "
            "pass an int for a number of steps"
        )


def _resolve(value: int | float, total_steps: int) -> int:
    if isinstance(value, int | np.integer):
        return int(value)
    return int(round(value * total_steps))


def _check_fraction(name: str, value: float) -> None:
    if isinstance(value, bool) or not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ScheduleError(f"{name} must be a number in [0, 1], got {value!r}")


def _ramp(total_steps: int, warmup: int) -> np.ndarray:
    """Linear warmup to 1 over ``warmup`` steps, then 1."""
    t = np.arange(total_steps, dtype=float)
    return np.minimum(1.0, (t + 1.0) / warmup) if warmup > 0 else np.ones(total_steps)


def _decay(n: int, floor: float, shape: str) -> np.ndarray:
    """``n`` steps from (just below) 1 down to exactly ``floor``."""
    q = np.arange(1, n + 1, dtype=float) / n
    if shape == "cosine":
        return floor + (1.0 - floor) * 0.5 * (1.0 + np.cos(np.pi * q))
    return floor + (1.0 - floor) * (1.0 - q)


def _fmt(value: int | float) -> str:
    return str(int(value)) if isinstance(value, int | np.integer) else repr(float(value))


class Schedule(ABC):
    """A learning-rate schedule: per-step multipliers of the peak rate, given the run's length."""

    #: Name used in specs.
    name: ClassVar[str]

    @abstractmethod
    def multipliers(self, total_steps: int) -> np.ndarray:
        """Multipliers for steps ``0 .. total_steps-1`` of a run of ``total_steps`` updates."""

    @property
    @abstractmethod
    def needs_length(self) -> bool:
        """Whether the multiplier at a step depends on the run's total length."""

    @property
    @abstractmethod
    def spec(self) -> str:
        """Canonical spec string; ``schedule_from_name(s.spec) == s``."""


@dataclass(frozen=True, slots=True)
class Constant(Schedule):
    """The peak rate throughout.

    Example:
        >>> Constant().multipliers(3).tolist()
        [1.0, 1.0, 1.0]
    """

    name: ClassVar[str] = "constant"

    def multipliers(self, total_steps: int) -> np.ndarray:
        """Ones, one per step.

        Example:
            >>> Constant().multipliers(2).tolist()
            [1.0, 1.0]
        """
        return np.ones(_check_run_length(total_steps))

    @property
    def needs_length(self) -> bool:
        """False.

        Example:
            >>> Constant().needs_length
            False
        """
        return False

    @property
    def spec(self) -> str:
        """``"constant"``.

        Example:
            >>> Constant().spec
            'constant'
        """
        return "constant"


@dataclass(frozen=True, slots=True)
class LinearWarmup(Schedule):
    """Linear warmup ``m_t = (t+1)/W`` for ``t < W``, then the peak rate.

    Attributes:
        warmup: steps (int) or fraction of the run (float in [0, 1]). May exceed the run.

    Example:
        >>> LinearWarmup(4).multipliers(6).tolist()
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """

    warmup: int | float
    name: ClassVar[str] = "warmup"

    def __post_init__(self) -> None:
        _check_length("warmup", self.warmup)

    def multipliers(self, total_steps: int) -> np.ndarray:
        """Per-step multipliers.

        Example:
            >>> LinearWarmup(0.5).multipliers(4).tolist()
            [0.5, 1.0, 1.0, 1.0]
        """
        total_steps = _check_run_length(total_steps)
        return _ramp(total_steps, _resolve(self.warmup, total_steps))

    @property
    def needs_length(self) -> bool:
        """True when the warmup is a fraction of the run.

        Example:
            >>> LinearWarmup(100).needs_length, LinearWarmup(0.01).needs_length
            (False, True)
        """
        return not isinstance(self.warmup, int | np.integer)

    @property
    def spec(self) -> str:
        """Canonical spec.

        Example:
            >>> LinearWarmup(100).spec
            'warmup:warmup=100'
        """
        return f"warmup:warmup={_fmt(self.warmup)}"


@dataclass(frozen=True, slots=True)
class Cosine(Schedule):
    """Optional linear warmup, then a half cosine from the peak down to ``floor`` at the last step.

    After a warmup of ``W`` steps, step ``t`` has ``q = (t+1-W)/(T-W)`` and
    ``m_t = floor + (1-floor) * (1 + cos(pi q)) / 2``.

    Attributes:
        warmup: steps (int) or fraction of the run (float in [0, 1]); at most the run length.
        floor: final multiplier, in [0, 1].

    Example:
        >>> Cosine().multipliers(4).round(4).tolist()
        [0.8536, 0.5, 0.1464, 0.0]
    """

    warmup: int | float = 0
    floor: float = 0.0
    name: ClassVar[str] = "cosine"

    def __post_init__(self) -> None:
        _check_length("warmup", self.warmup)
        _check_fraction("floor", self.floor)

    def multipliers(self, total_steps: int) -> np.ndarray:
        """Per-step multipliers.

        Example:
            >>> Cosine(warmup=1, floor=0.5).multipliers(3).tolist()
            [1.0, 0.75, 0.5]
        """
        total_steps = _check_run_length(total_steps)
        warmup = _resolve(self.warmup, total_steps)
        if warmup > total_steps:
            raise ScheduleError(
                f"warmup ({warmup} steps) is longer than the run ({total_steps} steps)"
            )
        decay = _decay(total_steps - warmup, self.floor, "cosine")
        return np.concatenate([_ramp(warmup, warmup), decay])

    @property
    def needs_length(self) -> bool:
        """True: the decay spans the whole run.

        Example:
            >>> Cosine().needs_length
            True
        """
        return True

    @property
    def spec(self) -> str:
        """Canonical spec.

        Example:
            >>> Cosine(warmup=0.01, floor=0.1).spec
            'cosine:warmup=0.01,floor=0.1'
        """
        return f"cosine:warmup={_fmt(self.warmup)},floor={_fmt(float(self.floor))}"


@dataclass(frozen=True, slots=True)
class WarmupStableDecay(Schedule):
    """Warmup-stable-decay (WSD): linear warmup, the peak rate, then a decay over the last steps.

    The decay covers the last ``K`` steps: step ``t >= T-K`` has ``q = (t+1-(T-K))/K`` and
    ``m_t = floor + (1-floor) (1-q)`` (linear) or ``floor + (1-floor) (1 + cos(pi q)) / 2``
    (cosine).

    Attributes:
        warmup: steps (int) or fraction of the run (float in [0, 1]).
        decay: length of the decay, steps (int) or fraction of the run (float in [0, 1]).
        floor: final multiplier, in [0, 1].
        shape: ``"linear"`` or ``"cosine"``.

    Example:
        >>> WarmupStableDecay(warmup=1, decay=2).multipliers(5).tolist()
        [1.0, 1.0, 1.0, 0.5, 0.0]
    """

    warmup: int | float = 0
    decay: int | float = 0.2
    floor: float = 0.0
    shape: str = "linear"
    name: ClassVar[str] = "wsd"

    def __post_init__(self) -> None:
        _check_length("warmup", self.warmup)
        _check_length("decay", self.decay)
        _check_fraction("floor", self.floor)
        if self.shape not in ("linear", "cosine"):
            raise ScheduleError(f"WSD shape must be 'linear' or 'cosine', got {self.shape!r}")

    def multipliers(self, total_steps: int) -> np.ndarray:
        """Per-step multipliers.

        Example:
            >>> WarmupStableDecay(decay=0.5, floor=0.2).multipliers(4).round(12).tolist()
            [1.0, 1.0, 0.6, 0.2]
        """
        total_steps = _check_run_length(total_steps)
        warmup = _resolve(self.warmup, total_steps)
        decay = _resolve(self.decay, total_steps)
        if warmup + decay > total_steps:
            raise ScheduleError(
                f"warmup ({warmup}) plus decay ({decay}) steps exceed the run ({total_steps} steps)"
            )
        stable = _ramp(total_steps - decay, warmup)
        return np.concatenate([stable, _decay(decay, self.floor, self.shape)])

    @property
    def needs_length(self) -> bool:
        """True: the decay sits at the end of the run.

        Example:
            >>> WarmupStableDecay().needs_length
            True
        """
        return True

    @property
    def spec(self) -> str:
        """Canonical spec.

        Example:
            >>> WarmupStableDecay(warmup=100).spec
            'wsd:warmup=100,decay=0.2,floor=0.0,shape=linear'
        """
        return (
            f"wsd:warmup={_fmt(self.warmup)},decay={_fmt(self.decay)},"
            f"floor={_fmt(float(self.floor))},shape={self.shape}"
        )


@dataclass(frozen=True, slots=True)
class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``every`` steps, or at each of the given milestones.

    Step ``t`` has ``m_t = gamma**j`` with ``j = t // every``, or ``j`` the number of milestones
    ``<= t`` (PyTorch's ``StepLR`` / ``MultiStepLR``). Give exactly one of ``every`` and
    ``milestones``.

    Attributes:
        gamma: factor per decay, in (0, 1].
        every: decay period in steps.
        milestones: strictly increasing positive steps at which the rate drops.

    Example:
        >>> StepDecay(gamma=0.5, every=2).multipliers(5).tolist()
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    gamma: float = 0.1
    every: int | None = None
    milestones: tuple[int, ...] = ()
    name: ClassVar[str] = "step"

    def __post_init__(self) -> None:
        if isinstance(self.gamma, bool) or not (
            isinstance(self.gamma, int | float) and 0.0 < self.gamma <= 1.0
        ):
            raise ScheduleError(f"gamma must be a number in (0, 1], got {self.gamma!r}")
        object.__setattr__(self, "milestones", tuple(self.milestones))
        if (self.every is None) == (not self.milestones):
            raise ScheduleError("give exactly one of every= and milestones= for a step schedule")
        if self.every is not None and (
            isinstance(self.every, bool)
            or not isinstance(self.every, int | np.integer)
            or self.every < 1
        ):
            raise ScheduleError(f"every must be a positive number of steps, got {self.every!r}")
        ms = self.milestones
        if any(isinstance(m, bool) or not isinstance(m, int | np.integer) for m in ms) or any(
            b <= a for a, b in zip((0, *ms), ms, strict=False)
        ):
            raise ScheduleError(f"milestones must be strictly increasing positive ints, got {ms}")

    def multipliers(self, total_steps: int) -> np.ndarray:
        """Per-step multipliers.

        Example:
            >>> StepDecay(gamma=0.5, milestones=(1, 3)).multipliers(4).tolist()
            [1.0, 0.5, 0.5, 0.25]
        """
        t = np.arange(_check_run_length(total_steps))
        if self.every is not None:
            drops = t // self.every
        else:
            drops = np.searchsorted(np.asarray(self.milestones), t, side="right")
        return float(self.gamma) ** drops.astype(float)

    @property
    def needs_length(self) -> bool:
        """False.

        Example:
            >>> StepDecay(every=10).needs_length
            False
        """
        return False

    @property
    def spec(self) -> str:
        """Canonical spec.

        Example:
            >>> StepDecay(gamma=0.5, milestones=(100, 200)).spec
            'step:gamma=0.5,milestones=100/200'
        """
        if self.every is not None:
            return f"step:gamma={_fmt(float(self.gamma))},every={self.every}"
        return f"step:gamma={_fmt(float(self.gamma))},milestones=" + "/".join(
            str(int(m)) for m in self.milestones
        )


@dataclass(frozen=True, slots=True)
class ArraySchedule(Schedule):
    """User-given multipliers, one per step; the run may not be longer than the array.

    Attributes:
        values: non-negative, finite multipliers of ``eta_max`` (any array-like; stored as a tuple).
            To use absolute learning rates, pass them here with ``eta_max=1``.

    Example:
        >>> ArraySchedule([1.0, 0.5, 0.25]).multipliers(2).tolist()
        [1.0, 0.5]
    """

    values: tuple[float, ...]
    name: ClassVar[str] = "array"

    def __post_init__(self) -> None:
        try:
            arr = np.asarray(self.values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ScheduleError(f"array schedule values must be numbers: {exc}") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ScheduleError("an array schedule needs a non-empty 1-D array of multipliers")
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            raise ScheduleError(
                f"array schedule values must be finite and non-negative; bad at steps "
                f"{bad[:10].tolist()} (values {arr[bad[:10]].tolist()})"
            )
        object.__setattr__(self, "values", tuple(arr.tolist()))

    def multipliers(self, total_steps: int) -> np.ndarray:
        """The first ``total_steps`` values.

        Example:
            >>> ArraySchedule([0.5, 1.0]).multipliers(2).tolist()
            [0.5, 1.0]
        """
        total_steps = _check_run_length(total_steps)
        if total_steps > len(self.values):
            raise ScheduleError(
                f"the array schedule has {len(self.values)} values but the run takes "
                f"{total_steps} steps"
            )
        return np.asarray(self.values[:total_steps], dtype=float)

    @property
    def needs_length(self) -> bool:
        """False.

        Example:
            >>> ArraySchedule([1.0]).needs_length
            False
        """
        return False

    @property
    def spec(self) -> str:
        """Canonical spec (long for long arrays; save those as files instead).

        Example:
            >>> ArraySchedule([1, 0.5]).spec
            'array:values=1.0/0.5'
        """
        return "array:values=" + "/".join(repr(v) for v in self.values)


def _check_eta(eta_max: float) -> float:
    if isinstance(eta_max, bool) or not isinstance(eta_max, int | float | np.number):
        raise ScheduleError(f"eta_max must be a positive number, got {eta_max!r}")
    if not (math.isfinite(eta_max) and eta_max > 0):
        raise ScheduleError(f"eta_max must be positive and finite, got {eta_max!r}")
    return float(eta_max)


def dynamic_time(schedule: Schedule, steps: int, eta_max: float) -> np.ndarray:
    """Dynamic time after ``0, 1, ..., steps`` updates of a run of ``steps`` updates.

    Returns an array of length ``steps + 1`` with ``tau[k] = eta_max * sum(m_t for t < k)``: index
    ``k`` is the number of updates taken, so ``tau[0] = 0`` and ``tau[steps]`` is ``eta_max`` times
    the sum of all the run's multipliers.

    Example:
        >>> dynamic_time(StepDecay(gamma=0.5, every=1), 3, eta_max=2.0).tolist()
        [0.0, 2.0, 3.0, 3.5]
    """
    eta = _check_eta(eta_max)
    m = schedule.multipliers(_check_run_length(steps))
    return np.concatenate([[0.0], eta * np.cumsum(m)])


def tau_at(
    schedule: Schedule, step: ArrayLike, eta_max: float, *, total_steps: int | None = None
) -> float | np.ndarray:
    """Dynamic time after ``step`` updates (a count, as in checkpoint labels; ``tau_at(0) = 0``).

    Args:
        schedule: the run's schedule.
        step: one step count or an array of them, each in ``[0, total_steps]``.
        eta_max: the peak learning rate.
        total_steps: the run's full length. Required when ``schedule.needs_length`` (cosine, WSD,
            fractional warmups); otherwise it defaults to the largest step asked for.

    Returns:
        A float for a scalar ``step``, else an array of ``step``'s shape.

    Example:
        >>> tau_at(Cosine(floor=0.5), [0, 1, 2], eta_max=1.0, total_steps=2).tolist()
        [0.0, 0.75, 1.25]
    """
    raw = np.asarray(step)
    if raw.size == 0:
        raise ScheduleError("no steps given")
    if raw.dtype.kind not in "iuf" or not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
        raise ScheduleError(
            f"steps must be whole numbers of updates, got {raw.ravel()[:5].tolist()}"
        )
    steps = raw.astype(np.int64)
    if np.any(steps < 0):
        raise ScheduleError(f"steps must be >= 0, got {steps[steps < 0].ravel()[:5].tolist()}")
    if total_steps is None:
        if schedule.needs_length:
            raise ScheduleError(
                f"the {schedule.name} schedule depends on the run length: pass total_steps"
            )
        total_steps = max(int(steps.max()), 1)
    total_steps = _check_run_length(total_steps)
    if np.any(steps > total_steps):
        raise ScheduleError(f"steps exceed the run length {total_steps}: {int(steps.max())}")
    out = dynamic_time(schedule, total_steps, eta_max)[steps]
    return float(out) if out.ndim == 0 else out


_INT = re.compile(r"[+-]?\d+")


def _num(key: str, text: str) -> int | float:
    if _INT.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        raise ScheduleError(f"{key}={text!r} is not a number") from None


def _float(key: str, text: str) -> float:
    return float(_num(key, text))


def _int(key: str, text: str) -> int:
    value = _num(key, text)
    if not isinstance(value, int):
        raise ScheduleError(f"{key}={text!r} must be an integer number of steps")
    return value


def _ints(key: str, text: str) -> tuple[int, ...]:
    return tuple(_int(key, part) for part in text.split("/"))


def _floats(key: str, text: str) -> tuple[float, ...]:
    return tuple(_float(key, part) for part in text.split("/"))


def _word(key: str, text: str) -> str:
    return text.lower()


_PARSERS: dict[str, tuple[type[Schedule], dict]] = {
    "constant": (Constant, {}),
    "warmup": (LinearWarmup, {"warmup": _num}),
    "cosine": (Cosine, {"warmup": _num, "floor": _float}),
    "wsd": (
        WarmupStableDecay,
        {"warmup": _num, "decay": _num, "floor": _float, "shape": _word},
    ),
    "step": (StepDecay, {"gamma": _float, "every": _int, "milestones": _ints}),
    "array": (ArraySchedule, {"values": _floats}),
}


def schedule_from_name(spec: str) -> Schedule:
    """Parse a schedule spec ``NAME[:KEY=VALUE,...]`` (grammar in the module docstring).

    Example:
        >>> schedule_from_name("wsd:warmup=100,decay=0.1")
        WarmupStableDecay(warmup=100, decay=0.1, floor=0.0, shape='linear')
        >>> schedule_from_name("step: gamma=0.5, every=1000")
        StepDecay(gamma=0.5, every=1000, milestones=())
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ScheduleError(f"a schedule spec must be a non-empty string, got {spec!r}")
    text = re.sub(r"\s+", "", spec)
    name, _, rest = text.partition(":")
    name = name.lower()
    if name not in _PARSERS:
        raise ScheduleError(
            f"unknown schedule {name!r} in {spec!r}; known: {', '.join(sorted(_PARSERS))}"
        )
    cls, parsers = _PARSERS[name]
    kwargs: dict[str, object] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        key = key.lower()
        if not eq or not value:
            raise ScheduleError(f"expected KEY=VALUE in {spec!r}, got {item!r}")
        if key not in parsers:
            allowed = ", ".join(parsers) or "none"
            raise ScheduleError(f"unknown key {key!r} for schedule {name!r}; allowed: {allowed}")
        if key in kwargs:
            raise ScheduleError(f"key {key!r} given twice in {spec!r}")
        kwargs[key] = parsers[key](key, value)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ScheduleError(f"schedule {name!r} is missing a key in {spec!r}: {exc}") from None
