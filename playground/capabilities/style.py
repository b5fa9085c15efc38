"""The style kind (StyleGAN): style mixing, the truncation strip, latent walks.

Style-mixing grid (the StyleGAN paper's figure 3, as the issue states it): the top row shows the
source-A images (one per `row_seeds` entry), the left column the source-B images (`col_seeds`),
and cell (i, j) is B_i's styles with A_j's styles on the chosen layers. A crossover is a layer
group name ("coarse", "middle", "fine"), an int k (A on layers [0, k): 0 = pure B, num_ws = pure
A) or a (start, stop) pair.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..errors import PlaygroundError
from ..contract import Kind
from ..nn.style import layer_groups
from ..images.convert import grid, to_uint8
from ..models import LoadedModel
from .precision import autocast
from .limits import check_n_seed

KINDS = (Kind.STYLE,)
NOISE_MODES = ("const", "none", "random")
MAX_MIX_SEEDS = 12


def check_stylegan(model: LoadedModel) -> None:
    model.require(KINDS, "style operations")


def mix_seeds(seeds: Sequence[int], what: str) -> list[int]:
    seeds = list(seeds)
    if not 1 <= len(seeds) <= MAX_MIX_SEEDS:
        raise PlaygroundError(f"{what}: give 1 to {MAX_MIX_SEEDS} seeds, got {len(seeds)}")
    for s in seeds:
        check_n_seed(1, s)
    return seeds


def layer_info(model: LoadedModel) -> dict:
    """{"num_ws", "resolutions" (per style layer), "groups" (name -> [start, stop))}."""
    check_stylegan(model)
    G = model.G
    return {"num_ws": G.num_ws, "resolutions": list(G.synthesis.layer_resolution), "groups": layer_groups(G)}


def layer_range(model: LoadedModel, crossover) -> tuple[int, int]:
    G = model.G
    groups = layer_groups(G)
    if isinstance(crossover, str) and crossover in groups:
        return groups[crossover]
    if isinstance(crossover, (int, np.integer)) and not isinstance(crossover, bool):
        lo, hi = 0, int(crossover)
    elif isinstance(crossover, (tuple, list)) and len(crossover) == 2:
        lo, hi = (int(v) for v in crossover)
    else:
        raise PlaygroundError(f"crossover must be one of {', '.join(groups)}, a layer count or a (start, stop) "
                              f"range, got {crossover!r}")
    if not 0 <= lo <= hi <= G.num_ws:
        raise PlaygroundError(f"layer range [{lo}, {hi}) is outside 0..{G.num_ws}")
    return lo, hi


def _check(model: LoadedModel, truncation: float, noise: str) -> None:
    check_stylegan(model)
    if not -2.0 <= float(truncation) <= 2.0:
        raise PlaygroundError(f"truncation psi must be between -2 and 2, got {truncation}")
    if noise not in NOISE_MODES:
        raise PlaygroundError(f"noise must be one of {', '.join(NOISE_MODES)}, not {noise!r}")


def _z(model: LoadedModel, seeds: Sequence[int]) -> torch.Tensor:
    """One z per seed, each from its own generator: a seed means the same image in any list."""
    return torch.cat([torch.randn(1, model.G.z_dim, generator=torch.Generator().manual_seed(int(s)))
                      for s in seeds])


@torch.no_grad()
def _render(model: LoadedModel, ws: torch.Tensor, noise: str, noise_seed: int) -> np.ndarray:
    G = model.G
    dev = next(G.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(int(noise_seed)) if noise == "random" else None
    with autocast(model):        # fp32 for the shipped StyleGAN: bf16 fails the check (see precision.py)
        x = G.synthesize(ws.to(dev), noise, gen)
    return to_uint8(x.float()).numpy()


@torch.no_grad()
def styles(model: LoadedModel, seeds: Sequence[int], truncation: float = 1.0) -> torch.Tensor:
    dev = next(model.G.parameters()).device
    return model.G.map(_z(model, seeds).to(dev), truncation).cpu()


def mixed(G, w_a: torch.Tensor, w_b: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    """[nB, nA, num_ws, w_dim]: w_b everywhere, w_a on layers [lo, hi)."""
    n_b, n_a = len(w_b), len(w_a)
    ws = w_b[:, None, None, :].expand(n_b, n_a, G.num_ws, -1).clone()
    ws[:, :, lo:hi] = w_a[None, :, None, :]
    return ws


def style_mix(model: LoadedModel, row_seeds: Sequence[int], col_seeds: Sequence[int], crossover="coarse",
              truncation: float = 1.0, noise: str = "const", noise_seed: int = 0) -> dict:
    _check(model, truncation, noise)
    row_seeds, col_seeds = mix_seeds(row_seeds, "row seeds"), mix_seeds(col_seeds, "column seeds")
    G = model.G
    lo, hi = layer_range(model, crossover)
    w_a, w_b = styles(model, row_seeds, truncation), styles(model, col_seeds, truncation)
    n_a, n_b = len(w_a), len(w_b)
    top = _render(model, G.broadcast(w_a), noise, noise_seed)                       # [nA, h, w, c]
    left = _render(model, G.broadcast(w_b), noise, noise_seed + 1)                  # [nB, h, w, c]
    cells = _render(model, mixed(G, w_a, w_b, lo, hi).flatten(0, 1), noise, noise_seed + 2)
    h, w, c = top.shape[1:]
    blank = np.full((1, h, w, c), 48, np.uint8)                                    # the empty corner
    tiles = [blank, top]
    for i in range(n_b):
        tiles += [left[i:i + 1], cells[i * n_a:(i + 1) * n_a]]
    res = G.synthesis.layer_resolution
    return {"grid": grid(np.concatenate(tiles), nrow=n_a + 1), "cells": cells.reshape(n_b, n_a, h, w, c),
            "sources_a": top, "sources_b": left, "layers": (lo, hi),
            "layer_resolutions": res[lo:hi], "num_ws": G.num_ws}


def truncation_strip(model: LoadedModel, seed: int, psis: Sequence[float], noise: str = "const") -> np.ndarray:
    """One seed rendered at each psi: uint8 [len(psis), h, w, c] (psi=0 is the mean image)."""
    check_n_seed(1, seed)
    for p in psis:
        _check(model, p, noise)
    G = model.G
    w = styles(model, [seed], 1.0)
    w_avg = G.w_avg.detach().cpu()
    ws = torch.stack([w_avg.lerp(w[0], float(p)) for p in psis])
    return _render(model, G.broadcast(ws), noise, seed)


def latent_walk(model: LoadedModel, seed_a: int, seed_b: int, frames: int = 24, truncation: float = 1.0,
                noise: str = "const") -> np.ndarray:
    """Linear interpolation in W from seed_a to seed_b and back: uint8 [frames, h, w, c]."""
    _check(model, truncation, noise)
    check_n_seed(1, seed_a)
    check_n_seed(1, seed_b)
    if not 4 <= frames <= 120:
        raise PlaygroundError(f"frames must be between 4 and 120, got {frames}")
    w = styles(model, [seed_a, seed_b], truncation)
    half = frames // 2
    t = torch.cat([torch.linspace(0, 1, half), torch.linspace(1, 0, frames - half + 2)[1:-1]])
    t = (1 - torch.cos(t * torch.pi)) / 2                                            # ease in/out
    ws = w[0][None] + t[:, None] * (w[1] - w[0])[None]                             # [frames, w_dim]
    return _render(model, model.G.broadcast(ws), noise, seed_a)


def parse_crossover(text: str):
    """'coarse' | 'middle' | 'fine' | 'K' (layers [0, K)) | 'LO:HI' -> a crossover for style_mix."""
    text = str(text).strip()
    if text in ("coarse", "middle", "fine"):
        return text
    try:
        if ":" in text:
            lo, hi = text.split(":", 1)
            return (int(lo), int(hi))
        return int(text)
    except ValueError:
        raise PlaygroundError(f"crossover must be coarse, middle, fine, K or LO:HI, got {text!r}") from None
