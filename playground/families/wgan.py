"""WGAN (Arjovsky et al. 2017): a critic without sigmoid, losses without logs, critic weights
clipped to [-c, c] after every update, RMSProp (no momentum), n_critic critic steps per G step.
The critic's loss estimates the Earth-Mover distance (logged as W_dist): lower is better."""

from dataclasses import dataclass

import torch

from ..engine.steps import adversarial_step
from ..nn.conv import ConvDiscriminator, ConvGenerator
from .protocol import BaseConfig, Family, Kind


@dataclass
class Config(BaseConfig):
    z_dim: int = 100
    width: int = 64
    lr: float = 5e-5
    lr_D: float = 0.0                # the critic's own learning rate (0 = lr)
    clip: float = 0.01
    n_critic: int = 5


def build_generator(cfg: Config) -> ConvGenerator:
    return ConvGenerator(cfg.z_dim, 0, cfg.img_channels, cfg.img_resolution, cfg.width)


def build(cfg: Config) -> dict:
    D = ConvDiscriminator(0, cfg.img_channels, cfg.img_resolution, cfg.width, norm="batch")
    return {"G": build_generator(cfg), "D": D}


def optimizers(cfg: Config, nets: dict) -> dict:
    return {"G": torch.optim.RMSprop(nets["G"].parameters(), lr=cfg.lr),
            "D": torch.optim.RMSprop(nets["D"].parameters(), lr=cfg.lr_D or cfg.lr)}


def train_step(ctx) -> dict:
    cfg = ctx.cfg
    return adversarial_step(ctx, loss="wasserstein", n_critic=cfg.n_critic, clip=cfg.clip)


FAMILY = Family(name="wgan", kind=Kind.SAMPLER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step)
