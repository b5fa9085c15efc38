"""StyleGAN: shapes, modulation, mixing, truncation, EMA, a train step, the CLI and the eval."""

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from playground.nn.style import layer_groups
from playground import api
from playground.capabilities import style as style_ops
from playground.cli import main
from playground.data.base import ImageDataset
from playground.contract import make_config
from playground.engine.context import BatchSampler, StepContext
from playground.engine.ema import make_ema, update_ema
from playground.errors import PlaygroundError
from playground.eval.fidelity import crop_to_source
from playground.families import stylegan
from playground.nn.minibatch import minibatch_std
from playground.nn.style import MappingNetwork, StyleGenerator, modulated_conv
from playground.seed import parse_seed_list

TINY = {"z_dim": 16, "w_dim": 16, "n_mapping": 2, "base_channels": 4, "max_channels": 8}


def tiny_cfg(**kw):
    """Tiny settings; shape fields (data-derived, so not user settings) are replaced directly."""
    shape = {k: kw.pop(k) for k in list(kw) if k in stylegan.FAMILY.derived_fields}
    return dataclasses.replace(make_config(stylegan.FAMILY, {**TINY, **kw}), **shape)


def test_mapping_and_synthesis_shapes():
    M = MappingNetwork(16, 24, 3)
    assert M(torch.randn(5, 16)).shape == (5, 24)
    for res, n_ws in ((32, 7), (64, 9), (8, 3)):
        G = stylegan.build_generator(tiny_cfg(img_resolution=res, img_channels=3))
        assert G.num_ws == n_ws == len(G.synthesis.convs) == len(G.synthesis.layer_resolution)
        assert len(G.synthesis.torgbs) == len(G.synthesis.resolutions)
        G.eval()
        x = G(torch.randn(2, 16))
        assert x.shape == (2, 3, res, res) and x.abs().max() <= 1


def test_number_of_style_inputs_is_checked():
    G = stylegan.build_generator(tiny_cfg())
    with pytest.raises(ValueError, match="expected 7 styles"):
        G.synthesize(torch.randn(1, 6, 16), "none")


def test_modulated_conv_equals_per_sample_grouped_conv():
    x, w, s = torch.randn(3, 5, 6, 6), torch.randn(4, 5, 3, 3), torch.randn(3, 5)
    for demod in (True, False):
        wts = w[None] * s[:, None, :, None, None]
        if demod:
            wts = wts * (wts.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()
        ref = F.conv2d(x.reshape(1, 15, 6, 6), wts.reshape(12, 5, 3, 3), padding=1, groups=3).reshape(3, 4, 6, 6)
        assert torch.allclose(modulated_conv(x, w, s, demod), ref, atol=1e-5)


def test_minibatch_std_adds_one_channel():
    x = torch.randn(8, 3, 4, 4)
    y = minibatch_std(x)
    assert y.shape == (8, 4, 4, 4)
    assert torch.allclose(minibatch_std(torch.ones(8, 3, 4, 4))[:, 3], torch.full((8, 4, 4), 1e-4), atol=1e-5)


def test_layer_groups_partition_the_layers():
    for res in (16, 32, 64):
        G = stylegan.build_generator(tiny_cfg(img_resolution=res))
        groups = layer_groups(G)
        assert groups["coarse"] == (0, 3)
        assert groups["coarse"][1] == groups["middle"][0] and groups["middle"][1] == groups["fine"][0]
        assert groups["fine"][1] == G.num_ws
        assert all(G.synthesis.layer_resolution[i] == res for i in range(*groups["fine"]))


def test_noise_modes():
    G = stylegan.build_generator(tiny_cfg()).eval()
    with torch.no_grad():
        for conv in G.synthesis.convs:
            conv.noise_strength.fill_(1.0)
        ws = G.broadcast(G.map(torch.randn(1, 16)))
        const = G.synthesize(ws, "const")
        assert torch.equal(const, G.synthesize(ws, "const"))
        assert not torch.equal(const, G.synthesize(ws, "none"))
        g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
        assert torch.equal(G.synthesize(ws, "random", g1), G.synthesize(ws, "random", g2))
        with pytest.raises(ValueError, match="noise mode"):
            G.synthesize(ws, "sometimes")


def _ctx(cfg, nets, n=8):
    images = torch.randint(0, 256, (n * 2, 1, 32, 32), dtype=torch.uint8)
    ds = ImageDataset(images, None, "noise")
    return StepContext(nets=nets, opts=stylegan.optimizers(cfg, nets), cfg=cfg, device=torch.device("cpu"),
                       sampler=BatchSampler(ds, n, 0, torch.device("cpu")), gen=torch.Generator().manual_seed(0))


def test_style_mixing_regularisation_switches_latents_at_one_layer():
    cfg = tiny_cfg(mixing_prob=1.0)
    nets = stylegan.build(cfg)
    ctx = _ctx(cfg, nets)
    ws = stylegan.mixed_styles(nets["G"], 16, ctx, update_avg=False)
    assert ws.shape == (16, 7, 16)
    for w in ws:  # exactly one switch between two different w's
        changes = (w[1:] != w[:-1]).any(dim=1).sum()
        assert changes == 1
    ctx.cfg = dataclasses.replace(cfg, mixing_prob=0.0)
    ws = stylegan.mixed_styles(nets["G"], 4, ctx, update_avg=False)
    assert (ws == ws[:, :1]).all()


def test_one_train_step_is_finite_and_runs_lazy_r1():
    cfg = tiny_cfg()
    nets = stylegan.build(cfg)
    ctx = _ctx(cfg, nets)
    before = nets["G"].w_avg.clone()
    for _ in range(2):
        out = stylegan.train_step(ctx)
        ctx.step += 1
    assert {"D/loss", "D/r1", "G/loss"} <= set(out)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in out.values())
    assert not torch.equal(before, nets["G"].w_avg)          # the truncation mean is tracked


