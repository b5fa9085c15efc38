"""Minibatch standard deviation (ProGAN, Karras et al. 2018): D sees how varied its batch is.

A generator that draws one image per mode gives a batch with a small spread; this feature lets D
notice, so collapse costs G something. Used at 4x4 by ProGAN/StyleGAN's D, and optionally before
the score of the DCGAN-style D (nn/conv.py)."""

import torch
from torch import nn


def minibatch_std(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append the std over groups of samples (averaged over features) as one extra channel.

    Groups are runs of consecutive samples (StyleGAN2 strides them instead; batches are shuffled,
    so the statistics are the same), which keeps every group inside one DDP rank's slice: two
    processes with 4 samples each compute exactly what one process does with 8."""
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(-1, g, c, h, w)                                          # [N/g, g, C, H, W]
    y = (y.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))   # [N/g]
    y = y.repeat_interleave(g)[:, None, None, None].expand(n, 1, h, w)
    return torch.cat([x, y], dim=1)


class MinibatchStd(nn.Module):
    """`minibatch_std` as a layer: [N, C, H, W] -> [N, C + 1, H, W]."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return minibatch_std(x, self.group)
