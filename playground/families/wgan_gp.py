"""WGAN-GP (Gulrajani et al. 2017): clipping replaced by the gradient penalty
lambda * E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates, lambda = 10. The critic has no
BatchNorm (it would couple the samples the per-sample penalty treats independently): LayerNorm
by default, or none."""

from dataclasses import dataclass

from ..steps import adam_for, adversarial_step
from ..nn.conv import ConvDiscriminator, ConvGenerator
from ..contract import AdamConfig, Family, Kind, setting
from ..contract.settings import adam_betas, critic_steps, learning_rate, noise_size


@dataclass
class Config(AdamConfig):
    lr: float = learning_rate(1e-4)
    beta1: float
    beta2: float
    beta1, beta2 = adam_betas(0.0, 0.9, "the paper")
    z_dim: int = noise_size(100)
    width: int = setting(64, "width", "channels of G's and the critic's widest conv layer", low=1)
    critic_norm: str = setting("layer", "critic normalisation", "layer: LayerNorm (the paper); none. BatchNorm "
                               "would make the penalty's per-sample gradients depend on the batch",
                               choices=("layer", "none"))
    gp_weight: float = setting(10.0, "GP λ", "weight of the gradient penalty (||∇D(x̂)|| - 1)²",
                               group="regularisation", low=0, tab=True)
    n_critic: int = critic_steps(5)


def build_generator(cfg: Config) -> ConvGenerator:
    return ConvGenerator(cfg.z_dim, 0, cfg.img_channels, cfg.img_resolution, cfg.width)


def build(cfg: Config) -> dict:
    if cfg.critic_norm not in ("layer", "none"):
        raise ValueError("WGAN-GP's critic must not use BatchNorm: critic_norm is 'layer' or 'none'")
    D = ConvDiscriminator(0, cfg.img_channels, cfg.img_resolution, cfg.width, norm=cfg.critic_norm)
    return {"G": build_generator(cfg), "D": D}


def optimizers(cfg: Config, nets: dict) -> dict:
    return adam_for(nets, cfg)


def train_step(ctx) -> dict:
    cfg = ctx.cfg
    return adversarial_step(ctx, loss="wasserstein", n_critic=cfg.n_critic, gp_weight=cfg.gp_weight)


FAMILY = Family(name="wgan-gp", kind=Kind.SAMPLER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step)
