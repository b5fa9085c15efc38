"""A complete family in one file, as docs/architecture.md's "How to add a family" walks through: a linear G and
D with the hinge loss. The test registers it with one registry line and trains it."""

from dataclasses import dataclass

import torch
from torch import nn

from playground import losses
from playground.contract import AdamConfig, Family, Kind


@dataclass
class Config(AdamConfig):
    z_dim: int = 8


class ToyG(nn.Module):
    def __init__(self, z_dim: int, img_channels: int, img_resolution: int):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, 0
        self.img_channels, self.img_resolution = img_channels, img_resolution
        self.net = nn.Linear(z_dim, img_channels * img_resolution ** 2)

    def forward(self, z, c=None):                                            # [N, z_dim] -> [N, C, H, W]
        return torch.tanh(self.net(z)).view(-1, self.img_channels, self.img_resolution, self.img_resolution)


def build_generator(cfg: Config) -> ToyG:
    return ToyG(cfg.z_dim, cfg.img_channels, cfg.img_resolution)


def build(cfg: Config) -> dict:
    D = nn.Sequential(nn.Flatten(), nn.Linear(cfg.img_channels * cfg.img_resolution ** 2, 1), nn.Flatten(0))
    return {"G": build_generator(cfg), "D": D}


def optimizers(cfg: Config, nets: dict) -> dict:
    return {k: torch.optim.Adam(nets[k].parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2)) for k in ("G", "D")}


def train_step(ctx) -> dict:
    G, D = ctx.nets["G"], ctx.nets["D"]
    real, _ = ctx.next_batch()
    fake = G(ctx.randn(real.size(0), G.z_dim))
    d_loss = losses.d_hinge(D(real), D(fake.detach()))
    ctx.opts["D"].zero_grad(set_to_none=True)
    d_loss.backward()
    ctx.opts["D"].step()
    g_loss = losses.g_hinge(D(fake))
    ctx.opts["G"].zero_grad(set_to_none=True)
    g_loss.backward()
    ctx.opts["G"].step()
    return {"D/loss": d_loss.detach(), "G/loss": g_loss.detach()}


FAMILY = Family(name="toy", kind=Kind.SAMPLER, Config=Config, build=build, build_generator=build_generator,
                optimizers=optimizers, train_step=train_step)
