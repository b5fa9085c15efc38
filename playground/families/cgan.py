"""Conditional GAN (Mirza & Osindero 2014): both nets see the class label.

arch="mlp" is the notes' network exactly: G 100+10 -> 128 -> 256 -> 512 -> 1024 -> 784 with
BatchNorm1d + LeakyReLU(0.2) and Tanh; D 784+10 -> 512 -> 256 -> 1 with LeakyReLU(0.2); BCE;
n_critic D steps per G step. arch="conv" is the DCGAN body with the one-hot label concatenated
to z and, as constant feature maps, to D's input image.
"""

from dataclasses import dataclass

from ..steps import ADVERSARIAL_LOSSES, adam_for, adversarial_step
from ..nn.conv import ConvDiscriminator, ConvGenerator
from ..nn.mlp import MLPDiscriminator, MLPGenerator
from ..contract import AdamConfig, Family, Kind, setting
from ..contract.settings import critic_steps, noise_size

ARCHS = ("mlp", "conv")


@dataclass
class Config(AdamConfig):
    num_classes: int = setting(10, "classes", "from the data: the classes G and D are conditioned on", group="data")
    arch: str = setting("mlp", "architecture", "mlp: the notes' fully connected nets; conv: DCGAN-style convs",
                        choices=("mlp", "conv"))
    z_dim: int = noise_size(100)
    width: int = setting(64, "width", "channels of the widest conv layer (arch conv)", low=1)
    loss: str = setting("ns", "loss", "the adversarial loss: non-saturating, minimax or hinge", group="loss",
                        choices=ADVERSARIAL_LOSSES, tab=True)
    n_critic: int = critic_steps(1)


def build_generator(cfg: Config):
    if cfg.arch == "mlp":
        return MLPGenerator(cfg.z_dim, cfg.num_classes, cfg.img_channels, cfg.img_resolution)
    if cfg.arch == "conv":
        return ConvGenerator(cfg.z_dim, cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.width)
    raise ValueError(f"cgan arch must be one of {ARCHS}, not {cfg.arch!r}")


def build(cfg: Config) -> dict:
    G = build_generator(cfg)
    if cfg.arch == "mlp":
        D = MLPDiscriminator(cfg.num_classes, cfg.img_channels, cfg.img_resolution)
    else:
        D = ConvDiscriminator(cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.width, norm="batch")
    return {"G": G, "D": D}


def optimizers(cfg: Config, nets: dict) -> dict:
    return adam_for(nets, cfg)


def train_step(ctx) -> dict:
    return adversarial_step(ctx, loss=ctx.cfg.loss, n_critic=ctx.cfg.n_critic)


FAMILY = Family(name="cgan", kind=Kind.CONDITIONAL, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, losses=ADVERSARIAL_LOSSES)
