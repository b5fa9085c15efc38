"""Batch features for D: what one image cannot show, a batch can.

Minibatch standard deviation (ProGAN, Karras et al. 2018): D sees how varied its batch is. A
generator that draws one image per mode gives a batch with a small spread; this feature lets D
notice, so collapse costs G something. Used at 4x4 by ProGAN/StyleGAN's D.

Minibatch discrimination (Salimans et al. 2016, "Improved techniques for training GANs"): each
sample learns how close it is to every other sample of its batch. A spread can stay high while a
generator draws near-copies (ten codes, one image each: InfoGAN's per-code collapse); closeness to
the nearest others cannot. Optional before the score of the DCGAN-style D (nn/conv.py)."""

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


class MinibatchDiscrimination(nn.Module):
    """[N, F] -> [N, F + kernels] (`out_features`): per sample, sum_j exp(-|M_i - M_j|_1) for each
    of `kernels` learned projections M = x T (T: F -> kernels x dim), the sample itself left out.
    Near-copies in a batch make these large; real batches of distinct images keep them small.

    It compares every pair of the batch (memory N^2 x kernels x dim: 67 MB of floats at the app's
    largest batch, 256) and, like BatchNorm, couples the samples of one process's batch: under DDP
    each rank compares its own slice."""

    def __init__(self, in_features: int, kernels: int = 32, dim: int = 8):
        super().__init__()
        self.kernels, self.dim = kernels, dim
        self.out_features = in_features + kernels
        self.T = nn.Parameter(torch.randn(in_features, kernels * dim) * 0.05)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = (x @ self.T).view(-1, self.kernels, self.dim)                   # [N, K, dim]
        dist = (m[:, None] - m[None]).abs().sum(dim=3)                     # [N, N, K]
        close = torch.exp(-dist).sum(dim=1) - 1.0                          # [N, K], self (exp 0) left out
        return torch.cat([x, close], dim=1)
