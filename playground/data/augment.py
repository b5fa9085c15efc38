"""Differentiable augmentation (DiffAugment: Zhao et al. 2020) for training on small data.

Applied to both real and fake images before D, so G gets gradients through it. Each op draws
from the passed `torch.Generator`, keeping training reproducible and resumable.
"""

import torch
import torch.nn.functional as F

from ..seed import BatchRNG, as_batch_rng


def brightness(x: torch.Tensor, rng: BatchRNG) -> torch.Tensor:
    shift = rng.rand(x.size(0), 1, 1, 1) - 0.5
    return x + shift  # images are in [-1, 1]: half the range, as DiffAugment's +-0.5 on [0, 1]


def translation(x: torch.Tensor, rng: BatchRNG, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = rng.randint(-sh, sh + 1, n, 1, 1)
    ty = rng.randint(-sw, sw + 1, n, 1, 1)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    gy = (gy.unsqueeze(0) + tx + 1).clamp(0, h + 1)
    gx = (gx.unsqueeze(0) + ty + 1).clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)  # pad with background (black)
    idx = gy * (w + 2) + gx                                    # [N, H, W]
    flat = padded.flatten(2)                                   # [N, C, (H+2)(W+2)]
    out = flat.gather(2, idx.flatten(1).unsqueeze(1).expand(-1, x.size(1), -1))
    return out.view_as(x)


def cutout(x: torch.Tensor, rng: BatchRNG, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = rng.randint(0, h + (1 - ch % 2), n, 1, 1)
    ox = rng.randint(0, w + (1 - cw % 2), n, 1, 1)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    inside = ((gy.unsqueeze(0) >= oy - ch // 2) & (gy.unsqueeze(0) < oy - ch // 2 + ch)
              & (gx.unsqueeze(0) >= ox - cw // 2) & (gx.unsqueeze(0) < ox - cw // 2 + cw))
    return torch.where(inside.unsqueeze(1), torch.full_like(x, -1.0), x)


OPS = {"brightness": brightness, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> list[str]:
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in names if p not in OPS]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown}; choose from {sorted(OPS)}")
    return names


def diff_augment(x: torch.Tensor, policy: list[str], g: "torch.Generator | BatchRNG") -> torch.Tensor:
    rng = as_batch_rng(g)
    for name in policy:
        x = OPS[name](x, rng)
    return x


def style_jitter(x: torch.Tensor, g: "torch.Generator | BatchRNG", rot_deg: float = 15.0, shear: float = 0.3,
                 scale: float = 0.12) -> torch.Tensor:
    """A random slant/rotation/scale per image plus stroke thickening or thinning, differentiable.

    Changes how a digit is written, not which digit it is (used by InfoGAN's categorical
    invariance term, after Elastic-InfoGAN's transformation-consistency idea).
    """
    n, rng = x.size(0), as_batch_rng(g)
    u = lambda: rng.rand(n) * 2 - 1      # noqa: E731  U(-1, 1)
    a = u() * rot_deg * torch.pi / 180
    s = 1 + u() * scale
    k = u() * shear
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta = torch.stack([torch.stack([cos, -sin + k * cos, torch.zeros_like(a)], 1),
                         torch.stack([sin, cos + k * sin, torch.zeros_like(a)], 1)], 1)   # [N, 2, 3]
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1   # background -1
    stroke = rng.randint(0, 3, n, 1, 1, 1)       # 0 thin, 1 keep, 2 thick
    thick = F.max_pool2d(y, 3, 1, 1)
    thin = -F.max_pool2d(-y, 3, 1, 1)
    return torch.where(stroke == 2, thick, torch.where(stroke == 0, thin, y))