def test_ema_averages_weights_and_copies_w_avg():
    G = stylegan.build_generator(tiny_cfg())
    ema = make_ema(G)
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
        G.w_avg.fill_(0.5)
    old = [p.clone() for p in ema.parameters()]
    update_ema(ema, G, 0.9)
    for pe, p, o in zip(ema.parameters(), G.parameters(), old):
        assert torch.allclose(pe, 0.9 * o + 0.1 * p, atol=1e-6)
    assert (ema.w_avg == 0.5).all()


def test_prepare_dataset_pads_and_records_source_size():
    ds = ImageDataset(torch.full((4, 1, 28, 28), 255, dtype=torch.uint8), None, "x")
    cfg, padded = stylegan.FAMILY.prepare_dataset(tiny_cfg(), ds)
    assert padded.shape == (1, 32, 32) and cfg.source_resolution == 28
    assert padded.images[:, :, :2].sum() == 0 and padded.images[:, :, 2:30, 2:30].min() == 255
    G = stylegan.build_generator(dataclasses.replace(cfg, img_resolution=32))
    assert crop_to_source(torch.zeros(1, 1, 32, 32), G).shape == (1, 1, 28, 28)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from conftest import make_digits, write_idx

    d = tmp_path_factory.mktemp("mnist")
    x, y = make_digits(64)
    write_idx(d / "train-images-idx3-ubyte", x)
    write_idx(d / "train-labels-idx1-ubyte", y)
    out = tmp_path_factory.mktemp("runs") / "tiny-stylegan"
    spec = api.TrainSpec(family="stylegan", dataset="mnist", data_dir=str(d), steps=3, batch_size=8, out=str(out),
                         overrides=dict(TINY), ema=0.9, log_every=1, sample_every=3, ckpt_every=3)
    events = list(api.train(spec))
    assert events[-1].kind == "done"
    G = api.load(str(out)).G
    with torch.no_grad():   # make noise visible so the noise options matter
        for conv in G.synthesis.convs:
            conv.noise_strength.fill_(0.5)
    return str(out)


def test_trained_checkpoint_records_padding(tiny_model):
    G = api.load(tiny_model).G
    assert G.img_resolution == 32 and G.source_resolution == 28
    assert api.sample(tiny_model, 3, 0).shape == (3, 32, 32, 1)


def test_mixing_at_the_ends_is_pure_b_and_pure_a(tiny_model):
    num_ws = api.load(tiny_model).G.num_ws
    none = api.style_mix(tiny_model, [1, 2, 3], [4, 5], crossover=0)
    assert none["cells"].shape[:2] == (2, 3)
    for j in range(3):  # every column equals the left-column source B
        assert (none["cells"][:, j] == none["sources_b"]).all()
    full = api.style_mix(tiny_model, [1, 2, 3], [4, 5], crossover=num_ws)
    for i in range(2):  # every row equals the top-row source A
        assert (full["cells"][i] == full["sources_a"]).all()
    coarse = api.style_mix(tiny_model, [1, 2, 3], [4, 5], crossover="coarse")
    assert coarse["layers"] == (0, 3) and coarse["layer_resolutions"] == [4, 8, 8]
    assert not (coarse["cells"][:, 0] == coarse["sources_b"]).all()
    h, w = coarse["sources_a"].shape[1:3]
    assert coarse["grid"].shape[:2] == (3 * (h + 2) + 2, 4 * (w + 2) + 2)


