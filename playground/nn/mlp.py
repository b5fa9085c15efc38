"""The MLP generator/discriminator from the notes' conditional GAN (also used unconditionally)."""

import torch
from torch import nn
import torch.nn.functional as F

from .base import Generator


class MLPGenerator(Generator):
    """z (+ one-hot c) -> 128 -> 256 -> 512 -> 1024 -> C*H*W, BatchNorm1d + LeakyReLU(0.2), Tanh."""

    def __init__(self, z_dim=100, num_classes=0, img_channels=1, img_resolution=28,
                 widths=(128, 256, 512, 1024)):
        super().__init__(z_dim, num_classes, img_channels, img_resolution)
        layers, d = [], z_dim + num_classes
        for i, w in enumerate(widths):
            layers.append(nn.Linear(d, w))
            if i > 0:  # as in the notes: no normalisation on the first block
                layers.append(nn.BatchNorm1d(w))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            d = w
        layers += [nn.Linear(d, img_channels * img_resolution ** 2), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z, c=None):
        x = self.net(self.with_label(z, c))                       # [N, C*H*W]
        return x.view(-1, self.img_channels, self.img_resolution, self.img_resolution)


class MLPDiscriminator(nn.Module):
    """x (+ one-hot c) -> 512 -> 256 -> 1 logit, LeakyReLU(0.2). Sigmoid lives in the loss."""

    def __init__(self, num_classes=0, img_channels=1, img_resolution=28, widths=(512, 256)):
        super().__init__()
        self.num_classes = num_classes
        layers, d = [], img_channels * img_resolution ** 2 + num_classes
        for w in widths:
            layers += [nn.Linear(d, w), nn.LeakyReLU(0.2, inplace=True)]
            d = w
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x, c=None):
        h = x.flatten(1)
        if self.num_classes:
            h = torch.cat([h, F.one_hot(c, self.num_classes).to(h.dtype)], dim=1)
        return self.net(h).squeeze(1)                              # [N]
