"""The forecast commands and API: output, JSON, plots, bad input as one-line errors, the profile command."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app
from scalinglaws.forecast.api import problems_from_evals
from scalinglaws.forecast.data import HELD_OUT_SIZES, training_trajectories
from scalinglaws.forecast.errors import ForecastError
from scalinglaws.forecast.sampling import Sampler, synthetic_trajectory

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def _evals(tmp_path, values=None, steps=(0, 1000, 2000, 4000, 8000, 16000), name="ev.csv"):
    values = values if values is not None else [0.25, 0.3, 0.35, 0.42, 0.5, 0.55]
    rows = [
        {"run": "m", "task": "piqa", "metric": "acc", "step": s, "tokens": s * 2e6, "value": v}
        for s, v in zip(steps, values, strict=True)
    ]
    rows += [
        {"run": "m", "task": "arc_easy", "metric": "acc", "step": s, "tokens": s * 2e6, "value": 0.3}
        for s in steps
    ]
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_import_help_and_backtest_methods_do_not_import_torch() -> None:
    code = (
        "import sys, scalinglaws, scalinglaws.forecast, scalinglaws.cli as c\n"
        "from scalinglaws.backtest import available_methods, get_method\n"
        "try:\n    c.app(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert {'neural', 'logistic-loss'} <= set(available_methods())\n"
        "assert 'scalinglaws.forecast.baselines' not in sys.modules\n"
        "assert get_method('neural').name == 'neural'\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "NO-TORCH"


@pytest.fixture(scope="module")
def trajs():
    return training_trajectories()


def test_training_data_leaves_the_held_out_sizes_out(trajs) -> None:
    runs = {t.key[0] for t in trajs}
    assert not any(r.removeprefix("pythia-").split("-")[0] in HELD_OUT_SIZES for r in runs)
    assert {"pythia-160m", "pythia-12b-deduped", "pythia-1b-bf16"} <= runs
    assert all(np.all(t.tokens > 0) and np.all((t.values >= 0) & (t.values <= 1)) for t in trajs)


def test_sampler_and_prior_make_valid_samples(trajs) -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        t = synthetic_trajectory(rng)
        assert np.all(np.diff(t.tokens) > 0) and np.all((t.values >= 0) & (t.values <= 1))
    batch = Sampler(trajs[:20], synthetic_fraction=0.5, synthetic_pool=20).batch(rng, 16)
    assert batch.ctx_mask[:, 0].all() and batch.tgt_mask[:, 0].all()
    last = batch.ctx_mask.sum(1) - 1
    assert np.all(batch.ctx_logt[np.arange(16), last] < batch.tgt_logt[:, 0])


def test_forecast_prints_every_future_checkpoint(tmp_path) -> None:
    path = _evals(tmp_path)
    res = run("forecast", str(path), "--context-fraction", "0.3", "--no-plot")
    assert res.exit_code == 0, res.output
    assert "piqa" in res.output and "80% interval" in res.output
    doc = json.loads(
        run(
            "forecast", str(path), "--context-fraction", "0.3", "--task", "piqa", "--json", "--no-plot"
        ).output
    )
    (f,) = doc["forecasts"]
    assert [p["tokens"] for p in f["forecast"]] == [8000 * 2e6, 16000 * 2e6]
    assert all(p["q10"] <= p["q50"] <= p["q90"] for p in f["forecast"])
    assert f["forecast"][0]["truth"] == 0.5


def test_forecast_until_and_plot(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    path = _evals(tmp_path)
    plot = tmp_path / "f.png"
    res = run("forecast", str(path), "--until", "1e11", "--points", "3", "--plot", str(plot), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert len(doc["forecasts"][0]["forecast"]) == 3 and plot.stat().st_size > 1000


@pytest.mark.parametrize(
    ("values", "steps", "extra", "message"),
    [
        ([0.3], (1000,), (), "1 checkpoint"),
        ([np.nan, np.nan, np.nan, 0.4], (1000, 2000, 4000, 8000), (), "no observed values"),
        ([30.0, 35.0, 40.0, 45.0], (1000, 2000, 4000, 8000), (), r"must lie in \[0, 1\].*percentages\?"),
        ([0.3, 0.4], (1000, 2000), ("--task", "nope"), "no task 'nope'"),
        ([0.3, 0.4], (1000, 2000), ("--context-fraction", "1.5"), r"must lie in \(0, 1\)"),
    ],
)
def test_bad_input_is_a_one_line_error(tmp_path, values, steps, extra, message) -> None:
    path = _evals(tmp_path, values, steps)
    args = ["forecast", str(path), "--no-plot", *extra]
    if "--context-fraction" not in extra:
        args += ["--context-fraction", "0.6"]
    res = run(*args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert pd.Series(lines).str.contains(message).any(), res.output


def test_problems_need_a_context_fraction_or_until() -> None:
    ev = pd.DataFrame({"run": "m", "task": "t", "tokens": [1e9, 2e9], "value": [0.3, 0.4]})
    with pytest.raises(ForecastError, match="--until"):
        problems_from_evals(ev)


def test_profile_from_another_text_length_is_a_one_line_error(tmp_path) -> None:
    pytest.importorskip("torch")
    from scalinglaws.forecast.neural import Forecaster, ForecasterConfig
    from scalinglaws.forecast.profile import Profile, save_profile

    model = tmp_path / "prof.pt"
    cfg = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32, profile="raw", profile_length=50)
    Forecaster.new(cfg).save(model)
    prof = save_profile(Profile(np.ones(40, np.float32), "abc"), tmp_path / "p.npz")
    path = _evals(tmp_path)
    res = run(
        "forecast",
        str(path),
        "--context-fraction",
        "0.3",
        "--no-plot",
        "--model",
        str(model),
        "--profile",
        str(prof),
    )
    assert res.exit_code == 2 and "the model expects 50" in res.output, res.output
    good = save_profile(Profile(np.ones(50, np.float32), "abc"), tmp_path / "q.npz")
    res = run(
        "forecast",
        str(path),
        "--context-fraction",
        "0.3",
        "--no-plot",
        "--model",
        str(model),
        "--profile",
        str(good),
        "--json",
    )
    assert res.exit_code == 0, res.output
    # the shipped model takes no profile
    res = run("forecast", str(path), "--context-fraction", "0.3", "--no-plot", "--profile", str(good))
    assert res.exit_code == 2 and "without loss profiles" in res.output


def _tiny_checkpoint(folder, text: str) -> None:
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    import torch

    words = sorted(set(text.split()))
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(words)}}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(
        vocab_size=len(vocab),
        n_positions=16,
        n_embd=16,
        n_layer=1,
        n_head=2,
        bos_token_id=0,
        eos_token_id=0,
    )
    transformers.GPT2LMHeadModel(cfg).save_pretrained(folder)


def test_profile_command_on_a_tiny_random_model(tmp_path) -> None:
    text = "the cat sat on the mat, and the dog sat on the log.\nthe end " * 3
    ckpt = tmp_path / "ckpt"
    _tiny_checkpoint(ckpt, text)
    (tmp_path / "val.txt").write_text(text)
    out = tmp_path / "p.npz"
    res = run(
        "profile",
        str(ckpt),
        "--text",
        str(tmp_path / "val.txt"),
        "--out",
        str(out),
        "--window",
        "8",
        "--json",
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    from scalinglaws.forecast.profile import load_profile

    prof = load_profile(out)
    assert prof.n_words == len(text.split()) == doc["n_words"]
    assert np.all(np.isfinite(prof.word_losses)) and np.all(prof.word_losses >= 0)
    # a random model over a vocabulary of V words loses about log V nats a token
    assert 0.5 < float(np.median(prof.token_losses[1:])) < 10
    bad = run("profile", str(tmp_path / "missing"), "--text", str(tmp_path / "val.txt"))
    assert bad.exit_code == 2 and "not a folder" in bad.output


def test_forecast_train_writes_an_ensemble_of_its_seeds(tmp_path) -> None:
    pytest.importorskip("torch")
    from scalinglaws.forecast.ensemble import ForecasterEnsemble, load_forecaster

    out = tmp_path / "ens.pt"
    res = run(
        "forecast-train", "--out", str(out), "--steps", "2", "--no-reference-features", "--seeds", "3,4"
    )
    assert res.exit_code == 0, res.output
    assert (
        "ens.json" in res.output and (tmp_path / "ens-0.pt").is_file() and (tmp_path / "ens-1.pt").is_file()
    )
    fc = load_forecaster(out)
    assert isinstance(fc, ForecasterEnsemble) and len(fc.members) == 2
    assert [m.config.meta["train"]["seed"] for m in fc.members] == [3, 4]
    bad = run("forecast-train", "--out", str(out), "--steps", "2", "--seeds", "1,x")
    assert bad.exit_code == 2 and "--seeds '1,x'" in bad.output
