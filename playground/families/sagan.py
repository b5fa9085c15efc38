"""SAGAN (Zhang et al. 2019): self-attention at the 16x16 feature maps of G and D, spectral norm
in both, the hinge loss and two time-scales (D lr 4e-4, G lr 1e-4, Adam betas (0, 0.9)).
Class-conditional when the data has labels (conditional BatchNorm in G, a projection D);
`--set conditional=false` trains it unconditionally. 28x28 data is zero-padded to 32x32."""

from dataclasses import dataclass
from typing import ClassVar


from ..steps import adversarial_step, ttur_adam
from ..nn.resnet_gan import ResDiscriminator, ResGenerator
from ..contract import Family, Kind, TTURConfig, pad_to_power_of_two, setting
from ..contract.settings import critic_steps, noise_size, padded_resolution, source_resolution


@dataclass
class Config(TTURConfig):
    img_resolution: int = padded_resolution()
    z_dim: int = noise_size(128)
    ch: int = setting(16, "channels", "G's channels at 32x32; 4ch at 4x4 and 8x8, 2ch at 16x16", low=1)
    d_ch: int = setting(0, "D channels", "D's channels (0 = the same as G's)", low=0)
    attn_resolution: int = setting(16, "attention at", "the resolution of the self-attention block", low=1)
    conditional: bool = setting(True, "conditional", "class-conditional G (conditional batch norm) and "
                                "projection D", group="data")
    n_critic: int = critic_steps(1)
    source_resolution: int = source_resolution()

    DERIVED: ClassVar[tuple[str, ...]] = TTURConfig.DERIVED + ("source_resolution",)


def build_generator(cfg: Config) -> ResGenerator:
    return ResGenerator(cfg.z_dim, cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.ch,
                        cfg.attn_resolution, hierarchical=False, source_resolution=cfg.source_resolution)


def build(cfg: Config) -> dict:
    return {"G": build_generator(cfg),
            "D": ResDiscriminator(cfg.num_classes, cfg.img_channels, cfg.img_resolution, cfg.d_ch or cfg.ch,
                                  cfg.attn_resolution)}


def optimizers(cfg: Config, nets: dict) -> dict:
    return ttur_adam(nets, cfg.lr, cfg.d_lr, (cfg.beta1, cfg.beta2))


def train_step(ctx) -> dict:
    return adversarial_step(ctx, loss="hinge", n_critic=ctx.cfg.n_critic)


def describe(cfg: dict) -> list[str]:
    how = "class-conditional (conditional BatchNorm in G, projection D)" if cfg.get("num_classes") else \
        "unconditional"
    return [f"- {how}; self-attention at {cfg.get('attn_resolution')}x{cfg.get('attn_resolution')} in G and D, "
            f"spectral norm everywhere, hinge loss, TTUR (G lr {cfg.get('lr')}, D lr {cfg.get('lr_D')})"]


FAMILY = Family(name="sagan", kind=Kind.CONDITIONAL, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, needs_labels=lambda cfg: cfg.conditional,
                prepare_dataset=pad_to_power_of_two, describe=describe, features=("attention",))
