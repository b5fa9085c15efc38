"""The translator kind (CycleGAN): one image, or a batch of held-out test images, across domains."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import PlaygroundError
from ..contract import Kind
from ..images.convert import grid, to_uint8
from ..models import LoadedModel
from .precision import autocast
from .limits import check_n_seed

KINDS = (Kind.TRANSLATOR,)


def _check_direction(direction: str) -> None:
    if direction not in ("a2b", "b2a"):
        raise PlaygroundError(f"direction must be 'a2b' or 'b2a', not {direction!r}")


@torch.no_grad()
def translate(model: LoadedModel, image, direction: str = "a2b") -> dict:
    """Translate one image (path, bytes, PIL or uint8 array; any mode and size).

    Returns {"input", "translated", "reconstructed"} as uint8 [H, W, C], the domain names, and
    "conversions": what was done to the input to match the model (greyscale, crop, resize...)."""
    from ..images.reading import open_image, to_model_input

    _check_direction(direction)
    T = model.require(KINDS, "translation").G
    arr, steps = to_model_input(open_image(image), T.img_resolution, T.img_channels, dark_background=True)
    dev = next(T.parameters()).device
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1).unsqueeze(0).float().div(127.5).sub(1).to(dev)
    back = "b2a" if direction == "a2b" else "a2b"
    with autocast(model):
        y = T(x, direction).float()
        rec = T(y, back).float()
    src, dst = (T.domain_names if direction == "a2b" else T.domain_names[::-1])
    return {"input": arr, "translated": to_uint8(y).numpy()[0], "reconstructed": to_uint8(rec).numpy()[0],
            "source": src, "target": dst, "conversions": steps or ["none: the image already matched"]}


@torch.no_grad()
def translate_batch(model: LoadedModel, direction: str = "a2b", n: int = 16, seed: int = 0) -> np.ndarray:
    """n held-out test images of the source domain: rows of inputs, translations, reconstructions."""
    from ..data import load_dataset

    _check_direction(direction)
    check_n_seed(n, seed)
    T, cfg = model.require(KINDS, "translation").G, model.meta["config"]
    src = cfg["domain_a"] if direction == "a2b" else cfg["domain_b"]
    ds = load_dataset(model.meta["dataset"].split(":")[0] + f":{src}", "test")
    idx = torch.randperm(len(ds), generator=torch.Generator().manual_seed(seed))[:n]
    x = ds.images[idx].float().div(127.5).sub(1).to(next(T.parameters()).device)
    y = T(x, direction)
    rec = T(y, "b2a" if direction == "a2b" else "a2b")
    cols = min(n, 8)
    rows = []
    for i in range(0, len(x), cols):  # input row, translated row, reconstructed row per chunk
        rows += [x[i:i + cols], y[i:i + cols], rec[i:i + cols]]
    return grid(to_uint8(torch.cat(rows)).numpy(), nrow=cols)
