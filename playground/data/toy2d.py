"""Toy 2-D distributions for the GAN lab, with their modes (for coverage metrics)."""

from __future__ import annotations

import math

import torch

from ..errors import PlaygroundError

STD = {"ring": 0.02, "grid": 0.02, "spiral": 0.03, "moons": 0.05}


def modes(name: str) -> torch.Tensor | None:
    """Mode centres [M, 2] for the mixture datasets; None for the continuous ones."""
    if name == "ring":
        a = torch.arange(8) * 2 * math.pi / 8
        return torch.stack([a.cos(), a.sin()], 1)
    if name == "grid":
        g = torch.linspace(-1, 1, 5)
        return torch.cartesian_prod(g, g)
    return None


def sample(name: str, n: int, g: torch.Generator) -> torch.Tensor:
    """[n, 2] points, roughly within [-1.2, 1.2]^2."""
    std = STD.get(name)
    if std is None:
        raise PlaygroundError(f"unknown toy dataset {name!r}; choose from {', '.join(STD)}")
    m = modes(name)
    if m is not None:
        idx = torch.randint(0, len(m), (n,), generator=g)
        return m[idx] + std * torch.randn(n, 2, generator=g)
    if name == "spiral":
        t = torch.rand(n, generator=g).sqrt() * 3 * math.pi
        pts = torch.stack([t * t.cos(), t * t.sin()], 1) / (3 * math.pi)
    else:  # two moons
        t = torch.rand(n, generator=g) * math.pi
        upper = torch.rand(n, generator=g) < 0.5
        x = torch.where(upper, t.cos(), 1 - t.cos())
        y = torch.where(upper, t.sin(), 0.5 - t.sin())
        pts = torch.stack([x - 0.5, y - 0.25], 1) * 0.9
    return pts + std * torch.randn(n, 2, generator=g)


def coverage(points: torch.Tensor, name: str) -> dict:
    """Modes covered and the share of high-quality samples (within 3 std of some mode).

    A mode counts as covered when it holds at least 1/4 of its fair share of the samples, so a
    handful of stray points does not count as coverage.
    """
    m = modes(name)
    if m is None:
        return {}
    std = STD[name]
    d = torch.cdist(points, m)                          # [N, M]
    nearest = d.min(1)
    good = nearest.values < 3 * std
    counts = torch.bincount(nearest.indices[good], minlength=len(m))
    covered = int((counts >= 0.25 * len(points) / len(m)).sum())
    return {"modes_covered": covered, "modes_total": len(m), "high_quality": round(good.float().mean().item(), 3)}
