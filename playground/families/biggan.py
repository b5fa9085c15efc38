"""BigGAN (Brock et al. 2019) at playground scale: SAGAN's networks (self-attention over 2x2
max-pooled keys, as BigGAN's code does) plus a shared class embedding
and a hierarchical latent (z split in chunks: one feeds G's input layer, one each block's
conditional BatchNorms, concatenated with the shared embedding), the off-diagonal orthogonal
regulariser on G's weights (beta 1e-4), G's EMA (train with --ema) and the truncation trick at
sampling time (resample every |z_i| above a threshold; lower = more typical, less varied)."""

from dataclasses import dataclass
from typing import ClassVar, Mapping

import torch

from .. import losses
from ..steps import adversarial_step, ttur_adam
from ..nn.resnet_gan import ResDiscriminator, ResGenerator
from ..contract import Family, Kind, TTURConfig, pad_to_power_of_two, setting
from ..contract.settings import critic_steps, noise_size, padded_resolution, source_resolution


@dataclass
class Config(TTURConfig):
    img_resolution: int = padded_resolution()
    z_dim: int = setting(120, "noise size", "length of z, split into chunks for each block (4 chunks of 30 at "
                         "32x32)", low=1)
    embed_dim: int = setting(64, "class embedding", "size of the shared class embedding", low=1)
    ch: int = setting(16, "channels", "G's channels at 32x32; 4ch at 4x4 and 8x8, 2ch at 16x16", low=1)
    d_ch: int = setting(0, "D channels", "D's channels (0 = the same as G's)", low=0)
    attn_resolution: int = setting(16, "attention at", "the resolution of the self-attention block", low=1)
    ortho_beta: float = setting(1e-4, "orthogonal β", "weight of the orthogonal regularisation of G's weights",
                                group="regularisation", low=0)
    # MSGAN's mode-seeking term (losses.mode_seeking): G's batch comes in pairs with one label and
    # two noises, and images that barely differ are penalised. Not in BigGAN's own recipe. 0 = off.
    lambda_diversity: float = setting(0.0, "λ mode seeking", "weight of MSGAN's mode-seeking term (0 = off)",
                                      group="loss", low=0)
    n_critic: int = critic_steps(1)
    source_resolution: int = source_resolution()

    DERIVED: ClassVar[tuple[str, ...]] = TTURConfig.DERIVED + ("source_resolution",)
    REMOVED: ClassVar[Mapping[str, object]] = {"d_minibatch_disc": False}


def build_generator(cfg: Config) -> ResGenerator:
    return ResGenerator(cfg.z_dim, cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.ch,
                        cfg.attn_resolution, hierarchical=True, embed_dim=cfg.embed_dim,
                        source_resolution=cfg.source_resolution, pool_keys=True)


def build(cfg: Config) -> dict:
    return {"G": build_generator(cfg),
            "D": ResDiscriminator(cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.d_ch or cfg.ch,
                                  cfg.attn_resolution, pool_keys=True)}


def optimizers(cfg: Config, nets: dict) -> dict:
    return ttur_adam(nets, cfg.lr, cfg.d_lr, (cfg.beta1, cfg.beta2))


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
            f"hinge loss, TTUR (G lr {cfg.get('lr')}, D lr {cfg.get('lr_D')}), orthogonal regularisation "
            f"beta {cfg.get('ortho_beta')}; sample with a truncation threshold (the app's slider)"] + (
        [f"- mode seeking (weight {cfg['lambda_diversity']}, MSGAN): pairs with one label and two noises must differ"]
        if cfg.get("lambda_diversity") else [])


FAMILY = Family(name="biggan", kind=Kind.CONDITIONAL, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, prepare_dataset=pad_to_power_of_two, describe=describe,
                features=("truncation", "attention"))
