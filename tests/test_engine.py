import dataclasses
import json
import threading

import pytest
import torch

from playground import api, checkpoint
from playground.api import TrainSpec, train
from playground.errors import PlaygroundError
from playground.seed import deterministic_mode


def spec(idx_dir, out, **kw):
    base = dict(family="cgan", dataset="mnist", data_dir=str(idx_dir), steps=20, batch_size=16, seed=3,
                out=str(out), log_every=5, sample_every=10, ckpt_every=10)
    base.update(kw)
    return TrainSpec(**base)


def run(s, stop=None):
    return list(train(s, stop))


def test_events_stream_and_checkpoint(idx_dir, tmp_path):
    events = run(spec(idx_dir, tmp_path / "r", logdir=str(tmp_path / "tb")))
    kinds = [e.kind for e in events]
    assert kinds.count("step") == 4 and kinds.count("samples") == 2 and kinds[-1] == "done"
    step = next(e for e in events if e.kind == "step")
    assert {"D/loss", "G/loss", "img_per_s", "eta_s"} <= set(step.scalars)
    grid = next(e for e in events if e.kind == "samples").image
    assert grid.dtype.name == "uint8" and grid.ndim == 3
    cfg = checkpoint.read_config(tmp_path / "r")
    assert cfg["step"] == 20 and cfg["family"] == "cgan" and cfg["dataset"] == "mnist"
    assert list((tmp_path / "tb").glob("events.out.tfevents.*")), "TensorBoard log missing"
    assert not list((tmp_path / "r").glob("*.tmp"))


def _weights(path):
    state = checkpoint.load_trainer_state(path)
    return state["nets"]


@pytest.mark.parametrize("family,extra", [("cgan", {}), ("wgan-gp", {"overrides": {"width": 8}, "ema": 0.9})])
def test_resume_is_exact(idx_dir, tmp_path, family, extra):
    deterministic_mode(True)
    try:
        run(spec(idx_dir, tmp_path / "full", family=family, steps=40, ckpt_every=1000, **extra))
        run(spec(idx_dir, tmp_path / "half", family=family, steps=20, ckpt_every=1000, **extra))
        events = run(spec(idx_dir, tmp_path / "half", family=family, steps=40, resume=str(tmp_path / "half"),
                          ckpt_every=1000, **extra))
    finally:
        deterministic_mode(False)
    assert events[0].step == 25 or events[0].kind in ("step", "samples")
    assert checkpoint.read_config(tmp_path / "half")["step"] == 40
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "half")
    for net in a:
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), f"{net}.{k} differs after resume"
    ma = checkpoint.load_model_state(tmp_path / "full")
    mb = checkpoint.load_model_state(tmp_path / "half")
    assert all(torch.equal(ma[k], mb[k]) for k in ma)


def test_stop_event_saves_checkpoint(idx_dir, tmp_path):
    stop = threading.Event()
    events = []
    for ev in train(spec(idx_dir, tmp_path / "r", steps=1000, ckpt_every=10_000), stop):
        events.append(ev)
        if ev.kind == "step" and ev.step >= 10:
            stop.set()
    assert events[-1].kind == "done" and events[-1].message == "stopped"
    assert checkpoint.read_config(tmp_path / "r")["step"] == events[-1].step < 1000


def test_resume_continues_step_count(idx_dir, tmp_path):
    run(spec(idx_dir, tmp_path / "r", steps=10))
    events = run(spec(idx_dir, tmp_path / "r", steps=20, resume=str(tmp_path / "r")))
    assert [e.step for e in events if e.kind == "step"] == [15, 20]


def test_resume_with_a_new_learning_rate_uses_it(idx_dir, tmp_path, monkeypatch):
    """Moments come from the checkpoint, hyperparameters from the (overridden) config."""
    run(spec(idx_dir, tmp_path / "r", steps=10))
    from playground.families import cgan

    seen = []
    real_step = cgan.train_step

    def spy(ctx):
        seen.append({k: o.param_groups[0]["lr"] for k, o in ctx.opts.items()})
        assert all(o.state for o in ctx.opts.values())          # Adam moments were restored
        return real_step(ctx)

    monkeypatch.setattr(cgan, "FAMILY", dataclasses.replace(cgan.FAMILY, train_step=spy))
    run(spec(idx_dir, tmp_path / "r", steps=12, resume=str(tmp_path / "r"), overrides={"lr": 5e-5}))
    assert seen and all(v == 5e-5 for lrs in seen for v in lrs.values())
    assert checkpoint.read_config(tmp_path / "r")["config"]["lr"] == 5e-5


