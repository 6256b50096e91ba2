"""The neural forecaster (after NeuNeu, arXiv 2601.19831): a small bidirectional transformer over an observed
accuracy trajectory that predicts quantiles of the score at every later checkpoint. Imports torch.

Sequence fed to the transformer: ``[profile token] ctx_1 ... ctx_n  query_1 ... query_m``.

* **Context tokens**, one per observed checkpoint: the score, its difference to the last observed score,
  the gap to the next checkpoint and the distance to the last one, both in log training tokens (not
  checkpoint indices, so irregular schedules work), and a last-point flag, through a small MLP. With
  ``loss_context`` (the shipped model) each also carries the run's validation loss at that checkpoint
  where known (for Pythia the LAMBADA log-perplexity, observed checkpoints only): the scalar analogue of
  the paper's loss profile, which Pythia lacks.
* **Query tokens**, one per checkpoint to forecast: a learned read-out vector plus an embedding of the
  horizon (log tokens past the last observed checkpoint) and of the local trend there (the straight line
  through the last three points, extended by the horizon). A query attends to the context (and the profile
  token) and to itself only, so the forecasts of different targets, and padding, never affect each other.
  With ``fraction_features`` (an ablation) a query also reads how far it and the last observed checkpoint
  lie before the end of training, taken as the last target: there, asking for a later target moves the end.
  With ``reference_features`` a query also reads what a cross-run reference relation (the task's logistic
  law in log loss, fitted on the training runs, stored with the weights) predicts at the run's loss
  extrapolated from its context losses, and the run's offset from it, with a known-flag (masked for tasks
  without a reference): :mod:`scalinglaws.forecast.reference`.
* **Profile token** (optional): a strided 1-D CNN over the per-word probabilities exp(-loss) of a
  validation text at the last observed checkpoint, or an MLP over a compact profile (a histogram of
  exp(-loss)).
* **Quantile head**: five quantiles (0.1, 0.25, 0.5, 0.75, 0.9) that cannot cross: the median is the last
  observed score plus a learned offset, and the others step outwards from it by softplus increments.
  Trained with the pinball loss.

Example (no torch needed for the config):
    >>> ForecasterConfig(d_model=32).quantiles
    (0.1, 0.25, 0.5, 0.75, 0.9)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from scalinglaws.errors import ArtifactError
from scalinglaws.forecast.data import Batch, Problem, check_problem, pad_batch
from scalinglaws.forecast.errors import ForecastError, ProfileError
from scalinglaws.forecast.reference import N_REFERENCE_FEATURES, LossCurves, ReferenceSet, reference_features

__all__ = [
    "Forecaster",
    "ForecasterConfig",
    "NeuralForecaster",
    "pinball_loss",
    "shipped_weights",
]

FORMAT = "scalinglaws.forecast/1"
N_CONTEXT_FEATURES = 7
N_QUERY_FEATURES = 6
N_FRACTION_FEATURES = 2


@dataclass(frozen=True)
class ForecasterConfig:
    """Architecture of a :class:`NeuralForecaster` (saved beside the weights as JSON).

    Attributes:
        d_model, n_layers, n_heads, d_ff: transformer width, depth, heads and feed-forward width.
        quantiles: the quantile levels predicted, increasing, with 0.5 among them.
        out_scale: the scale of the head's outputs in score units.
        profile: None (no profile token), ``'raw'`` (CNN over ``profile_length`` word probabilities)
            or ``'histogram'`` (MLP over a ``profile_length``-bin histogram of exp(-loss)).
        profile_length: the length of the profile vector the model was trained with.
        cnn_channels: channels of the CNN's strided convolutions (kernel 16, stride 8; short profiles use
            only as many as keep 16 positions).
        loss_context: whether each context token also carries the run's validation loss at that checkpoint
            (for Pythia the LAMBADA log-perplexity; missing losses are flagged, so it works without).
        fraction_features: whether each query also reads where it and the last observed checkpoint lie in
            the run's training, in log tokens before its end (the last target).
        reference_features: whether each query also reads a cross-run reference relation's forecast
            (:mod:`scalinglaws.forecast.reference`; the relations are saved in the weights' JSON).
        reference_loss: how the reference features extrapolate the run's loss: ``'power'`` (a power law
            in tokens through the context losses) or ``'runs'`` (placed between the training runs' loss
            curves, saved in the weights' JSON; the power law where they do not cover the tokens).
        meta: free-form notes (what it was trained on, how).
    """

    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 256
    quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
    out_scale: float = 0.1
    profile: str | None = None
    profile_length: int = 0
    cnn_channels: tuple[int, ...] = (8, 16, 32, 64)
    loss_context: bool = False
    fraction_features: bool = False
    reference_features: bool = False
    reference_loss: str = "power"
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        q = tuple(float(v) for v in self.quantiles)
        if 0.5 not in q or list(q) != sorted(q) or len(set(q)) != len(q) or not all(0 < v < 1 for v in q):
            raise ForecastError(f"quantiles must increase within (0, 1) and include 0.5, got {q}")
        if self.profile not in (None, "raw", "histogram"):
            raise ForecastError(f"profile must be None, 'raw' or 'histogram', got {self.profile!r}")
        if self.profile and self.profile_length < 1:
            raise ForecastError("a model with a profile token needs profile_length >= 1")
        if self.reference_loss not in ("power", "runs"):
            raise ForecastError(f"reference_loss must be 'power' or 'runs', got {self.reference_loss!r}")
        if self.d_model % self.n_heads:
            raise ForecastError(f"d_model {self.d_model} must be a multiple of n_heads {self.n_heads}")
        object.__setattr__(self, "quantiles", q)
        object.__setattr__(self, "cnn_channels", tuple(int(c) for c in self.cnn_channels))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["quantiles"], d["cnn_channels"] = list(self.quantiles), list(self.cnn_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ForecasterConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names})


def pinball_loss(
    pred: torch.Tensor, target: torch.Tensor, quantiles: Sequence[float], mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean pinball loss: for each quantile tau, tau * e if e >= 0 else (tau - 1) * e, with e = y - q_tau.

    ``pred`` is (..., Q), ``target`` (...); with a ``mask`` (...) the mean is first over the valid targets
    of each row (the last axis), then over rows, so every problem weighs the same.
    """
    tau = torch.as_tensor(quantiles, dtype=pred.dtype, device=pred.device)
    e = target.unsqueeze(-1) - pred
    loss = torch.maximum(tau * e, (tau - 1.0) * e).mean(-1)
    if mask is None:
        return loss.mean()
    m = mask.to(loss.dtype)
    loss = torch.where(mask, loss, torch.zeros_like(loss))
    per_row = loss.sum(-1) / m.sum(-1).clamp_min(1.0)
    rows = (m.sum(-1) > 0).to(loss.dtype)
    return (per_row * rows).sum() / rows.sum().clamp_min(1.0)


class _MLP(nn.Sequential):
    def __init__(self, d_in: int, d_hidden: int, d_out: int) -> None:
        super().__init__(nn.Linear(d_in, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_out))


class _Block(nn.Module):
    """Pre-LayerNorm transformer block with a boolean attention mask (True: may attend)."""

    def __init__(self, d: int, heads: int, d_ff: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ff = _MLP(d, d_ff, d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None])
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))
        return x + self.ff(self.ln2(x))


