"""The original GAN (Goodfellow et al. 2014) with MLPs; minimax or non-saturating G loss.

With the minimax loss G minimises log(1 - D(G(z))), which saturates when D rejects fakes
confidently (the JS-divergence gradient vanishes); the non-saturating '-log D' trick keeps the
gradient but optimises KL(p_g||p_r) - 2 JS, inviting mode collapse. Pick with `loss`.
"""

from dataclasses import dataclass

from ..steps import adam_for, adversarial_step
from ..nn.mlp import MLPDiscriminator, MLPGenerator
from ..contract import AdamConfig, Family, Kind, setting
from ..contract.settings import noise_size

LOSSES = ("ns", "minimax")


@dataclass
class Config(AdamConfig):
    z_dim: int = noise_size(100)
    loss: str = setting("ns", "loss", "ns: non-saturating -log D(G(z)); minimax: log(1 - D(G(z))), which saturates",
                        group="loss", choices=LOSSES, tab=True)


def build_generator(cfg: Config) -> MLPGenerator:
    return MLPGenerator(cfg.z_dim, 0, cfg.img_channels, cfg.img_resolution)


def build(cfg: Config) -> dict:
    if cfg.loss not in LOSSES:
        raise ValueError(f"gan loss must be one of {LOSSES}")
    return {"G": build_generator(cfg), "D": MLPDiscriminator(0, cfg.img_channels, cfg.img_resolution)}


def optimizers(cfg: Config, nets: dict) -> dict:
    return adam_for(nets, cfg)


def train_step(ctx) -> dict:
    return adversarial_step(ctx, loss=ctx.cfg.loss)


FAMILY = Family(name="gan", kind=Kind.SAMPLER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, losses=LOSSES)
