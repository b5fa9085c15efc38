import io

import numpy as np
import pytest
import torch
from PIL import Image

from playground import api, losses
from playground.cli import main
from playground.errors import PlaygroundError
from playground.families import cyclegan
from playground.images.reading import open_image, to_model_input



def test_generator_and_patch_discriminator_shapes():
    T = cyclegan.Translator(1, ngf=8, n_res=2)
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    for direction in ("a2b", "b2a"):
        y = T(x, direction)
        assert y.shape == x.shape and y.abs().max() <= 1
    d = cyclegan.PatchDiscriminator(1, 8)(x)
    assert d.shape[:2] == (3, 1) and d.shape[2] > 1 and d.shape[3] > 1   # a score per patch
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in T.modules())


def test_cycle_and_identity_losses():
    x = torch.rand(2, 1, 8, 8)
    assert losses.cycle_l1(x, x) == 0
    assert losses.cycle_l1(x, x + 0.5).item() == pytest.approx(0.5)
    assert losses.g_lsgan(torch.ones(4)) == 0 and losses.d_lsgan(torch.ones(4), torch.zeros(4)) == 0


def test_history_pool():
    g = torch.Generator().manual_seed(0)
    pool = None
    first = torch.arange(3.0).view(3, 1, 1, 1)
    out, pool = cyclegan.pool_query(pool, first, size=4, g=g)
    assert torch.equal(out, first) and len(pool) == 3          # filling: returns the new images
    out, pool = cyclegan.pool_query(pool, torch.full((1, 1, 1, 1), 9.0), size=4, g=g)
    assert len(pool) == 4
    returned_old = 0
    for i in range(200):
        new = torch.full((1, 1, 1, 1), 100.0 + i)
        out, pool = cyclegan.pool_query(pool, new, size=4, g=g)
        assert len(pool) == 4
        returned_old += int(out.item() != 100.0 + i)
    assert 60 < returned_old < 140                               # about half come from history
    same, p2 = cyclegan.pool_query(None, first, size=0, g=g)
    assert torch.equal(same, first) and p2 is None


def test_train_step_and_lr_decay(idx_dir):
    from playground.contract import make_config
    from playground.engine.config import fit_to_dataset
    from playground.engine.context import BatchSampler, StepContext
    from test_families import tiny_dataset

    ds = tiny_dataset()
    ds = ds.subset((ds.labels < 2).nonzero().squeeze(1))
    family = cyclegan.FAMILY
    cfg, ds = family.prepare_dataset(make_config(family, {"ngf": 8, "ndf": 8, "n_res": 1}), ds)
    cfg = family.fit_to_run(fit_to_dataset(cfg, family, ds), 10)
    assert cfg.total_steps == 10
    assert (cfg.domain_a, cfg.domain_b) == (0, 1)
    nets = family.build(cfg)
    ctx = StepContext(nets=nets, opts=family.optimizers(cfg, nets), cfg=cfg, device=torch.device("cpu"),
                      sampler=BatchSampler(ds, 8, 0, "cpu"), gen=torch.Generator().manual_seed(0))
    scalars = family.train_step(ctx)
    assert {"G/cycle", "G/identity", "G/adv", "D/loss"} <= set(scalars)
    assert all(torch.isfinite(v) for v in scalars.values())
    assert len(ctx.extra["pool_a"]) > 0
    assert cyclegan._lr_factor(0, 10, {}) == 1 and cyclegan._lr_factor(7, 10, {}) == pytest.approx(0.6)
    assert cyclegan._lr_factor(10, 10, {}) == 0


def test_lr_decay_never_rises_when_a_run_is_resumed_longer(tmp_path):
    """A 9-step run decays from step 4; resumed to 30 steps, the decay goes on from the factor it had
    reached (it used to restart from the new half-way point, raising the learning rate again)."""
    from playground.api import TrainSpec, train

    def lrs(steps, resume=None):
        spec = TrainSpec(family="cyclegan", dataset="fashion:7,9", steps=steps, batch_size=8, seed=0,
                         out=str(tmp_path / "r"), resume=resume, log_every=1, sample_every=1000,
                         ckpt_every=1000, overrides={} if resume else {"ngf": 4, "ndf": 4, "n_res": 1})
        return [(e.step, e.scalars["lr"]) for e in train(spec) if e.kind == "step"]

    first = lrs(9)
    assert first[-1][1] < first[0][1]               # decayed from step 4 (= 9 // 2)
    second = lrs(30, resume=str(tmp_path / "r"))
    values = [v for _, v in first + second]
    assert all(b <= a + 1e-12 for a, b in zip(values, values[1:])), values
    assert second[0][1] <= first[-1][1] and second[-1][1] == 0.0


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    out = tmp_path_factory.mktemp("cg") / "run"
    assert main(["train", "cyclegan", "--dataset", "fashion:7,9", "--steps", "3", "--batch-size", "16",
                 "--set", "ngf=8", "--set", "n_res=1", "--out", str(out), "--no-tensorboard"]) == 0
    return str(out)