class ProfileEncoder(nn.Module):
    """A loss profile -> one token: strided 1-D CNN (raw per-word probabilities) or MLP (histogram)."""

    def __init__(self, cfg: ForecasterConfig) -> None:
        super().__init__()
        self.kind = cfg.profile
        if self.kind == "raw":
            layers: list[nn.Module] = []
            c_in, length = 1, max(cfg.profile_length, 16)
            self.min_length = length
            for i, c in enumerate(cfg.cnn_channels):
                if i and (length + 8 - 16) // 8 + 1 < 16:
                    break  # short profiles get fewer strided layers
                length = (length + 8 - 16) // 8 + 1
                layers += [
                    nn.Conv1d(c_in, c, kernel_size=16, stride=8, padding=4),
                    nn.GroupNorm(min(8, c), c),
                    nn.GELU(),
                ]
                c_in = c
            self.cnn = nn.Sequential(*layers)
            self.out = nn.Linear(2 * c_in, cfg.d_model)
        else:
            self.mlp = _MLP(cfg.profile_length, cfg.d_model, cfg.d_model)

    def forward(self, profile: torch.Tensor) -> torch.Tensor:
        if self.kind == "raw":
            if profile.shape[1] < self.min_length:
                profile = F.pad(profile, (0, self.min_length - profile.shape[1]))
            h = self.cnn(profile.unsqueeze(1))
            return self.out(torch.cat([h.mean(-1), h.amax(-1)], -1))
        return self.mlp(profile)


