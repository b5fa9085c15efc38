"""Where a generated pixel looks: SAGAN's figure 1 for our SAGAN/BigGAN models.

G's self-attention layer (at 16x16) mixes, for each position, the values of every position,
weighted by a softmax row. For a query pixel we take that row, upsample it to the image and lay
it over the sample as a heat map; the query pixel is marked in green.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import PlaygroundError
from ..contract import NOISE_KINDS
from ..images.convert import to_uint8
from ..models import LoadedModel
from .limits import check_n_seed
from .sampling import labels_for, latents

KINDS = NOISE_KINDS


@torch.no_grad()
def attention_overlay(model: LoadedModel, seed: int, label: int | None, x: int, y: int,
                      truncation: float | None = None) -> dict:
    """The sample for (seed, label) and the attention of the query pixel (x, y) (in the image as
    shown: the data's own size, e.g. 28x28) over it. Returns uint8 "sample" [H, W, C], "overlay"
    [H, W, 3], "map" float [H, W] (the softmax row, upsampled), and the query and key grid sizes."""
    check_n_seed(1, seed)
    model.require(KINDS, "attention maps")
    if "attention" not in model.features:
        raise PlaygroundError(f"{model.name} ({model.family}) has no self-attention layer to look at")
    G = model.G
    size = G.source_resolution
    if not (0 <= x < size and 0 <= y < size):
        raise PlaygroundError(f"the query pixel must be inside the {size}x{size} image, got ({x}, {y})")
    dev = next(G.parameters()).device
    z = latents(model, 1, seed, truncation).to(dev)
    c = labels_for(model, 1, None if label is None else [label])
    attn = G.attention
    attn.keep_map = True
    try:
        img = G(z) if c is None else G(z, c.to(dev))
        beta = attn.last_map[0].float().cpu()                          # [A*A queries, K*K keys]
    finally:
        attn.keep_map, attn.last_map = False, None
    R, pad = G.img_resolution, (G.img_resolution - size) // 2
    A, K = int(round(beta.shape[0] ** 0.5)), int(round(beta.shape[1] ** 0.5))   # K = A/2 with pooled keys
    qy, qx = (y + pad) * A // R, (x + pad) * A // R
    row = beta[qy * A + qx].view(1, 1, K, K)
    heat = F.interpolate(row, size=(R, R), mode="bilinear", align_corners=False)[0, 0]
    heat = heat[pad:pad + size, pad:pad + size]
    sample = to_uint8(img[:, :, pad:pad + size, pad:pad + size].float().cpu()).numpy()[0]   # [H, W, C]
    return {"sample": sample, "overlay": _overlay(sample, heat.numpy(), x, y), "map": heat.numpy(),
            "query_grid": A, "key_grid": K, "query": (x, y)}


def _overlay(sample: np.ndarray, heat: np.ndarray, x: int, y: int) -> np.ndarray:
    """Grey sample, attention in red-yellow (alpha by strength), the query pixel in green."""
    grey = sample.mean(axis=2, keepdims=True) if sample.shape[2] == 3 else sample
    base = np.repeat(grey.astype(np.float32), 3, axis=2) * 0.6
    h = heat / max(float(heat.max()), 1e-12)                             # 0..1
    color = np.stack([np.full_like(h, 255.0), 255.0 * h, np.zeros_like(h)], axis=2)
    alpha = (0.85 * h)[..., None]
    out = base * (1 - alpha) + color * alpha
    out[y, x] = (0, 255, 0)
    return out.clip(0, 255).astype(np.uint8)
