"""The upscaler kind (SRResNet / SRGAN): x4 super-resolution of any image, in tiles; the check
against ground truth; and the held-out-photo benchmark that `eval --metrics sr` reports."""

from __future__ import annotations

import os

import numpy as np
import torch

from ..errors import PlaygroundError
from ..eval.sr_metrics import PROTOCOL, psnr_y, ssim_y
from ..contract import Kind
from ..images.convert import bicubic_down, bicubic_up, to_uint8
from ..models import LoadedModel
from .precision import autocast

KINDS = (Kind.UPSCALER,)


def max_pixels() -> int:
    return int(os.environ.get("PLAYGROUND_SR_MAX_PIXELS", 1024 * 1024))


@torch.no_grad()
def sr_tiled(G, lr: torch.Tensor, tile: int = 128, overlap: int = 24) -> torch.Tensor:
    """Upscale [1, C, h, w] in overlapping tiles; each tile contributes only its core, so with an
    overlap beyond the receptive field the result equals whole-image inference."""
    _, c, h, w = lr.shape
    s = G.scale
    if h <= tile and w <= tile:
        return G(lr)
    core = tile - 2 * overlap
    out = torch.empty(1, c, h * s, w * s, device=lr.device)
    for y in range(0, h, core):
        for x in range(0, w, core):
            y0, x0 = max(0, y - overlap), max(0, x - overlap)
            y1, x1 = min(h, y + core + overlap), min(w, x + core + overlap)
            sr = G(lr[:, :, y0:y1, x0:x1])
            cy, cx = min(core, h - y), min(core, w - x)
            out[:, :, y * s:(y + cy) * s, x * s:(x + cx) * s] = \
                sr[:, :, (y - y0) * s:(y - y0 + cy) * s, (x - x0) * s:(x - x0 + cx) * s]
    return out


def _to_tensor(arr: np.ndarray, device) -> torch.Tensor:
    return torch.from_numpy(np.array(arr, dtype=np.uint8, copy=True)).permute(2, 0, 1).unsqueeze(0).float().div(127.5).sub(1).to(device)


def upscale(model: LoadedModel, image, tile: int = 128) -> dict:
    """Super-resolve any image x4 (path, bytes, PIL or uint8 array). Returns {"sr", "bicubic"}
    uint8 [H*4, W*4, 3] and "conversions" (what was done to the input)."""
    from ..images.reading import normalise_mode, open_image

    G = model.require(KINDS, "super-resolution").G
    im, steps = normalise_mode(open_image(image), 3, dark_background=False)
    limit = max_pixels()
    if im.size[0] * im.size[1] > limit:
        raise PlaygroundError(f"input is {im.size[0]}x{im.size[1]}; the limit for upscaling is "
                              f"{limit:,} pixels (PLAYGROUND_SR_MAX_PIXELS)")
    arr = np.asarray(im, dtype=np.uint8)
    lr = _to_tensor(arr, next(G.parameters()).device)
    with autocast(model):        # bf16 on a GPU where the check passes; fp32 on the CPU
        sr = sr_tiled(G, lr, tile=tile).float().clamp(-1, 1)
    return {"sr": to_uint8(sr).numpy()[0], "bicubic": to_uint8(bicubic_up(lr, G.scale)).numpy()[0],
            "conversions": steps or ["none: the image was already 8-bit RGB"],
            "input_size": im.size, "output_size": (im.size[0] * G.scale, im.size[1] * G.scale)}


def check_against_ground_truth(model: LoadedModel, image) -> dict:
    """Downsample the given (HR) image x4, upscale it back with the model and with bicubic, and
    measure both against the original: PSNR/SSIM on Y with a 4-px border shave."""
    from ..images.reading import normalise_mode, open_image

    s = model.require(KINDS, "super-resolution").G.scale
    im, steps = normalise_mode(open_image(image), 3, dark_background=False)
    hr = np.asarray(im, dtype=np.uint8)
    h, w = hr.shape[0] // s * s, hr.shape[1] // s * s
    if h < 8 * s or w < 8 * s:
        raise PlaygroundError(f"image is too small to check: need at least {8 * s}x{8 * s}")
    hr = hr[:h, :w]
    lr = to_uint8(bicubic_down(_to_tensor(hr, "cpu"), s)).numpy()[0]
    res = upscale(model, lr)
    metrics = {"psnr_bicubic": psnr_y(res["bicubic"], hr, s), "psnr_model": psnr_y(res["sr"], hr, s),
               "ssim_bicubic": ssim_y(res["bicubic"], hr, s), "ssim_model": ssim_y(res["sr"], hr, s)}
    return {"hr": hr, "lr": lr, "sr": res["sr"], "bicubic": res["bicubic"], "metrics": metrics,
            "conversions": steps}


def sr_benchmark(model: LoadedModel, seed: int = 0) -> dict:
    """Held-out photos (never trained on): model vs bicubic, per photo and on average."""
    from ..data.photos import photos

    per = {}
    for photo, hr in photos("test").items():
        res = check_against_ground_truth(model, hr)
        per[photo] = {k: round(v, 4) for k, v in res["metrics"].items()}
    keys = next(iter(per.values())).keys()
    mean = {k: round(float(np.mean([p[k] for p in per.values()])), 4) for k in keys}
    gain = round(mean["psnr_model"] - mean["psnr_bicubic"], 4)
    return {"value": gain, "value_is": "mean PSNR gain over bicubic (dB)", "mean": mean, "per_photo": per,
            "protocol": PROTOCOL, "held_out_photos": list(per), "seed": seed}
