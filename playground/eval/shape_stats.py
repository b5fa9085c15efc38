"""Simple, named measurements of a glyph image, used to say what a latent code *does*."""

import torch


def measures(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """x: float [-1, 1] [N, 1, H, W] -> per-image measures [N] each.

    ink     mean intensity in [0, 1] (stroke width / thickness for digits)
    slant   horizontal shear dx/dy of the ink (positive leans right)
    width   ink-weighted horizontal spread (std of x, pixels)
    height  ink-weighted vertical spread (std of y, pixels)
    """
    w = (x[:, 0] + 1) / 2                                        # [N, H, W] in [0, 1]
    n, h, wd = w.shape
    ys = torch.arange(h, dtype=w.dtype).view(1, h, 1)
    xs = torch.arange(wd, dtype=w.dtype).view(1, 1, wd)
    mass = w.sum((1, 2)).clamp_min(1e-6)
    my = (w * ys).sum((1, 2)) / mass
    mx = (w * xs).sum((1, 2)) / mass
    dy, dx = ys - my.view(-1, 1, 1), xs - mx.view(-1, 1, 1)
    vy = (w * dy * dy).sum((1, 2)) / mass
    vx = (w * dx * dx).sum((1, 2)) / mass
    cxy = (w * dx * dy).sum((1, 2)) / mass
    # image y grows downwards: a right-leaning stroke has x decreasing as y grows, so negate
    return {"ink": w.mean((1, 2)), "slant": -cxy / vy.clamp_min(1e-6),
            "width": vx.sqrt(), "height": vy.sqrt()}


def pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double() - a.double().mean(), b.double() - b.double().mean()
    return float((a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-12))
