"""DCGAN (Radford et al. 2015) following the notes' rules: strided convs in D and transposed
convs in G instead of pooling, BatchNorm in both, ReLU/Tanh in G, LeakyReLU in D, no FC hidden
layers. Unconditional."""

from dataclasses import dataclass

from ..steps import ADVERSARIAL_LOSSES, adam_for, adversarial_step
from ..nn.conv import ConvDiscriminator, ConvGenerator
from ..contract import AdamConfig, Family, Kind, setting
from ..contract.settings import noise_size


@dataclass
class Config(AdamConfig):
    z_dim: int = noise_size(100)
    width: int = setting(64, "width", "channels of G's and D's widest conv layer", low=1)
    loss: str = setting("ns", "loss", "the adversarial loss: non-saturating, minimax or hinge", group="loss",
                        choices=ADVERSARIAL_LOSSES, tab=True)


def build_generator(cfg: Config) -> ConvGenerator:
    return ConvGenerator(cfg.z_dim, 0, cfg.img_channels, cfg.img_resolution, cfg.width)


def build(cfg: Config) -> dict:
    D = ConvDiscriminator(0, cfg.img_channels, cfg.img_resolution, cfg.width, norm="batch")
    return {"G": build_generator(cfg), "D": D}


def optimizers(cfg: Config, nets: dict) -> dict:
    return adam_for(nets, cfg)


def train_step(ctx) -> dict:
    return adversarial_step(ctx, loss=ctx.cfg.loss)


FAMILY = Family(name="dcgan", kind=Kind.SAMPLER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, losses=ADVERSARIAL_LOSSES)