def test_divergence_keeps_last_good_checkpoint(idx_dir, tmp_path, monkeypatch):
    run(spec(idx_dir, tmp_path / "r", steps=10))
    good = checkpoint.load_model_state(tmp_path / "r")
    from playground.families import cgan

    real_step = cgan.train_step

    def exploding(ctx):  # a real step, then the loss blows up the way a diverging run does
        out = real_step(ctx)
        if ctx.step >= 12:
            out["D/loss"] = torch.tensor(float("nan"))
        return out

    monkeypatch.setattr(cgan, "FAMILY", dataclasses.replace(cgan.FAMILY, train_step=exploding))
    events = run(spec(idx_dir, tmp_path / "r", steps=30, resume=str(tmp_path / "r")))
    assert events[-1].kind == "error" and "diverged" in events[-1].message
    assert checkpoint.read_config(tmp_path / "r")["step"] == 10
    after = checkpoint.load_model_state(tmp_path / "r")
    assert all(torch.equal(good[k], after[k]) for k in good)


def test_bad_specs_are_clear(idx_dir, tmp_path):
    with pytest.raises(PlaygroundError, match="unknown family"):
        run(spec(idx_dir, tmp_path / "a", family="nope"))
    with pytest.raises(PlaygroundError, match="no setting"):
        run(spec(idx_dir, tmp_path / "a", overrides={"learning_rate": 1}))
    with pytest.raises(PlaygroundError, match="must be positive"):
        run(spec(idx_dir, tmp_path / "a", overrides={"lr": "-1"}))
    for key, value, message in [("lr", "nan", "finite"), ("lr", "inf", "finite"), ("beta1", "1.5", r"\[0, 1\)"),
                                ("n_critic", "0", "at least 1")]:
        with pytest.raises(PlaygroundError, match=message):
            run(spec(idx_dir, tmp_path / "a", overrides={key: value}))
    for ema in (float("nan"), 2.0, -0.1, 1.0):
        with pytest.raises(PlaygroundError, match="EMA decay must be in"):
            run(spec(idx_dir, tmp_path / "a", ema=ema))
    with pytest.raises(PlaygroundError, match="img_resolution is set from the dataset"):
        run(spec(idx_dir, tmp_path / "a", overrides={"img_resolution": 512}))
    with pytest.raises(PlaygroundError, match="trains at most 16x16"):
        run(spec(idx_dir, tmp_path / "a", max_resolution=16))
    with pytest.raises(PlaygroundError, match="not a valid"):
        run(spec(idx_dir, tmp_path / "a", overrides={"lr": "fast"}))
    with pytest.raises(PlaygroundError, match="not found"):
        run(spec(tmp_path / "empty", tmp_path / "a"))
    run(spec(idx_dir, tmp_path / "g", family="gan", steps=5))
    with pytest.raises(PlaygroundError, match="cannot resume a gan run as cgan"):
        run(spec(idx_dir, tmp_path / "x", resume=str(tmp_path / "g")))


def test_unwritable_out(idx_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PlaygroundError, match="cannot create output directory"):
        run(spec(idx_dir, blocker / "sub"))


def test_trained_run_samples_through_api(idx_dir, tmp_path):
    run(spec(idx_dir, tmp_path / "r"))
    a = api.sample(str(tmp_path / "r"), 6, seed=5, labels=[0, 1, 2, 3, 4, 5])
    b = api.sample(str(tmp_path / "r"), 6, seed=5, labels=[0, 1, 2, 3, 4, 5])
    c = api.sample(str(tmp_path / "r"), 6, seed=6, labels=[0, 1, 2, 3, 4, 5])
    assert a.shape == (6, 28, 28, 1) and a.dtype.name == "uint8"
    assert (a == b).all() and not (a == c).all()
    assert json.loads((tmp_path / "r" / "config.json").read_text())["class_names"][0] == "0"