def _png(arr, mode=None):
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG") if mode else Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_any_input_is_converted_and_explained(tiny_pair):
    rgba = np.zeros((60, 80, 4), np.uint8)
    rgba[..., :3] = 250
    rgba[10:50, 20:60, 3] = 255
    res = api.translate(tiny_pair, _png(rgba), "a2b")
    assert res["translated"].shape == (28, 28, 1) and res["reconstructed"].shape == (28, 28, 1)
    text = " ".join(res["conversions"])
    assert "transparency" in text and "greyscale" in text and "centre-cropped 80x60" in text and "resized" in text
    white = np.full((28, 28), 255, np.uint8)
    white[5:20, 5:20] = 0
    assert any("inverted" in s for s in api.translate(tiny_pair, white, "b2a")["conversions"])
    grey16 = (np.arange(28 * 28, dtype=np.uint16).reshape(28, 28) * 80)
    assert any("16-bit" in s for s in to_model_input(Image.fromarray(grey16, "I;16"), 28, 1, True)[1])


def test_bad_images_are_refused(tiny_pair, tmp_path):
    with pytest.raises(PlaygroundError, match="not an image"):
        api.translate(tiny_pair, b"definitely not a picture", "a2b")
    good = _png(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(PlaygroundError, match="truncated"):
        api.translate(tiny_pair, good[: len(good) // 2], "a2b")
    with pytest.raises(PlaygroundError, match="limit"):
        open_image(_png(np.zeros((100, 100), np.uint8)), max_pixels=5000)
    with pytest.raises(PlaygroundError, match="direction"):
        api.translate(tiny_pair, good, "sideways")
    with pytest.raises(PlaygroundError, match="use translate"):
        api.sample(tiny_pair, 2, 0)


def test_batch_view_and_cli(tiny_pair, tmp_path):
    img = api.translate_batch(tiny_pair, "b2a", n=16)
    assert img.shape[0] == 6 * 30 + 2 and img.shape[1] == 8 * 30 + 2   # 2 chunks x 3 rows, 8 columns
    Image.fromarray(np.zeros((40, 30, 3), np.uint8)).save(tmp_path / "in.png")
    assert main(["translate", tiny_pair, "--input", str(tmp_path / "in.png"), "--out", str(tmp_path / "o.png")]) == 0
    assert Image.open(tmp_path / "o.png").size == (3 * 30 + 2, 32)
    (tmp_path / "bad.png").write_bytes(b"xx")
    assert main(["translate", tiny_pair, "--input", str(tmp_path / "bad.png"), "--out", str(tmp_path / "p.png")]) == 2


def test_translation_metric_shape(tiny_pair):
    res = api.evaluate(tiny_pair, ["translation"], n=50)["metrics"]["translation"]
    assert set(res["directions"]) == {"Sneaker->Ankle boot", "Ankle boot->Sneaker"}
    d = res["directions"]["Sneaker->Ankle boot"]
    assert 0 <= d["to_target"] <= 1 and 0 <= d["cycle_to_source"] <= 1 and d["n_test_images"] == 50


def test_each_domain_is_read_from_its_own_shuffled_stream():
    """CycleGAN's batches: half from each domain, fixed sizes (no masking, so no host sync on a GPU),
    every image of a domain once per epoch of that domain."""
    from playground.data import load_dataset
    from playground.engine.context import BatchSampler, StepContext

    ds = load_dataset("fashion:7,9", "train")
    sampler = BatchSampler(ds, 16, 3, torch.device("cpu"))
    ctx = StepContext(nets={}, opts={}, cfg=None, device=torch.device("cpu"), sampler=sampler,
                      gen=torch.Generator().manual_seed(0))
    n_a = int((ds.labels == 7).sum())
    seen = []
    for _ in range(n_a // 500):
        x, c = ctx.next_batch(500, group=7)
        assert x.shape[0] == 500 and (c == 7).all()
        seen.append(x.flatten(1))
    flat = torch.cat(seen)
    assert len(torch.unique(flat, dim=0)) > 0.99 * len(flat)           # no image twice within the epoch
    assert ctx.streams == {"7": 500 * (n_a // 500)}
    again = StepContext(nets={}, opts={}, cfg=None, device=torch.device("cpu"), sampler=sampler,
                        gen=torch.Generator().manual_seed(0))
    assert torch.equal(again.next_batch(500, group=7)[0].flatten(1), seen[0])   # a function of (seed, pos)
    with pytest.raises(ValueError, match="no images of class 3"):
        ctx.next_batch(4, group=3)
