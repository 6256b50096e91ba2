"""Loss profiles: per-word validation losses of a checkpoint, the optional input of the forecaster.

:func:`word_losses` runs a Hugging Face causal LM checkpoint (a **local** folder; nothing is downloaded)
over a validation text and sums the token losses of each whitespace-separated word (tokens are assigned to
words by character-span overlap, so the profile does not depend on the tokenizer: the NeuNeu recipe).
The first token of each window has no left context and counts as loss 0. Needs the optional
``transformers`` package and a fast tokenizer (character offsets).

A profile file (``.npz``): ``word_losses`` (float32, one per word), ``token_losses``, ``text_sha256``,
``n_words``, ``checkpoint``. :func:`profile_vector` turns it into the model's input: the per-word
probabilities exp(-loss) (``raw``) or their histogram (``histogram``, a compact profile).

Example:
    >>> text = "the cat  sat"
    >>> [text[a:b] for a, b in word_spans(text)]
    ['the', 'cat', 'sat']
    >>> sum_per_word([(0, 3), (3, 4), (5, 8), (9, 12)], np.array([1.0, 0.5, 2.0, 0.25]), word_spans(text))
    array([1.  , 2.  , 0.25], dtype=float32)
    >>> [round(float(v), 4) for v in compact_profile(np.array([0.0, 0.1, 5.0]), bins=4)]
    [0.3333, 0.0, 0.0, 0.6667]
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scalinglaws.forecast.errors import ProfileError

__all__ = [
    "Profile",
    "compact_profile",
    "load_profile",
    "profile_vector",
    "save_profile",
    "sum_per_word",
    "word_losses",
    "word_spans",
]


@dataclass(frozen=True, eq=False)
class Profile:
    """Per-word losses of one checkpoint on one validation text.

    Attributes:
        word_losses: summed token losses of each whitespace word (nats).
        text_sha256: the hash of the validation text (profiles of different texts do not compare).
        checkpoint: where the losses come from.
        token_losses: the per-token losses (nats), if kept.
    """

    word_losses: np.ndarray
    text_sha256: str
    checkpoint: str = ""
    token_losses: np.ndarray | None = None

    @property
    def n_words(self) -> int:
        return len(self.word_losses)


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the whitespace-separated words of ``text``."""
    return [m.span() for m in re.finditer(r"\S+", text)]


def sum_per_word(
    offsets: Sequence[tuple[int, int]], losses: np.ndarray, words: Sequence[tuple[int, int]]
) -> np.ndarray:
    """Sum token losses into words: a token belongs to the first word its character span overlaps
    (whitespace-only tokens belong to none); NaN losses count as 0."""
    starts = np.array([w[0] for w in words])
    ends = np.array([w[1] for w in words])
    out = np.zeros(len(words), np.float64)
    losses = np.nan_to_num(np.asarray(losses, float), nan=0.0, posinf=10.0)
    for (a, b), loss in zip(offsets, losses, strict=True):
        if b <= a:
            continue
        i = int(np.searchsorted(ends, a, side="right"))  # first word ending after the token starts
        if i < len(words) and starts[i] < b:
            out[i] += loss
    return out.astype(np.float32)