def test_resuming_an_ema_run_without_ema_is_an_error_not_a_silent_drop(idx_dir, tmp_path):
    run(spec(idx_dir, tmp_path / "e", steps=10, ema=0.9))
    with pytest.raises(PlaygroundError, match="trained with EMA; resume with --ema"):
        run(spec(idx_dir, tmp_path / "e", steps=12, resume=str(tmp_path / "e")))
    events = run(spec(idx_dir, tmp_path / "e", steps=12, resume=str(tmp_path / "e"), ema=0.9))
    assert events[-1].kind == "done" and events[-1].step == 12


def test_a_save_killed_midway_never_resumes_mismatched_weights_and_counters(idx_dir, tmp_path, monkeypatch):
    import os
    from pathlib import Path

    run(spec(idx_dir, tmp_path / "r", steps=10))
    real_replace, renamed = os.replace, []

    def killed_before_the_json(src, dst):          # the process dies between two renames of a save
        if Path(dst).parent == tmp_path / "r":
            if Path(dst).name == checkpoint.STATE_JSON:
                raise KeyboardInterrupt("killed")
            renamed.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_before_the_json)
    with pytest.raises(KeyboardInterrupt):
        run(spec(idx_dir, tmp_path / "r", steps=20, resume=str(tmp_path / "r")))
    monkeypatch.undo()
    assert renamed == [checkpoint.MODEL_FILE, checkpoint.STATE_TENSORS]   # new tensors, old JSON files
    assert checkpoint.read_config(tmp_path / "r")["step"] == 10
    assert checkpoint.tensors_step(tmp_path / "r" / checkpoint.STATE_TENSORS) == 20
    with pytest.raises(PlaygroundError, match="a save was interrupted"):
        run(spec(idx_dir, tmp_path / "r", steps=30, resume=str(tmp_path / "r")))
    assert api.sample(str(tmp_path / "r"), 2, 0, labels=[0, 1]).shape == (2, 28, 28, 1)   # still samples
    assert not list((tmp_path / "r").glob(".*.tmp"))


def test_ema_rampup_follows_g_early_and_reaches_the_full_decay():
    from playground.engine.ema import ema_decay

    assert ema_decay(0.999, 100, 0.0) == 0.999                      # off: the plain decay
    assert ema_decay(0.999, 0, 0.05) == 0.0                         # the first update copies G
    early = ema_decay(0.999, 100, 0.05)                             # half-life 5 steps, not 693
    assert early == pytest.approx(0.5 ** (1 / 5))
    assert ema_decay(0.999, 10**6, 0.05) == pytest.approx(0.999)     # later: the full decay
    values = [ema_decay(0.999, s, 0.05) for s in range(0, 20000, 50)]
    assert values == sorted(values)


def test_ema_rampup_in_a_run(idx_dir, tmp_path):
    """After 10 steps with decay 0.999 the plain average is still ~99% the initial weights;
    ramped up it has followed G."""
    plain = run(spec(idx_dir, tmp_path / "p", steps=10, ema=0.999))
    ramped = run(spec(idx_dir, tmp_path / "q", steps=10, ema=0.999, ema_rampup=0.05))
    assert plain[-1].kind == ramped[-1].kind == "done"
    g = checkpoint.load_trainer_state(tmp_path / "q")["nets"]["G"]
    p, q = checkpoint.load_model_state(tmp_path / "p"), checkpoint.load_model_state(tmp_path / "q")
    key = next(k for k in q if k.endswith("weight"))
    assert (q[key] - g[key]).abs().mean() < (p[key] - g[key]).abs().mean() / 5
    assert checkpoint.read_config(tmp_path / "q")["train"]["ema_rampup"] == 0.05
    with pytest.raises(PlaygroundError, match="EMA ramp-up must be in"):
        run(spec(idx_dir, tmp_path / "x", steps=2, ema=0.9, ema_rampup=2.0))


def test_an_unknown_loss_is_a_clear_error_with_exit_code_2(capsys, tmp_path):
    from playground.cli import main

    assert main(["train", "cgan", "--steps", "1", "--out", str(tmp_path / "x"), "--set", "loss=foo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cgan has no loss 'foo'; choose from ns, minimax, hinge") and "Traceback" not in err