def test_truncation_zero_is_the_mean_image_for_every_seed(tiny_model):
    res = api.style_mix(tiny_model, [1, 2, 3], [7, 8], crossover="fine", truncation=0.0)
    imgs = np.concatenate([res["sources_a"], res["sources_b"], res["cells"].reshape(-1, *res["sources_a"].shape[1:])])
    assert (imgs == imgs[0]).all()
    strip = api.truncation_strip(tiny_model, 5, [0.0, 0.5, 1.0])
    assert (strip[0] == api.truncation_strip(tiny_model, 6, [0.0])[0]).all()
    assert (strip[2] == api.style_mix(tiny_model, [5], [5], crossover=0)["sources_a"][0]).all()


def test_noise_options_and_latent_walk(tiny_model):
    const = api.style_mix(tiny_model, [1], [2], noise="const")["grid"]
    assert (const == api.style_mix(tiny_model, [1], [2], noise="const")["grid"]).all()
    assert not (const == api.style_mix(tiny_model, [1], [2], noise="none")["grid"]).all()
    r1 = api.style_mix(tiny_model, [1], [2], noise="random", noise_seed=1)["grid"]
    assert not (r1 == api.style_mix(tiny_model, [1], [2], noise="random", noise_seed=2)["grid"]).all()
    walk = api.latent_walk(tiny_model, 1, 2, frames=10)
    assert walk.shape == (10, 32, 32, 1)
    assert (walk[0] == api.style_mix(tiny_model, [1], [1], crossover=0)["sources_a"][0]).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"crossover": "sideways"}, "crossover must be"),
    ({"crossover": (5, 2)}, "outside"),
    ({"truncation": 3.0}, "truncation"),
    ({"noise": "loud"}, "noise must be"),
])
def test_style_mix_bad_input(tiny_model, kwargs, message):
    with pytest.raises(PlaygroundError, match=message):
        api.style_mix(tiny_model, [1], [2], **kwargs)


def test_style_ops_refuse_other_families():
    with pytest.raises(PlaygroundError, match="only style models"):
        api.style_mix("cgan-mnist", [1], [2])
    with pytest.raises(PlaygroundError, match="only style models"):
        api.evaluate("cgan-mnist", ["mixing"], n=100)


def test_parse_seed_list_and_crossover():
    assert parse_seed_list("1, 4,10-12") == [1, 4, 10, 11, 12]
    for bad in ("", "a", "5-2", "-3", "0-40"):
        with pytest.raises(PlaygroundError):
            parse_seed_list(bad, max_count=16)
    assert style_ops.parse_crossover("middle") == "middle"
    assert style_ops.parse_crossover("3") == 3 and style_ops.parse_crossover("2:5") == (2, 5)
    with pytest.raises(PlaygroundError):
        style_ops.parse_crossover("x:y")


def test_cli_mix(tiny_model, tmp_path, capsys):
    out = tmp_path / "mix.png"
    assert main(["mix", tiny_model, "--rows", "0-2", "--cols", "5,6", "--crossover", "1:4", "--out", str(out)]) == 0
    assert "layers 1..3" in capsys.readouterr().out
    assert Image.open(out).size == (4 * 34 + 2, 3 * 34 + 2)
    assert main(["mix", tiny_model, "--crossover", "9", "--out", str(out)]) == 2
    assert "outside" in capsys.readouterr().err


def _spy_first_input(net, seen: list):
    """Record the first input of every forward call of `net`."""
    net.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))


def test_r1_sees_the_augmented_reals_that_d_loss_sees(monkeypatch):
    cfg = tiny_cfg()
    nets = stylegan.build(cfg)
    ctx = _ctx(cfg, nets)
    ctx.augment_policy = ["translation", "cutout"]
    seen, penalised = [], []
    _spy_first_input(nets["D"], seen)
    r1 = stylegan.losses.r1_penalty
    monkeypatch.setattr(stylegan.losses, "r1_penalty", lambda scores, x: penalised.append(x.detach().clone())
                        or r1(scores, x))
    stylegan.train_step(ctx)                         # step 0: D's loss (reals, then fakes), then R1
    real_for_loss = seen[0]
    plain, _ = ctx.sampler.batch(0)
    assert not torch.equal(real_for_loss, plain)     # augmentation did something
    assert len(penalised) == 1 and torch.equal(penalised[0], real_for_loss)
