"""ProGAN: fade-in maths, the phase schedule, exact resume mid-fade, equalised lr, one step at every
resolution, snapshots and `--resolution` sampling, and the Train tab's resolution/alpha line."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import by_setting, run_to_end

from playground import api, checkpoint
from playground.api import TrainSpec, train
from playground.errors import PlaygroundError
from playground.families import progan
from playground.nn.progressive import ProDiscriminator, ProGenerator, faded_reals
from playground.nn.style import EqConv2d
from playground.seed import deterministic_mode


def _nets(seed=0):
    torch.manual_seed(seed)
    return ProGenerator(32, 1, 32, base_channels=4, max_channels=16), ProDiscriminator(1, 32, 4, 16)


@pytest.mark.parametrize("r", [8, 16, 32])
def test_fade_in_at_alpha_0_is_the_previous_resolution_upsampled_and_at_1_the_new_block(r):
    G, D = _nets()
    z = torch.randn(5, 32)
    with torch.no_grad():
        prev = G.grow(z, r // 2, 1.0)
        assert torch.equal(G.grow(z, r, 0.0), F.interpolate(prev, scale_factor=2, mode="nearest"))
        new = G.grow(z, r, 1.0)
        G.to_rgb[G.index(r) - 1].weight.add_(1.0)     # the old toRGB no longer matters at alpha = 1 ...
        assert torch.equal(G.grow(z, r, 1.0), new)
        assert not torch.equal(G.grow(z, r, 0.5), new)  # ... but does mid-fade
        x = torch.randn(5, 1, r, r)
        assert torch.allclose(D.grow(x, r, 0.0), D.grow(F.avg_pool2d(x, 2), r // 2, 1.0), atol=1e-6)
        d_new = D.grow(x, r, 1.0)
        D.from_rgb[D.resolutions.index(r) - 1].weight.add_(1.0)
        assert torch.equal(D.grow(x, r, 1.0), d_new)


def test_reals_are_downsampled_and_faded_like_g():
    x = torch.randn(2, 1, 32, 32)
    x16 = F.avg_pool2d(x, 2)
    assert torch.equal(faded_reals(x, 16, 1.0), x16)
    assert torch.allclose(faded_reals(x, 16, 0.0), F.interpolate(F.avg_pool2d(x16, 2), scale_factor=2))


def test_schedule_is_what_the_config_says():
    cfg = progan.Config(img_resolution=32, fade_steps=4, stable_steps=3, batch_sizes="4:16,32:8")
    got = [(p.stage, p.values["resolution"], p.values["alpha"], p.batch_size)
           for p in (progan.schedule(cfg, s) for s in range(26))]
    assert got[:3] == [(0, 4, 1.0, 16)] * 3                              # 4x4: stable only
    assert [g[2] for g in got[3:10]] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]   # 8x8: fade 4, stable 3
    assert {g[1] for g in got[3:10]} == {8} and {g[3] for g in got[3:10]} == {None}
    assert got[10][:3] == (2, 16, 0.0) and got[17][:3] == (3, 32, 0.0) and got[17][3] == 8
    assert got[25][:3] == (3, 32, 1.0)                                   # the last stage runs on
    assert progan.steps_to_full(cfg) == 21 and progan.schedule(cfg, 21).values["alpha"] == 1.0
    with pytest.raises(ValueError, match="batch_sizes"):
        progan.parse_batch_sizes("12:8", [4, 8, 16, 32])


def test_equalised_learning_rate_scales_weights_at_run_time():
    conv = EqConv2d(8, 4, 3, act=False)
    assert conv.weight.std().item() == pytest.approx(1.0, abs=0.15)      # stored ~N(0, 1)
    assert conv.gain == pytest.approx(1 / math.sqrt(8 * 9))              # He's constant, applied per call
    x = torch.randn(2, 8, 5, 5)
    assert torch.allclose(conv(x), F.conv2d(x, conv.weight * conv.gain, conv.bias, padding=1))
    conv(x).sum().backward()                       # and so is the gradient: Adam sees every layer alike
    w_eff = (conv.weight * conv.gain).detach().requires_grad_()
    F.conv2d(x, w_eff, conv.bias, padding=1).sum().backward()
    assert torch.allclose(conv.weight.grad, w_eff.grad * conv.gain)


def spec(idx_dir, out, **kw):
    base = dict(family="progan", dataset="mnist", data_dir=str(idx_dir), steps=26, batch_size=8, seed=2,
                out=str(out), log_every=1, sample_every=1000, ckpt_every=1000, ema=0.9,
                overrides={"fade_steps": 4, "stable_steps": 3, "base_channels": 4, "max_channels": 8,
                           "batch_sizes": "16:12,32:4", "z_dim": 16})
    base.update(kw)
    return TrainSpec(**base)


def test_one_finite_step_at_each_resolution_and_phase_in_events(idx_dir, tmp_path):
    events = list(train(spec(idx_dir, tmp_path / "r")))
    steps = [e for e in events if e.kind == "step"]
    seen = {(e.scalars["phase/resolution"], e.scalars["phase/alpha"]) for e in steps}
    assert {r for r, _ in seen} == {4, 8, 16, 32} and {0.25, 0.5, 1.0} <= {a for _, a in seen}
    for e in steps:
        assert all(math.isfinite(v) for v in e.scalars.values())
        assert {"D/loss", "G/loss", "D/gp", "D/drift", "W_dist"} <= set(e.scalars)
    meta = checkpoint.read_config(tmp_path / "r")
    assert meta["config"]["source_resolution"] == 28 and meta["config"]["img_resolution"] == 32
    model = api.load(str(tmp_path / "r"))
    assert model.G.reached_resolutions() == [4, 8, 16, 32]
    full = api.sample(str(tmp_path / "r"), 3, 0)
    assert full.shape == (3, 32, 32, 1)
    for r in (4, 8, 16):
        small = api.sample(str(tmp_path / "r"), 3, 0, resolution=r)
        assert small.shape == (3, r, r, 1)
    assert not np.array_equal(api.sample(str(tmp_path / "r"), 3, 0, resolution=16),
                              full[:, ::2, ::2])                          # a snapshot, not a resize
    with pytest.raises(PlaygroundError, match="can sample at 4, 8, 16, 32"):
        api.sample(str(tmp_path / "r"), 3, 0, resolution=12)
    with pytest.raises(PlaygroundError, match="no resolution control"):
        api.sample("dcgan-fashion", 3, 0, resolution=8)


def test_a_short_run_samples_its_current_resolution_upsampled(idx_dir, tmp_path):
    list(train(spec(idx_dir, tmp_path / "r", steps=5)))                  # stopped mid-fade of 8x8
    model = api.load(str(tmp_path / "r"))
    assert model.G.current()[0] == 8 and model.G.reached_resolutions() == [4, 8]
    x = api.sample(str(tmp_path / "r"), 2, 0)
    assert x.shape == (2, 32, 32, 1)
    assert np.array_equal(x, x[:, ::4, ::4].repeat(4, axis=1).repeat(4, axis=2))   # nearest-upsampled 8x8
    with pytest.raises(PlaygroundError, match="can sample at 4, 8"):
        api.sample(str(tmp_path / "r"), 2, 0, resolution=16)


@pytest.mark.parametrize("split", [12, 10])   # mid-fade of 16x16; exactly at the 8 -> 16 boundary
def test_resume_mid_phase_is_exact(idx_dir, tmp_path, split):
    deterministic_mode(True)
    try:
        list(train(spec(idx_dir, tmp_path / "full")))
        list(train(spec(idx_dir, tmp_path / "half", steps=split)))
        events = list(train(spec(idx_dir, tmp_path / "half", resume=str(tmp_path / "half"))))
    finally:
        deterministic_mode(False)
    first = next(e for e in events if e.kind == "step")
    assert first.step == split + 1
    a, b = checkpoint.load_trainer_state(tmp_path / "full"), checkpoint.load_trainer_state(tmp_path / "half")
    for net in a["nets"]:
        for k in a["nets"][net]:
            assert torch.equal(a["nets"][net][k], b["nets"][net][k]), f"{net}.{k} differs after resume"
    assert a["streams"] == b["streams"] and b["streams"]["all"] > 0
    ma, mb = checkpoint.load_model_state(tmp_path / "full"), checkpoint.load_model_state(tmp_path / "half")
    assert all(torch.equal(ma[k], mb[k]) for k in ma)                     # EMA, phase and snapshots


def test_optimisers_are_rebuilt_at_each_new_resolution(idx_dir, tmp_path):
    """Adam's moments restart with each resolution: after 8x8's first step only the layers in use
    have state (a leftover moment would mean the old optimiser survived)."""
    events = list(train(spec(idx_dir, tmp_path / "r", steps=4)))         # 3 steps at 4x4, then 1 at 8x8
    assert events[-1].kind == "done"
    opt = checkpoint.load_trainer_state(tmp_path / "r")["opts"]["G"]
    steps = {int(s["step"]) for s in opt["state"].values()}
    assert steps == {1}


def test_sample_cli_resolution(tmp_path):
    from playground.cli import main

    out = tmp_path / "g.npz"
    assert main(["sample", "progan-fashion", "--n", "4", "--resolution", "8", "--out", str(out)]) == 0
    assert np.load(out)["images"].shape == (4, 8, 8, 1)
    assert main(["sample", "progan-fashion", "--n", "4", "--resolution", "3", "--out", str(out)]) == 2


def test_train_tab_shows_resolution_and_alpha(app_client):
    defaults = by_setting(app_client.predict("progan", api_name="/train_family_defaults"))
    assert defaults["lr"]["value"] == 0.001 and defaults["gp_weight"]["visible"]   # Adam lr 1e-3; the GP λ box
    args = dict(family="progan", dataset="fashion", lr=0.001, beta1=0.0, beta2=0.99, gp_weight=10.0, batch_size=8,
                steps=3, device="cpu")
    assert "progan on fashion" in app_client.predict(**args, api_name="/train_start")
    status = run_to_end(app_client)
    assert "**finished**" in status[0] and "resolution 4×4 · α 1.00" in status[0], status[0]
    assert status[2] is not None and status[3] is not None                 # the growth plot, the grid
