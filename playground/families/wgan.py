"""WGAN (Arjovsky et al. 2017): a critic without sigmoid, losses without logs, critic weights
clipped to [-c, c] after every update, RMSProp (no momentum), n_critic critic steps per G step.
The critic's loss estimates the Earth-Mover distance (logged as W_dist): lower is better."""

from dataclasses import dataclass

import torch

from ..steps import adversarial_step
from ..nn.conv import ConvDiscriminator, ConvGenerator
from ..contract import Family, Kind, LearningRateConfig, setting
from ..contract.settings import critic_steps, learning_rate, noise_size


@dataclass
class Config(LearningRateConfig):
    z_dim: int = noise_size(100)
    width: int = setting(64, "width", "channels of G's and the critic's widest conv layer", low=1)
    lr: float = learning_rate(5e-5, "RMSprop's learning rate for G (and the critic unless lr_D is set)")
    clip: float = setting(0.01, "clip c", "the critic's weights are clipped to [-c, c] after each update "
                          "(a crude Lipschitz bound)", group="regularisation", low=0, tab=True)
    n_critic: int = critic_steps(5)


def build_generator(cfg: Config) -> ConvGenerator:
    return ConvGenerator(cfg.z_dim, 0, cfg.img_channels, cfg.img_resolution, cfg.width)


def build(cfg: Config) -> dict:
    D = ConvDiscriminator(0, cfg.img_channels, cfg.img_resolution, cfg.width, norm="batch")
    return {"G": build_generator(cfg), "D": D}


def optimizers(cfg: Config, nets: dict) -> dict:
    return {"G": torch.optim.RMSprop(nets["G"].parameters(), lr=cfg.lr),
            "D": torch.optim.RMSprop(nets["D"].parameters(), lr=cfg.d_lr)}


def train_step(ctx) -> dict:
    cfg = ctx.cfg
    return adversarial_step(ctx, loss="wasserstein", n_critic=cfg.n_critic, clip=cfg.clip)


FAMILY = Family(name="wgan", kind=Kind.SAMPLER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step)
