"""SAGAN's and BigGAN's networks: residual G and D with self-attention, spectral norm, conditional
BatchNorm in G and a projection head in D. The two families differ in how G is conditioned:

  SAGAN   each CBN reads the class embedding                      (hierarchical=False)
  BigGAN  z is split in chunks, one for the input layer and one per block; each block's CBNs read
          [shared class embedding, its z chunk]                    (hierarchical=True)

Widths: ch * min(4, 32 // r) channels at resolution r (4x4: 4ch ... 32x32: ch).
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from . import spectral
from .attention import SelfAttention
from .base import Generator
from .biggan_blocks import DBlock, GBlock, ProjectionHead


def width(ch: int, res: int) -> int:
    return ch * min(4, max(1, 32 // res))


def _n_up(resolution: int) -> int:
    n = int(math.log2(resolution // 4))
    if resolution < 8 or 4 * 2 ** n != resolution:
        raise ValueError(f"resolution must be 4 * a power of two (>= 8), got {resolution}")
    return n


class ResGenerator(Generator):
    def __init__(self, z_dim: int, num_classes: int, img_channels: int, img_resolution: int, ch: int = 32,
                 attn_resolution: int = 16, hierarchical: bool = False, embed_dim: int = 64,
                 source_resolution: int = 0, pool_keys: bool = False):
        super().__init__(z_dim, num_classes, img_channels, img_resolution)
        n = _n_up(img_resolution)
        self.source_resolution = source_resolution or img_resolution
        self.hierarchical = hierarchical
        if hierarchical:
            if z_dim % (n + 1):
                raise ValueError(f"BigGAN splits z into {n + 1} chunks (input + {n} blocks): z_dim {z_dim} "
                                 f"must divide by {n + 1}")
            self.chunk = z_dim // (n + 1)
        else:
            self.chunk = z_dim
        cond = (embed_dim if num_classes else 0) + (self.chunk if hierarchical else 0)
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.linear = spectral.linear(self.chunk, 16 * width(ch, 4))
        self.c0 = width(ch, 4)
        self.blocks = nn.ModuleList()
        self.attn_at = -1
        res = 4
        for i in range(n):
            self.blocks.append(GBlock(width(ch, res), width(ch, res * 2), cond))
            res *= 2
            if res == attn_resolution:
                self.attn_at = i
        self.attention = SelfAttention(width(ch, attn_resolution), pool_keys=pool_keys) if self.attn_at >= 0 else None
        self.out_bn = nn.BatchNorm2d(width(ch, img_resolution))
        self.out = spectral.conv(width(ch, img_resolution), img_channels, 3)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes and c is None:
            raise ValueError("this generator is conditional: pass class labels c")
        e = self.embed(c) if self.embed is not None else None           # [N, embed_dim]
        chunks = torch.split(z, self.chunk, dim=1) if self.hierarchical else [z] * (len(self.blocks) + 1)
        x = self.linear(chunks[0]).view(z.size(0), self.c0, 4, 4)       # [N, 4ch, 4, 4]
        for i, block in enumerate(self.blocks):
            parts = ([e] if e is not None else []) + ([chunks[i + 1]] if self.hierarchical else [])
            y = torch.cat(parts, dim=1) if parts else None
            x = block(x, y)
            if i == self.attn_at:
                x = self.attention(x)
        return torch.tanh(self.out(F.relu(self.out_bn(x))))


class ResDiscriminator(nn.Module):
    def __init__(self, num_classes: int, img_channels: int, img_resolution: int, ch: int = 32,
                 attn_resolution: int = 16, pool_keys: bool = False):
        super().__init__()
        _n_up(img_resolution)
        self.num_classes = num_classes
        layers: list[nn.Module] = []
        res, c_in = img_resolution, img_channels
        while res > 4:
            c_out = width(ch, res // 2)
            layers.append(DBlock(c_in, c_out, down=True, first=not layers))
            res //= 2
            if res == attn_resolution:
                layers.append(SelfAttention(c_out, pool_keys=pool_keys))
            c_in = c_out
        layers.append(DBlock(c_in, c_in, down=False))
        self.body = nn.Sequential(*layers)
        self.head = ProjectionHead(c_in, num_classes)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.body(x)).sum(dim=(2, 3))                          # [N, C]: sum pooling
        return self.head(h, c)
