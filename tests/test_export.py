"""`python -m playground export`: a generator that runs without the project, checked against the
project's own sampling path on the same seeds."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from playground import api
from playground.capabilities.sampling import latents
from playground.errors import PlaygroundError
from playground.images.convert import to_uint8
from playground.models import load_model


def _uint8(x: np.ndarray) -> np.ndarray:
    return to_uint8(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("name", ["cgan-fashion", "dcgan-fashion", "infogan-mnist", "biggan-fashion", "progan-fashion"])
def test_onnx_generator_draws_what_api_sample_draws(tmp_path, name):
    out = tmp_path / f"{name}.onnx"
    r = api.export(name, "onnx", str(out))
    assert out.is_file() and r["max_abs_diff"] < 1e-3
    model = load_model(name)
    z = latents(model, 6, seed=11).numpy()
    feeds = {"z": z}
    labels = None
    if model.num_classes:
        labels = [3, 1, 4, 1, 5, 9] if model.num_classes == 10 else [0] * 6
        feeds["c"] = np.array(labels, dtype=np.int64)
    got = _uint8(ort.InferenceSession(str(out)).run(None, feeds)[0])      # no playground code involved
    want, _ = api.sample_with_labels(name, 6, 11, labels=labels)
    assert got.shape == want.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1           # rounding at the uint8 edge


def test_onnx_upscaler_takes_any_size(tmp_path):
    out = tmp_path / "sr.onnx"
    api.export("srresnet-x4", "onnx", str(out))
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 10, 14)).astype(np.float32)
    got = ort.InferenceSession(str(out)).run(None, {"x": x})[0]
    with torch.no_grad():
        want = load_model("srresnet-x4").G(torch.from_numpy(x)).numpy()
    assert got.shape == (2, 3, 40, 56) and np.abs(got - want).max() < 1e-3


def test_onnx_translator_exports_the_asked_direction(tmp_path):
    model = load_model("cyclegan-sneaker-boot")
    x = np.random.default_rng(0).uniform(-1, 1, (2, model.G.img_channels, 28, 28)).astype(np.float32)
    for direction, net in (("a2b", model.G.G_AB), ("b2a", model.G.G_BA)):
        out = tmp_path / f"{direction}.onnx"
        api.export("cyclegan-sneaker-boot", "onnx", str(out), direction)
        got = ort.InferenceSession(str(out)).run(None, {"x": x})[0]
        with torch.no_grad():
            assert np.abs(got - net(torch.from_numpy(x)).numpy()).max() < 1e-3


def test_torchscript_generator_loads_without_the_project(tmp_path):
    out = tmp_path / "g.pt"
    api.export("cgan-fashion", "torchscript", str(out))
    G = torch.jit.load(str(out))
    model = load_model("cgan-fashion")
    z, c = latents(model, 4, seed=2), torch.tensor([0, 1, 2, 3])
    with torch.no_grad():
        assert torch.allclose(G(z, c), model.G(z, c), atol=1e-5)
    assert not api.export("cgan-fashion", "torchscript", str(tmp_path / "h.pt"))["max_abs_diff"]


def test_export_refuses_bad_requests(tmp_path):
    with pytest.raises(PlaygroundError, match="format must be one of"):
        api.export("cgan-fashion", "tflite", str(tmp_path / "g.tflite"))
    with pytest.raises(PlaygroundError, match="written to a .onnx file"):
        api.export("cgan-fashion", "onnx", str(tmp_path / "g.pt"))
    with pytest.raises(PlaygroundError):
        api.export("no-such-model", "onnx", str(tmp_path / "g.onnx"))


def test_bf16_inference_check_keeps_quality():
    """The check that decides bf16 inference on a GPU, run with the CPU's bf16: the MLP/conv
    generators pass, StyleGAN (weight demodulation) does not and stays fp32. On the CPU the app
    itself always infers in fp32."""
    from playground.capabilities.precision import autocast, measure

    ok = measure(load_model("cgan-fashion"), "cpu")
    assert ok["bf16_ok"] and ok["mean"] < 0.5
    style = measure(load_model("stylegan-fashion"), "cpu")
    assert not style["bf16_ok"] and style["max"] > 10
    assert type(autocast(load_model("cgan-fashion"))).__name__ == "nullcontext"   # CPU: fp32


def test_exact_fp32_turns_tf32_off_then_restores_the_flags():
    """What the GPU's fp32 inference runs under (the flags are plain settings on a CPU machine too)."""
    from playground.device import exact_fp32

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        with exact_fp32():
            assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        with pytest.raises(RuntimeError), exact_fp32():
            raise RuntimeError("a failed render")
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
