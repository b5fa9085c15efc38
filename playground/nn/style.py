"""StyleGAN2 building blocks (Karras et al. 2019/2020), sized for small images on a CPU.

Generator: a mapping MLP z -> w (pixel norm on z, equalised learning rate with a 0.01 multiplier),
a learned 4x4 constant, then per resolution one (at 4x4) or two (above) 3x3 convolutions whose
weights are modulated by a per-layer style (an affine map of w) and demodulated, per-layer noise
with a learned strength, and a toRGB at every resolution summed into an upsampled RGB skip.
There is one w per modulated convolution (`num_ws`); each toRGB uses the w of the convolution
it follows. `w_avg` tracks the mean w during training for the truncation trick.

Discriminator: fromRGB, residual blocks (3x3 conv, average-pool down, 3x3 conv; a pooled 1x1 skip; summed and
scaled by 1/sqrt 2), minibatch standard deviation at 4x4, a conv and two dense layers.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from ..seed import as_batch_rng

from .base import Generator
from .minibatch import minibatch_std

LRELU_GAIN = math.sqrt(2)


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class EqLinear(nn.Module):
    """Dense layer with equalised learning rate: weights ~N(0, 1/lr_mul), scaled at run time."""

    def __init__(self, d_in: int, d_out: int, bias_init: float = 0.0, lr_mul: float = 1.0, act: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((d_out,), float(bias_init)))
        self.w_gain, self.b_gain, self.act = lr_mul / math.sqrt(d_in), lr_mul, act

    def forward(self, x):
        x = F.linear(x, self.weight * self.w_gain, self.bias * self.b_gain)
        return F.leaky_relu(x, 0.2) * LRELU_GAIN if self.act else x


class EqConv2d(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, act: bool = True, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, k, k))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.gain, self.pad, self.act = 1 / math.sqrt(c_in * k * k), k // 2, act

    def forward(self, x):
        x = F.conv2d(x, self.weight * self.gain, self.bias, padding=self.pad)
        return F.leaky_relu(x, 0.2) * LRELU_GAIN if self.act else x


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, w_dim: int, n_layers: int, lr_mul: float = 0.01):
        super().__init__()
        dims = [z_dim] + [w_dim] * n_layers
        self.net = nn.Sequential(*[EqLinear(a, b, lr_mul=lr_mul, act=True) for a, b in zip(dims, dims[1:])])

    def forward(self, z):                                            # [N, z_dim] -> [N, w_dim]
        return self.net(pixel_norm(z))


def modulated_conv(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool) -> torch.Tensor:
    """x [N, I, H, W], weight [O, I, k, k] (already gain-scaled), styles [N, I] -> [N, O, H, W].

    Per sample the weight is w_ij * s_i, divided by its L2 norm over (i, k, k) when demodulating
    (StyleGAN2's replacement for AdaIN). Computed the "non-fused" way of the official code:
    scale the input channels by s, one shared convolution, scale the outputs by the demodulation
    coefficients. Same result as a per-sample grouped convolution, several times faster on a CPU.
    """
    k = weight.shape[-1]
    out = F.conv2d(x * styles[:, :, None, None], weight, padding=k // 2)
    if demodulate:
        # sum_{i,k,k} (w_oi s_i)^2 = sum_i s_i^2 * sum_{k,k} w_oi^2
        d = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()   # [N, O]
        out = out * d[:, :, None, None]
    return out


class StyleConv(nn.Module):
    """(optional 2x upsample) -> modulated 3x3 conv -> + noise * strength -> bias -> lrelu."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, resolution: int, up: bool):
        super().__init__()
        self.affine = EqLinear(w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3))
        self.gain = 1 / math.sqrt(c_in * 9)
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.up, self.resolution = up, resolution

    def forward(self, x, w, noise_mode: str = "random", gen: torch.Generator | None = None):
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = modulated_conv(x, self.weight * self.gain, self.affine(w), demodulate=True)
        if noise_mode == "random":
            r = self.resolution
            noise = as_batch_rng(gen).randn(x.size(0), 1, r, r, dtype=x.dtype)
            x = x + noise * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        elif noise_mode != "none":
            raise ValueError(f"noise mode must be random, const or none, not {noise_mode!r}")
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * LRELU_GAIN


class ToRGB(nn.Module):
    def __init__(self, c_in: int, c_out: int, w_dim: int):
        super().__init__()
        self.affine = EqLinear(w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 1, 1))
        self.gain = 1 / math.sqrt(c_in)
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x, w):
        return modulated_conv(x, self.weight * self.gain, self.affine(w), demodulate=False) + self.bias[None, :, None, None]