class NeuralForecaster(nn.Module):
    """The network: (context, targets[, profile]) -> quantiles (B, T, Q). See the module docstring."""

    def __init__(self, cfg: ForecasterConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.ctx_embed = _MLP(N_CONTEXT_FEATURES + (3 if cfg.loss_context else 0), d, d)
        n_qry = N_QUERY_FEATURES + (N_FRACTION_FEATURES if cfg.fraction_features else 0)
        n_qry += N_REFERENCE_FEATURES + 1 if cfg.reference_features else 0
        self.qry_embed = _MLP(n_qry, d, d)
        self.readout = nn.Parameter(torch.randn(d) * 0.02)
        self.kind_embed = nn.Parameter(torch.randn(3, d) * 0.02)  # profile / context / query
        self.blocks = nn.ModuleList([_Block(d, cfg.n_heads, cfg.d_ff) for _ in range(cfg.n_layers)])
        self.norm = nn.LayerNorm(d)
        q = len(cfg.quantiles)
        self.head = nn.Linear(d, q)
        self.median = cfg.quantiles.index(0.5)
        nn.init.normal_(self.head.weight, std=0.01)
        with torch.no_grad():  # increments start near 0.1 x out_scale
            self.head.bias.fill_(-2.25)
            self.head.bias[self.median] = 0.0
        self.profile_encoder = ProfileEncoder(cfg) if cfg.profile else None

    def features(
        self,
        ctx_logt: torch.Tensor,
        ctx_y: torch.Tensor,
        ctx_mask: torch.Tensor,
        tgt_logt: torch.Tensor,
        ctx_loss: torch.Tensor | None = None,
        final_logt: torch.Tensor | None = None,
        tgt_ref: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Context features (B, C, 7), query features (B, T, 6) and the last observed score (B,).

        Context: score - 0.5, 10 x (score - last score), gap to the next point and distance to the last one
        (log tokens), log1p of that distance, a last-point flag, and the difference per log-token distance.
        With ``loss_context``, three more context features: the loss (clipped to [0, 12] nats, / 4), its
        difference to the last observed loss, and whether it is known.
        Query: the horizon h (log tokens past the last point) in three scalings, the context's span, and
        the local trend (10 x the last-three-points slope x h; 10 x their mean minus the last score).
        With ``fraction_features``, two more query features: log tokens from the query and from the last
        observed checkpoint to the end of training (``final_logt``; default: the last target), / 2.
        With ``reference_features``, the three reference features of each target (``tgt_ref``, zero where
        NaN) and whether they are known.
        """
        c = ctx_logt.shape[1]
        last = (ctx_mask.sum(1) - 1).clamp_min(0)
        idx = torch.arange(c, device=ctx_logt.device)
        anchor = ctx_logt.gather(1, last[:, None])
        first = ctx_logt[:, :1]
        y_last = ctx_y.gather(1, last[:, None])
        nxt = torch.cat([ctx_logt[:, 1:], ctx_logt[:, -1:]], 1)
        before = idx[None, :] < last[:, None]
        gap = torch.where(before, nxt - ctx_logt, torch.zeros_like(ctx_logt))
        rel = torch.where(ctx_mask, anchor - ctx_logt, torch.zeros_like(ctx_logt))
        y = torch.where(ctx_mask, ctx_y, y_last)
        dy = y - y_last
        is_last = (idx[None, :] == last[:, None]).to(ctx_y.dtype)
        ctx = torch.stack(
            [y - 0.5, 10.0 * dy, gap, rel / 4.0, torch.log1p(rel), is_last, 10.0 * dy / (1.0 + rel)], -1
        )
        if self.cfg.loss_context:
            if ctx_loss is None:
                ctx_loss = torch.full_like(ctx_y, float("nan"))
            known = torch.isfinite(ctx_loss) & ctx_mask
            loss = torch.where(known, ctx_loss, torch.zeros_like(ctx_loss)).clamp(0.0, 12.0)
            last_known = known.gather(1, last[:, None])
            dl = torch.where(known & last_known, loss - loss.gather(1, last[:, None]), torch.zeros_like(loss))
            ctx = torch.cat([ctx, torch.stack([loss / 4.0, dl, known.to(ctx_y.dtype)], -1)], -1)
        h = (tgt_logt - anchor).clamp_min(1e-4)
        span = (anchor - first).clamp_min(0.0)
        # the local trend: least-squares slope through the last three points (fewer if the context is short)
        three = torch.stack([(last - 2).clamp_min(0), (last - 1).clamp_min(0), last], 1)
        x3, y3 = ctx_logt.gather(1, three), ctx_y.gather(1, three)
        xc, yc = x3 - x3.mean(1, keepdim=True), y3 - y3.mean(1, keepdim=True)
        slope = (xc * yc).sum(1, keepdim=True) / (xc * xc).sum(1, keepdim=True).clamp_min(1e-6)
        level = y3.mean(1, keepdim=True) - y_last
        qry = torch.stack(
            [
                h / 2.0,
                torch.log(h) / 3.0,
                h / (span + 0.5),
                torch.log1p(span).expand_as(h),
                (10.0 * slope * h).clamp(-5.0, 5.0),
                (10.0 * level).expand_as(h),
            ],
            -1,
        )
        if self.cfg.fraction_features:
            end = tgt_logt.amax(1, keepdim=True) if final_logt is None else final_logt[:, None]
            before_end = torch.stack([(end - tgt_logt) / 2.0, ((end - anchor) / 2.0).expand_as(h)], -1)
            qry = torch.cat([qry, before_end], -1)
        if self.cfg.reference_features:
            if tgt_ref is None:
                tgt_ref = torch.full((*h.shape, N_REFERENCE_FEATURES), float("nan"), dtype=h.dtype)
            known = torch.isfinite(tgt_ref).all(-1, keepdim=True)
            ref = torch.where(known, tgt_ref, torch.zeros_like(tgt_ref))
            qry = torch.cat([qry, ref, known.to(h.dtype)], -1)
        return ctx, qry, y_last[:, 0]

    def forward(
        self,
        ctx_logt: torch.Tensor,
        ctx_y: torch.Tensor,
        ctx_mask: torch.Tensor,
        tgt_logt: torch.Tensor,
        tgt_mask: torch.Tensor,
        profile: torch.Tensor | None = None,
        ctx_loss: torch.Tensor | None = None,
        final_logt: torch.Tensor | None = None,
        tgt_ref: torch.Tensor | None = None,
    ) -> torch.Tensor:
        b, c = ctx_y.shape
        t = tgt_logt.shape[1]
        ctx_f, qry_f, y_last = self.features(
            ctx_logt, ctx_y, ctx_mask, tgt_logt, ctx_loss, final_logt, tgt_ref
        )
        parts = [
            self.ctx_embed(ctx_f) + self.kind_embed[1],
            self.qry_embed(qry_f) + self.readout + self.kind_embed[2],
        ]
        key_ok = [ctx_mask, torch.zeros(b, t, dtype=torch.bool, device=ctx_y.device)]
        if self.profile_encoder is not None:
            if profile is None:
                raise ProfileError("this model needs a loss profile of the last observed checkpoint")
            parts.insert(0, (self.profile_encoder(profile) + self.kind_embed[0])[:, None])
            key_ok.insert(0, torch.ones(b, 1, dtype=torch.bool, device=ctx_y.device))
        x = torch.cat(parts, 1)
        n = x.shape[1]
        mask = torch.cat(key_ok, 1)[:, None, :].expand(b, n, n) | torch.eye(
            n, dtype=torch.bool, device=x.device
        )
        for block in self.blocks:
            x = block(x, mask)
        raw = self.head(self.norm(x[:, n - t :]))
        return self.quantiles_from_raw(raw, y_last)

    def quantiles_from_raw(self, raw: torch.Tensor, y_last: torch.Tensor) -> torch.Tensor:
        """Median = last score + offset; the other quantiles step outwards by softplus increments."""
        s = self.cfg.out_scale
        m = self.median
        med = y_last[:, None] + s * raw[..., m]
        inc = s * F.softplus(raw) + 1e-5  # strictly increasing, even where softplus underflows
        lower = med[..., None] - torch.flip(torch.cumsum(torch.flip(inc[..., :m], [-1]), -1), [-1])
        upper = med[..., None] + torch.cumsum(inc[..., m + 1 :], -1)
        return torch.cat([lower, med[..., None], upper], -1)


def _tensors(batch: Batch) -> dict[str, torch.Tensor]:
    out = {
        "ctx_logt": torch.from_numpy(batch.ctx_logt),
        "ctx_y": torch.from_numpy(batch.ctx_y),
        "ctx_mask": torch.from_numpy(batch.ctx_mask),
        "tgt_logt": torch.from_numpy(batch.tgt_logt),
        "tgt_mask": torch.from_numpy(batch.tgt_mask),
    }
    if batch.profile is not None:
        out["profile"] = torch.from_numpy(batch.profile)
    if batch.ctx_loss is not None:
        out["ctx_loss"] = torch.from_numpy(batch.ctx_loss)
    if batch.final_logt is not None:
        out["final_logt"] = torch.from_numpy(batch.final_logt)
    if batch.tgt_ref is not None:
        out["tgt_ref"] = torch.from_numpy(batch.tgt_ref)
    return out


def shipped_weights() -> Path:
    """The folder of the weights shipped in the package: the manifest ``pythia.json`` of an ensemble
    (:mod:`scalinglaws.forecast.ensemble`) and its members ``pythia-<i>.pt`` + ``pythia-<i>.json``."""
    return Path(__file__).resolve().parent / "weights"


class Forecaster:
    """A trained network with its config: forecast problems, save and load.

    Args:
        model: the network (put in eval mode).
        config: its configuration.
        reference: the cross-run reference relations of a ``reference_features`` model (saved with it).
        curves: the training runs' loss curves of a ``reference_loss="runs"`` model (saved with it).
    """

    def __init__(
        self,
        model: NeuralForecaster,
        config: ForecasterConfig | None = None,
        reference: ReferenceSet | None = None,
        curves: LossCurves | None = None,
    ) -> None:
        self.model = model.eval()
        self.config = config or model.cfg
        self.reference = reference
        self.curves = curves

    @property
    def quantiles(self) -> tuple[float, ...]:
        return self.config.quantiles

    @classmethod
    def new(cls, config: ForecasterConfig, seed: int = 0) -> Forecaster:
        """An untrained forecaster, initialised from ``seed``."""
        torch.manual_seed(seed)
        return cls(NeuralForecaster(config), config)

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.pt`` (the state dict) and ``<path>.json`` (config); returns the ``.pt`` path."""
        base = Path(path)
        base = base.with_suffix("") if base.suffix in (".pt", ".json") else base
        base.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        torch.save(state, base.with_suffix(".pt"))
        doc: dict[str, Any] = {"format": FORMAT, "config": self.config.to_dict()}
        if self.reference is not None:
            doc["reference"] = self.reference.to_dict()
        if self.curves is not None:
            doc["reference_curves"] = self.curves.to_dict()
        base.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
        return base.with_suffix(".pt")

    @classmethod
    def load(cls, path: str | Path) -> Forecaster:
        """Load a saved forecaster (``X.pt`` beside ``X.json``); an ensemble, or the shipped model (an
        ensemble), loads with :func:`scalinglaws.forecast.ensemble.load_forecaster`."""
        base = Path(path)
        base = base.with_suffix("") if base.suffix in (".pt", ".json") else base
        cfg_path, pt_path = base.with_suffix(".json"), base.with_suffix(".pt")
        for p in (cfg_path, pt_path):
            if not p.is_file():
                raise ArtifactError(
                    f"{p}: no such forecaster file (a model is X.pt beside X.json; an ensemble, the "
                    "manifest X.json)"
                )
        try:
            doc = json.loads(cfg_path.read_text())
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{cfg_path}: unreadable forecaster config ({exc})") from None
        if doc.get("format") != FORMAT:
            raise ArtifactError(f"{cfg_path}: format {doc.get('format')!r}, expected {FORMAT!r}")
        config = ForecasterConfig.from_dict(doc["config"])
        model = NeuralForecaster(config)
        try:
            state = torch.load(pt_path, map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except Exception as exc:  # noqa: BLE001 - any unpickling/shape failure is one artifact error
            raise ArtifactError(f"{pt_path}: cannot load the weights ({str(exc).splitlines()[0]})") from None
        reference = ReferenceSet.from_dict(doc["reference"]) if "reference" in doc else None
        curves = LossCurves.from_dict(doc["reference_curves"]) if "reference_curves" in doc else None
        return cls(model, config, reference, curves)

    def check_profile(self, profile: np.ndarray | None) -> np.ndarray | None:
        """Validate a profile vector against the model; raise :class:`ProfileError` on a mismatch."""
        cfg = self.config
        if profile is None:
            if cfg.profile:
                raise ProfileError(
                    f"this model was trained with a {cfg.profile} loss profile: pass one (--profile)"
                )
            return None
        if not cfg.profile:
            raise ProfileError(
                "this model was trained without loss profiles (Pythia has none bundled): drop --profile"
            )
        p = np.asarray(profile, np.float32).ravel()
        if p.size != cfg.profile_length:
            what = "words of validation text" if cfg.profile == "raw" else "histogram bins"
            raise ProfileError(
                f"the profile has {p.size} values, the model expects {cfg.profile_length} {what} "
                "(a profile from a different text or setting)"
            )
        if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
            raise ProfileError("profile values must be probabilities exp(-loss) in [0, 1]")
        return p

    def predict(
        self, problems: Sequence[Problem], profile: np.ndarray | None = None, batch_size: int = 256
    ) -> list[np.ndarray]:
        """Quantiles (targets x quantile levels, clipped to [0, 1]) for each problem, in order.

        ``profile`` (one vector for all problems, or one per problem) is the loss profile of the last
        observed checkpoint, for models trained with profiles.
        """
        checked = [check_problem(p) for p in problems]
        profiles: list[np.ndarray | None]
        if profile is not None and np.ndim(profile) == 2:
            if len(profile) != len(checked):
                raise ProfileError(f"{len(profile)} profiles for {len(checked)} problems")
            profiles = [self.check_profile(p) for p in profile]
        else:
            one = self.check_profile(profile)
            profiles = [one] * len(checked)
        out: list[np.ndarray] = []
        with torch.no_grad():
            for i in range(0, len(checked), batch_size):
                chunk = checked[i : i + batch_size]
                prof = profiles[i : i + batch_size]
                batch = pad_batch(
                    [(p.tokens, p.values, p.targets, None, p.loss, None, self._reference(p)) for p in chunk],
                    None if prof[0] is None else prof,  # type: ignore[arg-type]
                )
                q = self.model(**_tensors(batch)).numpy()
                out.extend(
                    np.clip(q[j, : len(p.targets)], 0.0, 1.0).astype(float) for j, p in enumerate(chunk)
                )
        return out

    def _reference(self, p: Problem) -> np.ndarray | None:
        """The reference features of a (checked) problem, for ``reference_features`` models."""
        if not self.config.reference_features or self.reference is None:
            return None
        theta = self.reference.lookup(p.key)
        curves = self.curves if self.config.reference_loss == "runs" else None
        return reference_features(theta, p.tokens, p.loss, p.targets, float(p.values[-1]), curves)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Forecaster(d_model={c.d_model}, layers={c.n_layers}, params={self.n_parameters():,}, "
            f"profile={c.profile!r})"
        )

