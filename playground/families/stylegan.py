"""StyleGAN (Karras et al. 2019) with StyleGAN2's weight (de)modulation, for small images.

G and D live in nn/style.py. Training, as in StyleGAN2: non-saturating logistic loss; lazy R1 on
real images every `r1_every` D steps (scaled by the interval; Adam's lr and betas adjusted by
c = k/(k+1) as in the paper); style-mixing regularisation (with probability `mixing_prob` two
latents, switching at a random layer); w_avg tracked for truncation; G's EMA comes from the
engine (`--ema`). Images are zero-padded to the next power of two (Fashion-MNIST 28 -> 32), and
`source_resolution` remembers the real size so evaluation can crop back.

Layer groups for style mixing (one style per modulated conv; see `nn.style.layer_groups`): coarse = the
4x4 and 8x8 layers, fine = the layers at the output resolution, middle = everything between (as
in the paper's figure 3, where 4-8 / 16-32 / 64-1024 split a 1024 model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .. import losses
from ..nn.style import StyleDiscriminator, StyleGenerator
from ..contract import AdamConfig, Family, Kind, pad_to_power_of_two, setting
from ..contract.settings import (adam_betas, channel_sizes, learning_rate, noise_size, padded_resolution,
                                 source_resolution)


@dataclass
class Config(AdamConfig):
    img_resolution: int = padded_resolution()
    lr: float = learning_rate(0.002)
    beta1: float
    beta2: float
    beta1, beta2 = adam_betas(0.0, 0.99, "StyleGAN2")
    z_dim: int = noise_size(128)
    w_dim: int = setting(128, "style size", "length of the intermediate latent w", low=1)
    n_mapping: int = setting(4, "mapping layers", "layers of the mapping network z -> w (the paper: 8)", low=1)
    source_resolution: int = source_resolution()
    base_channels: int
    max_channels: int
    base_channels, max_channels = channel_sizes(16, 64)
    mixing_prob: float = setting(0.9, "mixing probability", "share of batches drawn with two styles "
                                 "(mixing regularisation)", group="regularisation", low=0, high=1)
    r1_gamma: float = setting(0.1, "R1 γ", "weight of the R1 penalty on D's gradient at real images",
                              group="regularisation", low=0)
    r1_every: int = setting(16, "R1 interval", "steps between lazy R1 penalties", group="regularisation", low=1)
    w_avg_beta: float = setting(0.995, "w average decay", "decay of the running mean of w (the truncation "
                                "centre)", low=0, high=1)

    DERIVED: ClassVar[tuple[str, ...]] = AdamConfig.DERIVED + ("source_resolution",)


def build_generator(cfg: Config) -> StyleGenerator:
    return StyleGenerator(cfg.z_dim, cfg.w_dim, cfg.n_mapping, cfg.img_channels, cfg.img_resolution,
                          cfg.base_channels, cfg.max_channels, cfg.source_resolution, cfg.w_avg_beta)


def build(cfg: Config) -> dict:
    return {"G": build_generator(cfg),
            "D": StyleDiscriminator(cfg.img_channels, cfg.img_resolution, cfg.base_channels, cfg.max_channels)}


def optimizers(cfg: Config, nets: dict) -> dict:
    c = cfg.r1_every / (cfg.r1_every + 1) if cfg.r1_every else 1.0
    return {"G": torch.optim.Adam(nets["G"].parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2)),
            "D": torch.optim.Adam(nets["D"].parameters(), lr=cfg.d_lr * c,
                                  betas=(cfg.beta1 ** c, cfg.beta2 ** c))}


def mixed_styles(G: StyleGenerator, n: int, ctx, update_avg: bool) -> torch.Tensor:
    """[n, num_ws, w_dim]: with probability mixing_prob, w1 before a random layer and w2 after."""
    w1 = G.map(ctx.randn(n, G.z_dim), update_avg=update_avg)
    ws = G.broadcast(w1)
    if ctx.cfg.mixing_prob <= 0:
        return ws
    w2 = G.map(ctx.randn(n, G.z_dim))
    cut = ctx.randint(G.num_ws - 1, n) + 1                           # 1..num_ws-1
    cut = torch.where(ctx.rand(n) < ctx.cfg.mixing_prob, cut, torch.full_like(cut, G.num_ws))
    first = torch.arange(G.num_ws, device=cut.device)[None] < cut[:, None]   # [n, num_ws]
    return torch.where(first[..., None], w1[:, None], w2[:, None])


def train_step(ctx) -> dict:
    cfg, G, D = ctx.cfg, ctx.nets["G"], ctx.nets["D"]
    real, _ = ctx.next_batch()
    n = real.size(0)

    # D: logistic loss on real vs (detached) fakes
    with torch.no_grad():
        fake = G.synthesize(mixed_styles(G, n, ctx, update_avg=False), "random", ctx.rng)
    real = ctx.augment(real)                     # R1 below sees the reals D's loss saw
    d_loss = losses.d_bce(D(real), D(ctx.augment(fake)))
    ctx.update("D", d_loss)
    out = {"D/loss": d_loss.detach()}

    # lazy R1 on reals, weighted by the interval, in fp32 whatever the training precision
    if cfg.r1_every and cfg.r1_gamma > 0 and ctx.step % cfg.r1_every == 0:
        with ctx.full_precision():
            x = real.detach().float().requires_grad_(True)
            r1 = losses.r1_penalty(D(x), x)
        ctx.update("D", cfg.r1_gamma / 2 * r1 * cfg.r1_every)
        ctx.extra["last_r1"] = r1.detach()       # a tensor: logging it costs no host sync here
    if "last_r1" in ctx.extra:
        out["D/r1"] = torch.as_tensor(ctx.extra["last_r1"])

    # G: non-saturating loss through D (ctx.update writes gradients into G's weights only)
    fake = G.synthesize(mixed_styles(G, n, ctx, update_avg=True), "random", ctx.rng)
    g_loss = losses.g_nonsaturating(D(ctx.augment(fake)))
    ctx.update("G", g_loss)
    out["G/loss"] = g_loss.detach()
    return out


def describe(cfg: dict) -> list[str]:
    src = cfg.get("source_resolution") or cfg["img_resolution"]
    return [f"- images: the {src}x{src} data zero-padded to {cfg['img_resolution']}x{cfg['img_resolution']} "
            f"for training; evaluation crops generated images back to {src}x{src}",
            "- G: StyleGAN2 weight (de)modulation, per-layer noise, toRGB skips; D: residual with "
            "minibatch std; non-saturating loss, lazy R1 "
            f"(gamma {cfg.get('r1_gamma')} every {cfg.get('r1_every')} steps), style-mixing probability "
            f"{cfg.get('mixing_prob')}"]


FAMILY = Family(name="stylegan", kind=Kind.STYLE, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, prepare_dataset=pad_to_power_of_two,
                describe=describe)
