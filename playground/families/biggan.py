"""BigGAN (Brock et al. 2019) at playground scale: SAGAN's networks (self-attention over 2x2
max-pooled keys, as BigGAN's code does) plus a shared class embedding
and a hierarchical latent (z split in chunks: one feeds G's input layer, one each block's
conditional BatchNorms, concatenated with the shared embedding), the off-diagonal orthogonal
regulariser on G's weights (beta 1e-4), G's EMA (train with --ema) and the truncation trick at
sampling time (resample every |z_i| above a threshold; lower = more typical, less varied)."""

from dataclasses import dataclass
from typing import ClassVar

import torch

from .. import losses
from ..engine.steps import adversarial_step, ttur_adam
from ..nn.resnet_gan import ResDiscriminator, ResGenerator
from .protocol import Family, Kind, TTURConfig, pad_to_power_of_two


@dataclass
class Config(TTURConfig):
    img_resolution: int = 32         # from the data: 28x28 is padded to 32x32
    z_dim: int = 120                 # 4 chunks of 30 at 32x32 (input layer + 3 blocks)
    embed_dim: int = 64              # the shared class embedding
    ch: int = 16                     # G's channels at 32x32; 4ch at 4x4 and 8x8, 2ch at 16x16
    d_ch: int = 0                    # D's (0 = the same as G's): G's size is what sampling costs
    attn_resolution: int = 16
    ortho_beta: float = 1e-4
    # MSGAN's mode-seeking term (losses.mode_seeking): G's batch comes in pairs with one label and
    # two noises, and images that barely differ are penalised. Not in BigGAN's recipe: a tiny G
    # (sized to sample fast on a CPU) otherwise spends its noise on little (lower recall). 0 = off.
    lambda_diversity: float = 0.0
    # Salimans et al.'s minibatch discrimination in D (nn/minibatch.py): a second score from each
    # image's closeness to the rest of its batch, against one image per class. Not in BigGAN's
    # recipe; it is what gave the shipped InfoGANs their variety. False = off.
    d_minibatch_disc: bool = False
    n_critic: int = 1
    source_resolution: int = 0

    DERIVED: ClassVar[tuple[str, ...]] = TTURConfig.DERIVED + ("source_resolution",)


def build_generator(cfg: Config) -> ResGenerator:
    return ResGenerator(cfg.z_dim, cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.ch,
                        cfg.attn_resolution, hierarchical=True, embed_dim=cfg.embed_dim,
                        source_resolution=cfg.source_resolution, pool_keys=True)


def build(cfg: Config) -> dict:
    return {"G": build_generator(cfg),
            "D": ResDiscriminator(cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.d_ch or cfg.ch,
                                  cfg.attn_resolution, pool_keys=True, minibatch_disc=cfg.d_minibatch_disc)}


def optimizers(cfg: Config, nets: dict) -> dict:
    return ttur_adam(nets, cfg.lr_G, cfg.lr_D, (cfg.beta1, cfg.beta2))


def ortho_weights(G: torch.nn.Module) -> list[torch.Tensor]:
    """G's matrices and filters (the raw weights under spectral norm), not the shared embedding."""
    return [p for name, p in G.named_parameters() if p.dim() >= 2 and not name.startswith("embed.")]


def train_step(ctx) -> dict:
    cfg, G = ctx.cfg, ctx.nets["G"]
    reg = (lambda: losses.orthogonal_regularisation(ortho_weights(G), cfg.ortho_beta)) if cfg.ortho_beta else None
    return adversarial_step(ctx, loss="hinge", n_critic=cfg.n_critic, g_regulariser=reg,
                            mode_seeking=cfg.lambda_diversity)


def describe(cfg: dict) -> list[str]:
    return [f"- shared class embedding ({cfg.get('embed_dim')}-d), hierarchical z ({cfg.get('z_dim')} split per "
            f"block), self-attention at {cfg.get('attn_resolution')}x{cfg.get('attn_resolution')}, projection D, "
            f"hinge loss, TTUR (G lr {cfg.get('lr_G')}, D lr {cfg.get('lr_D')}), orthogonal regularisation "
            f"beta {cfg.get('ortho_beta')}; sample with a truncation threshold (the app's slider)"] + (
        [f"- mode seeking (weight {cfg['lambda_diversity']}, MSGAN): pairs with one label and two noises must differ"]
        if cfg.get("lambda_diversity") else []) + (
        ["- minibatch discrimination in D (Salimans et al.): near-copies in a batch look fake"]
        if cfg.get("d_minibatch_disc") else [])


FAMILY = Family(name="biggan", kind=Kind.CONDITIONAL, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, prepare_dataset=pad_to_power_of_two, describe=describe,
                features=("truncation", "attention"))
