"""The growth strip of a progressively grown model (the "growth" feature, ProGAN): the same seeds
sampled as G was at the end of each resolution it finished, each row nearest-upsampled to the
final size so 4x4 blobs and 32x32 garments line up."""

from __future__ import annotations

import numpy as np

from ..models import LoadedModel
from .limits import check_n_seed
from .sampling import generate, growth_stage, latents


def growth_strip(model: LoadedModel, n: int = 8, seed: int = 0) -> tuple[list[int], np.ndarray]:
    """(resolutions, uint8 [len(resolutions) * n, H, W, C]): row k = the seeds at resolutions[k]."""
    check_n_seed(n, seed)
    growth_stage(model, model.G.img_resolution)          # refuses models that were not grown
    reached = model.G.reached_resolutions()
    z = latents(model, n, seed)
    rows = []
    for r in reached:
        x = generate(model, z, None, **growth_stage(model, r))      # [n, r, r, C]
        f = model.G.img_resolution // r
        rows.append(x.repeat(f, axis=1).repeat(f, axis=2))
    return reached, np.concatenate(rows)
