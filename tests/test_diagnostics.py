"""Health signals and diagnoses on runs that really do what is diagnosed (the 2-D lab's collapse
is in test_lab2d.py): D overpowering G, a healthy run of the same length, a NaN."""

import dataclasses
import math
import sys

import pytest
import torch

from playground import api, checkpoint
from playground.engine.diagnose import Diagnoser
from playground.api import TrainSpec, train
from playground.registry import get_family


def spec(idx_dir, out, **kw):
    base = dict(family="gan", dataset="mnist", data_dir=str(idx_dir), steps=300, batch_size=32, seed=1,
                out=str(out), log_every=25, sample_every=1000, ckpt_every=1000, diagnose_window=200)
    base.update(kw)
    return TrainSpec(**base)


def test_health_signals_are_logged_at_log_steps(idx_dir, tmp_path):
    steps = [e for e in train(spec(idx_dir, tmp_path / "r", steps=50)) if e.kind == "step"]
    assert [e.step for e in steps] == [25, 50]
    for e in steps:
        h = {k: v for k, v in e.scalars.items() if k.startswith("health/")}
        assert {"health/D_acc_real", "health/D_acc_fake", "health/G_grad_ns", "health/G_grad_minimax",
                "health/grad_norm_G", "health/grad_norm_D"} <= set(h)
        assert all(math.isfinite(v) for v in h.values()) and h["health/grad_norm_D"] > 0
        assert h["health/G_grad_ns"] + h["health/G_grad_minimax"] == pytest.approx(1.0, abs=1e-5)


def test_d_overpowering_g_is_diagnosed_and_a_healthy_run_is_not(idx_dir, tmp_path):
    """The notes' vanishing gradients: minimax loss, D learning 100x faster than G."""
    bad = list(train(spec(idx_dir, tmp_path / "bad", overrides={"loss": "minimax", "lr": 2e-5, "lr_D": 2e-3})))
    found = [e for e in bad if e.kind == "diagnosis"]
    assert [e.topic for e in found] == ["d_wins"], [e.message for e in found]
    assert found[0].message.startswith("D wins: its accuracy on fakes has been > 0.99 for")
    assert "G's gradients are vanishing" in found[0].message and "non-saturating loss" in found[0].message
    good = list(train(spec(idx_dir, tmp_path / "good")))                 # the defaults, same length
    assert not [e for e in good if e.kind == "diagnosis"], [e.message for e in good if e.kind == "diagnosis"]
    assert good[-1].message == bad[-1].message == "finished"


def test_a_nan_stops_the_run_with_the_message_and_keeps_the_last_good_checkpoint(idx_dir, tmp_path, monkeypatch):
    fam = get_family("gan")

    def poisoned(ctx):
        if ctx.step == 13:                              # D's weights go bad after the step-10 checkpoint
            with torch.no_grad():
                next(ctx.nets["D"].parameters()).fill_(float("nan"))
        return fam.train_step(ctx)

    monkeypatch.setattr(sys.modules[fam.train_step.__module__], "FAMILY", dataclasses.replace(fam, train_step=poisoned))
    events = list(train(spec(idx_dir, tmp_path / "r", steps=40, log_every=5, ckpt_every=10, logdir=str(tmp_path / "tb"))))
    assert events[-1].kind == "error" and events[-1].topic == "diverged"
    assert events[-1].message.startswith("training diverged: NaN in D/loss")
    assert events[-1].message.endswith("at step 15 (checkpoint from step 10 kept)")
    assert checkpoint.read_config(tmp_path / "r")["step"] == 10
    assert api.sample(str(tmp_path / "r"), 4, 0).shape == (4, 28, 28, 1)     # the kept checkpoint works
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_collapse_needs_two_low_checks_after_the_warmup():
    d = Diagnoser(total_steps=10_000, window=500)
    low = {"health/classes": 2, "health/classes_real": 10, "health/diversity": 3.0, "health/diversity_real": 9.0}
    ok = dict(low, **{"health/diversity": 8.0})                     # few classes, but spread out: not a collapse
    assert d.at_samples(500, low) == [] and d.at_samples(900, low) == []       # warm-up: 1,000 steps
    assert d.at_samples(1000, low) == []                                       # one low check
    found = d.at_samples(1500, low)
    assert [x.message.split(" (")[0] for x in found] == ["mode collapse: the samples cover 2 of 10 classes"]
    assert d.at_samples(2000, low) == []                                       # said once per episode
    assert d.at_samples(2500, ok) == [] and d.at_samples(3000, low) == []      # recovered; one low again
    assert len(d.at_samples(3500, low)) == 1


def test_the_train_tab_says_the_health_line_and_each_diagnosis_with_its_explanation():
    from playground.ui.train import _progress

    snap = {"id": "r1", "family": "gan", "dataset": "mnist5k", "status": "running", "step": 600, "total": 1000,
            "img_per_s": 900.0, "eta_s": 12.0, "error": "", "phase": {},
            "health": {"D_acc_real": 1.0, "D_acc_fake": 1.0, "G_grad_ns": 0.99, "G_grad_minimax": 0.004,
                       "grad_norm_G": 0.01, "grad_norm_D": 3.2, "classes": 2, "classes_real": 10,
                       "diversity": 4.0, "diversity_real": 40.0},
            "diagnoses": [{"step": 525, "topic": "d_wins", "message": "D wins: its accuracy on fakes has been "
                           "> 0.99 for 500 steps; G's gradients are vanishing (try ...)"}]}
    text = _progress(snap)
    assert "D accuracy: real 1.00, fake 1.00" in text and "non-saturating 0.990 vs minimax 0.004" in text
    assert "samples cover 2 classes (as many real images: 10)" in text
    assert "**Diagnosis (step 525):** D wins" in text
    assert "*The notes, GAN (2014): vanishing gradients:*" in text and "2·JS - 2 log 2" in text
