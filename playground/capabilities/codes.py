"""The codes kind (InfoGAN): sweeping one continuous code across the categories."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..errors import PlaygroundError
from ..contract import Kind
from ..models import LoadedModel
from .limits import check_n_seed
from .sampling import generate, latents, with_controls

KINDS = (Kind.CODES,)
CODE_SWEEP_VALUES = (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)   # the figures' columns: UI tab, cards


def code_sweep(model: LoadedModel, seed: int, code: int, values: Sequence[float],
               code_cont: Sequence[float] | None = None) -> np.ndarray:
    """InfoGAN figure: rows = categorical values, columns = continuous code `code` swept over
    `values`, same noise everywhere. uint8 [rows * cols, H, W, C] in row-major order."""
    check_n_seed(1, seed)
    model.require(KINDS, "a code sweep")
    G = model.G
    if not 0 <= code < G.n_cont:
        raise PlaygroundError(f"code must be 0..{G.n_cont - 1}, got {code}")
    K, cols = G.num_classes, len(values)
    base = with_controls(model, latents(model, 1, seed), {"code_cont": code_cont or [0.0] * G.n_cont})
    z = base.repeat(K * cols, 1)
    z[:, G.noise_dim + code] = torch.tensor([float(v) for v in values]).repeat(K)
    c = torch.arange(K).repeat_interleave(cols)
    return generate(model, z, c)


def noise_grid(model: LoadedModel, seeds: Sequence[int], code_cont: Sequence[float] | None = None) -> np.ndarray:
    """What the noise does: rows = categorical values, columns = the noise of each seed, the
    continuous codes fixed (0 unless given). uint8 [rows * len(seeds), H, W, C], row-major."""
    model.require(KINDS, "a noise grid")
    G = model.G
    for s in seeds:
        check_n_seed(1, s)
    cont = code_cont or [0.0] * G.n_cont
    z = torch.cat([with_controls(model, latents(model, 1, s), {"code_cont": cont}) for s in seeds])
    K = G.num_classes
    return generate(model, z.repeat(K, 1), torch.arange(K).repeat_interleave(len(seeds)))