def word_losses(checkpoint: str | Path, text: str, window: int = 1024, batch_size: int = 4) -> Profile:
    """Run the causal LM at ``checkpoint`` (a local Hugging Face folder) over ``text``; per-word losses."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ProfileError(
            f"the profile command needs transformers ({exc}); pip install transformers"
        ) from None
    path = Path(checkpoint)
    if not path.is_dir():
        raise ProfileError(f"{checkpoint}: not a folder (give a local Hugging Face checkpoint)")
    words = word_spans(text)
    if not words:
        raise ProfileError("the validation text has no words")
    try:
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
    except (OSError, ValueError) as exc:
        raise ProfileError(
            f"{checkpoint}: cannot load a causal LM and tokenizer ({str(exc).splitlines()[0]})"
        ) from None
    if not getattr(tok, "is_fast", False):
        raise ProfileError(
            f"{checkpoint}: the tokenizer gives no character offsets (a fast tokenizer is needed)"
        )
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = np.asarray(enc["input_ids"], np.int64)
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    window = min(window, int(getattr(model.config, "max_position_embeddings", window) or window))
    token_losses = np.zeros(len(ids), np.float32)
    starts = list(range(0, len(ids), window))
    with torch.no_grad():
        for i in range(0, len(starts), batch_size):
            chunk = [ids[s : s + window] for s in starts[i : i + batch_size]]
            width = max(len(c) for c in chunk)
            x = torch.zeros(len(chunk), width, dtype=torch.long)
            att = torch.zeros(len(chunk), width, dtype=torch.long)
            for j, c in enumerate(chunk):
                x[j, : len(c)] = torch.from_numpy(c)
                att[j, : len(c)] = 1
            logits = model(input_ids=x, attention_mask=att).logits.float()
            nll = torch.nn.functional.cross_entropy(
                logits[:, :-1].transpose(1, 2), x[:, 1:], reduction="none"
            ).numpy()
            for j, c in enumerate(chunk):
                s = starts[i + j]
                token_losses[s + 1 : s + len(c)] = nll[j, : len(c) - 1]
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Profile(sum_per_word(offsets, token_losses, words), sha, str(checkpoint), token_losses)


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write a profile as ``.npz``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "word_losses": profile.word_losses.astype(np.float32),
        "text_sha256": np.array(profile.text_sha256),
        "checkpoint": np.array(profile.checkpoint),
        "n_words": np.array(profile.n_words),
    }
    if profile.token_losses is not None:
        arrays["token_losses"] = profile.token_losses.astype(np.float32)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def load_profile(path: str | Path) -> Profile:
    """Read a profile written by :func:`save_profile` (or any ``.npz`` with ``word_losses``)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if "word_losses" not in z:
                raise ProfileError(
                    f"{path}: no 'word_losses' array (write profiles with `scalinglaws profile`)"
                )
            losses = z["word_losses"].astype(np.float32).ravel()
            sha = str(z["text_sha256"]) if "text_sha256" in z else ""
            ckpt = str(z["checkpoint"]) if "checkpoint" in z else ""
            tok = z["token_losses"].astype(np.float32) if "token_losses" in z else None
    except (OSError, ValueError) as exc:
        raise ProfileError(f"{path}: not a readable profile ({exc})") from None
    return Profile(losses, sha, ckpt, tok)


def compact_profile(word_losses: np.ndarray, bins: int = 32) -> np.ndarray:
    """A compact profile: the histogram of exp(-loss) over [0, 1] in ``bins`` bins, summing to 1."""
    p = np.exp(-np.clip(np.nan_to_num(np.asarray(word_losses, float), nan=0.0, posinf=20.0), 0.0, 20.0))
    hist, _ = np.histogram(p, bins=bins, range=(0.0, 1.0))
    return (hist / max(hist.sum(), 1)).astype(np.float32)


def profile_vector(
    profile: Profile | np.ndarray, kind: str, length: int, text_sha256: str = ""
) -> np.ndarray:
    """The model input from a profile: ``raw`` (exp(-loss) per word; the text must have ``length`` words)
    or ``histogram`` (``length`` bins). Raises :class:`ProfileError` on a mismatch."""
    if isinstance(profile, Profile):
        if text_sha256 and profile.text_sha256 and profile.text_sha256 != text_sha256:
            raise ProfileError("the profile was computed on another validation text than the model's")
        losses = profile.word_losses
    else:
        losses = np.asarray(profile, float).ravel()
    if kind == "histogram":
        return compact_profile(losses, bins=length)
    if kind != "raw":
        raise ProfileError(f"unknown profile kind {kind!r}")
    if len(losses) != length:
        raise ProfileError(
            f"the profile has {len(losses)} words, the model expects {length} "
            "(a profile of a different text length)"
        )
    clean = np.clip(np.nan_to_num(losses, nan=0.0, posinf=10.0), 0.0, 20.0)
    return np.clip(np.exp(-clean), 0.0, 1.0 - 1e-6).astype(np.float32)
