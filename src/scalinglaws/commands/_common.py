"""Shared pieces of every command: the --json flag, JSON output, one-line errors, NAME=VALUE options.

Example:
    >>> parse_pairs(["params=N", "loss=eval_loss"], "--column")
    {'params': 'N', 'loss': 'eval_loss'}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer

from scalinglaws.errors import ScalingLawsError

__all__ = ["JsonFlag", "emit_json", "fail", "friendly", "parse_pairs"]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def emit_json(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=1, default=json_default, allow_nan=True))


def json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def friendly(fn: Callable[..., None]) -> Callable[..., None]:
    """Turn the library's deliberate errors (and missing files) into one-line messages with exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except ScalingLawsError as exc:
            fail(str(exc))
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            fail(f"{exc.filename}: {exc.strerror}")

    return wrapper


def parse_pairs(pairs: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise ScalingLawsError(f"{what} {pair!r} must look like NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


