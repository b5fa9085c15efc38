import io

import numpy as np
import pytest
import torch
from PIL import Image

from playground import api
from playground.capabilities import upscaling
from playground.cli import main
from playground.errors import PlaygroundError
from playground.eval.sr_metrics import psnr_y, rgb_to_y, ssim_y
from playground.families import srgan


def test_srresnet_upscales_x4_through_pixelshuffle():
    G = srgan.SRResNet(3, width=8, n_blocks=2).eval()
    assert sum(isinstance(m, torch.nn.PixelShuffle) for m in G.modules()) == 2
    x = torch.rand(2, 3, 13, 17) * 2 - 1
    assert G(x).shape == (2, 3, 52, 68)
    D = srgan.SRDiscriminator(3, 8)
    assert D(torch.rand(2, 3, 64, 64)).shape == (2,) and D(torch.rand(1, 3, 48, 80)).shape == (1,)


def test_tiling_equals_whole_image_inference():
    torch.manual_seed(0)
    G = srgan.SRResNet(3, width=8, n_blocks=2).eval()
    lr = torch.rand(1, 3, 70, 90) * 2 - 1
    with torch.no_grad():
        whole = G(lr)
        tiled = upscaling.sr_tiled(G, lr, tile=64, overlap=24)
    assert tiled.shape == whole.shape
    assert (tiled - whole).abs().max() < 1e-4


def test_psnr_ssim_known_values():
    a = np.zeros((32, 32), np.uint8)
    b = np.full((32, 32), 10, np.uint8)
    assert psnr_y(a, b, shave=4) == pytest.approx(20 * np.log10(255 / 10), abs=1e-6)
    assert psnr_y(a, a) == float("inf") and ssim_y(b, b) == pytest.approx(1.0)
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., :] = (255, 255, 255)
    assert rgb_to_y(rgb)[0, 0] == pytest.approx(235.0)            # BT.601 white
    noisy = np.clip(b.astype(int) + np.random.default_rng(0).integers(-20, 21, b.shape), 0, 255).astype(np.uint8)
    assert 0 < ssim_y(b, noisy) < 1
    with pytest.raises(PlaygroundError, match="differ in shape"):
        psnr_y(a, np.zeros((30, 32), np.uint8))


def test_photo_patches_are_from_training_photos_only():
    from playground.data import load_dataset
    from playground.data.photos import HELD_OUT_PHOTOS, TRAIN_PHOTOS

    assert not set(TRAIN_PHOTOS) & set(HELD_OUT_PHOTOS)
    ds = load_dataset("photos", "train")
    assert ds.images.shape[1:] == (3, 64, 64) and ds.images.dtype == torch.uint8


@pytest.fixture(scope="module")
def tiny_sr(tmp_path_factory):
    root = tmp_path_factory.mktemp("sr")
    assert main(["train", "srgan", "--dataset", "photos", "--steps", "3", "--batch-size", "4", "--set", "width=8",
                 "--set", "n_blocks=1", "--out", str(root / "pixel"), "--no-tensorboard"]) == 0
    assert main(["train", "srgan", "--dataset", "photos", "--steps", "2", "--batch-size", "4", "--set", "width=8",
                 "--set", "n_blocks=1", "--set", "d_width=8", "--set", "phase=gan",
                 "--set", f"init_from={root / 'pixel'}", "--out", str(root / "gan"), "--no-tensorboard"]) == 0
    return root


def test_both_phases_train(tiny_sr):
    import json

    gan = json.loads((tiny_sr / "gan" / "config.json").read_text())
    assert gan["config"]["phase"] == "gan" and gan["step"] == 2


def _png(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr, **kw).save(buf, format="PNG")
    return buf.getvalue()


def test_upscale_converts_odd_inputs(tiny_sr):
    model = str(tiny_sr / "pixel")
    grey = np.full((20, 30), 128, np.uint8)
    res = api.upscale(model, grey)
    assert res["sr"].shape == (80, 120, 3) and res["bicubic"].shape == (80, 120, 3)
    assert "converted greyscale to RGB" in res["conversions"]
    rgba = np.zeros((16, 16, 4), np.uint8)
    assert any("transparency" in s for s in api.upscale(model, _png(rgba))["conversions"])
    cmyk = Image.new("CMYK", (16, 16), (0, 50, 100, 0))
    assert any("CMYK" in s for s in api.upscale(model, cmyk)["conversions"])
    i16 = Image.fromarray((np.arange(256, dtype=np.uint16).reshape(16, 16) * 200), "I;16")
    assert any("16-bit" in s for s in api.upscale(model, i16)["conversions"])