def channels_at(resolution: int, base: int, cap: int) -> int:
    """Channel count halves as resolution doubles: base channels at 32x32, at most `cap`."""
    return min(cap, base * 32 // resolution) if resolution <= 32 else max(8, base * 32 // resolution)


class SynthesisNetwork(nn.Module):
    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, base: int, cap: int):
        super().__init__()
        log2 = int(math.log2(img_resolution))
        if 2 ** log2 != img_resolution or img_resolution < 8:
            raise ValueError(f"StyleGAN resolution must be a power of two >= 8, got {img_resolution}")
        self.resolutions = [2 ** i for i in range(2, log2 + 1)]      # 4, 8, ..., img_resolution
        c4 = channels_at(4, base, cap)
        self.const = nn.Parameter(torch.randn(c4, 4, 4))
        convs, torgbs, c_prev = [StyleConv(c4, c4, w_dim, 4, up=False)], [ToRGB(c4, img_channels, w_dim)], c4
        self.layer_resolution = [4]                                   # resolution of each style input
        for r in self.resolutions[1:]:
            c = channels_at(r, base, cap)
            convs += [StyleConv(c_prev, c, w_dim, r, up=True), StyleConv(c, c, w_dim, r, up=False)]
            torgbs.append(ToRGB(c, img_channels, w_dim))
            self.layer_resolution += [r, r]
            c_prev = c
        self.convs, self.torgbs = nn.ModuleList(convs), nn.ModuleList(torgbs)
        self.num_ws = len(convs)

    def forward(self, ws: torch.Tensor, noise_mode: str = "random", gen: torch.Generator | None = None):
        """ws [N, num_ws, w_dim] -> images [N, C, R, R]."""
        if ws.shape[1] != self.num_ws:
            raise ValueError(f"expected {self.num_ws} styles per image, got {ws.shape[1]}")
        x = self.const[None].expand(ws.size(0), -1, -1, -1)
        x = self.convs[0](x, ws[:, 0], noise_mode, gen)
        rgb = self.torgbs[0](x, ws[:, 0])
        for i, torgb in enumerate(self.torgbs[1:]):
            a, b = 1 + 2 * i, 2 + 2 * i
            x = self.convs[a](x, ws[:, a], noise_mode, gen)
            x = self.convs[b](x, ws[:, b], noise_mode, gen)
            rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) + torgb(x, ws[:, b])
        return rgb


class StyleGenerator(Generator):
    """forward(z) = synthesis(broadcast(mapping(z))). Noise is random while training and the
    layers' fixed noise maps in eval mode, so a seed always gives the same image."""

    def __init__(self, z_dim=128, w_dim=128, n_mapping=4, img_channels=1, img_resolution=32,
                 base_channels=32, max_channels=128, source_resolution=0, w_avg_beta=0.995):
        super().__init__(z_dim, 0, img_channels, img_resolution)
        self.w_dim, self.w_avg_beta = w_dim, w_avg_beta
        self.source_resolution = source_resolution or img_resolution  # data size before padding
        self.mapping = MappingNetwork(z_dim, w_dim, n_mapping)
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, base_channels, max_channels)
        self.num_ws = self.synthesis.num_ws
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def map(self, z: torch.Tensor, truncation: float = 1.0, update_avg: bool = False) -> torch.Tensor:
        """z [N, z_dim] -> w [N, w_dim], pulled towards w_avg by (1 - truncation)."""
        w = self.mapping(z)
        if update_avg:
            self.w_avg.copy_(w.detach().float().mean(0).lerp(self.w_avg, self.w_avg_beta))   # fp32 under autocast too
        return w if truncation == 1 else self.w_avg.to(w.dtype).lerp(w, truncation)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        return w[:, None].expand(-1, self.num_ws, -1)                 # [N, num_ws, w_dim]

    def synthesize(self, ws: torch.Tensor, noise_mode: str | None = None, gen=None) -> torch.Tensor:
        mode = noise_mode or ("random" if self.training else "const")
        x = self.synthesis(ws, mode, gen)
        return x if self.training else x.clamp(-1, 1)

    def forward(self, z, c=None, truncation: float = 1.0, noise_mode: str | None = None):
        return self.synthesize(self.broadcast(self.map(z, truncation)), noise_mode)


class DBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv0, self.conv1 = EqConv2d(c_in, c_in, 3), EqConv2d(c_in, c_out, 3)
        self.skip = EqConv2d(c_in, c_out, 1, act=False, bias=False)

    def forward(self, x):
        skip = self.skip(F.avg_pool2d(x, 2))
        x = self.conv1(F.avg_pool2d(self.conv0(x), 2))                # second conv at half size
        return (x + skip) / math.sqrt(2)


class StyleDiscriminator(nn.Module):
    def __init__(self, img_channels=1, img_resolution=32, base_channels=32, max_channels=128):
        super().__init__()
        log2 = int(math.log2(img_resolution))
        if 2 ** log2 != img_resolution or img_resolution < 8:
            raise ValueError(f"StyleGAN resolution must be a power of two >= 8, got {img_resolution}")
        c_top = channels_at(img_resolution, base_channels, max_channels)
        self.from_rgb = EqConv2d(img_channels, c_top, 1)
        blocks, r = [], img_resolution
        while r > 4:
            blocks.append(DBlock(channels_at(r, base_channels, max_channels),
                                 channels_at(r // 2, base_channels, max_channels)))
            r //= 2
        self.blocks = nn.Sequential(*blocks)
        c4 = channels_at(4, base_channels, max_channels)
        self.conv = EqConv2d(c4 + 1, c4, 3)
        self.fc = EqLinear(c4 * 16, c4, act=True)
        self.out = EqLinear(c4, 1)

    def forward(self, x, c=None):
        x = self.blocks(self.from_rgb(x))                            # [N, c4, 4, 4]
        x = self.conv(minibatch_std(x))
        return self.out(self.fc(x.flatten(1))).flatten()             # [N]


def layer_groups(G: StyleGenerator) -> dict[str, tuple[int, int]]:
    """Named style-layer ranges [start, stop) for crossover: coarse, middle, fine."""
    res = G.synthesis.layer_resolution
    top = res[-1]
    coarse = sum(r <= 8 for r in res)
    fine_start = next(i for i, r in enumerate(res) if r == top) if top > 8 else len(res)
    return {"coarse": (0, coarse), "middle": (coarse, fine_start), "fine": (fine_start, len(res))}
