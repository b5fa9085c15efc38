"""Progressive growing (Karras et al. 2018, "ProGAN"), sized for small images on a CPU.

Both nets hold every resolution's layers from the start; a step runs them up to the current
resolution `r` with fade-in weight `alpha`:

    G.grow(z, r, alpha) = lerp(up2(toRGB_{r/2}(h_{r/2})), toRGB_r(block_r(h_{r/2})), alpha)
    D.grow(x, r, alpha) = D's trunk below r applied to
                          lerp(fromRGB_{r/2}(down2(x)), block_r(fromRGB_r(x)), alpha)

so at alpha = 0 a new block contributes nothing (exactly the previous resolution's output, upsampled;
exactly D at the previous resolution on the downsampled image) and at alpha = 1 the old toRGB /
fromRGB path is gone. Layers not yet reached get no gradient (None), so Adam leaves them alone.

G: pixel-wise feature normalisation after every conv (and on z), equalised learning rate
everywhere (weights ~N(0, 1) scaled by He's constant at run time), nearest-neighbour upsampling,
linear toRGB. D: fromRGB per resolution, two 3x3 convs and a 2x2 average pool per block, minibatch
standard deviation, then a 3x3 conv, a 4x4 conv and a linear output.

G also keeps, as buffers, what a sampler needs to reproduce training: the current `phase`
(resolution index and alpha, so `G(z)` shows what training shows, nearest-upsampled to the full size)
and one snapshot of its weights at the end of each finished resolution (`G(z, resolution=8)` samples
as the net did when 8x8 was done: the growth strip).
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from .base import Generator
from .minibatch import minibatch_std
from .style import EqConv2d, EqLinear, channels_at, pixel_norm


def resolutions(img_resolution: int) -> list[int]:
    """4, 8, ..., img_resolution (a power of two >= 8)."""
    log2 = int(math.log2(img_resolution))
    if 2 ** log2 != img_resolution or img_resolution < 8:
        raise ValueError(f"progressive growing needs a power-of-two resolution >= 8, got {img_resolution}")
    return [2 ** k for k in range(2, log2 + 1)]


def up2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


def down2(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def to_resolution(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """Real images box-downsampled to `resolution` (as the paper's training data at each level)."""
    factor = x.shape[-1] // resolution
    return x if factor == 1 else F.avg_pool2d(x, factor)


def faded_reals(x: torch.Tensor, resolution: int, alpha: float) -> torch.Tensor:
    """Reals at the current resolution, blended during a fade like G's output: the previous
    resolution upsampled, mixed with the new one by alpha (so D never sees a sharpness G cannot have)."""
    x = to_resolution(x, resolution)
    return x if alpha >= 1 or resolution <= 4 else torch.lerp(up2(down2(x)), x, alpha)


class PixelNormConv(nn.Module):
    """Equalised-lr 3x3 conv, LeakyReLU, pixel norm: G's unit."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = EqConv2d(c_in, c_out, 3)

    def forward(self, x):
        return pixel_norm(self.conv(x))


class GBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv0, self.conv1 = PixelNormConv(c_in, c_out), PixelNormConv(c_out, c_out)

    def forward(self, x):
        return self.conv1(self.conv0(up2(x)))


class ProGenerator(Generator):
    def __init__(self, z_dim: int, img_channels: int, img_resolution: int, base_channels: int = 16,
                 max_channels: int = 64, source_resolution: int = 0):
        super().__init__(z_dim, 0, img_channels, img_resolution)
        self.source_resolution = source_resolution or img_resolution   # data size before padding
        self.resolutions = resolutions(img_resolution)
        ch = [channels_at(r, base_channels, max_channels) for r in self.resolutions]
        self.c4 = ch[0]
        self.dense = EqLinear(z_dim, ch[0] * 16, act=True)              # z -> 4x4 ("4x4 conv" of the paper)
        self.conv4 = PixelNormConv(ch[0], ch[0])
        self.blocks = nn.ModuleList(GBlock(a, b) for a, b in zip(ch, ch[1:]))
        self.to_rgb = nn.ModuleList(EqConv2d(c, img_channels, 1, act=False) for c in ch)
        # [resolution index, alpha]: where training is; the full resolution until a run says otherwise
        self.register_buffer("phase", torch.tensor([len(ch) - 1, 1.0]))
        # weights at the end of each finished resolution (all but the last), flat; reached[i] = 1 once written
        for i, r in enumerate(self.resolutions[:-1]):
            n = sum(p.numel() for _, p in self.stage_parameters(i))
            self.register_buffer(f"snapshot_{r}", torch.zeros(n))
        self.register_buffer("reached", torch.zeros(len(ch)))
        self._loaded_phase: list[float] | None = None    # `phase` as loaded, for tracing (export)
        self.register_load_state_dict_post_hook(_remember_phase)

    # --- the growing net ---
    def index(self, resolution: int) -> int:
        if resolution not in self.resolutions:
            raise ValueError(f"resolution must be one of {self.resolutions}, got {resolution}")
        return self.resolutions.index(resolution)

    def grow(self, z: torch.Tensor, resolution: int, alpha: float = 1.0) -> torch.Tensor:
        """[N, C, r, r], unclamped (linear output, as in the paper): what training uses."""
        i = self.index(resolution)
        h = self.dense(pixel_norm(z)).view(z.size(0), self.c4, 4, 4)
        h = self.conv4(pixel_norm(h))
        prev = h
        for block in self.blocks[:i]:
            prev, h = h, block(h)
        out = self.to_rgb[i](h)
        if i > 0 and alpha < 1:
            out = torch.lerp(up2(self.to_rgb[i - 1](prev)), out, alpha)
        return out

    @torch.no_grad()
    def set_phase(self, resolution: int, alpha: float) -> None:
        self.phase[0].fill_(self.index(resolution))     # scalar fills: no host-to-device copy per step
        self.phase[1].fill_(float(alpha))

    def current(self) -> tuple[int, float]:
        """(resolution, alpha) as training left G. Read from the buffer (the EMA's is copied from G's
        each step); while being compiled or exported, the value loaded from the checkpoint, a constant."""
        loaded = self._loaded_phase if torch.compiler.is_compiling() else None
        i, alpha = loaded if loaded is not None else self.phase.tolist()
        return self.resolutions[int(i)], float(alpha)

    # --- snapshots: one per finished resolution ---
    def stage_parameters(self, i: int) -> list[tuple[str, nn.Parameter]]:
        """The parameters that G at resolution index i (alpha = 1) uses, in a fixed order."""
        mods = [("dense", self.dense), ("conv4", self.conv4)]
        mods += [(f"blocks.{k}", b) for k, b in enumerate(self.blocks[:i])] + [(f"to_rgb.{i}", self.to_rgb[i])]
        return [(f"{m}.{n}", p) for m, mod in mods for n, p in mod.named_parameters()]

    @torch.no_grad()
    def take_snapshot(self, resolution: int, source: "ProGenerator | None" = None) -> None:
        """Store `source`'s (default: own) weights for `resolution` as this net's snapshot of it."""
        i = self.index(resolution)
        if i == len(self.resolutions) - 1:
            return                                  # the final resolution is the model itself
        params = (source or self).stage_parameters(i)
        getattr(self, f"snapshot_{resolution}").copy_(torch.cat([p.detach().flatten() for _, p in params]))
        self.reached[i] = 1.0

    def reached_resolutions(self) -> list[int]:
        cur = self.index(self.current()[0])
        return [r for i, r in enumerate(self.resolutions) if i < cur and self.reached[i] > 0] + [self.current()[0]]

    def _snapshot_params(self, resolution: int) -> dict[str, torch.Tensor]:
        flat, out, k = getattr(self, f"snapshot_{resolution}"), {}, 0
        for name, p in self.stage_parameters(self.index(resolution)):
            out[name] = flat[k:k + p.numel()].view_as(p).to(p.dtype)
            k += p.numel()
        return out

    def forward(self, z, c=None, resolution: int | None = None):
        """The generator contract: [N, C, H, W] in [-1, 1] at the full size. Without `resolution`,
        G as training left it (a low resolution nearest-upsampled); with it, the snapshot taken when
        that resolution was finished (returned at that size)."""
        res, alpha = self.current()
        if resolution is None or resolution == res:
            x = self.grow(z, res, alpha)
            x = x if resolution is not None else F.interpolate(x, size=self.img_resolution, mode="nearest")
            return x.clamp(-1, 1)
        if resolution not in self.reached_resolutions():
            raise ValueError(f"this model has not finished {resolution}x{resolution}; "
                             f"reached: {', '.join(map(str, self.reached_resolutions()))}")
        params = {f"g.{k}": v for k, v in self._snapshot_params(resolution).items()}
        return torch.func.functional_call(_Grow(self), params, (z, resolution)).clamp(-1, 1)


def _remember_phase(module: ProGenerator, incompatible_keys) -> None:
    module._loaded_phase = module.phase.tolist()


class _Grow(nn.Module):
    """G.grow as a module's forward, so torch.func.functional_call can run it on snapshot weights."""

    def __init__(self, g: ProGenerator):
        super().__init__()
        self.g = g

    def forward(self, z, resolution):
        return self.g.grow(z, resolution, 1.0)


class DBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv0, self.conv1 = EqConv2d(c_in, c_in, 3), EqConv2d(c_in, c_out, 3)

    def forward(self, x):
        return down2(self.conv1(self.conv0(x)))


class ProDiscriminator(nn.Module):
    def __init__(self, img_channels: int, img_resolution: int, base_channels: int = 16, max_channels: int = 64):
        super().__init__()
        self.resolutions = resolutions(img_resolution)
        ch = [channels_at(r, base_channels, max_channels) for r in self.resolutions]
        self.from_rgb = nn.ModuleList(EqConv2d(img_channels, c, 1) for c in ch)
        self.blocks = nn.ModuleList(DBlock(b, a) for a, b in zip(ch, ch[1:]))   # blocks[k]: res 2^(k+3) -> 2^(k+2)
        self.conv = EqConv2d(ch[0] + 1, ch[0], 3)
        self.conv4 = EqConv2d(ch[0], ch[0], 4)                                      # 4x4 -> 1x1 (valid)
        self.conv4.pad = 0
        self.out = EqLinear(ch[0], 1)

    def grow(self, x: torch.Tensor, resolution: int, alpha: float = 1.0) -> torch.Tensor:
        i = self.resolutions.index(resolution)
        h = self.from_rgb[i](x)
        if i > 0:
            h = self.blocks[i - 1](h)
            if alpha < 1:
                h = torch.lerp(self.from_rgb[i - 1](down2(x)), h, alpha)
        for block in reversed(self.blocks[:max(i - 1, 0)]):
            h = block(h)
        h = self.conv4(self.conv(minibatch_std(h)))
        return self.out(h.flatten(1)).flatten()                                    # [N]

    def forward(self, x, c=None):
        return self.grow(x, self.resolutions[-1], 1.0)
