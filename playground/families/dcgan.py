"""DCGAN (Radford et al. 2015) following the notes' rules: strided convs in D and transposed
convs in G instead of pooling, BatchNorm in both, ReLU/Tanh in G, LeakyReLU in D, no FC hidden
layers. Unconditional."""

from dataclasses import dataclass

from ..engine.steps import adam_for, adversarial_step
from ..nn.conv import ConvDiscriminator, ConvGenerator

NAME = "dcgan"
CONDITIONAL = False


@dataclass
class Config:
    z_dim: int = 100
    img_channels: int = 1
    img_resolution: int = 28
    num_classes: int = 0
    width: int = 64
    loss: str = "ns"
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


def build_generator(cfg: Config) -> ConvGenerator:
    return ConvGenerator(cfg.z_dim, 0, cfg.img_channels, cfg.img_resolution, cfg.width)


def build(cfg: Config) -> dict:
    D = ConvDiscriminator(0, cfg.img_channels, cfg.img_resolution, cfg.width, norm="batch")
    return {"G": build_generator(cfg), "D": D}


def optimizers(cfg: Config, nets: dict) -> dict:
    return adam_for(nets, cfg.lr, (cfg.beta1, cfg.beta2))


def train_step(ctx) -> dict:
    return adversarial_step(ctx, loss=ctx.cfg.loss)
