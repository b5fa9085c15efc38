"""DCGAN-style convolutional bodies, sized by resolution (28 -> 7x7 start, 32/64 -> 4x4).

G: a transposed-conv projection of z to a start_res x start_res map, then fractionally-strided
(transposed) convs doubling the size; BatchNorm + ReLU, Tanh out; no pooling, no FC hidden layers.
D: strided convs halving the size, LeakyReLU(0.2); a final conv over the whole map gives one
score (`minibatch_disc=True`: from the flattened features plus their closeness to the rest of the
batch, so it can see near-copies). `norm` chooses BatchNorm (DCGAN), LayerNorm
(WGAN-GP: BatchNorm would couple the samples that the per-sample gradient penalty treats
independently) or none.
"""

import torch
from torch import nn
import torch.nn.functional as F

from .base import Generator
from .minibatch import MinibatchDiscrimination


def start_resolution(img_resolution: int) -> tuple[int, int]:
    """(start size, number of 2x stages): 28 -> (7, 2); 32 -> (4, 3); 64 -> (4, 4)."""
    n, r = 0, img_resolution
    while r % 2 == 0 and r > 7 and r != 4:
        r, n = r // 2, n + 1
    if r not in (4, 7):
        raise ValueError(f"resolution {img_resolution} must be 7*2^k or 4*2^k")
    return r, n


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # LayerNorm over (C, H, W) of each sample, per-channel affine
        return nn.GroupNorm(1, channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}")


class ConvGenerator(Generator):
    def __init__(self, z_dim=100, num_classes=0, img_channels=1, img_resolution=28, width=64):
        super().__init__(z_dim, num_classes, img_channels, img_resolution)
        r0, n_up = start_resolution(img_resolution)
        ch = width * 2 ** (n_up - 1)
        layers = [nn.ConvTranspose2d(z_dim + num_classes, ch, r0, 1, 0, bias=False),  # [N, ch, r0, r0]
                  nn.BatchNorm2d(ch), nn.ReLU(True)]
        for i in range(n_up - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, img_channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z, c=None):
        h = self.with_label(z, c)                                  # [N, z_dim + K]
        return self.net(h[:, :, None, None])                       # [N, C, H, W]


class ConvDiscriminator(nn.Module):
    def __init__(self, num_classes=0, img_channels=1, img_resolution=28, width=64, norm="batch",
                 feature_dim=0, minibatch_disc=False):
        super().__init__()
        self.num_classes = num_classes
        r0, n_down = start_resolution(img_resolution)
        layers, ch_in, ch = [], img_channels + num_classes, width
        for i in range(n_down):
            layers.append(nn.Conv2d(ch_in, ch, 4, 2, 1, bias=(i == 0 or norm == "none")))
            if i > 0:  # DCGAN: no normalisation on D's input layer
                layers.append(norm_layer(norm, ch))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            ch_in, ch = ch, ch * 2
        self.body = nn.Sequential(*layers)                         # [N, ch_in, r0, r0]
        self.feature_channels = ch_in
        if minibatch_disc:  # the score reads the flattened features plus their closeness to the batch
            batch = MinibatchDiscrimination(ch_in * r0 * r0)
            self.head = nn.Sequential(nn.Flatten(), batch, nn.Linear(batch.out_features, 1))
        else:
            self.head = nn.Conv2d(ch_in, 1, r0, 1, 0)              # one score per image

    def features(self, x, c=None):
        if self.num_classes:
            onehot = F.one_hot(c, self.num_classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, onehot.expand(-1, -1, x.size(2), x.size(3))], dim=1)
        return self.body(x)

    def forward(self, x, c=None):
        return self.head(self.features(x, c)).flatten()            # [N]
