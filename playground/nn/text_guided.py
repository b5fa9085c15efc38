"""TediGAN's three modules (Xia et al. 2021) around a frozen StyleGAN, sized for 32x32 images.

- `encoder` (inversion): image -> W+ (one w per style layer), as an offset from G's w_avg.
- `text_map` (text -> W): a sentence embedding -> a Gaussian in W (mean and per-dimension spread),
  so one sentence gives many images: w = mu + truncation * sigma * z.
- `matcher` (visual-linguistic similarity): an image tower into the frozen sentence encoder's
  space, trained CLIP-style; cos(matcher(x), text) scores how well an image fits a sentence.

All three live in one module with the StyleGAN, so a checkpoint is one self-contained file.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .base import Generator
from .style import StyleGenerator


class ImageTower(nn.Module):
    """[N, C, R, R] -> [N, out_dim]: strided convs down to 4x4, then two dense layers."""

    def __init__(self, img_channels: int, img_resolution: int, out_dim: int, width: int = 32):
        super().__init__()
        layers, c, r = [], img_channels, img_resolution
        for i in range(max(1, (img_resolution // 4).bit_length() - 1)):     # 32 -> 16 -> 8 -> 4
            c_out = width * 2 ** i
            layers += [nn.Conv2d(c, c_out, 3, padding=1), nn.LeakyReLU(0.2),
                       nn.Conv2d(c_out, c_out, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            c, r = c_out, r // 2
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * r * r, 256), nn.LeakyReLU(0.2))
        self.out = nn.Linear(256, out_dim)

    def forward(self, x):
        return self.out(self.body(x))


class TextGuidedGenerator(Generator):
    """forward(z, c) with c a sentence embedding [N, text_dim]: images of that sentence (z picks
    which); c=None samples the underlying StyleGAN from z. z has w_dim entries."""

    def __init__(self, style: StyleGenerator, text_dim: int = 384, hidden: int = 384, width: int = 24):
        super().__init__(style.w_dim, 0, style.img_channels, style.img_resolution)
        self.style, self.text_dim = style, text_dim
        self.num_ws, self.w_dim = style.num_ws, style.w_dim
        self.source_resolution = style.source_resolution
        self.text_map = nn.Sequential(nn.Linear(text_dim, hidden), nn.LeakyReLU(0.2),
                                      nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                                      nn.Linear(hidden, 2 * style.w_dim))
        self.encoder = ImageTower(style.img_channels, style.img_resolution, style.num_ws * style.w_dim, width)
        self.matcher = ImageTower(style.img_channels, style.img_resolution, text_dim, width)
        self.logit_scale = nn.Parameter(torch.tensor(2.66))           # CLIP's start: log(1 / 0.07)
        for p in self.style.parameters():
            p.requires_grad_(False)

    def text_gaussian(self, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """e [N, text_dim] -> (mu, log_sigma), each [N, w_dim], mu around w_avg."""
        mu, log_sigma = self.text_map(e).chunk(2, dim=1)
        return self.style.w_avg + mu, log_sigma.clamp(-6, 3)

    def text_ws(self, e: torch.Tensor, z: torch.Tensor, truncation: float = 0.7) -> torch.Tensor:
        mu, log_sigma = self.text_gaussian(e)
        return self.style.broadcast(mu + truncation * log_sigma.exp() * z)   # [N, num_ws, w_dim]

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, R, R] -> W+ [N, num_ws, w_dim]."""
        return self.style.w_avg + self.encoder(x).view(-1, self.num_ws, self.w_dim)

    def match(self, x: torch.Tensor) -> torch.Tensor:
        """x -> unit vectors in the sentence space [N, text_dim]."""
        return F.normalize(self.matcher(x), dim=1)

    def synthesize(self, ws: torch.Tensor) -> torch.Tensor:
        """W+ -> images, with G's fixed noise maps (an image is a function of its w alone)."""
        return self.style.synthesis(ws, "const").clamp(-1, 1)

    def forward(self, z, c=None, truncation: float = 0.7):
        if c is None:
            return self.style(z, noise_mode="const").clamp(-1, 1)
        return self.synthesize(self.text_ws(c, z, truncation))

    def train(self, mode: bool = True):
        super().train(mode)
        self.style.eval()               # frozen: fixed noise, no w_avg updates
        return self