def test_upscale_refuses_bad_inputs(tiny_sr, monkeypatch):
    model = str(tiny_sr / "pixel")
    with pytest.raises(PlaygroundError, match="not an image"):
        api.upscale(model, b"%PDF-1.4 not an image")
    good = _png(np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(PlaygroundError, match="truncated"):
        api.upscale(model, good[:60])
    monkeypatch.setenv("PLAYGROUND_SR_MAX_PIXELS", "100")
    with pytest.raises(PlaygroundError, match="limit for upscaling"):
        api.upscale(model, np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(PlaygroundError, match="super-resolution model: use upscale"):
        api.sample(model, 2, 0)


def test_ground_truth_check_and_cli(tiny_sr, tmp_path):
    model = str(tiny_sr / "pixel")
    hr = (np.random.default_rng(0).random((64, 80, 3)) * 255).astype(np.uint8)
    res = api.check_against_ground_truth(model, hr)
    assert res["sr"].shape == hr.shape and set(res["metrics"]) == {"psnr_bicubic", "psnr_model", "ssim_bicubic",
                                                                   "ssim_model"}
    Image.fromarray(hr[:16, :16]).save(tmp_path / "in.png")
    assert main(["upscale", model, "--input", str(tmp_path / "in.png"), "--out", str(tmp_path / "o.png")]) == 0
    assert Image.open(tmp_path / "o.png").size == (64, 64)
    assert main(["upscale", model, "--input", str(tmp_path / "in.png"), "--out", str(tmp_path / "o.jpg")]) == 2


def _gan_ctx(vgg=None, **overrides):
    from playground.data.base import ImageDataset
    from playground.contract import make_config
    from playground.engine.context import BatchSampler, StepContext

    cfg = make_config(srgan.FAMILY, {"phase": "gan", "width": 8, "d_width": 8, "n_blocks": 1, **overrides})
    nets = srgan.build(cfg)
    ds = ImageDataset(torch.randint(0, 256, (8, 3, 64, 64), dtype=torch.uint8), None, "noise")
    ctx = StepContext(nets=nets, opts=srgan.optimizers(cfg, nets), cfg=cfg, device=torch.device("cpu"),
                      sampler=BatchSampler(ds, 4, 0, "cpu"), gen=torch.Generator().manual_seed(0))
    ctx.extra_modules["vgg"] = vgg
    return ctx


def test_vgg_content_is_rescaled_and_drops_the_pixel_loss_by_default():
    trunk = torch.nn.Conv2d(3, 4, 3, padding=1)          # stands in for VGG19's 36 layers
    vgg = srgan.VGGContent(features=trunk)
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(vgg(x), trunk(((x + 1) / 2 - vgg.mean) / vgg.std) / 12.75)
    out = srgan.train_step(_gan_ctx(vgg))
    want = out["G/content"] + 1e-3 * out["G/adv"]                  # content + adversarial, no pixel term
    assert out["G/loss"] == pytest.approx(float(want), rel=1e-5) and out["G/pixel"] > 0
    out = srgan.train_step(_gan_ctx(vgg, vgg_pixel_weight=1.0))
    assert out["G/loss"] == pytest.approx(float(out["G/content"] + out["G/pixel"] + 1e-3 * out["G/adv"]), rel=1e-5)


def test_substitute_content_loss_sees_sr_and_hr_in_one_batch_with_bn_on_running_stats():
    ctx = _gan_ctx(None)
    D = ctx.nets["D"]
    calls = []
    D.register_forward_pre_hook(lambda m, args: calls.append(
        (args[0].size(0), [b.training for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)])))
    bn = next(m for m in D.modules() if isinstance(m, torch.nn.BatchNorm2d))
    srgan.feature_matching(D, torch.rand(4, 3, 64, 64), torch.rand(4, 3, 64, 64))
    assert calls == [(8, [False] * len(calls[0][1]))]                # one pass of SR + HR, BN in eval
    assert bn.num_batches_tracked.item() == 0                         # running statistics untouched
    assert D.training and all(b.training for b in D.modules() if isinstance(b, torch.nn.BatchNorm2d))
    calls.clear()
    out = srgan.train_step(ctx)
    assert calls[0][0] == 8 and not any(calls[0][1])                 # the content pass comes first
    assert out["G/loss"] == pytest.approx(float(out["G/content"] + out["G/pixel"] + 1e-3 * out["G/adv"]), rel=1e-5)
