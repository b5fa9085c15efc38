"""ProGAN (Karras et al. 2018): G and D grown from 4x4 to the data's resolution, each new block
faded in (alpha 0 -> 1 over `fade_steps`) then stabilised (`stable_steps`); the last resolution
trains for the rest of the run. Networks in nn/progressive.py (pixel norm, equalised lr, minibatch
std). Loss: WGAN-GP (lambda 10) plus the drift term epsilon * E[D(x)^2], epsilon = 0.001; Adam
lr 0.001, betas (0, 0.99), moments reset at every new resolution (the engine rebuilds the
optimisers when the schedule's stage changes). Reals are box-downsampled to the current resolution
and faded like G's output. Fashion-MNIST is padded 28 -> 32.

The schedule is a pure function of (config, step), so a resume anywhere (mid-fade included) picks
up the same resolution and alpha; `batch_sizes` ("4:64,8:64,16:32,32:32") sets a batch per
resolution (others use --batch-size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .. import losses
from ..nn.progressive import ProDiscriminator, ProGenerator, faded_reals, resolutions
from ..contract import AdamConfig, Family, Kind, Phase, pad_to_power_of_two, setting
from ..contract.settings import (adam_betas, channel_sizes, learning_rate, noise_size, padded_resolution,
                                 source_resolution)


@dataclass
class Config(AdamConfig):
    img_resolution: int = padded_resolution()
    lr: float = learning_rate(0.001)
    beta1: float
    beta2: float
    beta1, beta2 = adam_betas(0.0, 0.99, "the paper")
    z_dim: int = noise_size(128)
    base_channels: int
    max_channels: int
    base_channels, max_channels = channel_sizes(16, 64)
    fade_steps: int = setting(1000, "fade-in steps", "steps per new resolution while α goes 0 -> 1",
                              group="schedule", low=1)
    stable_steps: int = setting(1000, "stable steps", "steps at α = 1 after each fade-in (4x4 has only these)",
                                group="schedule", low=1)
    batch_sizes: str = setting("", "batch per resolution", "e.g. 4:64,8:64,16:32: the global batch at each "
                               "resolution (empty: --batch-size)", group="schedule")
    gp_weight: float = setting(10.0, "GP λ", "weight of the WGAN-GP gradient penalty", group="regularisation",
                               low=0, tab=True)
    drift: float = setting(0.001, "drift", "weight of the penalty on D's squared real scores",
                           group="regularisation", low=0)
    source_resolution: int = source_resolution()

    DERIVED: ClassVar[tuple[str, ...]] = AdamConfig.DERIVED + ("source_resolution",)


def parse_batch_sizes(text: str, allowed: list[int]) -> dict[int, int]:
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            r, b = (int(v) for v in part.split(":"))
        except ValueError:
            raise ValueError(f"batch_sizes must look like '4:64,8:32', got {text!r}") from None
        if r not in allowed or b < 1:
            raise ValueError(f"batch_sizes: resolution {r} is not one of {allowed}, or batch {b} < 1")
        out[r] = b
    return out


def schedule(cfg: Config, step: int) -> Phase:
    """Stage 0: 4x4 for stable_steps. Stage k: fade 2^(k+2) in over fade_steps, then stable_steps
    at alpha = 1; the last stage lasts until the run ends."""
    res = resolutions(cfg.img_resolution)
    if step < cfg.stable_steps:
        stage, alpha = 0, 1.0
    else:
        k, t = divmod(step - cfg.stable_steps, cfg.fade_steps + cfg.stable_steps)
        stage = k + 1
        if stage >= len(res):
            stage, alpha = len(res) - 1, 1.0
        else:
            alpha = min(1.0, t / cfg.fade_steps) if cfg.fade_steps else 1.0
    r = res[stage]
    return Phase(stage, {"resolution": r, "alpha": alpha},
                 parse_batch_sizes(cfg.batch_sizes, res).get(r))


def steps_to_full(cfg: Config) -> int:
    """Steps until the last resolution is fully faded in."""
    return cfg.stable_steps + (len(resolutions(cfg.img_resolution)) - 1) * (cfg.fade_steps + cfg.stable_steps) \
        - cfg.stable_steps


def build_generator(cfg: Config) -> ProGenerator:
    return ProGenerator(cfg.z_dim, cfg.img_channels, cfg.img_resolution, cfg.base_channels, cfg.max_channels,
                        cfg.source_resolution)


def build(cfg: Config) -> dict:
    if cfg.fade_steps < 0 or cfg.stable_steps < 1:
        raise ValueError("fade_steps must be >= 0 and stable_steps >= 1")
    parse_batch_sizes(cfg.batch_sizes, resolutions(cfg.img_resolution))
    return {"G": build_generator(cfg),
            "D": ProDiscriminator(cfg.img_channels, cfg.img_resolution, cfg.base_channels, cfg.max_channels)}


def optimizers(cfg: Config, nets: dict) -> dict:
    return {k: torch.optim.Adam(nets[k].parameters(), lr=cfg.lr if k == "G" else cfg.d_lr,
                                betas=(cfg.beta1, cfg.beta2), eps=1e-8) for k in ("G", "D")}


def train_step(ctx) -> dict:
    cfg, G, D = ctx.cfg, ctx.nets["G"], ctx.nets["D"]
    r, alpha = int(ctx.phase.values["resolution"]), float(ctx.phase.values["alpha"])
    G.set_phase(r, alpha)                    # what sampling and previews show (copied into the EMA too)
    real, _ = ctx.next_batch()
    real = ctx.augment(faded_reals(real, r, alpha))
    n = real.size(0)

    def critic(x):
        return D.grow(x, r, alpha)

    with torch.no_grad():
        fake = G.grow(ctx.randn(n, G.z_dim), r, alpha)
    fake = ctx.augment(fake)
    d_real, d_fake = critic(real), critic(fake)
    d_loss = losses.d_wasserstein(d_real, d_fake)
    eps = ctx.rand(n, 1, 1, 1)
    with ctx.full_precision():               # the penalty sees the same (augmented) reals as the loss
        gp = losses.gradient_penalty(critic, real.float(), fake.float(), eps)
    drift = losses.drift_penalty(d_real)
    ctx.update("D", d_loss + cfg.gp_weight * gp + cfg.drift * drift)

    g_loss = losses.g_wasserstein(critic(ctx.augment(G.grow(ctx.randn(n, G.z_dim), r, alpha))))
    ctx.update("G", g_loss)
    return {"D/loss": d_loss.detach(), "G/loss": g_loss.detach(), "D/gp": gp.detach(),
            "D/drift": drift.detach(), "W_dist": (d_real.mean() - d_fake.mean()).detach()}


def end_stage(ctx, shown: ProGenerator, finished: Phase) -> None:
    """Keep G as it is at the end of a resolution (the EMA's weights when there is one)."""
    r = int(finished.values["resolution"])
    for net in {id(n): n for n in (ctx.nets["G"], shown)}.values():
        net.take_snapshot(r, source=shown)


def describe(cfg: dict) -> list[str]:
    src = cfg.get("source_resolution") or cfg["img_resolution"]
    res = resolutions(cfg["img_resolution"])
    return [f"- images: the {src}x{src} data zero-padded to {cfg['img_resolution']}x{cfg['img_resolution']}; "
            f"evaluation crops generated images back to {src}x{src}",
            f"- grown {' -> '.join(map(str, res))}: {cfg.get('stable_steps')} steps at 4x4, then per resolution "
            f"{cfg.get('fade_steps')} fade-in + {cfg.get('stable_steps')} stable steps"
            + (f"; batch per resolution {cfg.get('batch_sizes')}" if cfg.get("batch_sizes") else ""),
            f"- WGAN-GP (lambda {cfg.get('gp_weight')}) + drift {cfg.get('drift')}; pixel norm, equalised lr, "
            "minibatch std; Adam reset at every resolution"]


FAMILY = Family(name="progan", kind=Kind.SAMPLER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step, prepare_dataset=pad_to_power_of_two,
                describe=describe, features=("growth",), compilable=lambda cfg: (),
                schedule=schedule, end_stage=end_stage)
